/* metric_lookup.h — a model's declared metric for a name it records (its goal and unit). */
#ifndef EG_METRIC_LOOKUP_H
#define EG_METRIC_LOOKUP_H

#include "engram/plugin.h"

/* the descriptor's metric of this name, or for a templated declaration ("generality/L_x@K")
 * the one whose part before '@' matches the name's; NULL when the model declares none */
const eg_metric_spec *eg_metric_lookup(const eg_model_desc *desc, const char *name);
/* "max", "min" or "none" */
const char *eg_goal_name(eg_goal goal);

#endif
