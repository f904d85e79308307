/* spec_multirun.c — Hydra's command-line multirun as spec keys (docs/spec.md
 * "Command-line multirun"). An override whose value is a sweep is rewritten as the
 * spec key it stands for, and the rewritten text is applied as a plain override
 * (errors still quote the argument as typed: they are phrased from its index):
 *
 *   key=a,b,c            -> sweep.grid.key=[a, b, c]   (a comma outside quotes and brackets)
 *   key=range(0,10,2)    -> sweep.grid.key=[0, 2, 4, 6, 8]   (Hydra's: stop excluded)
 *   key=choice(a,b)      -> sweep.grid.key=[a, b]
 *   key=uniform(lo,hi)   -> sweep.random.space.key={uniform: [lo, hi]}   (also loguniform,
 *                           randint, normal, quniform, qloguniform; interval = uniform)
 *   seed=0,1,2 (seeds=)  -> seeds=[0, 1, 2]   (seeds are the replicate axis, not a grid axis)
 *   +key=v, ++key=v      -> key=v              (engram's overrides always add or replace)
 *   ~key, ~key=          -> key=               (removal: back to the default)
 *
 * A value quoted as a whole ('a,b' or "a,b") is one string, a\,b is the string "a,b",
 * [1,2] and {a: 1, b: 2} are one list or mapping (their commas are inside brackets). */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "spec_internal.h"

/* ---- splitting at top-level commas ---- */

typedef struct span {
    const char *s;
    size_t n;
} span;

typedef struct spans {
    span *it;
    int n, cap;
} spans;

static eg_status spans_push(spans *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        span *g = realloc(l->it, (size_t)cap * sizeof *g);
        if (!g) return EG_ERR_NOMEM;
        l->it = g;
        l->cap = cap;
    }
    l->it[l->n++] = (span){s, n};
    return EG_OK;
}

static span trim(span x) {
    while (x.n && isspace((unsigned char)x.s[0]))
        x.s++, x.n--;
    while (x.n && isspace((unsigned char)x.s[x.n - 1]))
        x.n--;
    return x;
}

/* Split s at the commas outside quotes, brackets and parentheses into out (untrimmed
 * items). A quote opens a quoted scalar only where YAML's would: at the start of an item
 * or after one of ,([{: (so "it's" is plain text). A backslash before ',' or '\' escapes it.
 * Returns EG_ERR_SPEC with why[] set when the quotes or brackets do not balance. */
static eg_status split_top(span v, spans *out, char *why, size_t cap) {
    char stack[SPEC_MAX_DEPTH];
    int depth = 0;
    char prev = 0; /* the last non-space character outside quotes; 0 at the start */
    size_t start = 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.s[i];
        if (c == '\\' && i + 1 < v.n && (v.s[i + 1] == ',' || v.s[i + 1] == '\\')) {
            prev = v.s[++i];
            continue;
        }
        if ((c == '\'' || c == '"') && (!prev || strchr(",([{:", prev))) {
            size_t j = i + 1;
            for (; j < v.n; j++) {
                if (c == '\'' && v.s[j] == '\'') {
                    if (j + 1 < v.n && v.s[j + 1] == '\'') { /* '' is a quote inside '...' */
                        j++;
                        continue;
                    }
                    break;
                }
                if (c == '"' && v.s[j] == '\\') j++;
                else if (c == '"' && v.s[j] == '"') break;
            }
            if (j >= v.n) {
                snprintf(why, cap, "the quote %c at character %zu is not closed", c, i + 1);
                return EG_ERR_SPEC;
            }
            i = j;
            prev = c;
            continue;
        }
        if (c == '(' || c == '[' || c == '{') {
            if (depth == SPEC_MAX_DEPTH) {
                snprintf(why, cap, "brackets nested deeper than %d levels", SPEC_MAX_DEPTH);
                return EG_ERR_SPEC;
            }
            stack[depth++] = c;
        } else if (c == ')' || c == ']' || c == '}') {
            char open = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (!depth || stack[depth - 1] != open) {
                if (depth)
                    snprintf(why, cap, "unbalanced %s: '%c' at character %zu closes '%c'",
                             c == ')' || stack[depth - 1] == '(' ? "parentheses" : "brackets", c, i + 1,
                             stack[depth - 1]);
                else
                    snprintf(why, cap, "unbalanced %s: '%c' at character %zu has no '%c' before it",
                             c == ')' ? "parentheses" : "brackets", c, i + 1, open);
                return EG_ERR_SPEC;
            }
            depth--;
        } else if (c == ',' && depth == 0) {
            eg_status st = spans_push(out, v.s + start, i - start);
            if (st != EG_OK) return st;
            start = i + 1;
        }
        if (c != ' ' && c != '\t') prev = c;
    }
    if (depth) {
        snprintf(why, cap, "unbalanced %s: a '%c' is not closed", stack[depth - 1] == '(' ? "parentheses" : "brackets",
                 stack[depth - 1]);
        return EG_ERR_SPEC;
    }
    return spans_push(out, v.s + start, v.n - start);
}

