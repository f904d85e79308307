/* fault_inject.c — the test build's fault injector (CMake option EG_FAULT_INJECT,
 * docs/reliability.md "Fault injection"). Linked into libengram, the engram
 * executable, the model plugins and the CPU backend with -Wl,--wrap=SYM for every
 * SYM below: a call that engram's own code makes to SYM reaches __wrap_SYM here,
 * which counts it and either passes it on to __real_SYM or fails it. Calls made
 * inside libyaml, HDF5, libpng or libc reach the real functions untouched.
 *
 *   ENGRAM_FAULT=CLASS:N[:errno=NAME][:persist]
 *       fail the N-th call (1-based) of CLASS in each counted process; with
 *       persist also every later one. CLASS: alloc (malloc calloc realloc strdup
 *       strndup posix_memalign aligned_alloc), open (open fopen mkstemp mkdir),
 *       write (write fwrite fputs fputc fprintf vfprintf fflush fclose, except
 *       on stdout/stderr), rename, fsync, h5 (H5Fcreate H5Fopen H5Fflush H5Fclose
 *       H5Dcreate2 H5Dwrite H5Acreate2 H5Awrite H5Gcreate2 H5Lcreate_external),
 *       any-io (open, write, rename, fsync and h5 on one counter).
 *       errno: ENOSPC (default for write/fsync/h5), EIO, EACCES, EDQUOT, EROFS,
 *       EMFILE, ENOMEM (default for alloc).
 *   ENGRAM_FAULT_PROC=parent|child|all (default all)
 *       which processes count and fail: the engram process, the processes it
 *       forks (runs, dataset preparation; each counts from 0 after fork), or both.
 *   ENGRAM_FAULT_COUNT=PATH
 *       at exit of the first process, append to PATH one line per class and
 *       role, "parent alloc 1234" / "child alloc 567" (the largest count of any
 *       child), and "fired N SYM OBJECT+OFFSET" for the first injected failure
 *       (N = how many failures were injected in all processes).
 *
 * Without ENGRAM_FAULT nothing fails, and the counts are still kept.
 *
 * _exit is wrapped too: a forked process that ends with _exit (every run's child
 * does) gets LeakSanitizer's check first, which exit() would have run. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FI_API __attribute__((visibility("default"))) /* plugins and the backend call these too */

enum { C_ALLOC, C_OPEN, C_WRITE, C_RENAME, C_FSYNC, C_H5, C_ANYIO, N_CLASS };
static const char *const class_names[N_CLASS] = {"alloc", "open", "write", "rename", "fsync", "h5", "any-io"};

/* shared by the engram process and every process forked from it */
typedef struct {
    atomic_long child_max[N_CLASS];
    atomic_long fired;
    atomic_int have_site;
    char site[512];
} shared_state;

static shared_state *shared;
static shared_state local_fallback; /* when mmap fails: counts of children are then lost */
static pid_t root_pid;
static atomic_long counts[N_CLASS]; /* this process's, reset after fork */
static int target = -1;            /* class to fail, -1: none */
static long target_n;
static int persist;
static int fail_errno;
static int proc_mode; /* 0 all, 1 parent, 2 child */
static char count_path[1024];

static void after_fork_child(void) {
    for (int c = 0; c < N_CLASS; c++)
        atomic_store(&counts[c], 0);
}

static int errno_by_name(const char *s) {
    static const struct {
        const char *name;
        int value;
    } t[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},       {"EACCES", EACCES}, {"EDQUOT", EDQUOT},
             {"EROFS", EROFS},   {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(s, t[i].name) == 0) return t[i].value;
    return atoi(s);
}

static void write_counts(void);

