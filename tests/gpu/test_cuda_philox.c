/* test_cuda_philox.c — the CUDA backend's random fill is the CPU backend's, bit for bit.
 * For every kind and dtype, fills of 2^20 + 3 elements at several (seed, stream,
 * offset) — offsets crossing the 32-bit counter word and wrapping 2^64 — are
 * compared byte for byte with the CPU backend's fill and with eg_philox_value
 * rounded to the dtype — normals in F64 too, since philox.h computes their log and
 * cos itself (no libm/libdevice). Skips (77) with the reason when CUDA cannot run here. */
#include "engram/philox.h"
#include "gpu_pair.h"

static void one(gp_pair *p, eg_rand_kind kind, eg_dtype dt, uint64_t seed, uint64_t stream, uint64_t offset, double a,
                double b) {
    static const char *kn[] = {"uniform", "normal", "bernoulli"};
    const char *dn = dt == EG_F32 ? "f32" : dt == EG_F64 ? "f64" : "i32";
    int64_t n = (1 << 20) + 3;
    size_t bytes = (size_t)n * 4 * (dt == EG_F64 ? 2 : 1);
    void *dg = gp_dev(&p->gpu, NULL, bytes), *dc = gp_dev(&p->cpu, NULL, bytes);
    char what[160];
    snprintf(what, sizeof what, "rand %s %s seed=%llx stream=%llu offset=%llu", kn[kind], dn, (unsigned long long)seed,
             (unsigned long long)stream, (unsigned long long)offset);
    eg_status sg = p->gpu.d->rand(p->gpu.ctx, kind, dt, dg, n, seed, stream, offset, a, b);
    eg_status sc = p->cpu.d->rand(p->cpu.ctx, kind, dt, dc, n, seed, stream, offset, a, b);
    CHECK_MSG(sg == EG_OK && sc == EG_OK, "%s: gpu %s, cpu %s", what, eg_strerror(sg), eg_strerror(sc));
    char *hg = malloc(bytes), *hc = malloc(bytes);
    p->gpu.d->download(p->gpu.ctx, hg, dg, bytes);
    p->cpu.d->download(p->cpu.ctx, hc, dc, bytes);
    int64_t diff = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        size_t es = dt == EG_F64 ? 8 : 4;
        if (memcmp(hg + i * es, hc + i * es, es) != 0) {
            diff++;
            if (first < 0) first = i;
        }
    }
    CHECK_MSG(diff == 0, "%s: %lld of %lld elements differ from the CPU backend, first at %lld", what,
              (long long)diff, (long long)n, (long long)first);
    /* and against the header's reference, on a sample */
    int64_t off_ref = 0;
    for (int64_t i = 0; i < n; i += 997) {
        double v = eg_philox_value((int)kind, seed, stream, offset + (uint64_t)i, a, b);
        int same = dt == EG_F32   ? ((float *)hg)[i] == (float)v
                   : dt == EG_F64 ? ((double *)hg)[i] == v
                                  : ((int32_t *)hg)[i] == (int32_t)floor(v);
        off_ref += !same;
    }
    CHECK_MSG(off_ref == 0, "%s: %lld sampled elements differ from eg_philox_value", what, (long long)off_ref);
    free(hg), free(hc);
    p->gpu.d->free(p->gpu.ctx, dg);
    p->cpu.d->free(p->cpu.ctx, dc);
}

int main(void) {
    gp_pair p;
    char why[1200];
    if (gp_open(&p, why, sizeof why) != 0) return eg_test_skip_unsupported(why);
    static const struct {
        uint64_t seed, stream, offset;
    } at[] = {{0, 0, 0},
              {0x123456789abcdefull, 5, (1ull << 32) - 7}, /* the counter's low word wraps */
              {42, 0xffffffffffull, 12345},                /* stream uses both words */
              {7, 3, UINT64_MAX - 100}};                   /* the 64-bit counter wraps */
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        one(&p, EG_RAND_UNIFORM, EG_F32, at[i].seed, at[i].stream, at[i].offset, -2, 3);
        one(&p, EG_RAND_NORMAL, EG_F32, at[i].seed, at[i].stream, at[i].offset, 1, 0.5);
        one(&p, EG_RAND_BERNOULLI, EG_F32, at[i].seed, at[i].stream, at[i].offset, 0.3, 0);
        one(&p, EG_RAND_UNIFORM, EG_F64, at[i].seed, at[i].stream, at[i].offset, -2, 3);
        one(&p, EG_RAND_BERNOULLI, EG_F64, at[i].seed, at[i].stream, at[i].offset, 0.7, 0);
        one(&p, EG_RAND_NORMAL, EG_F64, at[i].seed, at[i].stream, at[i].offset, 0, 1);
        one(&p, EG_RAND_NORMAL, EG_F64, at[i].seed, at[i].stream, at[i].offset, -3, 2.5);
        one(&p, EG_RAND_UNIFORM, EG_I32, at[i].seed, at[i].stream, at[i].offset, 0, 10);
    }
    gp_close(&p);
    return eg_test_finish();
}
