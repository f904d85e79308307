/* compvae_eval.c — CompVAE measurements: held-out losses in bits (and nats),
 * size generality (losses for K far above the training range), part-conditioned
 * generation accuracy (sines: spectral lines; dots: site colours). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compvae.h"
#include "engram/philox.h"

#define LN2 0.69314718055994530942

unsigned cv_lines(const float *x, int len, int k) {
    double mag[EG_SINES_FREQS + 1] = {0};
    for (int f = 1; f <= EG_SINES_FREQS; f++) {
        /* frequency f (per time unit) over len / 100 time units is DFT bin f * len / 100 */
        double re = 0, im = 0, w = 6.283185307179586 * f / 100.0;
        for (int n = 0; n < len; n++)
            re += x[n] * cos(w * n), im -= x[n] * sin(w * n);
        mag[f] = re * re + im * im;
    }
    unsigned mask = 0;
    for (int j = 0; j < k; j++) {
        int best = 0;
        for (int f = 1; f <= EG_SINES_FREQS; f++)
            if (!(mask & (1u << f)) && (best == 0 || mag[f] > mag[best])) best = f;
        mask |= 1u << best;
    }
    return mask;
}

/* mean losses (nats) over n held-out wholes of K parts, in chunks */
static eg_status heldout(compvae *m, eg_rng *data, eg_rng *noise, int K, int64_t n, double out[3]) {
    out[0] = out[1] = out[2] = 0;
    int64_t chunk = 64;
    eg_no_grad_begin(m->ctx);
    eg_status st = EG_OK;
    for (int64_t done = 0; done < n && st == EG_OK; done += chunk) {
        int64_t B = n - done < chunk ? n - done : chunk;
        cv_batch b;
        eg_scope *s = eg_scope_open(m->ctx);
        st = cv_batch_make(m, data, B, K, &b);
        if (st == EG_OK) {
            cv_losses L = cv_forward(m, &b, noise);
            out[0] += eg_item(eg_sum_all(L.lw));
            out[1] += eg_item(eg_sum_all(L.lz));
            out[2] += eg_item(eg_sum_all(L.lx));
        }
        cv_batch_free(&b);
        eg_scope_close(s);
        if (st == EG_OK) st = eg_ctx_status(m->ctx);
    }
    eg_no_grad_end(m->ctx);
    for (int j = 0; j < 3; j++)
        out[j] /= (double)n;
    return st;
}

/* K distinct frequencies per whole (a random K-subset of 1..9) */
static void distinct_freqs(eg_rng *rng, cv_batch *b) {
    for (int64_t i = 0; i < b->B; i++) {
        int pool[EG_SINES_FREQS];
        for (int f = 0; f < EG_SINES_FREQS; f++)
            pool[f] = f + 1;
        for (int k = 0; k < b->K; k++) {
            int j = k + (int)floor(eg_philox_value(0, rng->seed, rng->stream, rng->offset++, 0, EG_SINES_FREQS - k));
            if (j >= EG_SINES_FREQS) j = EG_SINES_FREQS - 1;
            int t = pool[k];
            pool[k] = pool[j], pool[j] = t;
            b->lab[i * b->K + k] = pool[k];
        }
    }
}

static eg_status line_accuracy(compvae *m, eg_rng *rng, int K, int64_t n, double *acc) {
    cv_batch b;
    eg_status st = cv_batch_make(m, rng, n, K, &b);
    if (st != EG_OK) return st;
    distinct_freqs(rng, &b);
    float *x = malloc(sizeof(float) * (size_t)(n * EG_SINES_LEN));
    if (!x) {
        cv_batch_free(&b);
        return EG_ERR_NOMEM;
    }
    eg_no_grad_begin(m->ctx);
    eg_scope *s = eg_scope_open(m->ctx);
    st = eg_to_host_f32(cv_generate(m, &b, rng, 1), x);
    eg_scope_close(s);
    eg_no_grad_end(m->ctx);
    int64_t hit = 0;
    for (int64_t i = 0; st == EG_OK && i < n; i++) {
        unsigned want = 0;
        for (int k = 0; k < K; k++)
            want |= 1u << b.lab[i * K + k];
        hit += cv_lines(x + i * EG_SINES_LEN, EG_SINES_LEN, K) == want;
    }
    *acc = (double)hit / (double)n;
    free(x);
    cv_batch_free(&b);
    return st;
}

static eg_status site_accuracy(compvae *m, eg_rng *rng, int K, int64_t n, double *acc) {
    cv_batch b;
    eg_status st = cv_batch_make(m, rng, n, K, &b);
    if (st != EG_OK) return st;
    int S = m->cfg.size;
    int64_t P = (int64_t)S * S, dim = 3 * P;
    float *x = malloc(sizeof(float) * (size_t)(n * dim));
    if (!x) {
        cv_batch_free(&b);
        return EG_ERR_NOMEM;
    }
    eg_no_grad_begin(m->ctx);
    eg_scope *s = eg_scope_open(m->ctx);
    st = eg_to_host_f32(cv_generate(m, &b, rng, 1), x);
    eg_scope_close(s);
    eg_no_grad_end(m->ctx);
    int64_t hit = 0;
    for (int64_t i = 0; st == EG_OK && i < n; i++)
        for (int k = 0; k < K; k++) {
            const float *c = b.loc + (i * K + k) * 2;
            int col = (int)lround((c[0] + 1) * (S - 1) / 2), row = (int)lround((c[1] + 1) * (S - 1) / 2);
            double best = INFINITY;
            int arg = 0;
            for (int q = 0; q < EG_DOTS_COLOURS; q++) {
                float rgb[3];
                eg_dots_colour(q, rgb);
                double d = 0;
                for (int ch = 0; ch < 3; ch++) {
                    double v = x[i * dim + ch * P + row * S + col];
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                    d += (v - rgb[ch]) * (v - rgb[ch]);
                }
                if (d < best) best = d, arg = q;
            }
            hit += arg == b.lab[i * K + k];
        }
    *acc = (double)hit / (double)(n * K);
    free(x);
    cv_batch_free(&b);
    return st;
}

