/* cfg.c — the flat, sorted config map; values, their canonical text (run ids)
 * and the nested YAML rendering (/config of a run file). */
#define _GNU_SOURCE
#include "cfg.h"
#include "strbuf.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- interned file names (live until exit; eg_value.file points here) ---- */

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static int n_interned, cap_interned;

const char *eg_intern(const char *s) {
    if (!s) return NULL;
    const char *found = NULL;
    pthread_mutex_lock(&intern_lock);
    for (int i = 0; i < n_interned && !found; i++)
        if (strcmp(interned[i], s) == 0) found = interned[i];
    if (!found) {
        if (n_interned == cap_interned) {
            int cap = cap_interned ? 2 * cap_interned : 16;
            char **grown = realloc(interned, (size_t)cap * sizeof *grown);
            if (grown) {
                interned = grown;
                cap_interned = cap;
            }
        }
        char *copy = n_interned < cap_interned ? strdup(s) : NULL;
        if (copy) interned[n_interned++] = copy;
        found = copy;
    }
    pthread_mutex_unlock(&intern_lock);
    return found;
}

/* ---- values ---- */

void eg_value_free(eg_value *v) {
    if (!v) return;
    free(v->s);
    for (int i = 0; i < v->n_items; i++)
        eg_value_free(&v->items[i]);
    free(v->items);
    const char *file = v->file;
    int line = v->line, col = v->col;
    memset(v, 0, sizeof *v);
    v->file = file;
    v->line = line;
    v->col = col;
}

eg_status eg_value_copy(eg_value *dst, const eg_value *src) {
    *dst = *src;
    dst->s = NULL;
    dst->items = NULL;
    dst->n_items = 0;
    if (src->s && !(dst->s = strdup(src->s))) return EG_ERR_NOMEM;
    if (src->n_items > 0) {
        dst->items = calloc((size_t)src->n_items, sizeof *dst->items);
        if (!dst->items) return EG_ERR_NOMEM;
        for (int i = 0; i < src->n_items; i++) {
            eg_status st = eg_value_copy(&dst->items[i], &src->items[i]);
            dst->n_items = i + 1;
            if (st != EG_OK) return st;
        }
    }
    return EG_OK;
}

static int all_digits(const char *p, const char *digits) {
    if (!*p) return 0;
    for (; *p; p++)
        if (!strchr(digits, *p)) return 0;
    return 1;
}

/* YAML 1.2 core float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_core_float(const char *p) {
    if (*p == '+' || *p == '-') p++;
    int mant = 0;
    while (*p >= '0' && *p <= '9')
        p++, mant++;
    if (*p == '.') {
        p++;
        int frac = 0;
        while (*p >= '0' && *p <= '9')
            p++, frac++;
        if (!mant && !frac) return 0;
    } else if (!mant)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

int eg_scalar_overflow(const char *text) {
    if (!text) return 0;
    const char *u = (*text == '+' || *text == '-') ? text + 1 : text;
    int base = all_digits(u, "0123456789")                                                     ? 10
               : u == text && !strncmp(text, "0x", 2) && all_digits(text + 2, "0123456789abcdefABCDEF") ? 16
               : u == text && !strncmp(text, "0o", 2) && all_digits(text + 2, "01234567")              ? 8
                                                                                                 : 0;
    errno = 0;
    if (base) {
        (void)strtoll(base == 10 ? text : text + 2, NULL, base);
        return errno == ERANGE;
    }
    if (!is_core_float(text)) return 0;
    double f = strtod(text, NULL);
    return isinf(f);
}

eg_status eg_scalar_resolve(const char *text, int quoted, eg_value *out) {
    memset(out, 0, sizeof *out);
    if (!text) text = "";
    if (!(out->s = strdup(text))) return EG_ERR_NOMEM;
    out->kind = EG_VAL_STRING;
    if (quoted) return EG_OK;
    const char *t = text;
    if (!*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL")) {
        out->kind = EG_VAL_NULL;
        return EG_OK;
    }
    if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE")) {
        out->kind = EG_VAL_BOOL;
        out->b = 1;
        return EG_OK;
    }
    if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE")) {
        out->kind = EG_VAL_BOOL;
        return EG_OK;
    }
    const char *u = (*t == '+' || *t == '-') ? t + 1 : t;
    int base = 0;
    if (all_digits(u, "0123456789"))
        base = 10;
    else if (u == t && !strncmp(t, "0x", 2) && all_digits(t + 2, "0123456789abcdefABCDEF"))
        base = 16;
    else if (u == t && !strncmp(t, "0o", 2) && all_digits(t + 2, "01234567"))
        base = 8;
    if (base) {
        errno = 0;
        long long v = strtoll(base == 10 ? t : t + 2, NULL, base);
        if (errno == 0) {
            out->kind = EG_VAL_INT;
            out->i = v;
            out->f = (double)v;
            return EG_OK;
        }
        if (base == 10) { /* too large for int64: keep it as a number */
            out->kind = EG_VAL_FLOAT;
            out->f = strtod(t, NULL);
            return EG_OK;
        }
    }
    if (is_core_float(t)) {
        out->kind = EG_VAL_FLOAT;
        out->f = strtod(t, NULL);
        return EG_OK;
    }
    if (!strcmp(u, ".inf") || !strcmp(u, ".Inf") || !strcmp(u, ".INF")) {
        out->kind = EG_VAL_FLOAT;
        out->f = *t == '-' ? -INFINITY : INFINITY;
        return EG_OK;
    }
    if (!strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN")) {
        out->kind = EG_VAL_FLOAT;
        out->f = NAN;
        return EG_OK;
    }
    return EG_OK;
}

