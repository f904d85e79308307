/* clock.c — the monotonic clock (SDK) and wall-clock time (records). */
#define _GNU_SOURCE
#include "clock.h"

#include <sys/time.h>
#include <time.h>

double eg_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double eg_wall_now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

void eg_iso_time(double unix_seconds, char *buf, size_t cap) {
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