/* ---- functions ---- */

enum { F_RANGE, F_CHOICE, F_UNIFORM, F_LOGUNIFORM, F_RANDINT, F_INTERVAL, F_NORMAL, F_QUNIFORM, F_QLOGUNIFORM };
static const char *const fn_names[] = {"range",  "choice", "uniform",  "loguniform", "randint",
                                       "interval", "normal", "quniform", "qloguniform"};
#define N_FN ((int)(sizeof fn_names / sizeof *fn_names))
#define FN_LIST "range, choice, uniform, loguniform, randint, interval, normal, quniform, qloguniform"

/* the length of the identifier starting x ("range" of "range(1,2)"), 0 if none */
static size_t ident_len(span x) {
    size_t n = 0;
    if (!x.n || !(isalpha((unsigned char)x.s[0]) || x.s[0] == '_')) return 0;
    while (n < x.n && (isalnum((unsigned char)x.s[n]) || x.s[n] == '_'))
        n++;
    return n;
}

/* the quotes and brackets of x balance */
static int balanced(span x) {
    spans tmp = {0};
    char why[200];
    eg_status st = split_top(x, &tmp, why, sizeof why);
    free(tmp.it);
    return st == EG_OK;
}

/* x (trimmed) has the form NAME(...), the last character closing the first '(' (the
 * text between them balances, quotes and all) */
static int is_call(span x, size_t *name_len) {
    size_t n = ident_len(x);
    if (!n || n + 1 >= x.n || x.s[n] != '(' || x.s[x.n - 1] != ')') return 0;
    if (!balanced((span){x.s + n + 1, x.n - n - 2})) return 0;
    *name_len = n;
    return 1;
}

static int fn_index(span name) {
    for (int f = 0; f < N_FN; f++)
        if (strlen(fn_names[f]) == name.n && !strncmp(fn_names[f], name.s, name.n)) return f;
    return -1;
}

/* ---- the rewrite ---- */

typedef struct mr {
    const spec_ctx *ctx;
    int line; /* the override's 1-based position */
    const char *key;
} mr;

