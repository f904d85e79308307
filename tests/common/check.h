/* check.h — the tiny assertion harness of engram's C tests.
 * CHECK* record a failure with file:line and go on; eg_test_finish() prints
 * "N passed, N failed" and returns the exit code (77 = skipped, for ctest). */
#ifndef EG_TEST_CHECK_H
#define EG_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

extern int eg_test_passed, eg_test_failed;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) eg_test_passed++;                                                 \
        else {                                                                      \
            eg_test_failed++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                             \
    do {                                                                 \
        if (cond) eg_test_passed++;                                      \
        else {                                                           \
            eg_test_failed++;                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_NEAR(a, b, atol, rtol)                                                                  \
    do {                                                                                              \
        double eg_a_ = (double)(a), eg_b_ = (double)(b);                                              \
        if (fabs(eg_a_ - eg_b_) <= (atol) + (rtol)*fabs(eg_b_)) eg_test_passed++;                    \
        else {                                                                                        \
            eg_test_failed++;                                                                         \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.10g, %s = %.10g\n", __FILE__, __LINE__, #a, \
                    eg_a_, #b, eg_b_);                                                                \
        }                                                                                             \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                                           \
    do {                                                                                               \
        const char *eg_h_ = (haystack);                                                                \
        if (eg_h_ && strstr(eg_h_, (needle))) eg_test_passed++;                                        \
        else {                                                                                         \
            eg_test_failed++;                                                                          \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, (needle),        \
                    eg_h_ ? eg_h_ : "(null)");                                                         \
        }                                                                                              \
    } while (0)

/* prints the closing line; returns 0 when nothing failed and something passed */
int eg_test_finish(void);
/* Opens the CPU backend with `threads` threads (*be) and a context on it; on failure
 * prints why, records a failed check and returns NULL. */
struct eg_backend;
struct eg_ctx;
struct eg_ctx *eg_test_cpu_ctx(int threads, struct eg_backend **be);
/* A component the test needs is missing (a plugin, a dataset, the CPU backend): the
 * test is skipped with the reason (exit code 77), except under CI (CI=true), where
 * everything must be there and the test fails (exit code 1). */
int eg_test_skip(const char *reason);
/* The hardware cannot run the test (no GPU, no extended long double): skipped with
 * the reason (77) everywhere, CI included. */
int eg_test_skip_unsupported(const char *reason);

#endif
