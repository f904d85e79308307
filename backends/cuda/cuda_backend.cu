/* cuda_backend.cu — the CUDA backend's descriptor, availability probe, lifecycle,
 * error recording, memory transfers, fill and sync.
 *
 * One instance = one device, one non-blocking stream, one cuBLAS handle (cuSOLVER is
 * created by the first syev). Transfers: upload queues the copy on the stream (pageable
 * host memory is staged before the call returns, so the caller may reuse its buffer;
 * pinned memory is waited for); download waits for everything queued before it.
 *
 * Settings read from the environment at init:
 *   ENGRAM_CUDA_TF32=1   F32 GEMMs (and the convolutions built on them) use TF32 tensor
 *                        cores: ~8x the FP32 peak, inputs rounded to 10 mantissa bits.
 *                        Default 0: full FP32 (CUBLAS_DEFAULT_MATH), as the conformance
 *                        tolerances assume. (NVIDIA_TF32_OVERRIDE=0 also forces it off.) */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_device.h"
#include "cuda_internal.h"

/* the oldest device this build has code for, from the architecture list in CMakeLists.txt
 * (default: sm_90 machine code and compute_80 PTX, which the driver JIT-compiles for sm_80
 * and newer); 0 when the list names no number ("native"): then only init's image check */
#ifndef EG_CUDA_MIN_CC
#define EG_CUDA_MIN_CC 80
#endif
#define EG_CUDA_BLAS_WS (32u << 20) /* cuBLAS workspace recommended for Hopper */

/* ------------------------------------------------------------------ errors */

static const char *base_name(const char *f) {
    const char *s = strrchr(f, '/');
    return s ? s + 1 : f;
}

