/* cpu_backend.c — the CPU backend's descriptor, lifecycle, memory and fill.
 * Memory is ordinary host memory (64-byte aligned), so upload/download are copies. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

/* OpenBLAS extensions (declared here so we depend only on the library, not its header set). */
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);

static int cpu_available(char *reason, size_t cap) {
    if (reason && cap) reason[0] = 0;
    return 1;
}

/* OpenBLAS (and libgomp, if anything uses it) keep worker threads alive; if the
 * host dlclose()s this plugin, their code would be unmapped under them (a crash
 * at exit). So the first init pins this object, and with it libgomp and
 * libopenblas, in memory for the life of the process. (Our own pool's workers
 * are joined by shutdown.) */
static void pin_in_memory(void) {
    static int pinned;
    Dl_info info;
    if (pinned || !dladdr((void *)pin_in_memory, &info) || !info.dli_fname) return;
    if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) pinned = 1;
}

static eg_status cpu_init(const eg_backend_config *cfg, void **out) {
    pin_in_memory();
    eg_cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return EG_ERR_NOMEM;
    int threads = (cfg && cfg->struct_size >= offsetof(eg_backend_config, threads) + sizeof(int)) ? cfg->threads : 0;
    if (threads > 0) {
        openblas_set_num_threads(threads);
        omp_set_num_threads(threads);
        c->threads = threads;
    } else {
        c->threads = omp_get_max_threads();
    }
    if (c->threads < 1) c->threads = 1;
    const char *conf = openblas_get_config();
    /* openblas_get_config() reads "OpenBLAS 0.3.21 DYNAMIC_ARCH ... SkylakeX MAX_THREADS=64" */
    snprintf(c->name, sizeof c->name, "cpu: %s, %d thread%s", conf ? conf : "OpenBLAS", c->threads,
             c->threads == 1 ? "" : "s");
    *out = c;
    return EG_OK;
}

static void cpu_shutdown(void *ctx) {
    eg_cpu_ctx *c = ctx;
    if (!c) return;
    eg_cpu_pool_destroy(c);
    free(c->ws);
    free(c);
}

static const char *cpu_device_name(void *ctx) {
    return ctx ? ((eg_cpu_ctx *)ctx)->name : "cpu";
}

void *eg_cpu_workspace(eg_cpu_ctx *c, size_t bytes) {
    if (bytes <= c->ws_cap) return c->ws;
    size_t cap = c->ws_cap ? c->ws_cap : 4096;
    while (cap < bytes)
        cap *= 2;
    void *p = NULL;
    if (posix_memalign(&p, 64, cap) != 0) return NULL;
    free(c->ws);
    c->ws = p;
    c->ws_cap = cap;
    return p;
}

static eg_status cpu_alloc(void *ctx, size_t bytes, void **ptr) {
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    *ptr = NULL;
    /* more than 128 TiB cannot succeed anywhere; refusing it here also keeps
     * sanitizer allocators (which abort on absurd sizes) out of the way */
    if (rounded < bytes || bytes > ((size_t)1 << 47)) return EG_ERR_NOMEM;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0 || !p) {
        *ptr = NULL;
        return EG_ERR_NOMEM;
    }
    *ptr = p;
    return EG_OK;
}

static void cpu_free(void *ctx, void *ptr) {
    free(ptr);
}

/* large copies split over threads: one core cannot saturate memory bandwidth */
typedef struct copy_job {
    char *dst;
    const char *src;
    size_t bytes;
} copy_job;
#define COPY_BLOCK ((size_t)1 << 16)
static void copy_range(void *arg, int64_t lo, int64_t hi) {
    copy_job *j = arg;
    size_t a = (size_t)lo * COPY_BLOCK, b = (size_t)hi * COPY_BLOCK;
    if (b > j->bytes) b = j->bytes;
    if (b > a) memcpy(j->dst + a, j->src + a, b - a);
}

