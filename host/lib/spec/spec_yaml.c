/* spec_yaml.c — libyaml documents into ordered, flattened spec entries.
 * Nested mappings and dotted keys flatten to the same key, every value keeps
 * its file:line:col (1-based), and a key set twice is an error naming both
 * places. Also the "key=value" command-line overrides and eg_value_parse. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_internal.h"


/* ---- entry lists ---- */

static void ent_free(spec_ent *e) {
    free(e->key);
    eg_value_free(&e->v);
    if (e->cases) {
        for (int j = 0; j < e->cases->n; j++)
            spec_ents_free(&e->cases->items[j]);
        free(e->cases->items);
        free(e->cases->at);
        free(e->cases);
    }
    memset(e, 0, sizeof *e);
}

void spec_ents_free(spec_ents *l) {
    for (int i = 0; i < l->n; i++)
        ent_free(&l->e[i]);
    free(l->e);
    spec_map_free(&l->ix);
    spec_hcount_free(&l->under);
    memset(l, 0, sizeof *l);
}

int spec_ents_find(const spec_ents *l, const char *key) {
    return spec_map_get(&l->ix, key);
}

/* add delta to the count of every proper prefix of key ("a", "a.b" of "a.b.c") */
static eg_status count_prefixes(spec_ents *l, const char *key, int delta) {
    for (const char *d = strchr(key, '.'); d; d = strchr(d + 1, '.')) {
        eg_status st = spec_hcount_add(&l->under, spec_hash(key, (size_t)(d - key)), delta);
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

int spec_ents_has_under(const spec_ents *l, const char *key) {
    return spec_hcount_get(&l->under, spec_hash(key, strlen(key))) > 0;
}

void spec_ents_kill(spec_ents *l, int i) {
    spec_ent *e = &l->e[i];
    if (!e->key) return;
    spec_map_del(&l->ix, e->key);
    count_prefixes(l, e->key, -1); /* decrements never allocate */
    ent_free(e);
    l->dead++;
}

eg_status spec_ents_compact(spec_ents *l) {
    if (!l->dead) return EG_OK;
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (l->e[i].key) l->e[n++] = l->e[i];
    l->n = n;
    l->dead = 0;
    spec_map_free(&l->ix);
    for (int i = 0; i < n; i++) {
        eg_status st = spec_map_put(&l->ix, l->e[i].key, i);
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

/* takes ownership of key, v and cases (also on failure) */
static eg_status ents_push(spec_ents *l, char *key, int kline, int kcol, eg_value *v, spec_cases *cases) {
    eg_status st = EG_OK;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        spec_ent *grown = realloc(l->e, (size_t)cap * sizeof *grown);
        if (!grown) st = EG_ERR_NOMEM;
        else {
            l->e = grown;
            l->cap = cap;
        }
    }
    if (st == EG_OK) st = spec_map_put(&l->ix, key, l->n);
    if (st == EG_OK && (st = count_prefixes(l, key, 1)) != EG_OK) spec_map_del(&l->ix, key);
    if (st != EG_OK) {
        spec_ent tmp = {key, kline, kcol, *v, cases};
        ent_free(&tmp);
        memset(v, 0, sizeof *v);
        return st;
    }
    spec_ent *e = &l->e[l->n++];
    e->key = key;
    e->kline = kline;
    e->kcol = kcol;
    e->v = *v;
    e->cases = cases;
    return EG_OK;
}

/* ---- nodes to values ---- */

typedef struct walk {
    const spec_ctx *ctx;
    yaml_document_t *doc;
    const char *file;  /* interned, or eg_spec_cmdline */
    int line_override; /* > 0: every position is (file, this line, col 0): an override */
    int *n_keys;       /* keys flattened so far (cases' keys included) */
    const char *root;  /* a file's package ("" or a group's "data"): its `include` lies here */
    spec_incl_list *incl; /* where that file's include list goes; NULL: `include` is a plain key */
} walk;

#define EG_STR_(x) #x
#define EG_STR(x) EG_STR_(x)

static void pos(const walk *w, const yaml_node_t *n, int *line, int *col) {
    if (w->line_override) {
        *line = w->line_override;
        *col = 0;
    } else {
        *line = (int)n->start_mark.line + 1;
        *col = (int)n->start_mark.column + 1;
    }
}

static eg_status fail_node(const walk *w, const yaml_node_t *n, const char *key, const char *msg) {
    int line, col;
    pos(w, n, &line, &col);
    return spec_fail_at(w->ctx, w->file, line, col, key, "%s", msg);
}

static const char *kind_name(const yaml_node_t *n) {
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a value";
}

/* scalar, or a list of scalars (lists of lists only where `nested` > 0: sweep axes) */
static eg_status node_value(const walk *w, yaml_node_t *n, const char *key, int nested, eg_value *out) {
    memset(out, 0, sizeof *out);
    eg_status st = EG_OK;
    if (n->type == YAML_SCALAR_NODE) {
        const char *text = (const char *)n->data.scalar.value;
        int quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && n->data.scalar.style != YAML_ANY_SCALAR_STYLE;
        if (strlen(text) != n->data.scalar.length) /* "\0" or "\x00" in a quoted string */
            st = fail_node(w, n, key, "a value cannot contain a NUL character (\\0)");
        else if (!quoted && eg_scalar_overflow(text)) {
            char msg[200];
            snprintf(msg, sizeof msg, "number %.60s%s is out of range (an integer must fit in 64 bits, a float "
                     "in a double; write .inf for infinity)", text, strlen(text) > 60 ? "..." : "");
            st = fail_node(w, n, key, msg);
        } else
            st = eg_scalar_resolve(text, quoted, out);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it = n->data.sequence.items.start, *end = n->data.sequence.items.top;
        int count = (int)(end - it);
        out->kind = EG_VAL_LIST;
        if (count > 0 && !(out->items = calloc((size_t)count, sizeof *out->items))) return EG_ERR_NOMEM;
        for (int i = 0; i < count && st == EG_OK; i++) {
            yaml_node_t *c = yaml_document_get_node(w->doc, it[i]);
            if (c->type == YAML_MAPPING_NODE || (c->type == YAML_SEQUENCE_NODE && nested <= 0)) {
                char msg[160];
                snprintf(msg, sizeof msg, "expected a list of plain values, but item %d is %s", i + 1, kind_name(c));
                st = fail_node(w, c, key, msg);
                break;
            }
            st = node_value(w, c, key, nested - 1, &out->items[i]);
            out->n_items = i + 1;
        }
    } else {
        st = fail_node(w, n, key, "expected a value or a list, got a mapping");
    }
    pos(w, n, &out->line, &out->col);
    out->file = w->file;
    if (st != EG_OK) eg_value_free(out);
    return st;
}

static int key_ok(const char *k) {
    if (!*k || *k == '.' || k[strlen(k) - 1] == '.' || strstr(k, "..")) return 0;
    for (const char *p = k; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '=' || *p == '\n' || *p == '\r') return 0;
    return 1;
}

/* a full key within SPEC_MAX_KEY_LEN characters and SPEC_MAX_DEPTH names; NULL if so */
static const char *key_too_big(const char *k) {
    size_t len = strlen(k);
    if (len > SPEC_MAX_KEY_LEN) return "longer than " EG_STR(SPEC_MAX_KEY_LEN) " characters";
    int names = 1;
    for (const char *p = k; *p; p++)
        names += *p == '.';
    return names > SPEC_MAX_DEPTH ? "more than " EG_STR(SPEC_MAX_DEPTH) " dotted names deep" : NULL;
}

/* one more key read (of the spec or one override): at most SPEC_MAX_KEYS */
static eg_status count_key(const walk *w, int kline, int kcol, const char *key) {
    if (++*w->n_keys <= SPEC_MAX_KEYS) return EG_OK;
    return spec_fail_at(w->ctx, w->file, kline, kcol, key, "more than %d keys; split the spec", SPEC_MAX_KEYS);
}

static eg_status flatten(const walk *w, yaml_node_t *n, const char *prefix, int kline, int kcol, spec_ents *out);

/* ---- include lists ---- */

void spec_incl_list_free(spec_incl_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->it[i].name);
        free(l->it[i].group);
    }
    free(l->it);
    memset(l, 0, sizeof *l);
}

static eg_status incl_push(spec_incl_list *l, const char *group, const char *name, int line, int col) {
    spec_incl_item *grown = realloc(l->it, (size_t)(l->n + 1) * sizeof *grown);
    if (!grown) return EG_ERR_NOMEM;
    l->it = grown;
    spec_incl_item *it = &l->it[l->n];
    memset(it, 0, sizeof *it);
    it->name = strdup(name);
    it->group = group ? strdup(group) : NULL;
    it->line = line;
    it->col = col;
    if (!it->name || (group && !it->group)) {
        free(it->name);
        free(it->group);
        return EG_ERR_NOMEM;
    }
    l->n++;
    return EG_OK;
}

/* a plain string scalar (not a number, bool or null), else NULL */
static const char *plain_text(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || strlen((const char *)n->data.scalar.value) != n->data.scalar.length) return NULL;
    const char *t = (const char *)n->data.scalar.value;
    return *t ? t : NULL;
}

