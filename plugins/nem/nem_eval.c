/* nem_eval.c — the `segment` task (notes §1.10): run the trained mixture for T
 * steps without gradients, label every pixel by argmax_k gamma after each step,
 * and score it with AMI against the true groups of the target frame over the
 * pixels whose group is not 0 (background and overlap excluded), per sample,
 * averaged over samples. Reports the last step (segment/ami, the static
 * protocol) and the uniform mean over steps (segment/ami_mean, the sequential
 * one), loss and BCE upper bound; saves per-step masks and per-component
 * predictions of the first task.show items. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nem.h"

typedef struct ami_trace {
    nem_trace base;
    const nem_model *m;
    const eg_dataset *ds;
    int frames;
    int64_t start, count; /* items of this batch */
    nem_ami_norm norm;
    int32_t *pred, *truth; /* [count * P], [P] */
    float *gmax;           /* [count * P] max_k gamma */
    double *ami_sum;       /* [T] */
    double conf_sum;
    /* artifacts */
    int show;
    uint8_t *masks;                    /* [show, T, H, W, 3] */
    float *last_psi, *last_x, *last_y; /* [show, K, D], [show, D], [show, D] */
    eg_status st;
} ami_trace;

static const uint8_t palette[8][3] = {{230, 25, 75},  {60, 180, 75},  {0, 130, 200},  {255, 225, 25},
                                      {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};

static void on_step(nem_trace *tr, int t, const nem_state *s, eg_tensor *xn, eg_tensor *y) {
    ami_trace *a = (ami_trace *)tr;
    const nem_model *m = a->m;
    int64_t P = m->P, n = a->count;
    if (a->st != EG_OK) return;
    eg_tensor *g = eg_reshape(s->gamma, EG_DIMS(n, m->cfg.k, P));
    if (eg_to_host(eg_argmax(g, 1), a->pred) != EG_OK || eg_to_host_f32(eg_max(g, 1, 0), a->gmax) != EG_OK) {
        a->st = eg_ctx_status(m->ctx) ? eg_ctx_status(m->ctx) : EG_ERR_BACKEND;
        return;
    }
    if (a->show > 0) {
        /* the first items' target (mask shading), noisy input and prediction of this step */
        int64_t sh = a->show;
        eg_tensor *ysh = eg_narrow(eg_reshape(y, EG_DIMS(n, m->D)), 0, 0, sh);
        eg_tensor *xsh = eg_narrow(eg_reshape(xn, EG_DIMS(n, m->D)), 0, 0, sh);
        eg_tensor *psh = eg_narrow(eg_reshape(s->psi, EG_DIMS(n, m->cfg.k, m->D)), 0, 0, sh);
        if (eg_to_host_f32(ysh, a->last_y) != EG_OK || eg_to_host_f32(xsh, a->last_x) != EG_OK ||
            eg_to_host_f32(psh, a->last_psi) != EG_OK)
            a->st = EG_ERR_BACKEND;
    }
    /* groups of the target frame: the image itself (static) or frame t + 1 */
    int64_t gframe = a->frames > 1 ? t + 1 : 0, fstride = (a->frames > 1 ? a->frames : 1) * P;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *gr = a->ds->groups + (a->start + i) * fstride + gframe * P;
        for (int64_t p = 0; p < P; p++)
            a->truth[p] = gr[p];
        a->ami_sum[t] += nem_ami_masked(a->truth, a->pred + i * P, P, a->norm);
        if (t == m->cfg.steps - 1) {
            double c = 0;
            int64_t cnt = 0;
            for (int64_t p = 0; p < P; p++)
                if (gr[p]) c += a->gmax[i * P + p], cnt++;
            a->conf_sum += cnt ? c / (double)cnt : 1.0;
        }
        if (i < a->show) {
            uint8_t *img = a->masks + ((i * m->cfg.steps + t) * P) * 3;
            float *ys = a->last_y + i * m->D;
            for (int64_t p = 0; p < P; p++) {
                const uint8_t *c = palette[a->pred[i * P + p] % 8];
                double on = 0;
                for (int ch = 0; ch < m->C; ch++)
                    on = fmax(on, ys[ch * P + p]);
                double dim = 0.3 + 0.7 * fmin(1.0, on);
                for (int ch = 0; ch < 3; ch++)
                    img[p * 3 + ch] = (uint8_t)(c[ch] * dim);
            }
        }
    }
}

