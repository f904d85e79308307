/* spec_include.c — composition: a spec's `include:` list (docs/spec.md "Composition").
 *
 * A file's value is its includes, merged in the order listed, then its own keys (the
 * file's own keys win, as Hydra's `_self_` last). An item is a path, relative to the
 * including file (".yaml" may be left off), or a group choice {GROUP: OPTION}: the file
 * GROUP/OPTION.yaml of the first `groups` directory found in $ENGRAM_CONFIG_PATH, then
 * beside and above the including file (DIR/groups, DIR/configs/groups), whose keys land
 * under GROUP ("params/vae" under params.vae), as a Hydra config group's package. An
 * override GROUP=OPTION on the command line replaces the option of that group's item.
 * Values keep the file, line and column they were written at, and the error of a value
 * in an included file names the chain of files that included it (spec_diag.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "spec_internal.h"

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- include sites ---- */

void spec_incls_free(spec_incls *t) {
    free(t->s);
    memset(t, 0, sizeof *t);
}

static eg_status site_add(spec_incls *t, const char *file, const char *parent, int line, int col) {
    for (int i = 0; i < t->n; i++)
        if (t->s[i].file == file) return EG_OK; /* the first place it was included from is named */
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 8;
        spec_incl_site *grown = realloc(t->s, (size_t)cap * sizeof *grown);
        if (!grown) return EG_ERR_NOMEM;
        t->s = grown;
        t->cap = cap;
    }
    t->s[t->n++] = (spec_incl_site){file, parent, line, col};
    return EG_OK;
}

/* ---- paths ---- */

/* snprintf that says whether it fit (1) */
static int fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, cap, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

/* "a/b/../c/./d" -> "a/c/d", lexically (a path a user reads in messages) */
static void normalise(char *p) {
    char *seg[2100]; /* a 4096-char path has at most 2048 names */
    int n = 0, abs = p[0] == '/';
    char *save = NULL;
    for (char *t = strtok_r(p, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, ".")) continue;
        if (!strcmp(t, "..") && n > 0 && strcmp(seg[n - 1], "..")) {
            n--;
            continue;
        }
        if (n < 2100) seg[n++] = t;
    }
    char out[4096];
    size_t off = 0;
    out[0] = 0;
    if (abs) off += (size_t)snprintf(out, sizeof out, "/");
    for (int i = 0; i < n && off < sizeof out; i++)
        off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", i ? "/" : "", seg[i]);
    if (!off) snprintf(out, sizeof out, ".");
    strcpy(p, out); /* never longer than p */
}

static void dir_of(const char *file, char *buf, size_t cap) {
    const char *slash = strrchr(file, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == file)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(slash - file), file);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* a name of a group or an option: letters, digits, '_', '-', '.', '/' between names */
static int group_name_ok(const char *s) {
    if (!*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") || strstr(s, "..")) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_-./", *p)))
            return 0;
    return 1;
}

/* the group directories to look in, first match wins; returns the count */
static int group_roots(const char *from_file, char roots[][4096], int max) {
    int n = 0;
    const char *env = getenv("ENGRAM_CONFIG_PATH");
    if (env && *env) {
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", env);
        char *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t && n < max; t = strtok_r(NULL, ":", &save))
            snprintf(roots[n++], 4096, "%s", t);
    }
    char dir[4096];
    dir_of(from_file, dir, sizeof dir);
    for (int up = 0; up < 32 && n + 2 <= max; up++) {
        char a[4096];
        if (fmt(a, sizeof a, "%s/groups", dir)) {
            normalise(a);
            if (is_dir(a)) fmt(roots[n++], 4096, "%s", a);
        }
        if (fmt(a, sizeof a, "%s/configs/groups", dir)) {
            normalise(a);
            if (is_dir(a)) fmt(roots[n++], 4096, "%s", a);
        }
        /* one level up, lexically while the path has names, then through ".." */
        char up_dir[4096];
        if (!fmt(up_dir, sizeof up_dir, "%s/..", dir)) break;
        normalise(up_dir);
        char real_a[4096], real_b[4096];
        if (!realpath(dir, real_a) || !realpath(up_dir, real_b) || !strcmp(real_a, real_b)) break;
        fmt(dir, sizeof dir, "%s", up_dir);
    }
    return n;
}

/* the options of GROUP in root ("cifar10, fmnist"), and the closest to want, for the error */
static void group_options(const char *root, const char *group, const char *want, char *buf, size_t cap, char *best,
                          size_t best_cap) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, group);
    buf[0] = best[0] = 0;
    char store[64][256];
    const char *names[64];
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && n < 64 && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 5 && l < 250 && !strcmp(e->d_name + l - 5, ".yaml")) {
            snprintf(store[n], sizeof store[n], "%.*s", (int)(l - 5), e->d_name);
            n++;
        }
    }
    if (d) closedir(d);
    for (int i = 0; i < n; i++)
        names[i] = store[i];
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    spec_join(names, n, ", ", buf, cap);
    const char *b = eg_did_you_mean(want, names, n);
    if (b) snprintf(best, best_cap, "%s", b);
}

