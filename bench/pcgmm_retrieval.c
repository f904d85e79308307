/* bench/pcgmm_retrieval.c — PC-GMM retrieval throughput (plugins/pcgmm), engram vs a
 * PyTorch implementation of the same loop (bench/pcgmm_retrieval.py).
 *
 * The acceptance protocol of issue 5: the Fashion-MNIST test split cut into blocks of
 * N = 100 memories, the first Q = 10 items of each block corrupted with Gaussian noise
 * (std 0.2, clamped to [0, 1]) and presented; 100 blocks = 1000 queries. The VAE is the
 * plugin's Fashion-MNIST network (configs/paper/pcgmm-fmnist-vae.yaml: MLP
 * 784-512-512-[64|64], decoder 64-512-512-784), σ = 0.1, 10 updates, α = 0.05 for PC.
 *   vae-gmm:    memories = encoder means of the clean items, z = encoder mean of the query,
 *               z <- softmax(-|z - m_i|² / 2σ²) M (eq. 45), up to 10 updates, stopping once
 *               every query moved by less than 1e-6
 *   vae-pc-gmm: Algorithm 1, one prediction error per decoder layer (eq. 31-32), 10 steps
 * engram runs the plugin's own retrieval (pcg_retrieve_blocks, which `engram run`'s
 * eval calls) in two loops, and PyTorch runs the same two: block by block (G = 1, the
 * paper's loop) and in groups of G blocks as pcg_group_blocks says (every prior
 * product batched over the group's blocks; the plugin's default). The timed call is one
 * pass over all blocks (encoding the memories and the queries included; reading and
 * corrupting the data, scoring and energies excluded on both sides).
 *
 * Identical inputs: the weights come from the bench value formula (Glorot range), the data
 * are read and corrupted here (Philox noise, as the task does), and everything is written
 * to one float32 file the peer reads. Check: the final codes of every query agree with
 * PyTorch's within 1e-3 of the codes' scale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engram/source.h"
#include "../plugins/pcgmm/pcgmm.h"
#include "base/cfg.h"
#include "common.h"
#include "engram/nn.h"
#include "engram/retrieval.h"

enum { NMEM = 100, NQ = 10, BLOCKS = 100, H = 512, LAT = 64, STEPS = 10 };
#define SIGMA 0.1
#define ALPHA 0.05
#define NOISE 0.2

typedef struct variant {
    const char *name;
    pcg_variant v;
} variant;
static const variant VARIANTS[] = {{"vae-gmm", PCG_VAE_GMM}, {"vae-pc-gmm", PCG_VAE_PC_GMM}};
#define NV ((int)(sizeof VARIANTS / sizeof *VARIANTS))

/* the weights in the order the peer reads them: weight [out, in] then bias, per layer */
static const char *const LAYERS[] = {"enc.lin0", "enc.lin1", "enc.head", "dec.lin0", "dec.lin1", "dec.lin2"};
#define NL ((int)(sizeof LAYERS / sizeof *LAYERS))

typedef struct job {
    eg_ctx *ctx;
    const pcg_model *m;
    eg_tensor *X, *Q; /* persistent: all blocks' clean items [BLOCKS*NMEM, d], queries [BLOCKS*NQ, d] */
    int64_t d, G;
    float *out;       /* [BLOCKS*NQ, LAT] final codes */
    double steps_sum; /* sum of the per-query update counts */
} job;

/* one pass over every block, as the plugin's eval does it (less scoring) */
static void run(void *arg) {
    job *j = arg;
    j->steps_sum = 0;
    for (int64_t b = 0; b < BLOCKS; b += j->G) {
        int64_t g = BLOCKS - b < j->G ? BLOCKS - b : j->G;
        eg_scope *s = eg_scope_open(j->ctx);
        eg_tensor *X = eg_narrow(j->X, 0, b * NMEM, g * NMEM), *q = eg_narrow(j->Q, 0, b * NQ, g * NQ);
        eg_tensor *Mz, *steps = NULL;
        eg_tensor *z = pcg_retrieve_blocks(j->m, g, X, q, &Mz, &steps, NULL);
        eg_to_host_f32(z, j->out + b * NQ * LAT); /* downloads: the group is finished */
        if (steps) j->steps_sum += eg_item(eg_sum_all(steps)) * (eg_numel(steps) == 1 ? (double)(g * NQ) : 1.0);
        eg_scope_close(s);
    }
}