static uint8_t to_u8(float v) {
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (uint8_t)lrintf(v * 255.0f);
}

/* rows of (noisy input, target, psi_1..psi_K) at the last step, [show * (K + 2), H, W, C] */
static eg_status save_predictions(eg_run *run, const ami_trace *a) {
    const nem_model *m = a->m;
    int64_t K = m->cfg.k, per = K + 2, P = m->P, n = a->show * per;
    uint8_t *pix = malloc((size_t)(n * P * m->C));
    if (!pix) return eg_run_fail(run, EG_ERR_NOMEM, "nem: out of memory for the prediction pictures");
    for (int64_t i = 0; i < a->show; i++)
        for (int64_t j = 0; j < per; j++) {
            const float *src = j == 0   ? a->last_x + i * m->D
                               : j == 1 ? a->last_y + i * m->D
                                        : a->last_psi + (i * K + (j - 2)) * m->D;
            uint8_t *dst = pix + (i * per + j) * P * m->C;
            for (int64_t p = 0; p < P; p++) /* CHW -> HWC */
                for (int ch = 0; ch < m->C; ch++)
                    dst[p * m->C + ch] = to_u8(src[ch * P + p]);
        }
    eg_status st = eg_save_picture(run, "segment/predictions", "image-grid", pix, n, m->H, m->W, m->C);
    char labels[512];
    size_t len = (size_t)snprintf(labels, sizeof labels, "input|target");
    for (int64_t k = 1; k <= K && len < sizeof labels; k++)
        len += (size_t)snprintf(labels + len, sizeof labels - len, "|component %lld", (long long)k);
    if (st == EG_OK) st = eg_picture_layout(run, "segment/predictions", (int)per, labels); /* a column per item */
    free(pix);
    return st;
}

