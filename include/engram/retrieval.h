/* engram/retrieval.h — the shared `retrieve` task (MODELS.md, "Common retrieval task").
 *
 * libengram implements the protocol once for every associative-memory plugin
 * (hopfield, pcgmm, bwdam): the split is cut into consecutive blocks of
 * task.memories items, each block is one memory, and its first task.queries
 * items are corrupted (task.corrupt.*) and presented. The plugin retrieves all
 * queries of a block in one batched pass and hands the final states back for
 * scoring; eg_retrieval_end writes the metrics
 *   retrieval/success     the target is the strictly nearest stored pattern (Euclidean)
 *   retrieval/within_tol  ||final - target|| < task.tolerance
 *   retrieval/mse         mean squared error to the target, per element
 *   retrieval/steps       mean per-query updates
 * the series retrieval/energy (mean energy per step over all blocks) and the
 * artifact retrieval/grid (query, retrieved, target for the first block).
 *
 *   eg_retrieval r = eg_retrieval_begin(run);
 *   for (int64_t b = 0; b < r.blocks; b++) {
 *       eg_scope *s = eg_scope_open(r.ctx);
 *       eg_tensor *X = eg_retrieval_memories(&r, b), *q = eg_retrieval_queries(&r, b);
 *       ... q = update(q, X) ...
 *       eg_retrieval_score(&r, b, q, NULL);
 *       eg_scope_close(s);
 *   }
 *   return eg_retrieval_end(&r);
 *
 * Errors are sticky: the first failure (bad task options, a backend error) is
 * kept in r.status, later calls do nothing, and eg_retrieval_end returns it
 * after eg_run_fail() recorded the message. Tensors are returned in the
 * context's innermost open scope. */
#ifndef ENGRAM_RETRIEVAL_H
#define ENGRAM_RETRIEVAL_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "export.h"
#include "plugin.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- corruptions (task.corrupt.kind) ---- */
typedef enum eg_corrupt_kind {
    EG_CORRUPT_NONE = 0,
    EG_CORRUPT_NOISE,      /* x + N(0, sigma^2), clamped to the data's range */
    EG_CORRUPT_MASK,       /* grey (0.5) square of side `size`, or `fraction` of the pixels */
    EG_CORRUPT_BITFLIP,    /* +-1 data: flip the sign with probability p; [0, 1] data: x -> 1 - x */
    EG_CORRUPT_ROTATE_RGB, /* (R, G, B) -> (G, B, R); needs 3 channels */
    EG_CORRUPT_SHIFT       /* `pixels` to the right, zero fill, no wrap */
} eg_corrupt_kind;

typedef struct eg_corruption {
    eg_corrupt_kind kind;
    double sigma;    /* noise std */
    int64_t size;    /* mask square side, in pixels */
    double fraction; /* mask: when > 0, this fraction of pixel positions instead of a square */
    double p;        /* bitflip probability */
    int64_t pixels;  /* shift */
} eg_corruption;

/* "noise" -> EG_CORRUPT_NOISE; -1 when unknown */
EG_API int eg_corrupt_kind_parse(const char *name);
EG_API const char *eg_corrupt_kind_name(eg_corrupt_kind kind);
/* task.corrupt.* of the run */
EG_API eg_corruption eg_corruption_from_task(const eg_run *run);
/* EG_OK when c can be applied to ds (channels for rotate-rgb, mask size, shift);
 * otherwise EG_ERR_SPEC with the offending task key in err */
EG_API eg_status eg_corruption_check(const eg_corruption *c, const eg_dataset *ds, char *err, size_t cap);
/* Corrupt the rows of x [n, ds->dim] (items of ds: its geometry and value range)
 * with one batched draw from rng (advanced). Returns a new tensor in the current scope.
 * Values are clamped to ds's range: [0, 1] for pixels, [-1, 1] for +-1 data, none otherwise. */
EG_API eg_tensor *eg_corrupt(const eg_corruption *c, eg_rng *rng, eg_tensor *x, const eg_dataset *ds);

/* ---- the task ---- */
typedef struct eg_retrieval_state eg_retrieval_state; /* libengram's private part */

