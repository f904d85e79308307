/* spec_access.c — engram/host.h's read-only view of a loaded spec and its plan. */
#include <stdio.h>

#include "spec.h"

const char *eg_spec_path(const eg_spec *s) {
    return s ? s->path : NULL;
}
const char *eg_spec_experiment(const eg_spec *s) {
    return s ? s->experiment : NULL;
}
int eg_spec_run_count(const eg_spec *s) {
    return s ? s->n_runs : 0;
}
const eg_run_plan *eg_spec_run(const eg_spec *s, int i) {
    return s && i >= 0 && i < s->n_runs ? &s->runs[i] : NULL;
}
int eg_spec_swept_count(const eg_spec *s) {
    return s ? s->n_swept : 0;
}
const char *eg_spec_swept_key(const eg_spec *s, int k) {
    return s && k >= 0 && k < s->n_swept ? s->swept_keys[k] : NULL;
}

const char *eg_run_plan_id(const eg_run_plan *p) {
    return p ? p->id : NULL;
}
int eg_run_plan_index(const eg_run_plan *p) {
    return p ? p->index : -1;
}
const eg_cfg *eg_run_plan_config(const eg_run_plan *p) {
    return p ? &p->cfg : NULL;
}

char *eg_cfg_yaml(const eg_cfg *c) {
    return c ? eg_cfg_to_yaml(c) : NULL;
}

void eg_cfg_value_text(const eg_cfg *c, const char *key, char *buf, size_t cap) {
    const eg_value *v = c ? eg_cfg_get(c, key) : NULL;
    if (!v)
        snprintf(buf, cap, "-");
    else if (v->kind == EG_VAL_STRING && v->s)
        snprintf(buf, cap, "%s", v->s);
    else
        eg_value_canonical(v, buf, cap);
}
