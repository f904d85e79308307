/* results_impl.h — internals shared by host/lib/results_*.c (not installed):
 * the in-memory run record, HDF5 type helpers, and the attribute/summary readers. */
#ifndef EG_RESULTS_IMPL_H
#define EG_RESULTS_IMPL_H

#include <hdf5.h>

#include "results.h"

#define EG_RESULTS_FORMAT_VERSION "1"
/* weights and artifacts larger than this are chunked and gzip-compressed */
#define EG_RESULTS_COMPRESS_BYTES (1u << 20)
/* strings longer than this are not stored as attributes (they stay in /config) */
#define EG_RESULTS_MAX_ATTR_STR 60000

/* A typed value as stored in a root attribute. */
typedef enum { EG_RV_INT = 1, EG_RV_FLOAT, EG_RV_BOOL, EG_RV_STR, EG_RV_LIST } eg_rv_kind;

typedef struct eg_rval {
    eg_rv_kind kind;
    int64_t i;       /* INT, BOOL (0/1) */
    double f;        /* INT, FLOAT, BOOL as a number */
    char *s;         /* STR; LIST: its canonical text "[1, 2]" */
    eg_rv_kind item; /* LIST: INT | FLOAT | BOOL | STR */
    int n;           /* LIST length */
    int64_t *iv;     /* LIST of INT or BOOL */
    double *fv;      /* LIST of FLOAT */
    char **sv;       /* LIST of STR */
} eg_rval;

void eg_rval_free(eg_rval *v);
/* deep copy; 0, or -1 out of memory */
int eg_rval_copy(const eg_rval *v, eg_rval *out);
/* canonical text for comparisons and display: "%.17g"-normalised numbers, raw strings */
void eg_rval_text(const eg_rval *v, char *buf, size_t cap);

typedef struct eg_rec_attr {
    char *name;
    eg_rval v;
} eg_rec_attr;

typedef struct eg_rec_series {
    char *name;
    int64_t n, cap;
    void *rows; /* eg_series_row */
} eg_rec_series;

typedef struct eg_series_row {
    int64_t step;
    double value;
    double wall_s;
} eg_series_row;

typedef struct eg_rec_tensor {
    char *name;
    char *kind; /* artifacts only */
    int tile_rows;     /* artifacts: consecutive groups of tile_rows tiles form one column (0 = not said) */
    char *row_labels;  /* artifacts: '|'-separated names of those rows, or NULL */
    int ndim;
    int64_t shape[8];
    void *data; /* float32 (weights) or uint8 (artifacts) */
} eg_rec_tensor;

struct eg_record {
    eg_rec_attr *attrs;
    int n_attrs, cap_attrs;
    char **metric_names;
    double *metric_values;
    const char **metric_goals; /* "max" | "min" | NULL (static strings): the model's declared goal */
    int n_metrics, cap_metrics;
    eg_rec_series *series;
    int n_series, cap_series, last_series;
    eg_rec_tensor *weights;
    int n_weights, cap_weights;
    eg_rec_tensor *artifacts;
    int n_artifacts, cap_artifacts;
    char *config_yaml;
    char *log;
    size_t log_len, log_cap;
    char problem[256]; /* first recording error (bad name, out of memory); reported by write */
};

/* '/'-separated name: non-empty components, none "." or ".." */
int eg_results_valid_name(const char *name);

/* ---- HDF5 helpers (results_h5.c) ---- */
/* variable-length UTF-8 string type; caller closes */
hid_t eg_h5_str_type(void);
/* the h5py-compatible boolean: enum of int8 {FALSE = 0, TRUE = 1}; caller closes */
hid_t eg_h5_bool_type(void);
/* silence the default HDF5 error printing; restore with eg_h5_quiet_end */
typedef struct eg_h5_quiet {
    H5E_auto2_t func;
    void *data;
} eg_h5_quiet;
void eg_h5_quiet_begin(eg_h5_quiet *q);
void eg_h5_quiet_end(const eg_h5_quiet *q);
/* forget the errors so far (before a write whose failure must be explained by its own error) */
void eg_h5_error_reset(void);
/* the first HDF5 error since eg_h5_quiet_begin (an OS error as its strerror text: "No space
 * left on device"), else the innermost message of the current stack, else "HDF5 error" */
void eg_h5_last_error(char *buf, size_t cap);
/* what the attribute and text readers return when an allocation failed (not "unreadable") */
#define EG_H5_NOMEM (-2)
/* write a root-level (or object) attribute from a value; <0 on failure (EG_H5_NOMEM: out of memory) */
herr_t eg_h5_write_attr(hid_t obj, const char *name, const eg_rval *v);
/* read any scalar or 1-d attribute into a value; <0 when unsupported or unreadable,
 * EG_H5_NOMEM when out of memory */