static eg_status mr_fail(const mr *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static eg_status mr_fail(const mr *m, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return spec_fail_at(m->ctx, eg_spec_cmdline, m->line, 0, NULL, "%s", msg);
}

/* a \, or \\ outside quotes (a quoted item is YAML's as written) */
static int has_escape(span x) {
    if (x.n && (x.s[0] == '\'' || x.s[0] == '"')) return 0;
    for (size_t i = 0; i + 1 < x.n; i++)
        if (x.s[i] == '\\' && (x.s[i + 1] == ',' || x.s[i + 1] == '\\')) return 1;
    return 0;
}

/* one item as YAML flow text: as written, or (with \, or \\ in it) single-quoted, unescaped */
static void put_item(eg_strbuf *b, span x) {
    if (!has_escape(x)) {
        eg_sb_putn(b, x.s, x.n);
        return;
    }
    eg_sb_putn(b, "'", 1);
    for (size_t i = 0; i < x.n; i++) {
        char c = x.s[i];
        if (c == '\\' && i + 1 < x.n && (x.s[i + 1] == ',' || x.s[i + 1] == '\\')) c = x.s[++i];
        eg_sb_putn(b, c == '\'' ? "''" : &c, c == '\'' ? 2 : 1);
    }
    eg_sb_putn(b, "'", 1);
}

/* the items of a comma list or of choice(...): trimmed, none empty, none a call of ours */
static eg_status check_items(const mr *m, const spans *it, const char *what) {
    for (int k = 0; k < it->n; k++) {
        span x = trim(it->it[k]);
        if (!x.n)
            return mr_fail(m, "empty item %d in %s (two commas in a row, or one at an end); every item is a value",
                           k + 1, what);
        size_t nl;
        if (is_call(x, &nl) && fn_index((span){x.s, nl}) >= 0)
            return mr_fail(m, "item %d of %s is a call of %.*s(); a sweep function stands for the whole value "
                              "(write %s=%.*s alone)",
                           k + 1, what, (int)nl, x.s, m->key, (int)x.n, x.s);
        it->it[k] = x;
    }
    return EG_OK;
}

/* the text before the value: "sweep.grid.KEY=" (or "seeds=" for the seeds) */
static void put_grid_head(eg_strbuf *b, const char *key) {
    if (!strcmp(key, "seed") || !strcmp(key, "seeds")) {
        eg_sb_puts(b, "seeds=");
        return;
    }
    eg_sb_puts(b, "sweep.grid.");
    eg_sb_puts(b, key);
    eg_sb_puts(b, "=");
}

static eg_status put_list(const mr *m, const spans *it, eg_strbuf *b) {
    put_grid_head(b, m->key);
    eg_sb_puts(b, "[");
    for (int k = 0; k < it->n; k++) {
        if (k) eg_sb_puts(b, ", ");
        put_item(b, it->it[k]);
    }
    eg_sb_puts(b, "]");
    return b->oom ? EG_ERR_NOMEM : EG_OK;
}

/* a number argument of a function: a YAML int or float, finite */
static eg_status number_arg(const mr *m, const char *fn, int k, span x, eg_value *v) {
    char text[128];
    memset(v, 0, sizeof *v);
    if (x.n && x.n < sizeof text) {
        memcpy(text, x.s, x.n);
        text[x.n] = 0;
        if (!eg_scalar_overflow(text)) {
            eg_status st = eg_scalar_resolve(text, 0, v);
            if (st != EG_OK) return st;
            if ((v->kind == EG_VAL_INT || v->kind == EG_VAL_FLOAT) && isfinite(v->f)) return EG_OK;
            eg_value_free(v);
        }
    }
    return mr_fail(m, "%s(): argument %d is '%.*s'; expected a finite number", fn, k + 1, (int)(x.n > 60 ? 60 : x.n),
                   x.s);
}

/* a float in a form YAML reads back as a float ("2.0", not "2") */
static void put_float(eg_strbuf *b, double x) {
    char t[64];
    snprintf(t, sizeof t, "%.15g", x);
    if (x == 0) snprintf(t, sizeof t, "0.0"); /* also -0 */
    else if (!strpbrk(t, ".en")) strcat(t, ".0");
    eg_sb_puts(b, t);
}

#define RANGE_INT_MAX 9007199254740992.0 /* 2^53: integer bounds beyond it are refused */

/* range(stop), range(start, stop), range(start, stop, step); also start=, stop=, step= */
static eg_status do_range(const mr *m, const spans *args, eg_strbuf *b) {
    eg_value v[3] = {{0}}; /* start, stop, step */
    int given[3] = {0, 0, 0};
    eg_status st = EG_OK;
    if (args->n < 1 || args->n > 3 || (args->n == 1 && !trim(args->it[0]).n))
        return mr_fail(m, "range() takes 1 to 3 numbers: range(stop), range(start, stop) or range(start, stop, step)");
    for (int k = 0; k < args->n && st == EG_OK; k++) {
        span x = trim(args->it[k]);
        int slot = args->n == 1 ? 1 : k;
        static const char *const names[] = {"start", "stop", "step"};
        for (int s = 0; s < 3; s++) {
            size_t nl = strlen(names[s]);
            if (x.n <= nl || strncmp(x.s, names[s], nl)) continue;
            span rest = trim((span){x.s + nl, x.n - nl});
            if (!rest.n || rest.s[0] != '=') continue;
            x = trim((span){rest.s + 1, rest.n - 1});
            slot = s;
            break;
        }
        if (given[slot]) st = mr_fail(m, "range(): %s given twice", slot == 0 ? "start" : slot == 1 ? "stop" : "step");
        else if ((st = number_arg(m, "range", k, x, &v[slot])) == EG_OK) given[slot] = 1;
    }
    if (st == EG_OK && !given[1]) st = mr_fail(m, "range(): stop is missing (range(start, stop[, step]))");
    if (st != EG_OK) {
        for (int s = 0; s < 3; s++)
            eg_value_free(&v[s]);
        return st;
    }
    int ints = 1;
    double a = given[0] ? v[0].f : 0, z = v[1].f, d = given[2] ? v[2].f : 1;
    for (int s = 0; s < 3; s++)
        if (given[s] && v[s].kind != EG_VAL_INT) ints = 0;
    for (int s = 0; s < 3; s++)
        eg_value_free(&v[s]);
    if (d == 0) return mr_fail(m, "range(): the step is 0; give a step > 0 (or < 0 for a descending range)");
    if (ints && (fabs(a) > RANGE_INT_MAX || fabs(z) > RANGE_INT_MAX || fabs(d) > RANGE_INT_MAX))
        return mr_fail(m, "range(): integer bounds must lie within +-2^53");
    /* Hydra's (Python's) count: the values a + k d with k >= 0 on the start's side of stop */
    double count = ceil((z - a) / d);
    if (!ints) count = ceil((z - a) / d - 1e-9); /* 0.3 / 0.1 = 2.9999999999999996 is 3, 3.0000000000000004 too */
    if (!(count >= 1))
        return mr_fail(m, "range(): empty (stop is excluded%s); a sweep axis needs at least one value",
                       d > 0 ? "; for a descending range give a negative step: range(5, 0, -1)" : "");
    if (count > SPEC_MAX_RUNS)
        return mr_fail(m, "range(): %.0f values; a spec expands to at most %d runs", count, SPEC_MAX_RUNS);
    put_grid_head(b, m->key);
    eg_sb_puts(b, "[");
    char t[64];
    for (long k = 0; k < (long)count; k++) {
        if (k) eg_sb_puts(b, ", ");
        if (ints) {
            snprintf(t, sizeof t, "%lld", (long long)a + (long long)k * (long long)d);
            eg_sb_puts(b, t);
        } else
            put_float(b, a + (double)k * d);
    }
    eg_sb_puts(b, "]");
    return b->oom ? EG_ERR_NOMEM : EG_OK;
}

/* uniform(lo, hi) and friends -> sweep.random.space.KEY={DIST: [args]} (bounds checked there) */
static eg_status do_dist(const mr *m, int f, const spans *args, eg_strbuf *b) {
    const char *fn = fn_names[f];
    int want = f == F_QUNIFORM || f == F_QLOGUNIFORM ? 3 : 2;
    static const char *const forms[] = {"", "", "(lo, hi)", "(lo, hi)", "(lo, hi), both ends included", "(lo, hi)",
                                        "(mean, sd)", "(lo, hi, q)", "(lo, hi, q)"};
    if (args->n != want || (args->n == 1 && !trim(args->it[0]).n))
        return mr_fail(m, "%s() takes %d numbers %s, got %d", fn, want, forms[f],
                       args->n == 1 && !trim(args->it[0]).n ? 0 : args->n);
    if (!strcmp(m->key, "seed") || !strcmp(m->key, "seeds"))
        return mr_fail(m, "seeds are the replicate axis, not a random-search key; list them: seeds=range(0,5) or "
                          "seeds=0,1,2 (sweep.random.seed seeds the sampling)");
    eg_sb_puts(b, "sweep.random.space.");
    eg_sb_puts(b, m->key);
    eg_sb_puts(b, "={");
    eg_sb_puts(b, f == F_INTERVAL ? "uniform" : fn); /* Hydra-optuna's interval(lo, hi) is uniform */
    eg_sb_puts(b, ": [");
    for (int k = 0; k < args->n; k++) {
        eg_value v;
        span x = trim(args->it[k]);
        eg_status st = number_arg(m, fn, k, x, &v);
        if (st != EG_OK) return st;
        eg_value_free(&v);
        if (k) eg_sb_puts(b, ", ");
        eg_sb_putn(b, x.s, x.n);
    }
    eg_sb_puts(b, "]}");
    return b->oom ? EG_ERR_NOMEM : EG_OK;
}

static eg_status do_call(const mr *m, span v, size_t name_len, eg_strbuf *b) {
    span name = {v.s, name_len};
    int f = fn_index(name);
    if (f < 0) {
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)(name_len < 60 ? name_len : 60), name.s);
        const char *best = eg_did_you_mean(nm, fn_names, N_FN);
        return mr_fail(m, "unknown function '%s'%s%s%s (engram knows %s); for a literal string quote the value: "
                          "%s='%.*s'",
                       nm, best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "", FN_LIST, m->key,
                       (int)(v.n > 100 ? 100 : v.n), v.s);
    }
    spans args = {0};
    char why[200];
    span inner = {v.s + name_len + 1, v.n - name_len - 2};
    eg_status st = split_top(inner, &args, why, sizeof why);
    if (st == EG_ERR_SPEC) st = mr_fail(m, "%s(): %s", fn_names[f], why);
    if (st == EG_OK) {
        if (f == F_RANGE)
            st = do_range(m, &args, b);
        else if (f == F_CHOICE) {
            if (args.n == 1 && !trim(args.it[0]).n) st = mr_fail(m, "choice() needs at least one value");
            if (st == EG_OK) st = check_items(m, &args, "choice()");
            if (st == EG_OK) st = put_list(m, &args, b);
        } else
            st = do_dist(m, f, &args, b);
    }
    free(args.it);
    return st;
}