typedef struct eg_retrieval {
    eg_run *run;
    eg_ctx *ctx;
    const eg_dataset *data; /* the split the blocks are cut from */
    eg_status status;       /* first error, EG_OK while fine */
    int64_t memories;       /* M: items per block (task.memories) */
    int64_t queries;        /* Q: corrupted queries per block (task.queries) */
    int64_t blocks;         /* blocks evaluated (task.blocks, 0 = every full block) */
    int64_t dim;            /* d: floats per item */
    double tolerance;       /* task.tolerance */
    eg_corruption corrupt;  /* task.corrupt.* */
    eg_dtype dtype;         /* of the tensors handed out; EG_F32 (may be changed before block 0) */
    eg_retrieval_state *state;
} eg_retrieval;

/* Reads task.* and the dataset (the spec's split), validates them. On failure
 * r.status is set, r.blocks = 0 and the run's failure message says why. */
EG_API eg_retrieval eg_retrieval_begin(eg_run *run);
/* block b's clean items [M, d] (row i is stored pattern i) */
EG_API eg_tensor *eg_retrieval_memories(eg_retrieval *r, int64_t b);
/* block b's first Q items corrupted [Q, d]; query j's target is memory j.
 * The corruption is drawn from eg_run_rng(run, "corrupt") at an offset fixed by b,
 * so block b's queries do not depend on how many blocks are evaluated. */
EG_API eg_tensor *eg_retrieval_queries(eg_retrieval *r, int64_t b);
/* block b's targets: the clean first Q items [Q, d] */
EG_API eg_tensor *eg_retrieval_targets(eg_retrieval *r, int64_t b);

/* Score the final states [Q, d] of block b against its memories. steps: per-query
 * update counts [Q], or one value for every query, or NULL (counted as 0). */
EG_API eg_status eg_retrieval_score(eg_retrieval *r, int64_t b, eg_tensor *final_states, eg_tensor *steps);
/* Same, in another space: `memories` [M, k] replaces the block's items (row j is
 * query j's target), and final_states is [Q, k] — e.g. latent codes, or binarised
 * patterns. The grid shows final_states only when k == d. */
EG_API eg_status eg_retrieval_score_against(eg_retrieval *r, int64_t b, eg_tensor *final_states, eg_tensor *memories,
                                            eg_tensor *steps);
/* energy [Q] of the states after `step` updates (0 = the queries); the mean over
 * all queries of all blocks at each step becomes the series retrieval/energy */
EG_API eg_status eg_retrieval_energy(eg_retrieval *r, int64_t step, eg_tensor *energy);
/* Writes the metrics, the energy series and the grid; frees r's state.
 * Returns r->status (EG_OK, or the first error after eg_run_fail recorded it). */
EG_API eg_status eg_retrieval_end(eg_retrieval *r);

/* ---- per-query convergence of an iterative retrieval ----
 * A query counts the updates it needed: it stops counting at its first update whose
 * change is below tol (it is a fixed point to tol from then on). The loop may stop
 * once every query has converged, since later updates change nothing.
 *
 *     eg_converge c;  eg_converge_init(&c, Q, tol, 0);
 *     for (int t = 0; t < steps; t++) {
 *         next = update(S);
 *         int all = eg_converge_update(&c, eg_max(eg_abs(eg_sub(next, S)), 1, 0));
 *         S = next;
 *         if (all != 0) break;              (1: all converged; < 0: change unreadable)
 *     }
 *     eg_retrieval_score(&r, b, S, eg_converge_steps(&c, ctx));  eg_converge_free(&c);
 */
typedef struct eg_converge {
    int64_t n; /* queries */
    double tol;
    int squared;         /* change holds squared distances: compared as sqrt(max(change, 0)) < tol */
    int updates;         /* updates recorded since init/reset */
    float *steps;        /* [n] updates each query needed */
    double *change;      /* [n] scratch */
    unsigned char *done; /* [n] */
} eg_converge;
/* EG_ERR_NOMEM when the host arrays cannot be had (c is then empty but safe to free) */
EG_API eg_status eg_converge_init(eg_converge *c, int64_t n, double tol, int squared);
/* forget every query's state (the next block of a loop that reuses c) */
EG_API void eg_converge_reset(eg_converge *c);
/* Record one update: change [n] (any float dtype) is each query's change. Returns 1 when
 * every query has converged, 0 when some has not, or a negative status when change could
 * not be read (the context holds the error). */
EG_API int eg_converge_update(eg_converge *c, eg_tensor *change);
/* the per-query update counts [n] as an EG_F32 tensor in the current scope */
EG_API eg_tensor *eg_converge_steps(const eg_converge *c, eg_ctx *ctx);
EG_API void eg_converge_free(eg_converge *c);

#ifdef __cplusplus
}
#endif
#endif