/* `include: a.yaml`, `include: [a.yaml, {data: fmnist}, ...]`: file paths and group choices */
static eg_status read_include(const walk *w, yaml_node_t *n, const char *key) {
    static const char form[] = " (include: [base.yaml, {data: fmnist}, ...]: file paths relative to this file, "
                               "or {GROUP: OPTION} for configs/groups/GROUP/OPTION.yaml)";
    char msg[600];
    int line, col;
    pos(w, n, &line, &col);
    w->incl->line = line;
    w->incl->col = col;
    yaml_node_item_t *it = NULL, *end = NULL;
    if (n->type == YAML_SCALAR_NODE) {
        if (!n->data.scalar.length) return EG_OK; /* include: (empty) */
        const char *t = plain_text(n);
        if (!t) return fail_node(w, n, key, "expected a file name or a list of them");
        return incl_push(w->incl, NULL, t, line, col);
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        snprintf(msg, sizeof msg, "expected a list, got a mapping%s", form);
        return fail_node(w, n, key, msg);
    }
    it = n->data.sequence.items.start;
    end = n->data.sequence.items.top;
    for (int i = 0; it + i < end; i++) {
        yaml_node_t *c = yaml_document_get_node(w->doc, it[i]);
        pos(w, c, &line, &col);
        const char *t = plain_text(c);
        if (t) {
            eg_status st = incl_push(w->incl, NULL, t, line, col);
            if (st != EG_OK) return st;
            continue;
        }
        if (c->type == YAML_MAPPING_NODE && c->data.mapping.pairs.top - c->data.mapping.pairs.start == 1) {
            yaml_node_pair_t *p = c->data.mapping.pairs.start;
            yaml_node_t *gk = yaml_document_get_node(w->doc, p->key), *gv = yaml_document_get_node(w->doc, p->value);
            const char *g = plain_text(gk), *o = plain_text(gv);
            if (g && o) {
                pos(w, gv, &line, &col);
                eg_status st = incl_push(w->incl, g, o, line, col);
                if (st != EG_OK) return st;
                continue;
            }
        }
        snprintf(msg, sizeof msg, "item %d: expected a file name or {GROUP: OPTION}, got %s%s", i + 1,
                 c->type == YAML_SCALAR_NODE ? "a value that is not a name" : kind_name(c), form);
        return fail_node(w, c, key, msg);
    }
    return EG_OK;
}

