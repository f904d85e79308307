/* results_view.h — the runs, groups and columns one `engram show` prints (results_view.c). */
#ifndef EG_RESULTS_VIEW_H
#define EG_RESULTS_VIEW_H

#include "results_impl.h"

typedef struct eg_show_view {
    eg_sum_table t;        /* the runs that pass every --where condition */
    eg_sum_group *groups;  /* over seeds, in display order (--sort; only the best for --best) */
    int ng;
    int *pcols, np;        /* parameter columns that vary within t */
    int *mcols, nm;        /* metric columns, in --metrics order */
    int filtered;          /* --where was given */
    int best_col, best_goal; /* --best: its metric column and goal (1 min, 2 max); -1 otherwise */
} eg_show_view;

eg_status eg_show_view_build(const eg_sum_table *all, const eg_show_opts *o, eg_show_view *v, char *err,
                             size_t cap);
void eg_show_view_free(eg_show_view *v);

#endif