/* is the value a sweep (a top-level comma, a call of a function, a \, escape)? */
static eg_status rewrite_value(const mr *m, span v, eg_strbuf *b, int *changed) {
    spans items = {0};
    char why[200];
    size_t nl = 0;
    span t = trim(v);
    int call = is_call(t, &nl) || (ident_len(t) && ident_len(t) < t.n && t.s[ident_len(t)] == '(');
    eg_status st = split_top(t, &items, why, sizeof why);
    *changed = 0;
    if (st == EG_ERR_SPEC) {
        /* unbalanced: a quote or parenthesis is ours to refuse where the value would be a sweep; a
         * bracket of a list or mapping ([1,) is YAML's, whose syntax error names the argument too */
        int ours = !strncmp(why, "the quote", 9) || !strncmp(why, "unbalanced parentheses", 22);
        st = ours && (memchr(t.s, ',', t.n) || call)
                 ? mr_fail(m, "%s in '%.*s'", why, (int)(t.n > 100 ? 100 : t.n), t.s)
                 : EG_OK;
        free(items.it);
        return st;
    }
    if (st == EG_OK && items.n > 1) {
        st = check_items(m, &items, "the comma list");
        if (st == EG_OK) st = put_list(m, &items, b);
        *changed = 1;
    } else if (st == EG_OK && is_call(t, &nl)) {
        st = do_call(m, t, nl, b);
        *changed = 1;
    } else if (st == EG_OK && has_escape(t)) { /* key=a\,b: one string */
        eg_sb_puts(b, m->key);
        eg_sb_puts(b, "=");
        put_item(b, t);
        *changed = 2;
        st = b->oom ? EG_ERR_NOMEM : EG_OK;
    }
    free(items.it);
    return st;
}