/* `sweep.cases`: a list of mappings, each flattened on its own */
static eg_status read_cases(const walk *w, yaml_node_t *n, const char *key, int kline, int kcol, spec_ents *out) {
    spec_cases *cs = calloc(1, sizeof *cs);
    if (!cs) return EG_ERR_NOMEM;
    eg_value at = {0};
    pos(w, n, &at.line, &at.col);
    at.file = w->file;
    eg_status st = EG_OK;
    eg_value probe = {0};
    int is_null = n->type == YAML_SCALAR_NODE && node_value(w, n, key, 0, &probe) == EG_OK && probe.kind == EG_VAL_NULL;
    eg_value_free(&probe);
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it = n->data.sequence.items.start, *end = n->data.sequence.items.top;
        int count = (int)(end - it);
        cs->items = calloc((size_t)(count ? count : 1), sizeof *cs->items);
        cs->at = calloc((size_t)(count ? count : 1), sizeof *cs->at);
        if (!cs->items || !cs->at) st = EG_ERR_NOMEM;
        for (int i = 0; i < count && st == EG_OK; i++) {
            yaml_node_t *c = yaml_document_get_node(w->doc, it[i]);
            cs->n = i + 1;
            pos(w, c, &cs->at[i].line, &cs->at[i].col);
            cs->at[i].file = w->file;
            if (c->type != YAML_MAPPING_NODE) {
                char msg[160];
                snprintf(msg, sizeof msg, "case %d: expected a mapping of keys to values ({params.x: 1}), got %s",
                         i + 1, kind_name(c));
                st = fail_node(w, c, key, msg);
                break;
            }
            st = flatten(w, c, "", kline, kcol, &cs->items[i]);
        }
    } else if (!is_null) {
        st = fail_node(w, n, key, "expected a list of cases (- {params.x: 1, ...})");
    }
    if (st != EG_OK) {
        spec_ent tmp = {NULL, 0, 0, at, cs};
        ent_free(&tmp);
        return st;
    }
    char *k = strdup(key);
    if (!k) {
        spec_ent tmp = {NULL, 0, 0, at, cs};
        ent_free(&tmp);
        return EG_ERR_NOMEM;
    }
    return ents_push(out, k, kline, kcol, &at, cs);
}