/* items [n, d] of the Fashion-MNIST test split; falls back to the value formula when absent */
static float *load_items(int64_t n, int64_t *d, char *what, size_t cap) {
    const eg_data_source *src = eg_data_source_find("fashion-mnist");
    eg_dataset *ds = NULL;
    char err[1024] = "";
    eg_cfg cfg;
    eg_cfg_init(&cfg);
    eg_status st = src ? src->load(&cfg, "test", &ds, err, sizeof err) : EG_ERR_NOTFOUND;
    eg_cfg_free(&cfg);
    float *x = NULL;
    if (st == EG_OK && ds->n >= n) {
        *d = ds->dim;
        x = malloc(sizeof(float) * (size_t)(n * *d));
        if (x) memcpy(x, ds->x, sizeof(float) * (size_t)(n * *d));
        snprintf(what, cap, "Fashion-MNIST test split, first %lld items", (long long)n);
    } else {
        *d = 784;
        x = malloc(sizeof(float) * (size_t)(n * *d));
        if (x) bench_fill(x, n * *d, 3);
        snprintf(what, cap, "value formula (Fashion-MNIST unavailable: %.300s)", err[0] ? err : "no source");
    }
    if (ds) eg_dataset_free(ds);
    return x;
}

static int write_all(FILE *f, const float *x, int64_t n) {
    return fwrite(x, sizeof(float), (size_t)n, f) == (size_t)n;
}

