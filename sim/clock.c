/* clock.c -- see clock.h. */
#define _POSIX_C_SOURCE 200809L
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int64_t clk_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clk_thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double clk_ns_per_cycle(void)
{
#if defined(__x86_64__)
    int64_t from_ns = clk_mono_ns(), to_ns;
    uint64_t from = clk_cycles(), to;
    do {
        to_ns = clk_mono_ns();
        to = clk_cycles();
    } while (to_ns - from_ns < 200000);
    return to > from ? (double)(to_ns - from_ns) / (double)(to - from) : 1.0;
#else
    return 1.0;
#endif
}

static int clk_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

double clk_cycles_floor_ns(double ns_per_cycle)
{
    uint64_t d[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t a = clk_cycles(), b = clk_cycles();
        d[i] = b - a;
    }
    qsort(d, 1001, sizeof d[0], clk_cmp_u64);
    return (double)d[500] * ns_per_cycle;
}

int64_t clk_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clk_sleep_ns(int64_t ns)
{
    if (ns <= 0) return;
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void clk_sleep_until_ns(int64_t mono_ns)
{
    struct timespec ts = { (time_t)(mono_ns / 1000000000), (long)(mono_ns % 1000000000) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
}