/* add (prefix -> value of n) to out, recursing through mappings (spec_prescan bounds the depth) */
static eg_status flatten(const walk *w, yaml_node_t *n, const char *prefix, int kline, int kcol, spec_ents *out) {
    if (strcmp(prefix, "sweep.cases") == 0) {
        eg_status st = count_key(w, kline, kcol, prefix);
        return st != EG_OK ? st : read_cases(w, n, prefix, kline, kcol, out);
    }
    if (n->type != YAML_MAPPING_NODE) {
        int dup = spec_ents_find(out, prefix);
        if (dup >= 0) {
            char first[256];
            spec_where(w->ctx, w->file, out->e[dup].kline, out->e[dup].kcol, first, sizeof first);
            return spec_fail_at(w->ctx, w->file, kline, kcol, prefix, "set twice (first at %s)", first);
        }
        eg_status st = count_key(w, kline, kcol, prefix);
        if (st != EG_OK) return st;
        eg_value v;
        int nested = strncmp(prefix, "sweep.", 6) == 0 ? 1 : 0;
        if ((st = node_value(w, n, prefix, nested, &v)) != EG_OK) return st;
        char *k = strdup(prefix);
        if (!k) {
            eg_value_free(&v);
            return EG_ERR_NOMEM;
        }
        return ents_push(out, k, kline, kcol, &v, NULL);
    }
    yaml_node_pair_t *p = n->data.mapping.pairs.start, *end = n->data.mapping.pairs.top;
    for (; p < end; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return fail_node(w, k, prefix[0] ? prefix : NULL, "a key must be a plain name");
        const char *ks = (const char *)k->data.scalar.value;
        if (strlen(ks) != k->data.scalar.length)
            return fail_node(w, k, prefix[0] ? prefix : NULL, "a key cannot contain a NUL character (\\0)");
        if (!key_ok(ks)) {
            char msg[300];
            snprintf(msg, sizeof msg, "malformed key '%.200s' (expected dotted names like params.beta)", ks);
            return fail_node(w, k, prefix[0] ? prefix : NULL, msg);
        }
        if (w->incl && !strcmp(prefix, w->root) && !strcmp(ks, "include")) {
            eg_status st = read_include(w, v, "include");
            if (st != EG_OK) return st;
            continue;
        }
        if (w->incl && !strcmp(prefix, w->root) && !strcmp(ks, "defaults"))
            return fail_node(w, k, "defaults",
                             "'defaults' is Hydra's composition list; engram's is 'include' (did you mean "
                             "'include'?): include: [base.yaml, {data: fmnist}] merges those files in order, this "
                             "file's own keys last");
        size_t len = strlen(prefix) + strlen(ks) + 2;
        char *full = malloc(len);
        if (!full) return EG_ERR_NOMEM;
        snprintf(full, len, "%s%s%s", prefix, prefix[0] ? "." : "", ks);
        const char *big = key_too_big(full);
        if (big) {
            char msg[300];
            snprintf(msg, sizeof msg, "key '%.60s...' is %s", full, big);
            free(full);
            return fail_node(w, k, NULL, msg);
        }
        int line, col;
        pos(w, k, &line, &col);
        eg_status st = flatten(w, v, full, line, col, out);
        free(full);
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

/* ---- parsing text ---- */

static void line_col_of(const char *text, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else
            (*col)++;
    }
}

/* libyaml's complaint as "YAML syntax error: problem (context at L:C)" */
static eg_status syntax_error(const spec_ctx *ctx, const yaml_parser_t *p, const char *text, const char *file,
                              int line_override) {
    int line, col;
    if (p->error == YAML_READER_ERROR)
        line_col_of(text, p->problem_offset, &line, &col);
    else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    char context[160] = "";
    if (p->context)
        snprintf(context, sizeof context, " (%s at %d:%d)", p->context, (int)p->context_mark.line + 1,
                 (int)p->context_mark.column + 1);
    if (line_override) {
        line = line_override;
        col = 0;
    }
    return spec_fail_at(ctx, file, line, col, NULL, "YAML syntax error: %s%s", p->problem ? p->problem : "malformed",
                        line_override ? "" : context);
}

/* load the single document of text; *root NULL for an empty document */
static eg_status load_doc(const spec_ctx *ctx, const char *text, size_t len, const char *file, int line_override,
                          yaml_document_t *doc, yaml_node_t **root) {
    eg_status pre = spec_prescan(ctx, text, len, file, line_override);
    if (pre != EG_OK) return pre;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return EG_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        eg_status st = syntax_error(ctx, &p, text, file, line_override);
        yaml_parser_delete(&p);
        return st;
    }
    *root = yaml_document_get_root_node(doc);
    if (*root) {
        yaml_document_t second;
        if (!yaml_parser_load(&p, &second)) {
            eg_status st = syntax_error(ctx, &p, text, file, line_override);
            yaml_parser_delete(&p);
            yaml_document_delete(doc);
            return st;
        }
        yaml_node_t *r2 = yaml_document_get_root_node(&second);
        if (r2) {
            int line = line_override ? line_override : (int)second.start_mark.line + 1;
            int col = line_override ? 0 : (int)second.start_mark.column + 1;
            yaml_document_delete(&second);
            yaml_document_delete(doc);
            yaml_parser_delete(&p);
            return spec_fail_at(ctx, file, line, col, NULL, "a second YAML document; a spec is one document");
        }
        yaml_document_delete(&second);
    }
    yaml_parser_delete(&p);
    return EG_OK;
}

