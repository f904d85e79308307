/* spec_trace.c — where each value of a spec came from: every entry is recorded as it is
 * merged (an included file's, the spec's own, each override's), and eg_spec_explain
 * phrases the record of one key for `engram plan --explain KEY`: each place that set it
 * in the order applied (the last one wins), the sweep axes that set it, and its values
 * in the runs (after interpolation and defaults). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "spec_internal.h"

void spec_trace_free(spec_trace *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->r[i].key);
        free(t->r[i].value);
    }
    free(t->r);
    memset(t, 0, sizeof *t);
}

static eg_status trace_push(spec_trace *t, const char *prefix, size_t plen, const char *key, const char *file, int line,
                            int col, const eg_value *v) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        spec_trace_rec *grown = realloc(t->r, (size_t)cap * sizeof *grown);
        if (!grown) return EG_ERR_NOMEM;
        t->r = grown;
        t->cap = cap;
    }
    char text[512];
    if (v)
        eg_value_canonical(v, text, sizeof text);
    else
        snprintf(text, sizeof text, "(a list of cases)");
    spec_trace_rec *r = &t->r[t->n];
    if (asprintf(&r->key, "%.*s%s", (int)plen, prefix, key) < 0) return EG_ERR_NOMEM;
    if (!(r->value = strdup(text))) {
        free(r->key);
        return EG_ERR_NOMEM;
    }
    r->file = file;
    r->line = line;
    r->col = col;
    t->n++;
    return EG_OK;
}

eg_status spec_trace_ents(const spec_ctx *ctx, const spec_ents *got, const char *prefix, size_t prefix_len,
                          int override_line) {
    if (!ctx->trace) return EG_OK;
    eg_status st = EG_OK;
    for (int i = 0; i < got->n && st == EG_OK; i++) {
        const spec_ent *e = &got->e[i];
        if (!e->key) continue;
        const char *file = override_line ? eg_spec_cmdline : e->v.file;
        int line = override_line ? override_line : e->kline, col = override_line ? 0 : e->kcol;
        if (!e->cases) {
            st = trace_push(ctx->trace, prefix, prefix_len, e->key, file, line, col, &e->v);
            continue;
        }
        st = trace_push(ctx->trace, prefix, prefix_len, e->key, file, line, col, NULL);
        for (int c = 0; c < e->cases->n && st == EG_OK; c++)
            for (int j = 0; j < e->cases->items[c].n && st == EG_OK; j++) {
                const spec_ent *ce = &e->cases->items[c].e[j];
                char pre[64];
                snprintf(pre, sizeof pre, "sweep.cases.%d.", c + 1);
                st = trace_push(ctx->trace, pre, strlen(pre), ce->key, override_line ? eg_spec_cmdline : ce->v.file,
                                override_line ? override_line : ce->kline, override_line ? 0 : ce->kcol, &ce->v);
            }
    }
    return st;
}

/* ---- explaining one key ---- */

/* key equals p or lies under it */
static int under(const char *key, const char *p) {
    size_t n = strlen(p);
    return strncmp(key, p, n) == 0 && (key[n] == 0 || key[n] == '.');
}

/* the run key a recorded key sets ("sweep.grid.params.beta" -> "params.beta"), and how */
static const char *run_key_of(const char *k, const char **how) {
    static const char *const forms[] = {"sweep.grid.", "sweep.zip.", "sweep.random.space."};
    static const char *const names[] = {"grid", "zip", "random"};
    for (int f = 0; f < 3; f++)
        if (!strncmp(k, forms[f], strlen(forms[f]))) {
            *how = names[f];
            return k + strlen(forms[f]);
        }
    if (!strncmp(k, "sweep.cases.", 12)) {
        const char *d = strchr(k + 12, '.');
        if (d) {
            *how = "case";
            return d + 1;
        }
    }
    *how = NULL;
    return k;
}