eg_status eg_cuda_fail(eg_cuda_ctx *c, eg_status st, const char *file, int line, const char *fmt, ...) {
    char msg[sizeof c->last_error];
    int n = snprintf(msg, sizeof msg, "%s:%d: ", base_name(file), line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (c) {
        if (strcmp(msg, c->last_error) != 0) fprintf(stderr, "engram cuda: %s\n", msg);
        snprintf(c->last_error, sizeof c->last_error, "%s", msg);
    } else {
        fprintf(stderr, "engram cuda: %s\n", msg);
    }
    return st;
}

eg_status eg_cuda_err(eg_cuda_ctx *c, cudaError_t e, const char *file, int line, const char *what) {
    (void)cudaGetLastError(); /* clear a non-sticky error so the next launch check does not see it */
    eg_status st = e == cudaErrorMemoryAllocation ? EG_ERR_NOMEM : EG_ERR_BACKEND;
    return eg_cuda_fail(c, st, file, line, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

eg_status eg_cuda_blas_err(eg_cuda_ctx *c, cublasStatus_t s, const char *file, int line, const char *what) {
    eg_status st = s == CUBLAS_STATUS_ALLOC_FAILED   ? EG_ERR_NOMEM
                   : s == CUBLAS_STATUS_INVALID_VALUE ? EG_ERR_INVALID
                   : s == CUBLAS_STATUS_NOT_SUPPORTED ? EG_ERR_UNSUPPORTED
                                                      : EG_ERR_BACKEND;
    return eg_cuda_fail(c, st, file, line, "%s: %s", what, cublasGetStatusString(s));
}

static const char *solver_text(cusolverStatus_t s) {
    switch (s) {
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default: return "cuSOLVER error";
    }
}

eg_status eg_cuda_solver_err(eg_cuda_ctx *c, cusolverStatus_t s, const char *file, int line, const char *what) {
    eg_status st = s == CUSOLVER_STATUS_ALLOC_FAILED ? EG_ERR_NOMEM
                   : s == CUSOLVER_STATUS_INVALID_VALUE ? EG_ERR_INVALID
                                                        : EG_ERR_BACKEND;
    return eg_cuda_fail(c, st, file, line, "%s: %s (%d)", what, solver_text(s), (int)s);
}

eg_status eg_cuda_enter(eg_cuda_ctx *c) {
    int cur = -1;
    if (cudaGetDevice(&cur) == cudaSuccess && cur == c->dev) return EG_OK;
    EG_CU(c, cudaSetDevice(c->dev));
    return EG_OK;
}

/* ------------------------------------------------------------------ availability */

static int cuda_available(char *reason, size_t cap) {
    char tmp[8];
    if (!reason || !cap) reason = tmp, cap = sizeof tmp;
    reason[0] = 0;
    /* the driver library first: without it the runtime can only say "insufficient driver" */
    void *drv = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!drv) {
        const char *why = dlerror();
        snprintf(reason, cap, "cuda: driver not found (%s)", why ? why : "libcuda.so.1 cannot be opened");
        return 0;
    }
    dlclose(drv);
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver) {
        int dv = 0, rv = 0;
        cudaDriverGetVersion(&dv);
        cudaRuntimeGetVersion(&rv);
        snprintf(reason, cap, "cuda: driver too old (it supports CUDA %d.%d, this build needs %d.%d)", dv / 1000,
                 dv % 1000 / 10, rv / 1000, rv % 1000 / 10);
        (void)cudaGetLastError();
        return 0;
    }
    if (e != cudaSuccess || n == 0) {
        snprintf(reason, cap, "cuda: no device (cudaGetDeviceCount: %s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        (void)cudaGetLastError();
        return 0;
    }
    int best = 0, best_dev = 0;
    for (int d = 0; d < n; d++) {
        int ma = 0, mi = 0;
        if (cudaDeviceGetAttribute(&ma, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
            cudaDeviceGetAttribute(&mi, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess)
            continue;
        if (ma * 10 + mi > best) best = ma * 10 + mi, best_dev = d;
    }
    if (best < EG_CUDA_MIN_CC) {
        cudaDeviceProp p;
        const char *nm = cudaGetDeviceProperties(&p, best_dev) == cudaSuccess ? p.name : "device";
        snprintf(reason, cap, "cuda: device too old (%s is sm_%d; this build needs sm_%d or newer)", nm, best,
                 EG_CUDA_MIN_CC);
        (void)cudaGetLastError();
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ lifecycle */

/* The CUDA runtime, cuBLAS and the driver keep threads and exit handlers that point
 * into their libraries; if the host dlclose()d this plugin they could be unmapped
 * under them. So an initialised backend pins itself (and its libraries) in memory. */
static void pin_in_memory(void) {
    static int pinned;
    Dl_info info;
    if (pinned || !dladdr((void *)pin_in_memory, &info) || !info.dli_fname) return;
    if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) pinned = 1;
}

static void cuda_shutdown(void *ctx);

static __global__ void k_probe(int *p) {
    if (p) *p = 0;
}

static eg_status init_device(eg_cuda_ctx *c, int dev) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) { /* no driver or no device: init was called without available() */
        eg_cuda_err(c, e, __FILE__, __LINE__, "cudaGetDeviceCount");
        return EG_ERR_UNAVAILABLE;
    }
    if (dev < 0 || dev >= n)
        return eg_cuda_fail(c, EG_ERR_INVALID, __FILE__, __LINE__, "device_index %d out of range (%d device%s)", dev,
                            n, n == 1 ? "" : "s");
    c->dev = dev;
    EG_CU(c, cudaSetDevice(dev));
    cudaDeviceProp p;
    EG_CU(c, cudaGetDeviceProperties(&p, dev));
    EG_CU(c, cudaDeviceGetAttribute(&c->cc_major, cudaDevAttrComputeCapabilityMajor, dev));
    EG_CU(c, cudaDeviceGetAttribute(&c->cc_minor, cudaDevAttrComputeCapabilityMinor, dev));
    EG_CU(c, cudaDeviceGetAttribute(&c->sm_count, cudaDevAttrMultiProcessorCount, dev));
    c->total_mem = p.totalGlobalMem;
    snprintf(c->dev_name, sizeof c->dev_name, "%.200s (sm_%d%d, %.1f GiB)", p.name, c->cc_major, c->cc_minor,
             (double)p.totalGlobalMem / (double)(1u << 30));
    if (c->cc_major * 10 + c->cc_minor < EG_CUDA_MIN_CC)
        return eg_cuda_fail(c, EG_ERR_UNAVAILABLE, __FILE__, __LINE__, "%s: needs sm_%d or newer", c->dev_name,
                            EG_CUDA_MIN_CC);
    /* is there code for this device in the fatbin? (fails with "no kernel image") */
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, k_probe);
    if (e != cudaSuccess) {
        eg_cuda_err(c, e, __FILE__, __LINE__, "kernel image for this device");
        return EG_ERR_UNAVAILABLE;
    }
    return EG_OK;
}

static eg_status cuda_init(const eg_backend_config *cfg, void **out) {
    *out = NULL;
    eg_cuda_ctx *c = (eg_cuda_ctx *)calloc(1, sizeof *c);
    if (!c) return EG_ERR_NOMEM;
    eg_cuda_heap_init(&c->heap);
    int dev = (cfg && cfg->struct_size >= offsetof(eg_backend_config, device_index) + sizeof(int))
                  ? cfg->device_index
                  : 0;
    const char *tf = getenv("ENGRAM_CUDA_TF32");
    c->tf32 = tf && atoi(tf) != 0;
    eg_status st = init_device(c, dev);
    if (st == EG_OK) {
        cudaError_t e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
        if (e != cudaSuccess) st = eg_cuda_err(c, e, __FILE__, __LINE__, "cudaStreamCreate");
    }
    if (st == EG_OK) {
        cublasStatus_t s = cublasCreate(&c->blas);
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(c->blas, c->stream);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasSetMathMode(c->blas, c->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
        if (s != CUBLAS_STATUS_SUCCESS) st = eg_cuda_blas_err(c, s, __FILE__, __LINE__, "cuBLAS setup");
    }
    if (st == EG_OK) { /* our own workspace: no allocation inside cuBLAS calls */
        st = eg_cuda_heap_alloc(c, EG_CUDA_BLAS_WS, &c->blas_ws);
        if (st == EG_OK) {
            cublasStatus_t s = cublasSetWorkspace(c->blas, c->blas_ws, EG_CUDA_BLAS_WS);
            if (s != CUBLAS_STATUS_SUCCESS) st = eg_cuda_blas_err(c, s, __FILE__, __LINE__, "cublasSetWorkspace");
        }
    }
    if (st == EG_OK) {
        cudaError_t e = cudaHostAlloc((void **)&c->flag_host, 64, cudaHostAllocMapped);
        if (e == cudaSuccess) e = cudaHostGetDevicePointer((void **)&c->flag_dev, c->flag_host, 0);
        if (e != cudaSuccess) st = eg_cuda_err(c, e, __FILE__, __LINE__, "mapped flag");
        else c->flag_host[0] = 0;
    }
    if (st != EG_OK) {
        cuda_shutdown(c);
        return st;
    }
    pin_in_memory();
    *out = c;
    return EG_OK;
}

static void cuda_shutdown(void *ctx) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (!c) return;
    if (cudaSetDevice(c->dev) == cudaSuccess) {
        if (c->stream) cudaStreamSynchronize(c->stream);
        if (c->syevj) cusolverDnDestroySyevjInfo(c->syevj);
        if (c->solver_params) cusolverDnDestroyParams(c->solver_params);
        if (c->solver) cusolverDnDestroy(c->solver);
        if (c->blas) cublasDestroy(c->blas);
        eg_cuda_heap_destroy(c);
        if (c->flag_host) cudaFreeHost(c->flag_host);
        if (c->stream) cudaStreamDestroy(c->stream);
        (void)cudaGetLastError();
    }
    free(c->host_ws);
    free(c);
}

static const char *cuda_device_name(void *ctx) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (!c) return "cuda";
    if (!c->last_error[0]) return c->dev_name;
    snprintf(c->shown, sizeof c->shown, "%s; last error: %s", c->dev_name, c->last_error);
    return c->shown;
}

/* ------------------------------------------------------------------ memory */

static eg_status cuda_alloc(void *ctx, size_t bytes, void **ptr) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (!ptr) return EG_ERR_INVALID;
    *ptr = NULL;
    EG_TRY(eg_cuda_enter(c));
    return eg_cuda_heap_alloc(c, bytes, ptr);
}

