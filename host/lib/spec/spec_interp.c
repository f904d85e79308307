/* spec_interp.c — interpolation: ${path.to.key} in the values of one expanded run
 * (docs/spec.md "Interpolation"), before the run is validated and its id hashed, so a
 * run written with an interpolation has the id of the same run written out by hand.
 *
 * A value that is exactly "${k}" becomes a copy of k's value (an int stays an int, a list
 * a list); "${k}" inside a longer string is replaced by k's text (the string stays a
 * string). "\${" is a literal "${". References are resolved against the run itself, so
 * a swept key's reference follows the sweep; a reference to a key the run does not set
 * (an unknown key, or one left to the model's default), a cycle, an unterminated or
 * nested "${", and Hydra's resolvers ("${oc.env:HOME}": a run must not depend on the
 * environment) are errors at the position of the value that holds the reference. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "spec_internal.h"

typedef struct interp {
    const spec_ctx *ctx;
    eg_cfg *run;
    unsigned char *state; /* per key: 0 not looked at, 1 being resolved, 2 resolved */
    int *stack;           /* keys being resolved, outermost first (to name a cycle) */
    int depth;
} interp;

static int has_ref(const eg_value *v) {
    if (v->kind == EG_VAL_STRING) return v->s && strstr(v->s, "${") != NULL;
    for (int i = 0; v->kind == EG_VAL_LIST && i < v->n_items; i++)
        if (has_ref(&v->items[i])) return 1;
    return 0;
}

static eg_status resolve_key(interp *ip, int i);

