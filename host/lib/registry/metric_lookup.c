/* metric_lookup.c — a recorded metric's declaration in its model's descriptor. */
#include <string.h>

#include "metric_lookup.h"

const eg_metric_spec *eg_metric_lookup(const eg_model_desc *desc, const char *name) {
    if (!desc || !name) return NULL;
    for (int i = 0; i < desc->n_metrics; i++)
        if (desc->metrics[i].name && !strcmp(desc->metrics[i].name, name)) return &desc->metrics[i];
    const char *mat = strchr(name, '@');
    for (int i = 0; mat && i < desc->n_metrics; i++) {
        const char *decl = desc->metrics[i].name, *at = decl ? strchr(decl, '@') : NULL;
        if (at && at - decl == mat - name && !strncmp(name, decl, (size_t)(at - decl))) return &desc->metrics[i];
    }
    return NULL;
}

const char *eg_goal_name(eg_goal goal) {
    return goal == EG_GOAL_MAX ? "max" : goal == EG_GOAL_MIN ? "min" : "none";
}
