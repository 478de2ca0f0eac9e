/*
 * fixedpoint.h -- the integer steps the algorithms share, kept tiny and
 * inline so the C and Lua versions can be compared line by line.
 *
 * Times that fall between microseconds (departures every 1/3 s...) are kept
 * exactly as a pair: whole microseconds plus a remainder in units of
 * 1/rate_m microsecond, so one request interval T = 1e6/rate s is exactly
 * LIM_UNIT such units.
 */
#ifndef RATELAB_FIXEDPOINT_H
#define RATELAB_FIXEDPOINT_H

#include <math.h>
#include <stdint.h>

#include "limiter.h"

/* floor(a / b) for b > 0, also for a < 0 (wall clocks with skew can go
 * below a base): the index of the window a time falls in. */
static inline int64_t fx_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The two parameters of every window algorithm, in this order. */
#define FX_WINDOW_PARAMS(what)                                                            \
    { "limit", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "requests (cost) per " what }, \
    { "window_ms", LIM_PARAM_NUMBER, 1, 0, 0.001, 86400000.0, NULL,                          \
      "window length in milliseconds (microsecond resolution)" }

/* ceil(a / b) for a >= 0, b > 0. */
static inline int64_t fx_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* rate (requests/s) as rate_m (milli-requests/s = nano-requests/us), at least 1. */
static inline int64_t fx_rate_m(double rate)
{
    int64_t r = (int64_t)llround(rate * 1000.0);
    return r < 1 ? 1 : r;
}

/* amount + rate_m * elapsed_us, capped at `cap`, without overflowing:
 * the product is only formed when it is known to stay below cap. */
static inline int64_t fx_fill(int64_t amount, int64_t cap, int64_t rate_m, int64_t elapsed_us)
{
    if (amount >= cap || elapsed_us <= 0) return amount;
    if (elapsed_us >= fx_ceil_div(cap - amount, rate_m)) return cap;
    return amount + elapsed_us * rate_m;
}

/* max(0, amount - rate_m * elapsed_us), without overflowing. */
static inline int64_t fx_drain(int64_t amount, int64_t rate_m, int64_t elapsed_us)
{
    if (amount <= 0) return 0;
    if (elapsed_us <= 0) return amount;
    if (elapsed_us >= fx_ceil_div(amount, rate_m)) return 0;
    return amount - elapsed_us * rate_m;
}

/* A time between microseconds: us + rem / rate_m, 0 <= rem < rate_m. */
typedef struct { int64_t us, rem; } fx_time;

/* t + cost request intervals (cost * LIM_UNIT units of 1/rate_m us). */
static inline fx_time fx_add_intervals(fx_time t, int64_t cost, int64_t rate_m)
{
    int64_t units = cost * LIM_UNIT;
    t.us += units / rate_m;
    t.rem += units % rate_m;
    if (t.rem >= rate_m) { t.rem -= rate_m; t.us += 1; }
    return t;
}

/* (t - now) in units of 1/rate_m us; negative when t is in the past. Only
 * called where t - now is bounded by a few bursts, so no overflow. */
static inline int64_t fx_ahead(fx_time t, int64_t now_us, int64_t rate_m)
{
    return (t.us - now_us) * rate_m + t.rem;
}

#endif