/* The fewest significant digits (1..17) whose "%.*g" reads back as f (finite). The
 * answer is that of trying 1, 2, ... 17 in turn, found in at most three tries: when 15
 * digits read back, the fewest are those 15 without their trailing zeros (a double
 * holds more than 15 decimal digits, so no shorter rounding reads back unless it is
 * that one); else it is 16 or 17. Subnormal numbers hold fewer digits: tried in turn. */
static int shortest_digits(double f) {
    char tmp[40];
    if (f != 0 && fabs(f) < DBL_MIN) { /* subnormal: fewer digits held, so try them all */
        int prec = 1;
        for (; prec < 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, f);
            if (strtod(tmp, NULL) == f) break;
        }
        return prec;
    }
    snprintf(tmp, sizeof tmp, "%.14e", f); /* d.dddddddddddddde+XX: 15 digits */
    if (strtod(tmp, NULL) == f) {
        const char *e = strchr(tmp, 'e');
        int digits = 15;
        while (digits > 1 && e[-1] == '0')
            e--, digits--;
        return digits;
    }
    snprintf(tmp, sizeof tmp, "%.15e", f);
    return strtod(tmp, NULL) == f ? 16 : 17;
}

/* Shortest text that reads back to the same double, always with a '.' (or an
 * exponent with a mantissa dot) so that it stays a float in YAML 1.1 and 1.2. */
static void format_float(double f, char *out, size_t cap, int yaml) {
    if (isnan(f)) {
        snprintf(out, cap, "%s", yaml ? ".nan" : "nan");
        return;
    }
    if (isinf(f)) {
        snprintf(out, cap, "%s%s", f < 0 ? "-" : "", yaml ? ".inf" : "inf");
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.*g", shortest_digits(f), f);
    char *e = strchr(tmp, 'e');
    if (!strchr(tmp, '.')) {
        char fixed[48];
        if (e)
            snprintf(fixed, sizeof fixed, "%.*s.0%s", (int)(e - tmp), tmp, e);
        else
            snprintf(fixed, sizeof fixed, "%s.0", tmp);
        snprintf(out, cap, "%s", fixed);
    } else
        snprintf(out, cap, "%s", tmp);
}

static void quote_string(eg_strbuf *b, const char *s) {
    eg_sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            eg_sb_putn(b, esc, 2);
        } else if (*p == '\n')
            eg_sb_puts(b, "\\n");
        else if (*p == '\t')
            eg_sb_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            eg_sb_puts(b, esc);
        } else
            eg_sb_putn(b, (const char *)p, 1);
    }
    eg_sb_putn(b, "\"", 1);
}

/* a string that YAML reads back as the same plain string */
static int plain_safe(const char *s) {
    if (!s || !*s || *s == '-' || *s == '.' || *s == '~') return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_./+-", *p)))
            return 0;
    eg_value v;
    if (eg_scalar_resolve(s, 0, &v) != EG_OK) return 0;
    int ok = v.kind == EG_VAL_STRING;
    /* YAML 1.1 readers (PyYAML) also take yes/no/on/off as booleans */
    static const char *const yaml11[] = {"yes", "no",  "on",  "off", "y",  "n",   "Yes", "No",
                                         "On",  "Off", "YES", "NO",  "ON", "OFF", "Y",   "N"};
    for (size_t i = 0; i < sizeof yaml11 / sizeof *yaml11; i++)
        ok &= strcmp(s, yaml11[i]) != 0;
    eg_value_free(&v);
    return ok;
}