/* a reference's name: dotted names of letters, digits, '_' and '-' */
static int ref_ok(const char *r, size_t n) {
    if (!n || r[0] == '.' || r[n - 1] == '.') return 0;
    for (size_t k = 0; k < n; k++) {
        char c = r[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
        if (c == '.' && k + 1 < n && r[k + 1] == '.') return 0;
    }
    return 1;
}

/* the resolved value of the key named ref (n chars), or an error at `at` */
static eg_status lookup(interp *ip, const eg_value *at, const char *key, const char *ref, size_t n,
                        const eg_value **out) {
    char name[1100];
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, ref, n);
    name[n] = 0;
    if (memchr(ref, ':', n))
        return spec_fail(ip->ctx, at, key,
                         "${%s}: resolvers (Hydra's ${oc.env:...}, ${now:...}) are not supported: a run's config "
                         "must not depend on the environment or the time; write the value, or pass it as an override",
                         name);
    if (!ref_ok(ref, n))
        return spec_fail(ip->ctx, at, key, "${%s}: expected ${path.to.key} (dotted names, e.g. ${params.hidden})",
                         name);
    const eg_value *v = eg_cfg_get(ip->run, name);
    if (!v) {
        const char *best = eg_did_you_mean(name, (const char *const *)ip->run->keys, ip->run->n);
        return spec_fail(ip->ctx, at, key,
                         "${%s}: this run has no key %s%s%s%s (a reference names a key the spec, an include or an "
                         "override sets; a model default cannot be referenced, set it to use it)",
                         name, name, best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
    }
    eg_status st = resolve_key(ip, (int)(v - ip->run->vals));
    if (st != EG_OK) return st;
    *out = v;
    return EG_OK;
}

static void set_pos(eg_value *v, const eg_value *at) {
    v->file = at->file;
    v->line = at->line;
    v->col = at->col;
    for (int i = 0; v->kind == EG_VAL_LIST && i < v->n_items; i++)
        set_pos(&v->items[i], at);
}

/* one string value: a whole reference, or references and escapes inside text */
static eg_status subst(interp *ip, eg_value *v, const char *key, int in_list) {
    const char *t = v->s;
    size_t tl = strlen(t);
    if (tl > 3 && !strncmp(t, "${", 2) && t[tl - 1] == '}' && !memchr(t + 2, '}', tl - 3) && !strstr(t + 2, "${")) {
        const eg_value *target;
        eg_status st = lookup(ip, v, key, t + 2, tl - 3, &target);
        if (st != EG_OK) return st;
        if (target->kind == EG_VAL_LIST && in_list)
            return spec_fail(ip->ctx, v, key, "%s is a list, and a list item cannot be a list", t);
        eg_value copy;
        if ((st = eg_value_copy(&copy, target)) != EG_OK) return st;
        set_pos(&copy, v);
        eg_value_free(v);
        *v = copy;
        return EG_OK;
    }
    eg_strbuf out = {0};
    eg_sb_putn(&out, "", 0);
    eg_status st = EG_OK;
    for (const char *p = t; *p && st == EG_OK && !out.oom;) {
        if (p[0] == '\\' && p[1] == '$' && p[2] == '{') { /* \${ : a literal ${ */
            eg_sb_putn(&out, "${", 2);
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            eg_sb_putn(&out, p, 1);
            p++;
            continue;
        }
        const char *close = strchr(p + 2, '}'), *inner = strstr(p + 2, "${");
        if (!close) {
            st = spec_fail(ip->ctx, v, key, "unterminated '${' in '%.200s' (expected ${path.to.key}; write \\${ for a "
                           "literal ${)", t);
            break;
        }
        if (inner && inner < close) {
            st = spec_fail(ip->ctx, v, key, "nested '${' in '%.200s': a reference names a key, it cannot be computed",
                           t);
            break;
        }
        const eg_value *target;
        if ((st = lookup(ip, v, key, p + 2, (size_t)(close - p - 2), &target)) != EG_OK) break;
        if (target->kind == EG_VAL_LIST || target->kind == EG_VAL_NULL) {
            st = spec_fail(ip->ctx, v, key, "${%.*s} is %s, and cannot be written inside a string ('%.200s')",
                           (int)(close - p - 2), p + 2, target->kind == EG_VAL_LIST ? "a list" : "null", t);
            break;
        }
        char num[64];
        const char *text = target->s;
        if (!text) {
            eg_value_canonical(target, num, sizeof num);
            text = num;
        }
        eg_sb_puts(&out, text);
        p = close + 1;
    }
    if (st == EG_OK && out.oom) st = EG_ERR_NOMEM;
    if (st != EG_OK) {
        free(out.p);
        return st;
    }
    free(v->s);
    v->s = out.p;
    v->kind = EG_VAL_STRING;
    return EG_OK;
}

static eg_status resolve_value(interp *ip, eg_value *v, const char *key, int in_list) {
    if (v->kind == EG_VAL_STRING && v->s && strstr(v->s, "${")) return subst(ip, v, key, in_list);
    eg_status st = EG_OK;
    for (int i = 0; v->kind == EG_VAL_LIST && i < v->n_items && st == EG_OK; i++)
        st = resolve_value(ip, &v->items[i], key, 1);
    return st;
}

static eg_status resolve_key(interp *ip, int i) {
    if (ip->state[i] == 2) return EG_OK;
    if (ip->state[i] == 1) {
        char chain[2048];
        size_t off = 0;
        int from = 0;
        while (from < ip->depth && ip->stack[from] != i)
            from++;
        for (int k = from; k < ip->depth && off < sizeof chain; k++)
            off += (size_t)snprintf(chain + off, sizeof chain - off, "%s -> ", ip->run->keys[ip->stack[k]]);
        if (off < sizeof chain) snprintf(chain + off, sizeof chain - off, "%s", ip->run->keys[i]);
        const int top = ip->stack[ip->depth - 1];
        return spec_fail(ip->ctx, &ip->run->vals[top], ip->run->keys[top], "interpolation cycle: %s", chain);
    }
    const char *key = ip->run->keys[i];
    eg_value *v = &ip->run->vals[i];
    if (!has_ref(v)) {
        ip->state[i] = 2;
        return EG_OK;
    }
    if (!strcmp(key, "experiment") || !strcmp(key, "model"))
        return spec_fail(ip->ctx, v, key, "cannot hold an interpolation: it names %s, the same for every run",
                         key[0] == 'e' ? "the results directory" : "the model plugin");
    ip->state[i] = 1;
    ip->stack[ip->depth++] = i;
    eg_status st = resolve_value(ip, v, key, 0);
    ip->depth--;
    ip->state[i] = 2;
    return st;
}

eg_status spec_interpolate_run(const spec_ctx *ctx, eg_cfg *run) {
    int any = 0;
    for (int i = 0; i < run->n && !any; i++)
        any = has_ref(&run->vals[i]);
    if (!any) return EG_OK;
    interp ip = {ctx, run, calloc((size_t)run->n, 1), calloc((size_t)run->n, sizeof(int)), 0};
    eg_status st = ip.state && ip.stack ? EG_OK : EG_ERR_NOMEM;
    /* resolving a key may resolve others first; keys do not move (values change in place) */
    for (int i = 0; i < run->n && st == EG_OK; i++)
        st = resolve_key(&ip, i);
    free(ip.state);
    free(ip.stack);
    return st;
}