__attribute__((constructor)) static void fault_init(void) {
    root_pid = getpid();
    void *m = mmap(NULL, sizeof(shared_state), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared = m == MAP_FAILED ? &local_fallback : m;
    pthread_atfork(NULL, NULL, after_fork_child);
    const char *p = getenv("ENGRAM_FAULT_PROC");
    proc_mode = !p || !strcmp(p, "all") ? 0 : !strcmp(p, "parent") ? 1 : !strcmp(p, "child") ? 2 : 0;
    const char *cp = getenv("ENGRAM_FAULT_COUNT");
    if (cp && *cp) {
        snprintf(count_path, sizeof count_path, "%s", cp);
        atexit(write_counts);
    }
    const char *spec = getenv("ENGRAM_FAULT");
    if (!spec || !*spec) return;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL, *cls = strtok_r(buf, ":", &save), *num = strtok_r(NULL, ":", &save);
    for (int c = 0; cls && num && c < N_CLASS; c++)
        if (strcmp(cls, class_names[c]) == 0) target = c;
    if (target < 0) return; /* unknown spec: inject nothing (the sweep checks "fired") */
    target_n = atol(num);
    fail_errno = target == C_ALLOC ? ENOMEM : ENOSPC;
    for (char *opt; (opt = strtok_r(NULL, ":", &save));) {
        if (strncmp(opt, "errno=", 6) == 0) fail_errno = errno_by_name(opt + 6);
        if (strcmp(opt, "persist") == 0) persist = 1;
    }
}

static void note_site(const char *sym, void *ret) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&shared->have_site, &expected, 1)) return;
    Dl_info info;
    if (dladdr(ret, &info) && info.dli_fname)
        snprintf(shared->site, sizeof shared->site, "%s %s+0x%lx", sym, info.dli_fname,
                 (unsigned long)((uintptr_t)ret - (uintptr_t)info.dli_fbase));
    else
        snprintf(shared->site, sizeof shared->site, "%s ?", sym);
}

/* count one call of class c (and of any-io for the I/O classes); 1: fail it */
static int hit(int c, const char *sym, void *ret) {
    int child = getpid() != root_pid;
    int counted = proc_mode == 0 || (proc_mode == 1 && !child) || (proc_mode == 2 && child);
    int fail = 0;
    for (int k = 0; k < 2; k++) {
        int cls = k == 0 ? c : C_ANYIO;
        if (k == 1 && c == C_ALLOC) break;
        long n = atomic_fetch_add(&counts[cls], 1) + 1;
        if (child) {
            long m = atomic_load(&shared->child_max[cls]);
            while (n > m && !atomic_compare_exchange_weak(&shared->child_max[cls], &m, n)) {
            }
        }
        if (counted && cls == target && (n == target_n || (persist && n > target_n))) fail = 1;
    }
    if (fail) {
        atomic_fetch_add(&shared->fired, 1);
        note_site(sym, ret);
    }
    return fail;
}

#define HIT(c, sym) hit(c, sym, __builtin_return_address(0))

/* this file's own calls must not be counted: it calls the __real_ functions */
int __real_open(const char *, int, ...);
ssize_t __real_write(int, const void *, size_t);

static void write_counts(void) {
    if (getpid() != root_pid) return;
    int fd = __real_open(count_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[1200];
    for (int c = 0; c < N_CLASS; c++) {
        int n = snprintf(line, sizeof line, "parent %s %ld\nchild %s %ld\n", class_names[c], atomic_load(&counts[c]),
                         class_names[c], atomic_load(&shared->child_max[c]));
        if (__real_write(fd, line, (size_t)n) < 0) break;
    }
    long fired = atomic_load(&shared->fired);
    int n = snprintf(line, sizeof line, "fired %ld %s\n", fired, fired ? shared->site : "-");
    if (__real_write(fd, line, (size_t)n) < 0) {
    }
    close(fd);
}

/* ---- allocation ---- */

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
char *__real_strdup(const char *);
char *__real_strndup(const char *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);

FI_API void *__wrap_malloc(size_t n) {
    if (HIT(C_ALLOC, "malloc")) return errno = fail_errno, NULL;
    return __real_malloc(n);
}
FI_API void *__wrap_calloc(size_t n, size_t s) {
    if (HIT(C_ALLOC, "calloc")) return errno = fail_errno, NULL;
    return __real_calloc(n, s);
}
FI_API void *__wrap_realloc(void *p, size_t n) {
    if (HIT(C_ALLOC, "realloc")) return errno = fail_errno, NULL;
    return __real_realloc(p, n);
}
FI_API char *__wrap_strdup(const char *s) {
    if (HIT(C_ALLOC, "strdup")) return errno = fail_errno, NULL;
    return __real_strdup(s);
}
FI_API char *__wrap_strndup(const char *s, size_t n) {
    if (HIT(C_ALLOC, "strndup")) return errno = fail_errno, NULL;
    return __real_strndup(s, n);
}
FI_API int __wrap_posix_memalign(void **p, size_t a, size_t n) {
    if (HIT(C_ALLOC, "posix_memalign")) return ENOMEM;
    return __real_posix_memalign(p, a, n);
}
FI_API void *__wrap_aligned_alloc(size_t a, size_t n) {
    if (HIT(C_ALLOC, "aligned_alloc")) return errno = fail_errno, NULL;
    return __real_aligned_alloc(a, n);
}

/* ---- files ---- */

FILE *__real_fopen(const char *, const char *);
int __real_mkstemp(char *);
int __real_mkdir(const char *, mode_t);
size_t __real_fwrite(const void *, size_t, size_t, FILE *);
int __real_fputs(const char *, FILE *);
int __real_fputc(int, FILE *);
int __real_vfprintf(FILE *, const char *, va_list);
int __real_fflush(FILE *);
int __real_fclose(FILE *);
int __real_rename(const char *, const char *);
int __real_fsync(int);

static int open_errno(void) { return fail_errno == ENOSPC ? EACCES : fail_errno; } /* ENOSPC: cannot create */

FI_API int __wrap_open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (HIT(C_OPEN, "open")) return errno = open_errno(), -1;
    return __real_open(path, flags, mode);
}
FI_API FILE *__wrap_fopen(const char *path, const char *mode) {
    if (HIT(C_OPEN, "fopen")) return errno = open_errno(), NULL;
    return __real_fopen(path, mode);
}
FI_API int __wrap_mkstemp(char *tmpl) {
    if (HIT(C_OPEN, "mkstemp")) return errno = open_errno(), -1;
    return __real_mkstemp(tmpl);
}
FI_API int __wrap_mkdir(const char *path, mode_t mode) {
    if (HIT(C_OPEN, "mkdir")) return errno = fail_errno, -1;
    return __real_mkdir(path, mode);
}