/* yaml = 0: canonical text (run ids); 1: YAML flow text */
static void put_value(eg_strbuf *b, const eg_value *v, int yaml) {
    char num[64];
    switch (v->kind) {
    case EG_VAL_NULL: eg_sb_puts(b, "null"); break;
    case EG_VAL_BOOL: eg_sb_puts(b, v->b ? "true" : "false"); break;
    case EG_VAL_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        eg_sb_puts(b, num);
        break;
    case EG_VAL_FLOAT:
        format_float(v->f, num, sizeof num, yaml);
        eg_sb_puts(b, num);
        break;
    case EG_VAL_STRING:
        if (yaml && plain_safe(v->s))
            eg_sb_puts(b, v->s);
        else
            quote_string(b, v->s ? v->s : "");
        break;
    case EG_VAL_LIST:
        eg_sb_putn(b, "[", 1);
        for (int i = 0; i < v->n_items; i++) {
            if (i) eg_sb_puts(b, ", ");
            put_value(b, &v->items[i], yaml);
        }
        eg_sb_putn(b, "]", 1);
        break;
    }
}

void eg_value_canonical(const eg_value *v, char *buf, size_t cap) {
    eg_strbuf b = {0};
    put_value(&b, v, 0);
    if (cap) snprintf(buf, cap, "%s", b.p && !b.oom ? b.p : "");
    free(b.p);
}

/* ---- the map ---- */

void eg_cfg_init(eg_cfg *c) {
    memset(c, 0, sizeof *c);
}

void eg_cfg_free(eg_cfg *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->keys[i]);
        eg_value_free(&c->vals[i]);
    }
    free(c->keys);
    free(c->vals);
    memset(c, 0, sizeof *c);
}

/* index of key, or -(insertion point) - 1 */
static int find(const eg_cfg *c, const char *key) {
    int lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, r = strcmp(c->keys[mid], key);
        if (r == 0) return mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

const eg_value *eg_cfg_get(const eg_cfg *c, const char *key) {
    int i = c && key ? find(c, key) : -1;
    return i >= 0 ? &c->vals[i] : NULL;
}

eg_status eg_cfg_set(eg_cfg *c, const char *key, const eg_value *v) {
    eg_value copy;
    eg_status st = eg_value_copy(&copy, v);
    if (st != EG_OK) {
        eg_value_free(&copy);
        return st;
    }
    int i = find(c, key);
    if (i >= 0) {
        eg_value_free(&c->vals[i]);
        c->vals[i] = copy;
        return EG_OK;
    }
    i = -i - 1;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        char **keys = realloc(c->keys, (size_t)cap * sizeof *keys);
        if (keys) c->keys = keys;
        eg_value *vals = keys ? realloc(c->vals, (size_t)cap * sizeof *vals) : NULL;
        if (!vals) {
            eg_value_free(&copy);
            return EG_ERR_NOMEM;
        }
        c->vals = vals;
        c->cap = cap;
    }
    char *k = strdup(key);
    if (!k) {
        eg_value_free(&copy);
        return EG_ERR_NOMEM;
    }
    memmove(c->keys + i + 1, c->keys + i, (size_t)(c->n - i) * sizeof *c->keys);
    memmove(c->vals + i + 1, c->vals + i, (size_t)(c->n - i) * sizeof *c->vals);
    c->keys[i] = k;
    c->vals[i] = copy;
    c->n++;
    return EG_OK;
}

void eg_cfg_remove(eg_cfg *c, const char *key) {
    int i = find(c, key);
    if (i < 0) return;
    free(c->keys[i]);
    eg_value_free(&c->vals[i]);
    memmove(c->keys + i, c->keys + i + 1, (size_t)(c->n - i - 1) * sizeof *c->keys);
    memmove(c->vals + i, c->vals + i + 1, (size_t)(c->n - i - 1) * sizeof *c->vals);
    c->n--;
}