eg_status nem_score(nem_plugin *p, eg_run *run, const eg_dataset *ds, int64_t n, const char *prefix, nem_scores *out,
                    int artifacts) {
    nem_model *m = &p->m;
    eg_ctx *ctx = m->ctx;
    memset(out, 0, sizeof *out);
    int T = m->cfg.steps;
    if (T > (int)(sizeof out->ami_step / sizeof *out->ami_step))
        return eg_run_fail(run, EG_ERR_SPEC, "nem: at most 1000 steps are scored");
    int frames, C;
    nem_frames(ds, &frames, &C);
    if (!ds->groups) return eg_run_fail(run, EG_ERR_SPEC, "nem: dataset %s has no groups", ds->source);
    char name[64];
    snprintf(name, sizeof name, "%s-gamma", prefix);
    eg_rng grng = eg_run_rng(run, name);
    snprintf(name, sizeof name, "%s-noise", prefix);
    eg_rng nrng = eg_run_rng(run, name);
    int64_t B = p->batch;
    ami_trace a = {
        {on_step, NULL}, m, ds, frames, 0, 0, NEM_AMI_MAX, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, EG_OK};
    const char *norm = eg_task_has(run, "ami_norm") ? eg_task_str(run, "ami_norm") : "max";
    a.norm = strcmp(norm, "arithmetic") == 0 ? NEM_AMI_ARITHMETIC : NEM_AMI_MAX;
    if (artifacts) {
        int64_t show = eg_task_has(run, "show") ? eg_task_int(run, "show") : 4;
        a.show = (int)(show < B ? show : B);
        if (a.show > n) a.show = (int)n;
    }
    a.pred = malloc(sizeof(int32_t) * (size_t)(B * m->P));
    a.truth = malloc(sizeof(int32_t) * (size_t)m->P);
    a.gmax = malloc(sizeof(float) * (size_t)(B * m->P));
    a.ami_sum = calloc((size_t)T, sizeof(double));
    a.masks = malloc((size_t)(a.show * T * m->P * 3 + 1));
    a.last_psi = malloc(sizeof(float) * (size_t)(a.show * m->cfg.k * m->D + 1));
    a.last_x = malloc(sizeof(float) * (size_t)(a.show * m->D + 1));
    a.last_y = calloc((size_t)(a.show * m->D + 1), sizeof(float));
    eg_status st = EG_OK;
    if (!a.pred || !a.truth || !a.gmax || !a.ami_sum || !a.masks || !a.last_psi || !a.last_x || !a.last_y)
        st = eg_run_fail(run, EG_ERR_NOMEM, "nem: out of memory for scoring");
    double loss_sum = 0, bce_sum = 0;
    eg_no_grad_begin(ctx);
    for (int64_t start = 0; start < n && st == EG_OK; start += B) {
        int64_t cnt = n - start < B ? n - start : B;
        a.start = start, a.count = cnt;
        if (start > 0) a.show = 0;
        eg_scope *sc = eg_scope_open(ctx);
        eg_tensor *rows = eg_dataset_rows(ctx, ds, p->dt, start, cnt), *bce = NULL;
        eg_tensor *loss = nem_unroll(m, rows, frames, &grng, &nrng, NULL, &bce, &a.base);
        loss_sum += eg_item(loss) * (double)cnt, bce_sum += eg_item(bce) * (double)cnt;
        eg_scope_close(sc);
        if (a.st != EG_OK || eg_ctx_status(ctx) != EG_OK)
            st = eg_run_fail(run, a.st ? a.st : eg_ctx_status(ctx), "nem: scoring failed: %s", eg_ctx_message(ctx));
        if (st == EG_OK && start == 0 && artifacts && a.show > 0) {
            st = eg_save_picture(run, "segment/masks", "mask", a.masks, (int64_t)a.show * T, m->H, m->W, 3);
            if (st == EG_OK) st = save_predictions(run, &a);
        }
    }
    eg_no_grad_end(ctx);
    if (st == EG_OK) {
        out->loss = loss_sum / (double)n, out->bce = bce_sum / (double)n;
        for (int t = 0; t < T; t++) {
            out->ami_step[t] = a.ami_sum[t] / (double)n;
            out->ami_mean += out->ami_step[t] / T;
        }
        out->ami_last = out->ami_step[T - 1];
        out->confidence = a.conf_sum / (double)n;
    }
    free(a.pred), free(a.truth), free(a.gmax), free(a.ami_sum), free(a.masks), free(a.last_psi), free(a.last_x),
        free(a.last_y);
    return st;
}

eg_status nem_eval(void *self, eg_run *run) {
    nem_plugin *p = self;
    const eg_dataset *ds = eg_run_dataset(run, NULL);
    if (!ds) return EG_ERR_NOTFOUND;
    int64_t n = eg_task_has(run, "samples") ? eg_task_int(run, "samples") : 0;
    if (n <= 0 || n > ds->n) n = ds->n;
    nem_scores sc;
    eg_status st = nem_score(p, run, ds, n, "eval", &sc, 1);
    if (st != EG_OK) return st;
    for (int t = 0; t < p->m.cfg.steps; t++)
        eg_log(run, "segment/ami_step", t + 1, sc.ami_step[t]);
    eg_metric(run, "segment/ami", sc.ami_last);
    eg_metric(run, "segment/ami_mean", sc.ami_mean);
    eg_metric(run, "segment/confidence", sc.confidence);
    eg_metric(run, "segment/loss", sc.loss);
    eg_metric(run, "segment/bce_upper", sc.bce);
    eg_run_log(run, "nem: %lld %s items: AMI %.4f (last step), %.4f (mean over %d steps), loss %.3f", (long long)n,
               ds->split, sc.ami_last, sc.ami_mean, p->m.cfg.steps, sc.loss);
    return EG_OK;
}