eg_status spec_yaml_parse_file(const spec_ctx *ctx, const char *file, const char *text, size_t len,
                               const char *prefix, int included, spec_ents *out, spec_incl_list *incl) {
    yaml_document_t doc;
    yaml_node_t *root = NULL;
    eg_status st = load_doc(ctx, text, len, file, 0, &doc, &root);
    if (st != EG_OK) return st;
    if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
        yaml_document_delete(&doc);
        if (included) return EG_OK; /* an empty included file adds nothing */
        return spec_fail_at(ctx, file, 1, 1, NULL,
                            "the spec is empty; expected a mapping with experiment, model, "
                            "data, params and task");
    }
    int n_keys = 0;
    walk w = {ctx, &doc, file, 0, &n_keys, prefix, incl};
    if (root->type != YAML_MAPPING_NODE) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s must be a mapping of keys (%s), not %s", included ? "an included file" : "the spec",
                 prefix[0] ? "key: value, ..." : "experiment: ..., model: ...", kind_name(root));
        st = fail_node(&w, root, NULL, msg);
    } else
        st = flatten(&w, root, prefix, 1, 1, out);
    yaml_document_delete(&doc);
    return st;
}

/* key equals p or lies under it */
static int under(const char *key, const char *p) {
    size_t n = strlen(p);
    return strncmp(key, p, n) == 0 && (key[n] == 0 || key[n] == '.');
}

