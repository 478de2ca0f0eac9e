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

/* Microseconds since the epoch on the wall clock. */
int64_t clk_wall_us(void);

/* Sleeps `ns` nanoseconds (nothing when <= 0), resuming after a signal. */
void clk_sleep_ns(int64_t ns);

/* Sleeps until the monotonic clock reads `mono_ns`. */
void clk_sleep_until_ns(int64_t mono_ns);

#endif