static void cuda_free(void *ctx, void *ptr) {
    if (ptr) eg_cuda_heap_free((eg_cuda_ctx *)ctx, ptr);
}

static eg_status cuda_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (bytes == 0) return EG_OK;
    if (!dst || !src) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_CU(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    /* pageable memory was staged before the call returned; pinned memory is read by
     * the DMA engine later, so wait for it (the caller may reuse its buffer at once) */
    cudaPointerAttributes at;
    if (cudaPointerGetAttributes(&at, src) == cudaSuccess && at.type == cudaMemoryTypeHost)
        EG_CU(c, cudaStreamSynchronize(c->stream));
    (void)cudaGetLastError();
    return EG_OK;
}

static eg_status cuda_download(void *ctx, void *dst, const void *src, size_t bytes) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (bytes == 0) return EG_OK;
    if (!dst || !src) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_CU(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    EG_CU(c, cudaStreamSynchronize(c->stream));
    return EG_OK;
}

static eg_status cuda_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    if (bytes == 0 || dst == src) return EG_OK;
    if (!dst || !src) return EG_ERR_INVALID;
    EG_TRY(eg_cuda_enter(c));
    EG_CU(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream));
    return EG_OK;
}

static eg_status cuda_sync(void *ctx) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    EG_TRY(eg_cuda_enter(c));
    EG_CU(c, cudaStreamSynchronize(c->stream));
    return EG_OK;
}