/* Merge one override's flattened entries: each replaces the same key, anything under it
 * and any value it lies under; a null value only removes (back to the default). Found
 * by hash: the keys above a key are its prefixes, the keys below it are looked for (one
 * pass for the whole override) only when ents->under says there are some. Entries the
 * override adds itself are never removed by it (as in a spec, {a: 1, a.b: 2} keeps both). */
eg_status spec_ents_merge(spec_ents *ents, spec_ents *got) {
    int n_before = ents->n;
    spec_map below = {0};        /* keys of got with entries under them */
    unsigned char *mine = NULL; /* entries before n_before that got replaced in place */
    eg_status st = EG_OK;
    for (int j = 0; j < got->n && st == EG_OK; j++) {
        spec_ent *o = &got->e[j];
        const char *ok = o->key; /* moved into ents below; stays valid */
        int remove_only = o->v.kind == EG_VAL_NULL && !o->cases;
        for (const char *d = strchr(ok, '.'); d; d = strchr(d + 1, '.')) {
            int i = spec_map_getn(&ents->ix, ok, (size_t)(d - ok));
            if (i >= 0 && i < n_before) spec_ents_kill(ents, i);
        }
        const char *other = !strcmp(ok, "seeds") ? "seed" : !strcmp(ok, "seed") ? "seeds" : NULL;
        int io = other ? spec_ents_find(ents, other) : -1;
        if (io >= 0 && io < n_before) spec_ents_kill(ents, io);
        if (spec_ents_has_under(ents, ok)) st = spec_map_put(&below, ok, j);
        int i = spec_ents_find(ents, ok);
        if (st != EG_OK) break;
        if (i >= 0 && !remove_only) {
            /* replace in place: keeps a sweep axis where it was written */
            spec_ent old = ents->e[i];
            st = spec_map_put(&ents->ix, o->key, i); /* the slot now names o's copy of the key */
            if (st == EG_OK && i < n_before && !mine && !(mine = calloc((size_t)n_before, 1))) st = EG_ERR_NOMEM;
            if (st == EG_OK) {
                if (i < n_before) mine[i] = 1;
                ent_free(&old);
                ents->e[i] = *o;
                memset(o, 0, sizeof *o);
            }
        } else if (i >= 0) {
            spec_ents_kill(ents, i);
        } else if (!remove_only) {
            st = ents_push(ents, o->key, o->kline, o->kcol, &o->v, o->cases);
            memset(o, 0, sizeof *o);
        }
    }
    /* the entries under a key of the override (that were there before it) go */
    for (int i = 0; below.live && st == EG_OK && i < n_before; i++) {
        const char *k = ents->e[i].key;
        if (!k || (mine && mine[i])) continue;
        for (const char *d = strchr(k, '.'); d; d = strchr(d + 1, '.'))
            if (spec_map_getn(&below, k, (size_t)(d - k)) >= 0) {
                spec_ents_kill(ents, i);
                break;
            }
    }
    spec_map_free(&below);
    free(mine);
    return st;
}

/* The override o (not itself a sweep key) sets a key a grid or zip axis or a case also
 * sets: the sweep's value would win in every run it reaches, so refuse, naming both
 * places and the form that does change the sweep. */
static eg_status shadowed(const spec_ctx *ctx, const spec_ents *ents, const spec_ent *o, int line) {
    const char *k = o->key;
    if (!strncmp(k, "sweep", 5) && (k[5] == '.' || !k[5])) return EG_OK;
    for (int i = 0; i < ents->n; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->key) continue;
        const char *form, *axis = spec_axis_of(e->key, &form);
        if (axis) {
            if (under(axis, k) || under(k, axis))
                return spec_fail_at(ctx, eg_spec_cmdline, line, 0, k,
                                    "would be lost: %s is swept by sweep.%s (%s:%d), whose value wins in "
                                    "every run; override the axis instead: sweep.%s.%s=[...]",
                                    axis, form, e->v.file ? e->v.file : ctx->path, e->kline, form, axis);
        }
        for (int c = 0; e->cases && c < e->cases->n; c++)
            for (int j = 0; j < e->cases->items[c].n; j++) {
                const char *ck = e->cases->items[c].e[j].key;
                if (under(ck, k) || under(k, ck))
                    return spec_fail_at(ctx, eg_spec_cmdline, line, 0, k,
                                        "would be lost in case %d: sweep.cases item %d sets %s (%s:%d); set "
                                        "it there with sweep.cases.%d.%s=...",
                                        c + 1, c + 1, ck, e->cases->at[c].file ? e->cases->at[c].file : ctx->path,
                                        e->cases->at[c].line, c + 1, ck);
            }
    }
    return EG_OK;
}