/* a multirun value of a key that cannot take one: say what to write instead */
static eg_status refuse_sweep_key(const mr *m, span v) {
    const char *k = m->key;
    int vn = (int)(v.n > 100 ? 100 : v.n);
    if (!strncmp(k, "sweep.cases.", 12)) {
        const char *inner = strchr(k + 12, '.');
        inner = inner ? inner + 1 : "KEY";
        return mr_fail(m, "a case sets one value per key, so a multirun value (a comma list, range(), choice() or a "
                          "distribution) cannot go inside a case; to sweep %s in every case write %s=%.*s (a grid "
                          "axis crossed with the cases), or add cases with sweep.cases=[{...}, {...}]",
                       inner, inner, vn, v.s);
    }
    const char *form, *run_key = spec_axis_of(k, &form);
    if (run_key && !strchr(v.s, '('))
        return mr_fail(m, "a multirun value (a comma list, range(), choice() or a distribution) makes a sweep of the "
                          "key it sets, and %s is itself a sweep key; write the axis as a list: %s=[%.*s], or give "
                          "the run's key: %s=%.*s",
                       k, k, vn, v.s, run_key, vn, v.s);
    if (run_key)
        return mr_fail(m, "a multirun value (a comma list, range(), choice() or a distribution) makes a sweep of the "
                          "key it sets, and %s is itself a sweep key; give the run's key instead: %s=%.*s (it "
                          "replaces the axis in place)",
                       k, run_key, vn, v.s);
    return mr_fail(m, "a multirun value (a comma list, range(), choice() or a distribution) makes a sweep of the "
                      "key it sets, and %s is itself a sweep key; write a list as a list: %s=[%.*s], or sweep a "
                      "run's key instead (params.beta=1,2 adds the axis sweep.grid.params.beta)",
                   k, k, vn, v.s);
}