int main(int argc, char **argv) {
    bench_opts o;
    int status = 0;
    if (bench_parse(argc, argv, "bench-pcgmm_retrieval",
                    "PC-GMM retrieval (vae-gmm, vae-pc-gmm), acceptance protocol: engram vs PyTorch", &o, &status))
        return status;
    char err[1024];
    eg_backend *backend = NULL;
    eg_ctx *ctx = NULL;
    if (bench_open(&o, &backend, &ctx)) return 1;

    /* data: blocks of NMEM consecutive items; the first NQ of each corrupted */
    int64_t d, nx = BLOCKS * NMEM;
    char what[512];
    float *x = load_items(nx, &d, what, sizeof what);
    float *qh = malloc(sizeof(float) * (size_t)(BLOCKS * NQ * d));
    if (!x || !qh) {
        fprintf(stderr, "pcgmm_retrieval: out of host memory\n");
        return 1;
    }
    for (int64_t b = 0; b < BLOCKS; b++)
        memcpy(qh + b * NQ * d, x + b * NMEM * d, sizeof(float) * (size_t)(NQ * d));
    eg_dataset *ds = eg_dataset_alloc("bench", "test", 1, 1, 28, 28, 0); /* pixel geometry and range */
    eg_corruption cor = {.kind = EG_CORRUPT_NOISE, .sigma = NOISE};
    eg_rng crng = eg_rng_named(0, "corrupt");
    job j = {.ctx = ctx, .d = d};
    j.X = eg_persistent(ctx, EG_F32, EG_DIMS(nx, d));
    j.Q = eg_persistent(ctx, EG_F32, EG_DIMS(BLOCKS * NQ, d));
    {
        eg_scope *s = eg_scope_open(ctx);
        eg_assign(j.X, eg_from_f32(ctx, EG_F32, EG_DIMS(nx, d), x));
        eg_assign(j.Q, eg_corrupt(&cor, &crng, eg_from_f32(ctx, EG_F32, EG_DIMS(BLOCKS * NQ, d), qh), ds));
        eg_to_host_f32(j.Q, qh);
        eg_scope_close(s);
    }
    eg_dataset_free(ds);

    /* the plugin's Fashion-MNIST VAE with formula weights: U(-r, r), r = sqrt(6 / (in + out)) for
     * weights (Glorot's range), 0.1 (v - 0.5) for biases; layer i uses seeds 10 + 2i, 11 + 2i */
    pcg_model m;
    memset(&m, 0, sizeof m);
    m.vcfg = (pcg_vae_cfg){0, LAT, H, 32, EG_F32, 0};
    m.sigma = SIGMA, m.alpha = ALPHA, m.steps = STEPS, m.beta = 100;
    eg_rng irng = eg_rng_make(0, 1);
    if (pcg_vae_init(&m.vae, ctx, &m.vcfg, 1, 28, 28, &irng, err, sizeof err) != EG_OK) {
        fprintf(stderr, "pcgmm_retrieval: %s\n", err);
        return 1;
    }
    pcg_vae_requires_grad(&m.vae, 0); /* as the plugin's eval */
    char path[] = "/tmp/engram-bench-pcgmm-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int ok = f != NULL;
    for (int i = 0; i < NL && ok; i++)
        for (int k = 0; k < 2 && ok; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", LAYERS[i], k ? "bias" : "weight");
            eg_tensor *t = eg_params_find(m.vae.ps, name);
            if (!t) {
                fprintf(stderr, "pcgmm_retrieval: the VAE has no parameter %s\n", name);
                return 1;
            }
            int64_t n = eg_numel(t);
            float *v = malloc(sizeof(float) * (size_t)n);
            bench_fill(v, n, 10 + 2 * i + k);
            double r = k ? 0.05 : sqrt(6.0 / (double)(eg_dim(t, 0) + eg_dim(t, 1)));
            for (int64_t e = 0; e < n; e++)
                v[e] = (float)((2.0 * v[e] - 1.0) * r);
            eg_scope *s = eg_scope_open(ctx);
            eg_assign(t, eg_from_f32(ctx, EG_F32, eg_ndim(t), eg_shape(t), v));
            eg_scope_close(s);
            ok = write_all(f, v, n);
            free(v);
        }
    ok = ok && write_all(f, x, nx * d) && write_all(f, qh, BLOCKS * NQ * d);
    if (f && fclose(f) != 0) ok = 0;
    if (!ok || eg_ctx_status(ctx) != EG_OK) {
        fprintf(stderr, "pcgmm_retrieval: preparing the data failed (%s; %s)\n", path, eg_ctx_message(ctx));
        unlink(path);
        return 1;
    }
    j.m = &m;
    j.G = pcg_group_blocks(NMEM, NQ, BLOCKS);

    printf("== pcgmm_retrieval: PC-GMM retrieval, acceptance protocol: %d blocks of %d memories, %d noisy "
           "queries each (std %g), float32 ==\n",
           BLOCKS, NMEM, NQ, NOISE);
    printf("   data: %s; VAE: MLP %lld-%d-%d-[%d|%d], decoder %d-%d-%d-%lld, formula weights\n", what, (long long)d, H,
           H, LAT, LAT, LAT, H, H, (long long)d);
    printf("   vae-gmm: sigma %g, up to %d updates (stop below 1e-6); vae-pc-gmm: alpha %g, %d steps\n", SIGMA, STEPS,
           ALPHA, STEPS);
    printf("   engram: the plugin's pcg_retrieve_blocks (as `engram run`), block by block (G = 1) and in\n"
           "   groups of G = %lld blocks (the plugin's default); torch: the same two loops\n",
           (long long)j.G);
    bench_print_env(&o, ctx);

    /* form 0: block by block (G = 1, the paper's loop); form 1: the plugin's grouping (G blocks) */
    const int64_t Gs[2] = {1, j.G};
    const char *const FORM[2] = {"per block", "grouped"};
    double ms[NV][2] = {{0}}, best[NV][2] = {{0}}, steps[NV][2] = {{0}};
    int reps[NV][2] = {{0}};
    float *codes[NV][2] = {{0}};
    float *scratch = malloc(sizeof(float) * BLOCKS * NQ * LAT);
    const char *forms_env = getenv("BENCH_PCGMM_FORMS");
    for (int vi = 0; vi < NV; vi++) {
        if (!bench_selected(&o, VARIANTS[vi].name)) continue;
        m.variant = VARIANTS[vi].v;
        for (int form = 0; form < 2; form++) {
            if (forms_env && !strchr(forms_env, '0' + form)) continue; /* BENCH_PCGMM_FORMS=1: grouped only */
            j.G = Gs[form];
            j.out = codes[vi][form] = malloc(sizeof(float) * BLOCKS * NQ * LAT);
            run(&j);
            steps[vi][form] = j.steps_sum / (BLOCKS * NQ);
            if (eg_ctx_status(ctx) != EG_OK) {
                fprintf(stderr, "pcgmm_retrieval: engram error: %s\n", eg_ctx_message(ctx));
                return 1;
            }
            j.out = scratch;
            ms[vi][form] = 1e3 * bench_median(run, &j, o.seconds, &reps[vi][form], &best[vi][form]);
            best[vi][form] *= 1e3;
            printf("%s, %s (G = %lld): engram %.4g ms per pass, median; %.4g best (%d reps); mean updates %.2f\n",
                   VARIANTS[vi].name, FORM[form], (long long)Gs[form], ms[vi][form], best[vi][form], reps[vi][form],
                   steps[vi][form]);
            fflush(stdout);
        }
    }
    free(scratch);

    bench_peer p;
    char outpath[] = "/tmp/engram-bench-pcgmm-out-XXXXXX";
    int ofd = mkstemp(outpath);
    if (ofd >= 0) close(ofd);
    if (o.peer) {
        char extra[1024];
        snprintf(extra, sizeof extra,
                 "--data '%s' --out '%s' --blocks %d --memories %d --queries %d --dim %lld --hidden %d --latent %d "
                 "--sigma %g --alpha %g --steps %d --group %lld%s%s",
                 path, outpath, BLOCKS, NMEM, NQ, (long long)d, H, LAT, SIGMA, ALPHA, STEPS, (long long)Gs[1],
                 o.only ? " --only " : "", o.only ? o.only : "");
        bench_peer_run(&o, "pcgmm_retrieval.py", extra, &p);
        if (p.ok) {
            char e[512];
            bench_peer_str(&p, "error", e, sizeof e);
            if (e[0]) p.ok = 0, snprintf(p.why, sizeof p.why, "%s", e);
        }
    } else {
        p.ok = 0;
        snprintf(p.why, sizeof p.why, "--no-peer");
    }
    if (p.ok) {
        bench_peer_print_info(&p);
    } else
        printf("# torch peer unavailable: %s\n", p.why);

    /* the peer's final codes: per variant, block by block, then grouped (when G > 1) */
    int bad = 0, forms = Gs[1] > 1 ? 2 : 1;
    float *theirs = malloc(sizeof(float) * BLOCKS * NQ * LAT);
    FILE *pf = p.ok ? fopen(outpath, "rb") : NULL;
    printf("\ncheck: final codes of all %d queries vs PyTorch's, same form (limit 1e-3 of the codes' scale)\n",
           BLOCKS * NQ);
    for (int vi = 0; vi < NV; vi++) {
        if (!bench_selected(&o, VARIANTS[vi].name)) continue; /* the peer ran the same selection */
        for (int form = 0; form < forms; form++) {
            if (!pf) {
                printf("  %-10s n/a (no peer)\n", VARIANTS[vi].name);
                break;
            }
            if (fread(theirs, sizeof(float), BLOCKS * NQ * LAT, pf) != BLOCKS * NQ * LAT) {
                printf("  %-10s %-9s MISMATCH: the peer wrote no codes\n", VARIANTS[vi].name, FORM[form]);
                bad = 1;
                continue;
            }
            if (!codes[vi][form]) continue; /* BENCH_PCGMM_FORMS left it out */
            double err = 0, scale = 0;
            int far = 0;
            for (int q = 0; q < BLOCKS * NQ; q++) {
                double eq = 0;
                for (int c = 0; c < LAT; c++) {
                    double a = codes[vi][form][q * LAT + c], b = theirs[q * LAT + c];
                    eq = fmax(eq, fabs(a - b));
                    scale = fmax(scale, fabs(b));
                }
                err = fmax(err, eq);
                far += eq > 1e-2;
            }
            int good = err <= 1e-3 * (scale > 0 ? scale : 1);
            bad |= !good;
            printf("  %-10s %-9s max |engram - torch| %.2e (scale %.3g); queries off by > 1e-2: %d  %s\n",
                   VARIANTS[vi].name, FORM[form], err, scale, far, good ? "ok" : "MISMATCH");
        }
    }
    if (pf) fclose(pf);
    free(theirs);

    double tm[NV][2], tb[NV][2], qs = 1e3 * BLOCKS * NQ;
    for (int vi = 0; vi < NV; vi++)
        for (int form = 0; form < 2; form++) {
            char key[64];
            snprintf(key, sizeof key, "%s_%s", form ? "msg" : "ms", VARIANTS[vi].name);
            tm[vi][form] = p.ok ? bench_peer_num(&p, key) : NAN;
            snprintf(key, sizeof key, "%s_%s", form ? "bestg" : "best", VARIANTS[vi].name);
            tb[vi][form] = p.ok ? bench_peer_num(&p, key) : NAN;
        }
    printf("\n%-11s %-10s %5s %13s %12s %12s %9s %13s\n", "variant", "loop", "G", "engram ms", "engram q/s",
           "torch q/s", "speedup", "(best calls)");
    for (int vi = 0; vi < NV; vi++)
        for (int form = 0; form < 2; form++)
            if (codes[vi][form])
                printf("%-11s %-10s %5lld %13.4g %12.0f %12.0f %8.2fx %12.2fx\n", VARIANTS[vi].name, FORM[form],
                       (long long)Gs[form], ms[vi][form], qs / ms[vi][form], qs / tm[vi][form],
                       tm[vi][form] / ms[vi][form], tb[vi][form] / best[vi][form]);
    printf("(one pass = %d blocks = %d queries; both sides run the same loop: block by block, or %lld blocks per\n"
           " batched group; speedup = torch time / engram time, target >= 1.50x)\n",
           BLOCKS, BLOCKS * NQ, (long long)Gs[1]);
    for (int vi = 0; vi < NV; vi++) {
        if (!codes[vi][0] || !codes[vi][1]) continue;
        printf("  %s: the plugin's grouped retrieval is %.2fx the block-by-block PyTorch loop (best calls %.2fx)\n",
               VARIANTS[vi].name, tm[vi][0] / ms[vi][1], tb[vi][0] / best[vi][1]);
    }
    for (int vi = 0; vi < NV; vi++)
        for (int form = 0; form < 2; form++) {
            if (!codes[vi][form]) continue;
            char cname[64];
            snprintf(cname, sizeof cname, "pcgmm-%s%s", VARIANTS[vi].name, form ? "" : "-block");
            printf("summary: %s  engram %.0f queries/s  torch %.0f queries/s  speedup %.2fx  (fastest calls: %.2fx)\n",
                   cname, qs / ms[vi][form], qs / tm[vi][form], tm[vi][form] / ms[vi][form],
                   tb[vi][form] / best[vi][form]);
            bench_result(&o, cname, ms[vi][form] * 1e-3);
        }
    for (int vi = 0; vi < NV; vi++)
        free(codes[vi][0]), free(codes[vi][1]);
    unlink(path);
    unlink(outpath);
    free(x), free(qh);
    eg_tensor_free(j.X), eg_tensor_free(j.Q);
    pcg_vae_free(&m.vae);
    bench_close(backend, ctx);
    if (bad) fprintf(stderr, "bench-pcgmm_retrieval: results disagree (see check above)\n");
    return bad;
}
