/* cfg.h — a resolved configuration: a flat map from dotted keys to typed values,
 * each remembering where it came from (file:line:col, or the override argument).
 * Nested YAML mappings and dotted keys flatten to the same key. */
#ifndef EG_CFG_H
#define EG_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "engram/config.h"
#include "engram/status.h"

typedef enum eg_val_kind {
    EG_VAL_NULL = 0,
    EG_VAL_BOOL,
    EG_VAL_INT,
    EG_VAL_FLOAT,
    EG_VAL_STRING,
    EG_VAL_LIST
} eg_val_kind;

typedef struct eg_value {
    eg_val_kind kind;
    int b;
    int64_t i;
    double f;               /* also set for INT (as double) */
    char *s;                /* STRING (also the raw text of every scalar) */
    struct eg_value *items; /* LIST of scalars */
    int n_items;
    const char *file; /* interned (lives until exit); "<command line>" for overrides; NULL for defaults */
    int line, col;    /* 1-based; overrides: line = the override's 1-based position, col 0; 0 for defaults */
} eg_value;

struct eg_cfg { /* engram/config.h reads it through accessors */
    int n, cap;
    char **keys; /* sorted */
    eg_value *vals;
};

/* A string that lives until the process ends (file names kept in eg_value.file). */
const char *eg_intern(const char *s);

/* Resolve a plain (unquoted) YAML scalar by the YAML 1.2 core schema:
 * null, true/false, int, float, else string. out->s always holds the text. */
eg_status eg_scalar_resolve(const char *text, int quoted, eg_value *out);
/* 1 when the plain scalar text has the form of a number that does not fit: an integer
 * (decimal, 0x, 0o) beyond int64, or a float beyond a double (1e400); such text is an
 * error in a spec, not infinity. A float too small for a double (1e-400) rounds to 0. */
int eg_scalar_overflow(const char *text);

void eg_cfg_init(eg_cfg *c);
void eg_cfg_free(eg_cfg *c);
eg_status eg_cfg_copy(eg_cfg *dst, const eg_cfg *src);
const eg_value *eg_cfg_get(const eg_cfg *c, const char *key);
/* value deep-copied; replaces an existing key */
eg_status eg_cfg_set(eg_cfg *c, const char *key, const eg_value *v);
void eg_cfg_remove(eg_cfg *c, const char *key);
/* c = the n keys (strictly increasing by strcmp) with deep copies of their values, with
 * room for exactly n: builds a config in O(n), where n eg_cfg_set calls may memmove */
eg_status eg_cfg_from_sorted(eg_cfg *c, const char *const *keys, const eg_value *const *vals, int n);
/* give back the unused room of c's arrays */
void eg_cfg_shrink(eg_cfg *c);
void eg_value_free(eg_value *v);
eg_status eg_value_copy(eg_value *dst, const eg_value *src);
/* parse a YAML-ish scalar text ("4", "1e-3", "true", "mchn", "[1, 2]") into a value */
eg_status eg_value_parse(const char *text, eg_value *out);
/* canonical text of a value: ints as %lld, floats in their shortest round-trip form
 * always with a '.' ("1.0", "0.1", "1.0e-05"), strings double-quoted with escapes,
 * lists "[a, b]", true/false, null */
void eg_value_canonical(const eg_value *v, char *buf, size_t cap);
/* canonical text of the whole config: "key=value\n" sorted; a key equal to an entry of
 * `exclude` or under it ("data" excludes "data.x", not "database") is skipped */
char *eg_cfg_canonical(const eg_cfg *c, const char *const *exclude, int n_exclude);
/* nested YAML text of the config (block mappings, flow lists; strings quoted only when
 * a YAML 1.1 or 1.2 reader would take them for something else) */
char *eg_cfg_to_yaml(const eg_cfg *c);

#endif