static int is_sweep_key(const char *k) {
    return !strncmp(k, "sweep", 5) && (k[5] == '.' || !k[5]);
}

/* experiment, description, model: one value per spec (this file calls only spec_diag.c and
 * base/: spec_yaml.c calls it, and the files of spec/ call each other in no circle) */
static int unsweepable(const char *k) {
    size_t n = strcspn(k, ".");
    return (n == 10 && !strncmp(k, "experiment", n)) || (n == 11 && !strncmp(k, "description", n)) ||
           (n == 5 && !strncmp(k, "model", n));
}

eg_status spec_multirun_rewrite(const spec_ctx *ctx, int i, const char *arg, char **out) {
    *out = NULL;
    mr m = {ctx, i + 1, NULL};
    const char *a = arg;
    int prefixed = 0;
    if (a[0] == '~') { /* Hydra's delete: ~key or ~key= */
        const char *eq = strchr(a, '=');
        if (eq && eq[1])
            return mr_fail(&m, "~KEY=VALUE deletes KEY only when it has that value in Hydra; engram removes a key "
                               "whatever its value: write ~%.*s= (or %.*s=)",
                           (int)(eq - a - 1), a + 1, (int)(eq - a - 1), a + 1);
        size_t kl = eq ? (size_t)(eq - a - 1) : strlen(a + 1);
        if (!kl) return mr_fail(&m, "~ needs a key to remove (~params.beta)");
        if (!(*out = malloc(kl + 2))) return EG_ERR_NOMEM;
        snprintf(*out, kl + 2, "%.*s=", (int)kl, a + 1);
        return EG_OK;
    }
    if (a[0] == '+') { /* Hydra's add (+key=v) and force-add (++key=v): engram's overrides do both */
        a += a[1] == '+' ? 2 : 1;
        prefixed = 1;
    }
    const char *eq = strchr(a, '=');
    if (!eq || eq == a) { /* apply_override says what is wrong */
        if (prefixed && !(*out = strdup(a))) return EG_ERR_NOMEM;
        return EG_OK;
    }
    char *key = strndup(a, (size_t)(eq - a));
    if (!key) return EG_ERR_NOMEM;
    m.key = key;
    eg_strbuf b = {0};
    int changed = 0;
    span v = {eq + 1, strlen(eq + 1)};
    eg_status st = rewrite_value(&m, v, &b, &changed);
    if (st == EG_OK && changed == 1 && is_sweep_key(key)) st = refuse_sweep_key(&m, trim(v));
    else if (st == EG_OK && changed == 1 && unsweepable(key))
        st = mr_fail(&m, "a comma outside quotes (or range(), choice(), a distribution) makes a multirun, one run per "
                         "value, but %s cannot be swept (one spec is one experiment of one model); for a literal "
                         "comma quote the value (%s='...') or escape it (\\,)",
                     key, key);
    if (st == EG_OK && !changed && prefixed) eg_sb_puts(&b, a);
    if (st == EG_OK && b.oom) st = EG_ERR_NOMEM;
    if (st == EG_OK && (changed || prefixed)) {
        *out = b.p;
        b.p = NULL;
    }
    free(b.p);
    free(key);
    return st;
}