/* the keys the sweep sets in runs (axes' keys, cases' keys), to test an override against
 * in O(its depth); *any = 0 when the spec has no sweep */
typedef struct swept_set {
    spec_map keys;
    spec_hcount under;
} swept_set;

static eg_status swept_add(swept_set *s, const char *k) {
    eg_status st = spec_map_put(&s->keys, k, 1);
    for (const char *d = strchr(k, '.'); d && st == EG_OK; d = strchr(d + 1, '.'))
        st = spec_hcount_add(&s->under, spec_hash(k, (size_t)(d - k)), 1);
    return st;
}

static eg_status swept_build(const spec_ents *ents, swept_set *s) {
    eg_status st = EG_OK;
    for (int i = 0; i < ents->n && st == EG_OK; i++) {
        const spec_ent *e = &ents->e[i];
        if (!e->key) continue;
        const char *form, *axis = spec_axis_of(e->key, &form);
        if (axis) st = swept_add(s, axis);
        for (int c = 0; e->cases && c < e->cases->n && st == EG_OK; c++)
            for (int j = 0; j < e->cases->items[c].n && st == EG_OK; j++)
                st = swept_add(s, e->cases->items[c].e[j].key);
    }
    return st;
}

static int swept_hit(const swept_set *s, const char *k) {
    if (spec_map_get(&s->keys, k) >= 0 || spec_hcount_get(&s->under, spec_hash(k, strlen(k))) > 0) return 1;
    for (const char *d = strchr(k, '.'); d; d = strchr(d + 1, '.'))
        if (spec_map_getn(&s->keys, k, (size_t)(d - k)) >= 0) return 1;
    return 0;
}

static eg_status apply_override(const spec_ctx *ctx, int i, const char *arg, spec_ents *ents);

eg_status spec_apply_override(const spec_ctx *ctx, int i, spec_ents *ents) {
    if (i >= SPEC_MAX_OVERRIDES)
        return spec_fail_at(ctx, eg_spec_cmdline, i + 1, 0, NULL, "more than %d overrides; put them in the spec",
                            SPEC_MAX_OVERRIDES);
    /* "key=a,b" and friends stand for a sweep key; errors still name the argument as given */
    char *rewritten = NULL;
    eg_status st = spec_multirun_rewrite(ctx, i, ctx->overrides[i], &rewritten);
    if (st == EG_OK) st = apply_override(ctx, i, rewritten ? rewritten : ctx->overrides[i], ents);
    free(rewritten);
    return st;
}