/* ---- composing ---- */

typedef struct compose {
    const spec_ctx *ctx;
    const char *chain[SPEC_MAX_INCLUDE_DEPTH + 1]; /* interned files being composed, outermost first */
    int depth;
    int files; /* files read so far */
} compose;

static eg_status compose_file(compose *c, const char *file, const char *text, size_t len, const char *prefix,
                              spec_ents *out);

/* the option a command-line override GROUP=OPTION chose for the group, else the item's */
static const char *chosen_option(const spec_ctx *ctx, const spec_incl_item *it, int *override_line) {
    *override_line = 0;
    const char *pick = it->name;
    for (int i = 0; i < ctx->n_overrides; i++) {
        const char *arg = ctx->overrides[i], *eq = strchr(arg, '=');
        size_t glen = strlen(it->group);
        if (!eq || (size_t)(eq - arg) != glen || strncmp(arg, it->group, glen)) continue;
        /* a name (or a comma list of names) chooses; a mapping or list is a plain override */
        if (!eq[1] || strpbrk(eq + 1, "{[") || (!group_name_ok(eq + 1) && !strchr(eq + 1, ','))) continue;
        pick = eq + 1;
        *override_line = i + 1;
        if (ctx->override_used) ctx->override_used[i] = 1;
    }
    return pick;
}

static eg_status cycle_error(const compose *c, const spec_incl_item *it, const char *from, const char *target) {
    char chain[2048];
    size_t off = 0;
    chain[0] = 0;
    for (int i = 0; i < c->depth && off < sizeof chain; i++)
        off += (size_t)snprintf(chain + off, sizeof chain - off, "%s -> ", c->chain[i]);
    if (off < sizeof chain) snprintf(chain + off, sizeof chain - off, "%s", target);
    return spec_fail_at(c->ctx, from, it->line, it->col, "include", "include cycle: %s", chain);
}

