/* pcgmm_blocks.c — the layout of batched blocks (pcgmm.h, "batched blocks"):
 * how many blocks a group holds, and the [G, Q, k] view of a group's rows that
 * the priors, PC and BP retrieval multiply against the [G, N, k] memories. */
#include "pcgmm.h"

/* about PCG_GROUP_ROWS rows of memories + queries per group, 1 .. PCG_MAX_GROUP blocks */
int64_t pcg_group_blocks(int64_t memories, int64_t queries, int64_t blocks) {
    int64_t g = PCG_GROUP_ROWS / (memories + queries);
    if (g > PCG_MAX_GROUP) g = PCG_MAX_GROUP;
    return g < 1 ? 1 : g > blocks ? blocks : g;
}

/* [G*Q, k] -> [G, Q, k] when the memories are batched blocks [G, N, k] */
eg_tensor *pcg_as_blocks(eg_tensor *Z, eg_tensor *M) {
    if (eg_ndim(M) != 3 || eg_ndim(Z) != 2) return Z;
    int64_t G = eg_dim(M, 0);
    return eg_reshape(Z, EG_DIMS(G, eg_dim(Z, 0) / G, eg_dim(Z, 1)));
}