static int is_std(FILE *f) { return f == stdout || f == stderr; }

/* a failed stream write sets the stream's error indicator, as glibc does, so that
 * ferror() sees it (glibc's FILE: bits/types/struct_FILE.h) */
static int stream_fail(FILE *f) {
    f->_flags |= _IO_ERR_SEEN;
    errno = fail_errno;
    return 1;
}

FI_API ssize_t __wrap_write(int fd, const void *buf, size_t n) {
    if (fd > 2 && HIT(C_WRITE, "write")) return errno = fail_errno, -1;
    return __real_write(fd, buf, n);
}
FI_API size_t __wrap_fwrite(const void *buf, size_t size, size_t n, FILE *f) {
    if (!is_std(f) && HIT(C_WRITE, "fwrite") && stream_fail(f)) return 0;
    return __real_fwrite(buf, size, n, f);
}
FI_API int __wrap_fputs(const char *s, FILE *f) {
    if (!is_std(f) && HIT(C_WRITE, "fputs") && stream_fail(f)) return EOF;
    return __real_fputs(s, f);
}
FI_API int __wrap_fputc(int c, FILE *f) {
    if (!is_std(f) && HIT(C_WRITE, "fputc") && stream_fail(f)) return EOF;
    return __real_fputc(c, f);
}
FI_API int __wrap_vfprintf(FILE *f, const char *fmt, va_list ap) {
    if (!is_std(f) && HIT(C_WRITE, "vfprintf") && stream_fail(f)) return -1;
    return __real_vfprintf(f, fmt, ap);
}
FI_API int __wrap_fprintf(FILE *f, const char *fmt, ...) {
    if (!is_std(f) && HIT(C_WRITE, "fprintf") && stream_fail(f)) return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = __real_vfprintf(f, fmt, ap);
    va_end(ap);
    return rc;
}
FI_API int __wrap_fflush(FILE *f) {
    if (f && !is_std(f) && HIT(C_WRITE, "fflush") && stream_fail(f)) return EOF;
    return __real_fflush(f);
}
/* the stream is closed either way, as a real fclose whose final flush fails */
FI_API int __wrap_fclose(FILE *f) {
    int fail = !is_std(f) && HIT(C_WRITE, "fclose");
    int rc = __real_fclose(f);
    if (fail) return errno = fail_errno, EOF;
    return rc;
}
FI_API int __wrap_rename(const char *from, const char *to) {
    if (HIT(C_RENAME, "rename")) return errno = fail_errno == ENOSPC ? EIO : fail_errno, -1;
    return __real_rename(from, to);
}
FI_API int __wrap_fsync(int fd) {
    if (HIT(C_FSYNC, "fsync")) return errno = fail_errno, -1;
    return __real_fsync(fd);
}

/* ---- _exit: the leak check of forked processes (a weak reference: ASan builds only) ---- */