char *eg_spec_explain(const eg_spec *s, const char *key) {
    eg_strbuf b = {0};
    spec_ctx ctx = {s->path, (const char *const *)s->overrides, s->n_overrides, NULL, 0, NULL, NULL, NULL};
    eg_sb_printf(&b, "%s\n", key);
    const spec_trace *t = s->trace;
    int shown = 0, last_plain = -1, swept = 0;
    for (int i = 0; t && i < t->n; i++) {
        const char *how;
        const char *rk = run_key_of(t->r[i].key, &how);
        if (!how && !strcmp(rk, key)) last_plain = i;
        if (how && under(rk, key)) swept = 1;
    }
    for (int i = 0; t && i < t->n; i++) {
        const spec_trace_rec *r = &t->r[i];
        const char *how;
        const char *rk = run_key_of(r->key, &how);
        int hit = under(rk, key) || (under(key, rk) && !how);
        if (!hit) continue;
        char where[600], note[600];
        spec_where(&ctx, r->file, r->line, r->col, where, sizeof where);
        char chain[500];
        spec_include_chain(s->includes, r->file, chain, sizeof chain);
        snprintf(note, sizeof note, "%s%s%s", chain[0] ? "   (" : "", chain, chain[0] ? ")" : "");
        const char *what = how                  ? how
                           : strcmp(rk, key)    ? (under(key, rk) ? "sets above" : "sets")
                           : shown == 0         ? "sets"
                                                : "replaces";
        const char *mark = i != last_plain ? "" : swept ? "   <- the value, where no sweep sets it" : "   <- wins";
        eg_sb_printf(&b, "  %-9s %-40s %s%s%s%s%s\n", what, where, strcmp(rk, key) && !how ? rk : "",
            strcmp(rk, key) && !how ? " = " : "", r->value, mark, note);
        shown++;
    }
    if (!shown) eg_sb_printf(&b, "  not set by the spec, its includes or an override\n");
    /* its values in the runs, after interpolation and the schema's defaults */
    int n_runs = s->n_runs, n_distinct = 0;
    char seen[8][200];
    int more = 0, absent = 0;
    const eg_value *v0 = NULL;
    for (int r = 0; r < n_runs; r++) {
        const eg_value *v = eg_cfg_get(&s->runs[r].cfg, key);
        if (!v) {
            absent++;
            continue;
        }
        if (!v0) v0 = v;
        char text[200];
        eg_value_canonical(v, text, sizeof text);
        int known = 0;
        for (int k = 0; k < n_distinct && !known; k++)
            known = !strcmp(seen[k], text);
        if (known) continue;
        if (n_distinct < 8)
            snprintf(seen[n_distinct++], sizeof seen[0], "%s", text);
        else
            more = 1;
    }
    if (n_distinct == 0) {
        /* a section: its keys in the first run */
        const eg_cfg *c0 = n_runs ? &s->runs[0].cfg : NULL;
        int subs = 0;
        for (int k = 0; c0 && k < c0->n; k++)
            if (under(c0->keys[k], key)) {
                char text[200];
                eg_value_canonical(&c0->vals[k], text, sizeof text);
                eg_sb_printf(&b, "  %s  %s = %s%s\n", subs ? "           " : "in run 0:", c0->keys[k], text,
                    c0->vals[k].file ? "" : "   (default)");
                subs++;
            }
        if (!subs) eg_sb_printf(&b, "  in the runs: no run has %s (not a key of this model)\n", key);
    } else {
        eg_sb_printf(&b, "  in the runs:");
        for (int k = 0; k < n_distinct; k++)
            eg_sb_printf(&b, "%s %s", k ? "," : "", seen[k]);
        eg_sb_printf(&b, "%s (%d value%s over %d run%s)", more ? ", ..." : "", n_distinct + more, n_distinct + more == 1 ? "" : "s",
            n_runs - absent, n_runs - absent == 1 ? "" : "s");
        if (v0 && !v0->file) eg_sb_printf(&b, "; the model's default");
        eg_sb_printf(&b, "\n");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
