#include "check.h"

#include <stdlib.h>
#include <string.h>

int eg_test_passed = 0, eg_test_failed = 0;

int eg_test_finish(void) {
    printf("%d passed, %d failed\n", eg_test_passed, eg_test_failed);
    if (eg_test_failed) return 1;
    return eg_test_passed > 0 ? 0 : 1; /* a test that checked nothing fails */
}

int eg_test_skip(const char *reason) {
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        printf("FAILED: %s (CI=true: every plugin, dataset and backend the test needs must be present)\n", reason);
        return 1;
    }
    printf("SKIPPED: %s\n", reason);
    return 77;
}

int eg_test_skip_unsupported(const char *reason) {
    printf("SKIPPED: %s\n", reason);
    return 77;
}