eg_status eg_cfg_from_sorted(eg_cfg *c, const char *const *keys, const eg_value *const *vals, int n) {
    eg_cfg_init(c);
    if (n <= 0) return EG_OK;
    c->keys = calloc((size_t)n, sizeof *c->keys);
    c->vals = calloc((size_t)n, sizeof *c->vals);
    if (!c->keys || !c->vals) {
        eg_cfg_free(c);
        return EG_ERR_NOMEM;
    }
    c->cap = n;
    for (int i = 0; i < n; i++) {
        c->n = i + 1;
        c->keys[i] = strdup(keys[i]);
        if (!c->keys[i] || eg_value_copy(&c->vals[i], vals[i]) != EG_OK) {
            eg_cfg_free(c);
            return EG_ERR_NOMEM;
        }
    }
    return EG_OK;
}

void eg_cfg_shrink(eg_cfg *c) {
    if (c->n == 0 || c->n == c->cap) return;
    char **keys = malloc((size_t)c->n * sizeof *keys);
    eg_value *vals = malloc((size_t)c->n * sizeof *vals);
    if (!keys || !vals) { /* keep the larger arrays */
        free(keys);
        free(vals);
        return;
    }
    memcpy(keys, c->keys, (size_t)c->n * sizeof *keys);
    memcpy(vals, c->vals, (size_t)c->n * sizeof *vals);
    free(c->keys);
    free(c->vals);
    c->keys = keys;
    c->vals = vals;
    c->cap = c->n;
}

eg_status eg_cfg_copy(eg_cfg *dst, const eg_cfg *src) {
    eg_cfg_init(dst);
    if (src->n == 0) return EG_OK;
    dst->keys = calloc((size_t)src->n, sizeof *dst->keys);
    dst->vals = calloc((size_t)src->n, sizeof *dst->vals);
    if (!dst->keys || !dst->vals) {
        eg_cfg_free(dst);
        return EG_ERR_NOMEM;
    }
    dst->cap = src->n;
    for (int i = 0; i < src->n; i++) {
        dst->n = i + 1;
        dst->keys[i] = strdup(src->keys[i]);
        if (!dst->keys[i] || eg_value_copy(&dst->vals[i], &src->vals[i]) != EG_OK) {
            eg_cfg_free(dst);
            return EG_ERR_NOMEM;
        }
    }
    return EG_OK;
}

/* key equals prefix p or continues it with '.' */
static int under(const char *key, const char *p) {
    size_t n = strlen(p);
    return strncmp(key, p, n) == 0 && (key[n] == 0 || key[n] == '.');
}

char *eg_cfg_canonical(const eg_cfg *c, const char *const *exclude, int n_exclude) {
    eg_strbuf b = {0};
    eg_sb_puts(&b, "");
    for (int i = 0; i < c->n; i++) {
        int skip = 0;
        for (int j = 0; j < n_exclude && !skip; j++)
            skip = under(c->keys[i], exclude[j]);
        if (skip) continue;
        eg_sb_puts(&b, c->keys[i]);
        eg_sb_putn(&b, "=", 1);
        put_value(&b, &c->vals[i], 0);
        eg_sb_putn(&b, "\n", 1);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Emit keys [lo, hi), which share their first `plen` characters (a prefix ending
 * in '.', or nothing), as a nested block mapping indented by `indent`. */
static void emit(eg_strbuf *b, const eg_cfg *c, int lo, int hi, size_t plen, int indent) {
    int i = lo;
    while (i < hi) {
        const char *rest = c->keys[i] + plen;
        const char *dot = strchr(rest, '.');
        for (int k = 0; k < indent; k++)
            eg_sb_putn(b, " ", 1);
        if (!dot) {
            eg_sb_puts(b, rest);
            eg_sb_puts(b, ": ");
            put_value(b, &c->vals[i], 1);
            eg_sb_putn(b, "\n", 1);
            i++;
            continue;
        }
        size_t seg = (size_t)(dot - rest);
        int j = i + 1;
        while (j < hi && strncmp(c->keys[j] + plen, rest, seg + 1) == 0)
            j++;
        eg_sb_putn(b, rest, seg);
        eg_sb_puts(b, ":\n");
        emit(b, c, i, j, plen + seg + 1, indent + 2);
        i = j;
    }
}

char *eg_cfg_to_yaml(const eg_cfg *c) {
    eg_strbuf b = {0};
    eg_sb_puts(&b, "");
    emit(&b, c, 0, c->n, 0, 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