void cv_artifacts(compvae *m, const cv_train *t, eg_run *run); /* compvae_pictures.c */

eg_status cv_eval(compvae *m, const cv_train *t, eg_run *run) {
    eg_rng data = eg_run_rng(run, "eval"), noise = eg_run_rng(run, "eval-noise");
    int64_t n = eg_task_int(run, "eval_n");
    char key[96];
    eg_status st = EG_OK;
    const char *kind = eg_task_kind(run);
    if (strcmp(kind, "fit") == 0) {
        /* held-out losses at the final K range: K = 1..k_cap weighted equally */
        double tot[3] = {0, 0, 0};
        for (int K = 1; K <= t->k_cap && st == EG_OK; K++) {
            double l[3];
            st = heldout(m, &data, &noise, K, n, l);
            for (int j = 0; j < 3; j++)
                tot[j] += l[j] / (double)t->k_cap;
        }
        if (st != EG_OK) return eg_run_fail(run, st, "compvae: held-out evaluation: %s", eg_ctx_message(m->ctx));
        const char *nm[3] = {"L_w", "L_z", "L_x"};
        for (int j = 0; j < 3; j++) {
            snprintf(key, sizeof key, "elbo/%s", nm[j]);
            eg_metric(run, key, tot[j] / LN2);
            snprintf(key, sizeof key, "elbo/%s_nats", nm[j]);
            eg_metric(run, key, tot[j]);
        }
        eg_metric(run, "elbo/total", (tot[0] + tot[1] + tot[2]) / LN2);
        eg_metric(run, "elbo/total_nats", tot[0] + tot[1] + tot[2]);
        eg_run_log(run, "compvae held-out (K = 1..%lld, %lld per K): L_w %.2f L_z %.2f L_x %.2f bits",
                   (long long)t->k_cap, (long long)n, tot[0] / LN2, tot[1] / LN2, tot[2] / LN2);
        /* size generality */
        const double *ks = NULL;
        int nk = eg_param_list(run, "generality_k", &ks);
        for (int i = 0; i < nk && st == EG_OK; i++) {
            int K = (int)ks[i];
            double l[3];
            st = heldout(m, &data, &noise, K, n, l);
            if (st != EG_OK) break;
            snprintf(key, sizeof key, "generality/L_w@%d", K);
            eg_metric(run, key, l[0] / LN2);
            snprintf(key, sizeof key, "generality/L_z@%d", K);
            eg_metric(run, key, l[1] / LN2);
            snprintf(key, sizeof key, "generality/L_x@%d", K);
            eg_metric(run, key, l[2] / LN2);
            snprintf(key, sizeof key, "generality/total@%d", K);
            eg_metric(run, key, (l[0] + l[1] + l[2]) / LN2);
            eg_log(run, "generality/L_x", K, l[2] / LN2);
            eg_log(run, "generality/total", K, (l[0] + l[1] + l[2]) / LN2);
            eg_run_log(run, "compvae generality K = %d: L_w %.2f L_z %.2f L_x %.2f bits", K, l[0] / LN2, l[1] / LN2,
                       l[2] / LN2);
        }
        if (st != EG_OK) return eg_run_fail(run, st, "compvae: generality: %s", eg_ctx_message(m->ctx));
    }
    /* part-conditioned generation */
    eg_rng gen = eg_run_rng(run, "generate");
    const double *gk = NULL;
    int ng = eg_param_list(run, "generate_k", &gk);
    double mean = 0;
    for (int i = 0; i < ng && st == EG_OK; i++) {
        int K = (int)gk[i];
        double acc = 0;
        if (m->cfg.problem == CV_SINES) {
            if (K > EG_SINES_FREQS) continue;
            st = line_accuracy(m, &gen, K, n, &acc);
            snprintf(key, sizeof key, "generate/line_accuracy@%d", K);
        } else {
            st = site_accuracy(m, &gen, K, n, &acc);
            snprintf(key, sizeof key, "generate/site_colour_accuracy@%d", K);
        }
        if (st != EG_OK) break;
        eg_metric(run, key, acc);
        eg_run_log(run, "compvae %s = %.4f", key, acc);
        mean += acc / ng;
    }
    if (st != EG_OK) return eg_run_fail(run, st, "compvae: generation: %s", eg_ctx_message(m->ctx));
    if (m->cfg.problem == CV_DOTS && ng) eg_metric(run, "generate/site_colour_accuracy", mean);
    cv_artifacts(m, t, run);
    return eg_ctx_status(m->ctx) == EG_OK
               ? EG_OK
               : eg_run_fail(run, eg_ctx_status(m->ctx), "compvae: artifacts: %s", eg_ctx_message(m->ctx));
}