template <typename T> __global__ void k_fill(T *p, int64_t n, T v) {
    EG_GRID_LOOP(i, n) p[i] = v;
}

eg_status eg_cuda_fill(void *ctx, eg_dtype dt, void *dst, int64_t n, double value) {
    eg_cuda_ctx *c = (eg_cuda_ctx *)ctx;
    size_t es = eg_cuda_dtype_size(dt);
    if (!es || n < 0 || (n && !dst)) return EG_ERR_INVALID;
    if (n == 0) return EG_OK;
    EG_TRY(eg_cuda_enter(c));
    int32_t iv = dt == EG_I32 ? (int32_t)value : 0;
    if ((value == 0 && !signbit(value)) || (dt == EG_I32 && iv == 0)) { /* all-zero bits */
        EG_CU(c, cudaMemsetAsync(dst, 0, (size_t)n * es, c->stream));
        return EG_OK;
    }
    unsigned g = eg_cuda_blocks(n, EG_CUDA_THREADS);
    if (dt == EG_F32)
        k_fill<float><<<g, EG_CUDA_THREADS, 0, c->stream>>>((float *)dst, n, (float)value);
    else if (dt == EG_F64)
        k_fill<double><<<g, EG_CUDA_THREADS, 0, c->stream>>>((double *)dst, n, value);
    else
        k_fill<int32_t><<<g, EG_CUDA_THREADS, 0, c->stream>>>((int32_t *)dst, n, iv);
    EG_LAUNCHED(c, "fill");
    return EG_OK;
}

/* ------------------------------------------------------------------ descriptor */

static const eg_backend_desc cuda_desc = {
    /* .abi_major = */ EG_BACKEND_ABI_MAJOR,
    /* .abi_minor = */ EG_BACKEND_ABI_MINOR,
    /* .struct_size = */ (uint32_t)sizeof(eg_backend_desc),
    /* .name = */ "cuda",
    /* .summary = */ "NVIDIA GPU: cuBLAS GEMM, cuSOLVER eigensolvers, own CUDA kernels; float32 and float64",
    cuda_available,
    cuda_init,
    cuda_shutdown,
    cuda_device_name,
    cuda_alloc,
    cuda_free,
    cuda_upload,
    cuda_download,
    cuda_copy,
    eg_cuda_fill,
    cuda_sync,
    eg_cuda_gemm,
    eg_cuda_unary,
    eg_cuda_unary_backward,
    eg_cuda_binary,
    eg_cuda_reduce,
    eg_cuda_softmax,
    eg_cuda_softmax_backward,
    eg_cuda_permute,
    eg_cuda_slice,
    eg_cuda_gather,
    eg_cuda_scatter_add,
    eg_cuda_conv_forward,
    eg_cuda_conv_backward_input,
    eg_cuda_conv_backward_weight,
    eg_cuda_upsample,
    eg_cuda_upsample_backward,
    eg_cuda_syev,
    eg_cuda_rand,
    eg_cuda_mixture_estep,
    eg_cuda_mixture_estep_backward,
    NULL, /* adam_step (ABI 1.3): not yet verified on a GPU; the optimiser composes the update */
    /* .features = */ 0, /* device memory; float64 is much slower than float32 */
    /* .get_proc_address = */ NULL,
};

extern "C" EG_API const eg_backend_desc *eg_backend_entry(void) {
    return &cuda_desc;
}