/* one item of `from`'s include list: resolve it, read it, compose it into got */
static eg_status compose_item(compose *c, const char *from, const spec_incl_item *it, const char *prefix,
                              spec_ents *got) {
    const spec_ctx *ctx = c->ctx;
    char path[4096], pkg[1024];
    snprintf(pkg, sizeof pkg, "%s", prefix);
    const char *at_file = from;
    int at_line = it->line, at_col = it->col;
    if (it->group) {
        int oline;
        const char *opt = chosen_option(ctx, it, &oline);
        if (oline) at_file = eg_spec_cmdline, at_line = oline, at_col = 0;
        if (!group_name_ok(it->group))
            return spec_fail_at(ctx, from, it->line, it->col, "include",
                                "'%.100s' is not a group name (names of letters, digits, '_', '-', '.', joined by '/')",
                                it->group);
        if (oline && strchr(opt, ','))
            return spec_fail_at(ctx, at_file, at_line, at_col, "include",
                                "a sweep over the options of group %s is not supported (each option is a different "
                                "set of keys); write one spec per option, or a sweep.cases entry per option that sets "
                                "its keys",
                                it->group);
        if (!group_name_ok(opt))
            return spec_fail_at(ctx, at_file, at_line, at_col, "include",
                                "'%.100s' is not an option name of group %s (letters, digits, '_', '-', '.', '/')", opt,
                                it->group);
        char roots[40][4096];
        int nr = group_roots(from, roots, 40);
        int found = 0;
        for (int r = 0; r < nr && !found; r++) {
            found = fmt(path, sizeof path, "%s/%s/%s.yaml", roots[r], it->group, opt) && is_file(path);
        }
        if (!found) {
            int have = -1;
            for (int r = 0; r < nr && have < 0; r++) {
                char d[4200];
                if (fmt(d, sizeof d, "%s/%s", roots[r], it->group) && is_dir(d)) have = r;
            }
            if (have < 0)
                return spec_fail_at(ctx, at_file, at_line, at_col, "include",
                                    "no config group '%s': no directory %s/ in groups/ or configs/groups/ beside or "
                                    "above %s, nor in $ENGRAM_CONFIG_PATH",
                                    it->group, it->group, from);
            char opts[1024], best[256];
            group_options(roots[have], it->group, opt, opts, sizeof opts, best, sizeof best);
            return spec_fail_at(ctx, at_file, at_line, at_col, "include",
                                "group %s has no option '%s' (no %s/%s/%s.yaml)%s%s%s; its options: %s", it->group, opt,
                                roots[have], it->group, opt, best[0] ? "; did you mean '" : "", best,
                                best[0] ? "'?" : "", opts[0] ? opts : "none");
        }
        /* the group's keys land under its package: prefix.group with '/' as '.' */
        size_t off = strlen(pkg);
        snprintf(pkg + off, sizeof pkg - off, "%s%s", off ? "." : "", it->group);
        for (char *p = pkg; *p; p++)
            if (*p == '/') *p = '.';
    } else {
        char dir[4096];
        dir_of(from, dir, sizeof dir);
        int fits = it->name[0] == '/' ? fmt(path, sizeof path, "%s", it->name)
                                      : fmt(path, sizeof path, "%s/%s", dir, it->name);
        if (!fits)
            return spec_fail_at(ctx, from, it->line, it->col, "include", "the path '%.100s...' is too long",
                                it->name);
        normalise(path);
        if (!is_file(path)) {
            char with[4200];
            if (fmt(with, sizeof with, "%s.yaml", path) && is_file(with)) fmt(path, sizeof path, "%s", with);
        }
    }
    normalise(path);
    const char *file = eg_intern(path);
    if (!file) return EG_ERR_NOMEM;
    for (int i = 0; i < c->depth; i++)
        if (c->chain[i] == file) return cycle_error(c, it, from, file);
    if (c->depth >= SPEC_MAX_INCLUDE_DEPTH)
        return spec_fail_at(ctx, from, it->line, it->col, "include",
                            "includes nest more than %d files deep (%s includes %s ...)", SPEC_MAX_INCLUDE_DEPTH,
                            c->chain[0], c->chain[1]);
    if (++c->files > SPEC_MAX_FILES)
        return spec_fail_at(ctx, from, it->line, it->col, "include", "the spec composes more than %d files",
                            SPEC_MAX_FILES);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        return spec_fail_at(ctx, from, it->line, it->col, "include", "cannot include '%s': %s", path,
                            stat(path, &sb) != 0 ? strerror(e) : "not a regular file");
    }
    char *text = NULL, err[1024];
    size_t len = 0;
    eg_status st = spec_read_file(path, "included file", &text, &len, err, sizeof err);
    if (st != EG_OK) {
        free(text);
        return spec_fail_at(ctx, from, it->line, it->col, "include", "%s", err);
    }
    if (ctx->incls) {
        ctx->incls->bytes += len;
        if (ctx->incls->bytes > SPEC_MAX_BYTES) {
            free(text);
            return spec_fail_at(ctx, from, it->line, it->col, "include",
                                "the spec and its includes are larger than %u MiB together", SPEC_MAX_BYTES >> 20);
        }
        if ((st = site_add(ctx->incls, file, from, it->line, it->col)) != EG_OK) {
            free(text);
            return st;
        }
    }
    st = compose_file(c, file, text, len, pkg, got);
    free(text);
    return st;
}

static eg_status compose_file(compose *c, const char *file, const char *text, size_t len, const char *prefix,
                              spec_ents *out) {
    spec_incl_list incl = {0};
    spec_ents own = {0};
    c->chain[c->depth++] = file;
    eg_status st = spec_yaml_parse_file(c->ctx, file, text, len, prefix, c->depth > 1, &own, &incl);
    for (int i = 0; i < incl.n && st == EG_OK; i++) {
        spec_ents got = {0};
        st = compose_item(c, file, &incl.it[i], prefix, &got);
        if (st == EG_OK) st = spec_ents_merge(out, &got);
        if (st == EG_OK) st = spec_ents_compact(out);
        spec_ents_free(&got);
    }
    /* this file's own keys last: they win (without includes they are the file, nulls kept) */
    if (st == EG_OK) st = spec_trace_ents(c->ctx, &own, "", 0, 0);
    if (st == EG_OK && out->n == 0) {
        spec_ents empty = *out;
        *out = own;
        own = empty;
    } else if (st == EG_OK)
        st = spec_ents_merge(out, &own);
    if (st == EG_OK) st = spec_ents_compact(out);
    if (st == EG_OK && out->n > SPEC_MAX_KEYS)
        st = spec_fail_at(c->ctx, file, 1, 1, NULL, "more than %d keys with its includes; split the spec",
                          SPEC_MAX_KEYS);
    spec_ents_free(&own);
    spec_incl_list_free(&incl);
    c->depth--;
    return st;
}

eg_status spec_compose(const spec_ctx *ctx, const char *text, size_t len, spec_ents *out) {
    compose c = {0};
    c.ctx = ctx;
    const char *file = eg_intern(ctx->path);
    if (!file) return EG_ERR_NOMEM;
    if (ctx->incls) ctx->incls->bytes = len;
    return compose_file(&c, file, text, len, "", out);
}
