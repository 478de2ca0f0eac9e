/*
 * clock.h -- the clocks and sleeps every module uses, in one place: a
 * monotonic clock for durations and schedules, the wall clock for what
 * must agree across processes (the Redis queue's consumers), and sleeps
 * that finish their time when a signal interrupts them.
 */
#ifndef RATELAB_CLOCK_H
#define RATELAB_CLOCK_H

#include <stdint.h>

/* Nanoseconds on the monotonic clock (an arbitrary origin). */
int64_t clk_mono_ns(void);

/* This thread's CPU time in nanoseconds: what a pass costs, whatever else
 * the machine runs. */
int64_t clk_thread_ns(void);

/* A counter far cheaper to read than clk_mono_ns, to time one short
 * decision of a sample: on x86-64 the time-stamp counter, read unordered
 * (the vDSO's monotonic clock reads it behind a fence, which drains the
 * pipeline: at one decision timed in 16 that fence was a ninth of a
 * one-key simulation); elsewhere the monotonic clock in ns. Meant for
 * differences within one thread over microseconds, on a constant-rate
 * counter (Linux's clocksource tsc). */
static inline uint64_t clk_cycles(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return (uint64_t)clk_mono_ns();
#endif
}

/* Nanoseconds per clk_cycles count, measured against the monotonic clock
 * over 200 us (a busy wait: the counter's error is then about 0.05%);
 * exactly 1 where clk_cycles is the monotonic clock. */
double clk_ns_per_cycle(void);

/* What timing nothing with clk_cycles reads, in ns at ns_per_cycle: the
 * median of 1001 back-to-back reads (the counter's step as much as its
 * cost: a VM's counter may advance in steps of about 10 ns). */
double clk_cycles_floor_ns(double ns_per_cycle);

/* Microseconds since the epoch on the wall clock. */
int64_t clk_wall_us(void);

/* Sleeps `ns` nanoseconds (nothing when <= 0), resuming after a signal. */
void clk_sleep_ns(int64_t ns);

/* Sleeps until the monotonic clock reads `mono_ns`. */
void clk_sleep_until_ns(int64_t mono_ns);

#endif