static void par_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    if (dst == src || bytes == 0) return;
    int overlap = (const char *)src < (char *)dst + bytes && (char *)dst < (const char *)src + bytes;
    if (bytes < ((size_t)1 << 20) || overlap) {
        memmove(dst, src, bytes);
        return;
    }
    copy_job j = {dst, src, bytes};
    eg_cpu_parallel(ctx, 1, (int64_t)((bytes + COPY_BLOCK - 1) / COPY_BLOCK), copy_range, &j);
}

static eg_status cpu_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    if (bytes && (!dst || !src)) return EG_ERR_INVALID;
    par_copy(ctx, dst, src, bytes);
    return EG_OK;
}

static eg_status cpu_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    return cpu_upload(ctx, dst, src, bytes);
}

static eg_status cpu_sync(void *ctx) {
    return EG_OK;
}

typedef struct fill_job {
    eg_dtype dt;
    void *dst;
    double value;
} fill_job;
static void fill_range(void *arg, int64_t lo, int64_t hi) {
    fill_job *j = arg;
    if (j->dt == EG_F32) {
        float *p = j->dst, v = (float)j->value;
        for (int64_t i = lo; i < hi; i++)
            p[i] = v;
    } else if (j->dt == EG_F64) {
        double *p = j->dst, v = j->value;
        for (int64_t i = lo; i < hi; i++)
            p[i] = v;
    } else {
        int32_t *p = j->dst, v = (int32_t)j->value;
        for (int64_t i = lo; i < hi; i++)
            p[i] = v;
    }
}

eg_status eg_cpu_fill(void *ctx, eg_dtype dt, void *dst, int64_t n, double value) {
    if (n < 0 || (n && !dst)) return EG_ERR_INVALID;
    if (dt != EG_F32 && dt != EG_F64 && dt != EG_I32) return EG_ERR_INVALID;
    fill_job j = {dt, dst, value};
    eg_cpu_parallel(ctx, n > 4 * EG_CPU_PAR_MIN, n, fill_range, &j);
    return EG_OK;
}

static const eg_backend_desc cpu_desc = {
    .abi_major = EG_BACKEND_ABI_MAJOR,
    .abi_minor = EG_BACKEND_ABI_MINOR,
    .struct_size = sizeof(eg_backend_desc),
    .name = "cpu",
    .summary = "host CPU: OpenBLAS GEMM + OpenMP kernels, float32 and float64",
    .available = cpu_available,
    .init = cpu_init,
    .shutdown = cpu_shutdown,
    .device_name = cpu_device_name,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_upload,
    .copy = cpu_copy,
    .fill = eg_cpu_fill,
    .sync = cpu_sync,
    .gemm = eg_cpu_gemm,
    .unary = eg_cpu_unary,
    .unary_backward = eg_cpu_unary_backward,
    .binary = eg_cpu_binary,
    .reduce = eg_cpu_reduce,
    .softmax = eg_cpu_softmax,
    .softmax_backward = eg_cpu_softmax_backward,
    .permute = eg_cpu_permute,
    .slice = eg_cpu_slice,
    .gather = eg_cpu_gather,
    .scatter_add = eg_cpu_scatter_add,
    .conv_forward = eg_cpu_conv_forward,
    .conv_backward_input = eg_cpu_conv_backward_input,
    .conv_backward_weight = eg_cpu_conv_backward_weight,
    .upsample = eg_cpu_upsample,
    .upsample_backward = eg_cpu_upsample_backward,
    .syev = eg_cpu_syev,
    .rand = eg_cpu_rand_vec,
    .mixture_estep = eg_cpu_mixture_estep,
    .mixture_estep_backward = eg_cpu_mixture_estep_backward,
    .adam_step = eg_cpu_adam_step,
    .features = EG_BACKEND_HOST_MEMORY | EG_BACKEND_FAST_F64,
    .get_proc_address = NULL, /* no kernels beyond the table */
};

EG_BACKEND_PLUGIN(cpu_desc)