int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
void __real__exit(int) __attribute__((noreturn));

FI_API void __wrap__exit(int code) {
    if (getpid() != root_pid && __lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
    __real__exit(code);
}

/* ---- HDF5: a failing call also pushes an error on HDF5's stack, as HDF5 would ---- */

hid_t __real_H5Fcreate(const char *, unsigned, hid_t, hid_t);
hid_t __real_H5Fopen(const char *, unsigned, hid_t);
herr_t __real_H5Fflush(hid_t, H5F_scope_t);
herr_t __real_H5Fclose(hid_t);
hid_t __real_H5Dcreate2(hid_t, const char *, hid_t, hid_t, hid_t, hid_t, hid_t);
herr_t __real_H5Dwrite(hid_t, hid_t, hid_t, hid_t, hid_t, const void *);
hid_t __real_H5Acreate2(hid_t, const char *, hid_t, hid_t, hid_t, hid_t);
herr_t __real_H5Awrite(hid_t, hid_t, const void *);
hid_t __real_H5Gcreate2(hid_t, const char *, hid_t, hid_t, hid_t);
herr_t __real_H5Lcreate_external(const char *, const char *, hid_t, const char *, hid_t, hid_t);

/* As HDF5 does when an API call fails: a fresh error stack holding the reason, then the
 * automatic error handler (H5Eset_auto2: engram's quiet sections keep the first error
 * there, the default one prints the stack). The reason reads as HDF5 words an OS error
 * ("errno = 28, error message = '...'"), so that a reader taking the OS error from HDF5's
 * message takes this one alike. */
static int h5_fail(const char *sym, void *ret) {
    if (!hit(C_H5, sym, ret)) return 0;
    H5E_auto2_t func = NULL;
    void *data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eclear2(H5E_DEFAULT);
    H5Epush2(H5E_DEFAULT, __FILE__, sym, __LINE__, H5E_ERR_CLS, H5E_IO, H5E_WRITEERROR,
             "%s failed (injected): errno = %d, error message = '%s'", sym, fail_errno, strerror(fail_errno));
    if (func) func(H5E_DEFAULT, data);
    errno = fail_errno;
    return 1;
}
#define H5HIT(sym) h5_fail(sym, __builtin_return_address(0))

FI_API hid_t __wrap_H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl) {
    return H5HIT("H5Fcreate") ? -1 : __real_H5Fcreate(name, flags, fcpl, fapl);
}
FI_API hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl) {
    return H5HIT("H5Fopen") ? -1 : __real_H5Fopen(name, flags, fapl);
}
FI_API herr_t __wrap_H5Fflush(hid_t id, H5F_scope_t scope) {
    return H5HIT("H5Fflush") ? -1 : __real_H5Fflush(id, scope);
}
/* the id is released either way, as when HDF5's flush at close fails */
FI_API herr_t __wrap_H5Fclose(hid_t id) {
    int fail = H5HIT("H5Fclose");
    herr_t rc = __real_H5Fclose(id);
    return fail ? -1 : rc;
}
FI_API hid_t __wrap_H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
                               hid_t dapl) {
    return H5HIT("H5Dcreate2") ? -1 : __real_H5Dcreate2(loc, name, type, space, lcpl, dcpl, dapl);
}
FI_API herr_t __wrap_H5Dwrite(hid_t d, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl, const void *buf) {
    return H5HIT("H5Dwrite") ? -1 : __real_H5Dwrite(d, mtype, mspace, fspace, dxpl, buf);
}
FI_API hid_t __wrap_H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl) {
    return H5HIT("H5Acreate2") ? -1 : __real_H5Acreate2(loc, name, type, space, acpl, aapl);
}
FI_API herr_t __wrap_H5Awrite(hid_t a, hid_t mtype, const void *buf) {
    return H5HIT("H5Awrite") ? -1 : __real_H5Awrite(a, mtype, buf);
}
FI_API hid_t __wrap_H5Gcreate2(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl) {
    return H5HIT("H5Gcreate2") ? -1 : __real_H5Gcreate2(loc, name, lcpl, gcpl, gapl);
}
FI_API herr_t __wrap_H5Lcreate_external(const char *file, const char *obj, hid_t loc, const char *name, hid_t lcpl,
                                        hid_t lapl) {
    return H5HIT("H5Lcreate_external") ? -1 : __real_H5Lcreate_external(file, obj, loc, name, lcpl, lapl);
}