static eg_status apply_override(const spec_ctx *ctx, int i, const char *arg, spec_ents *ents) {
    const char *eq = strchr(arg, '=');
    int line = i + 1;
    if (!eq) return spec_fail_at(ctx, eg_spec_cmdline, line, 0, NULL, "expected KEY=VALUE (e.g. params.beta=4)");
    if (eq == arg) return spec_fail_at(ctx, eg_spec_cmdline, line, 0, NULL, "empty key before '='");
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key) return EG_ERR_NOMEM;
    const char *big = key_too_big(key);
    if (!key_ok(key) || big) {
        eg_status st = big ? spec_fail_at(ctx, eg_spec_cmdline, line, 0, NULL, "key '%.60s...' is %s", key, big)
                           : spec_fail_at(ctx, eg_spec_cmdline, line, 0, NULL,
                                          "malformed key '%.200s' (expected dotted names like params.beta)", key);
        free(key);
        return st;
    }
    /* sweep.cases.N.KEY=V: KEY in the N-th case (from 1) */
    spec_ents *target = ents;
    const char *fkey = key;
    if (!strncmp(key, "sweep.cases.", 12)) {
        char *end = NULL;
        long c = strtol(key + 12, &end, 10);
        int ic = spec_ents_find(ents, "sweep.cases");
        spec_cases *cs = ic >= 0 ? ents->e[ic].cases : NULL;
        if (end == key + 12 || *end != '.' || !end[1] || !cs || c < 1 || c > cs->n) {
            eg_status fst = spec_fail_at(ctx, eg_spec_cmdline, line, 0, key,
                                         "override of a case: expected sweep.cases.N.KEY=VALUE with N in 1..%d "
                                         "(the spec has %d case%s)",
                                         cs ? cs->n : 0, cs ? cs->n : 0, cs && cs->n == 1 ? "" : "s");
            free(key);
            return fst;
        }
        target = &cs->items[c - 1];
        fkey = end + 1;
    }
    const char *text = eq + 1;
    yaml_document_t doc;
    yaml_node_t *root = NULL;
    eg_status st = load_doc(ctx, text, strlen(text), eg_spec_cmdline, line, &doc, &root);
    if (st != EG_OK) {
        free(key);
        return st;
    }
    spec_ents got = {0};
    int n_keys = 0;
    walk w = {ctx, &doc, eg_spec_cmdline, line, &n_keys, "", NULL};
    if (root)
        st = flatten(&w, root, fkey, line, 0, &got);
    else {
        eg_value nul = {0};
        nul.file = eg_spec_cmdline;
        nul.line = line;
        char *k = strdup(fkey);
        st = k ? ents_push(&got, k, line, 0, &nul, NULL) : EG_ERR_NOMEM;
    }
    yaml_document_delete(&doc);
    /* an override never loses silently: a key the sweep sets in every run is refused */
    if (st == EG_OK && target == ents && spec_ents_has_under(ents, "sweep")) {
        swept_set sw = {0};
        st = swept_build(ents, &sw);
        for (int j = 0; j < got.n && st == EG_OK; j++)
            if (swept_hit(&sw, got.e[j].key)) st = shadowed(ctx, ents, &got.e[j], line);
        spec_map_free(&sw.keys);
        spec_hcount_free(&sw.under);
    }
    /* a case's keys are traced as "sweep.cases.N.KEY" */
    if (st == EG_OK) st = spec_trace_ents(ctx, &got, key, (size_t)(fkey - key), line);
    free(key);
    if (st == EG_OK) st = spec_ents_merge(target, &got);
    if (st == EG_OK) st = spec_ents_compact(target);
    if (st == EG_OK && target->n > SPEC_MAX_KEYS)
        st = spec_fail_at(ctx, eg_spec_cmdline, line, 0, NULL, "more than %d keys; split the spec", SPEC_MAX_KEYS);
    spec_ents_free(&got); /* entries moved into ents were zeroed */
    return st;
}

static void clear_pos(eg_value *v) {
    v->file = NULL;
    v->line = v->col = 0;
    for (int i = 0; i < v->n_items; i++)
        clear_pos(&v->items[i]);
}

eg_status eg_value_parse(const char *text, eg_value *out) {
    memset(out, 0, sizeof *out);
    char err[256];
    spec_ctx ctx = {"<value>", NULL, 0, err, sizeof err, NULL, NULL, NULL};
    yaml_document_t doc;
    yaml_node_t *root = NULL;
    eg_status st = load_doc(&ctx, text ? text : "", text ? strlen(text) : 0, NULL, 0, &doc, &root);
    if (st != EG_OK) return EG_ERR_INVALID;
    if (root) {
        int n_keys = 0;
        walk w = {&ctx, &doc, NULL, 0, &n_keys, "", NULL};
        st = root->type == YAML_MAPPING_NODE ? EG_ERR_INVALID : node_value(&w, root, "value", 1, out);
        clear_pos(out);
    }
    yaml_document_delete(&doc);
    return st == EG_OK ? EG_OK : EG_ERR_INVALID;
}
