/* spec_adaptive.h — the adaptive-search settings of a spec (sweep.adaptive), as the
 * runner hands them to every run (docs/spec.md "Adaptive search (ASHA)"). They are not
 * run keys: they never enter a run's config or its id. */
#ifndef EG_SPEC_ADAPTIVE_H
#define EG_SPEC_ADAPTIVE_H

#include "spec.h"

#define EG_ADAPTIVE_MAX_RUNGS 64
#define EG_ADAPTIVE_MAX_METRIC 256

/* plain data (no pointers), so a forked run's child holds its own copy for free */
typedef struct eg_adaptive {
    int on;                             /* 0: the spec has no sweep.adaptive */
    char method[16];                    /* "asha" */
    char metric[EG_ADAPTIVE_MAX_METRIC]; /* the series compared at the rungs */
    int goal_max;                       /* 1: higher is better; 0: lower is better */
    double rungs[EG_ADAPTIVE_MAX_RUNGS]; /* strictly increasing, > 0, in steps of the series */
    int n_rungs;
    double eta;    /* reduction factor > 1: about 1/eta of the runs pass each rung */
    int min_peers; /* values other runs recorded at a rung before it prunes anything */
    char unit[32]; /* what a step counts ("epoch"): documentation and messages */
} eg_adaptive;

/* the defaults of the optional keys */
#define EG_ADAPTIVE_DEFAULT_ETA 3.0
#define EG_ADAPTIVE_DEFAULT_MIN_PEERS 1
#define EG_ADAPTIVE_DEFAULT_UNIT "step"

/* s's sweep.adaptive (validated when the spec loaded) into *out; out->on = 0 when the
 * spec has none. EG_OK, or EG_ERR_INTERNAL when s->base holds something the loader
 * should have refused. */
eg_status eg_spec_adaptive(const eg_spec *s, eg_adaptive *out);

#endif