herr_t eg_h5_read_attr(hid_t obj, const char *name, eg_rval *out);
/* read a scalar string attribute into buf; <0 when absent or not a string, EG_H5_NOMEM */
herr_t eg_h5_read_attr_str(hid_t obj, const char *name, char *buf, size_t cap);
/* a scalar vlen UTF-8 string dataset */
herr_t eg_h5_write_text(hid_t loc, const char *name, const char *text);
/* read a scalar string dataset (vlen or fixed); malloc'ed; NULL when absent or unreadable,
 * or out of memory (then *oom is set, when oom is not NULL) */
char *eg_h5_read_text(hid_t loc, const char *name, int *oom);
/* a metric dataset's value: 1 when it holds one integer or float number (into *x), else 0
 * and *x = NaN (a metric is never read from anything larger: a crafted file cannot
 * overflow the one double) */
int eg_h5_read_metric(hid_t d, double *x);
/* A run file holds the run its name says: its run_id attribute (when recorded) is the
 * file's stem, and its /config hashes to its config_sha256 attribute (when recorded).
 * 0, or -1 with the reason (naming path) in why; EG_H5_NOMEM (why says so) when out of memory. */
int eg_results_identity(hid_t f, const char *path, char *why, size_t cap);
/* fsync a file (and, for directories, its entries) by path */
int eg_fsync_path(const char *path);

/* ---- summary.h5 as read back (results_read.c) ---- */
typedef enum { EG_COL_NUM = 1, EG_COL_INT, EG_COL_BOOL, EG_COL_STR } eg_col_type;
/* INFO: a run attribute that is not a parameter but differs between runs (wall_s, start_time, error) */
typedef enum { EG_ROLE_ID = 1, EG_ROLE_STATUS, EG_ROLE_SEED, EG_ROLE_PARAM, EG_ROLE_METRIC, EG_ROLE_INFO } eg_col_role;

typedef struct eg_sum_col {
    char *name;
    eg_col_type type;
    eg_col_role role;
    int goal;  /* METRIC: 0 none, 1 min, 2 max (summary.h5's goals) */
    double *f; /* NUM, INT, BOOL as numbers */
    char **s;  /* STR */
} eg_sum_col;

typedef struct eg_sum_table {
    int n_rows, n_cols;
    eg_sum_col *cols;
    eg_rec_attr *consts; /* /constants: the attributes equal in every run */
    int n_consts;
} eg_sum_table;

/* read <path>'s /summary; err names the file on failure */
eg_status eg_summary_read(const char *path, eg_sum_table *t, char *err, size_t cap);
void eg_summary_free(eg_sum_table *t);
/* a table of the rows rows[0..n) of src (its constants copied too); EG_ERR_NOMEM */
eg_status eg_summary_subset(const eg_sum_table *src, const int *rows, int n, eg_sum_table *dst);
/* the column of this name, or NULL */
const eg_sum_col *eg_summary_col(const eg_sum_table *t, const char *name);
/* the constant of this name, or NULL */
const eg_rval *eg_summary_const(const eg_sum_table *t, const char *name);
/* whether row's run left `key` to its default (its `defaulted` list, a column or a constant) */
int eg_summary_defaulted(const eg_sum_table *t, int row, const char *key);
/* text of a cell, numbers "%.6g" (display) */
void eg_summary_cell(const eg_sum_col *c, int row, char *buf, size_t cap);

/* ---- groups of runs that differ only in their seed (results_group.c): one
 * implementation for `engram show` and `engram report` ---- */
typedef struct eg_sum_group {
    int first_row, total, ok;
    int *rows; /* every row of the group, in table order */
    int n_rows;
} eg_sum_group;
/* rows with equal swept parameters (seed excluded), in order of first appearance;
 * *out malloc'ed (free with eg_sum_groups_free); EG_ERR_NOMEM */
eg_status eg_sum_groups(const eg_sum_table *t, eg_sum_group **out, int *n);
void eg_sum_groups_free(eg_sum_group *g, int n);
/* the status column, NULL when the table has none */
const eg_sum_col *eg_sum_status(const eg_sum_table *t);
/* mean and sample sd (n-1; NAN for one value) of a metric over the group's ok runs with a
 * finite value; returns that count. An sd below the rounding noise of the mean is 0. */
int eg_sum_stat(const eg_sum_table *t, const eg_sum_col *metric, const eg_sum_group *g, double *mean, double *sd);

#endif
