/* spec_diag.c — how the spec layer phrases an error: "FILE:LINE:COL: KEY: what was
 * expected", the command-line form for overrides, and the did-you-mean suggestion.
 * The bottom of spec/: every other part calls it, it calls none of them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec_internal.h"

const char eg_spec_cmdline[] = "<command line>";

/* ---- error phrasing ---- */

/* an override is quoted in messages up to this many characters (one may be 128 KiB long) */
#define ARG_SHOWN 200

static const char *shortened(const char *arg) {
    return strlen(arg) > ARG_SHOWN ? "..." : "";
}

static int is_cmdline(const char *file) {
    return file && (file == eg_spec_cmdline || !strcmp(file, eg_spec_cmdline));
}

void spec_where(const spec_ctx *ctx, const char *file, int line, int col, char *buf, size_t cap) {
    if (is_cmdline(file) && line > 0 && line <= ctx->n_overrides)
        snprintf(buf, cap, "override '%.*s%s'", ARG_SHOWN, ctx->overrides[line - 1],
                 shortened(ctx->overrides[line - 1]));
    else if (file && line > 0 && col > 0)
        snprintf(buf, cap, "%s:%d:%d", file, line, col);
    else if (file && line > 0)
        snprintf(buf, cap, "%s:%d", file, line);
    else
        snprintf(buf, cap, "%s", file ? file : ctx->path);
}

void spec_include_chain(const spec_incls *t, const char *file, char *out, size_t cap) {
    out[0] = 0;
    size_t off = 0;
    for (int hop = 0; t && file && hop < SPEC_MAX_INCLUDE_DEPTH && off < cap; hop++) {
        const spec_incl_site *site = NULL;
        for (int i = 0; i < t->n && !site; i++)
            if (t->s[i].file == file || !strcmp(t->s[i].file, file)) site = &t->s[i];
        if (!site) break;
        if (hop == 3) { /* the nearest three are enough to find it */
            snprintf(out + off, cap - off, ", ...");
            break;
        }
        off += (size_t)snprintf(out + off, cap - off, "%sincluded from %s:%d:%d", hop ? ", which is " : "",
                                site->parent, site->line, site->col);
        file = site->parent;
    }
}

eg_status spec_vfail(const spec_ctx *ctx, const char *file, int line, int col, const char *key, const char *fmt,
                     va_list ap) {
    if (!ctx->err || !ctx->cap) return EG_ERR_SPEC;
    char where[512];
    size_t off;
    if (is_cmdline(file) && line > 0 && line <= ctx->n_overrides) {
        const char *arg = ctx->overrides[line - 1];
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        /* the argument already names its key; name another one only when it differs */
        int same = !key || (strlen(key) == klen && strncmp(key, arg, klen) == 0);
        off = (size_t)snprintf(ctx->err, ctx->cap, "%s: override '%.*s%s': %.*s%s", eg_spec_cmdline, ARG_SHOWN, arg,
                               shortened(arg), ARG_SHOWN, same ? "" : key, same ? "" : ": ");
    } else {
        spec_where(ctx, file, line, col, where, sizeof where);
        off = (size_t)snprintf(ctx->err, ctx->cap, "%s: %s%s", where, key ? key : "", key ? ": " : "");
    }
    if (off < ctx->cap) off += (size_t)vsnprintf(ctx->err + off, ctx->cap - off, fmt, ap);
    char chain[1024];
    spec_include_chain(ctx->incls, is_cmdline(file) ? NULL : file, chain, sizeof chain);
    if (chain[0] && off < ctx->cap) snprintf(ctx->err + off, ctx->cap - off, " (%s is %s)", file, chain);
    return EG_ERR_SPEC;
}

eg_status spec_fail_at(const spec_ctx *ctx, const char *file, int line, int col, const char *key, const char *fmt,
                       ...) {
    va_list ap;
    va_start(ap, fmt);
    eg_status st = spec_vfail(ctx, file, line, col, key, fmt, ap);
    va_end(ap);
    return st;
}

eg_status spec_fail(const spec_ctx *ctx, const eg_value *at, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    eg_status st = at && at->line > 0 ? spec_vfail(ctx, at->file, at->line, at->col, key, fmt, ap)
                                      : spec_vfail(ctx, NULL, 0, 0, key, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- did you mean ---- */

/* optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive */
static int osa_distance(const char *a, const char *b) {
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > 64 || m > 64) return 1000;
    int d[65][65];
    for (int i = 0; i <= n; i++)
        d[i][0] = i;
    for (int j = 0; j <= m; j++)
        d[0][j] = j;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

static const char *last_segment(const char *k) {
    const char *dot = strrchr(k, '.');
    return dot ? dot + 1 : k;
}

const char *eg_did_you_mean(const char *word, const char *const *candidates, int n) {
    if (!word || !*word) return NULL;
    int len = (int)strlen(word);
    int limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        int d = osa_distance(word, candidates[i]);
        if (d < best_d && d < len) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best) return best;
    /* "sigma" for "corrupt.sigma": the same last name under another section */
    for (int i = 0; i < n; i++)
        if (candidates[i] && strcmp(last_segment(candidates[i]), last_segment(word)) == 0 &&
            strcmp(candidates[i], word) != 0)
            return candidates[i];
    return NULL;
}
