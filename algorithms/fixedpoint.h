/*
 * fixedpoint.h -- the integer steps the algorithms share, kept tiny and
 * inline so the C and Lua versions can be compared line by line.
 *
 * A rate of count per per_us microseconds is kept as two integers (see
 * fx_rate_units): `unit` units make one request and `rate` units accrue
 * per microsecond, rate/unit = count/per_us exactly.
 *
 * Times that fall between microseconds (departures every 1/3 s...) are kept
 * exactly as a pair: whole microseconds plus a remainder in units of
 * 1/rate microsecond, so one request interval T = unit/rate us is exactly
 * `unit` such units.
 */
#ifndef RATELAB_FIXEDPOINT_H
#define RATELAB_FIXEDPOINT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "limiter.h"

/* floor(a / b) for b > 0, also for a < 0 (wall clocks with skew can go
 * below a base): the index of the window a time falls in. */
static inline int64_t fx_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* d >= 1 as a multiplier and a shift: with l = ceil(log2 d), k = 63 + l
 * and magic = ceil(2^k / d), floor(n * magic / 2^k) = floor(n / d) for
 * every 0 <= n < 2^63, since magic * d - 2^k < d <= 2^(k - 63)
 * (Granlund and Montgomery, "Division by Invariant Integers using
 * Multiplication", PLDI 1994, theorem 4.2). magic < 2^64 holds: it
 * reaches 2^64 only for d a power of two, whose magic is 2^63. */
static inline lim_divisor fx_divisor_of(int64_t d)
{
    uint32_t l = 0;
    while (l < 63 && ((uint64_t)1 << l) < (uint64_t)d) l++;
    uint32_t k = 63 + l;
    unsigned __int128 magic = (((unsigned __int128)1 << k) + (uint64_t)d - 1) / (uint64_t)d;
    return (lim_divisor){ (uint64_t)magic, k, d };
}

/* n / d exactly as C divides (toward zero), a multiplication for n >= 0. */
static inline int64_t fx_div(int64_t n, lim_divisor v)
{
    if (n < 0) return n / v.d;
    return (int64_t)(((unsigned __int128)(uint64_t)n * v.magic) >> v.shift);
}

/* fx_floor_div by a configured divisor. */
static inline int64_t fx_floor_div_by(int64_t a, lim_divisor v)
{
    return a >= 0 ? fx_div(a, v) : -((-a - 1 + v.d) / v.d);
}

/* fx_ceil_div by a configured divisor: ceil(a / d) for a >= 0. */
static inline int64_t fx_ceil_div_by(int64_t a, lim_divisor v) { return fx_div(a + (v.d - 1), v); }

/* The two parameters of every window algorithm, in this order. */
#define FX_WINDOW_PARAMS(what)                                                            \
    { "limit", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "requests (cost) per " what }, \
    { "window_ms", LIM_PARAM_NUMBER, 1, 0, 0.001, 86400000.0, NULL,                          \
      "window length in milliseconds (microsecond resolution)" }

/* ceil(a / b) for a >= 0, b > 0. */
static inline int64_t fx_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* The most a kept amount (unit times a count) may reach: two of them
 * still sum below 2^53, Lua's exact range. */
#define FX_AMOUNT_MAX (1LL << 52)

static inline int64_t fx_gcd(int64_t a, int64_t b)
{
    while (b) { int64_t t = a % b; a = b; b = t; }
    return a;
}

/* The integer form of rate r: *rate units per microsecond, *unit units per
 * request, the fraction count/per_us reduced. `largest` is the largest
 * count the algorithm keeps in units (capacity, burst), named `what` in
 * the refusal: unit * largest must stay within FX_AMOUNT_MAX. 0, or -1
 * with "rate: ..." in err. */
static inline int fx_rate_units(const lim_rate *r, int64_t largest, const char *what, int64_t *rate, int64_t *unit,
                                char *err, size_t errlen)
{
    int64_t g = fx_gcd(r->count, r->per_us);
    *rate = r->count / g;
    *unit = r->per_us / g;
    if (largest < 1) largest = 1;
    if (*unit > FX_AMOUNT_MAX / largest) {
        snprintf(err, errlen, "rate: kept exactly, one request is %lld units, so %s may be at most %lld (got %lld); "
                              "state the rate with a larger count per period, or use a smaller %s",
                 (long long)*unit, what, (long long)(FX_AMOUNT_MAX / *unit), (long long)largest, what);
        return -1;
    }
    return 0;
}

/* amount + rate * elapsed_us, capped at `cap`, without overflowing: a
 * product that overflows is past any cap. (elapsed >= ceil(gap / rate)
 * is elapsed * rate >= gap, without the division.) */
static inline int64_t fx_fill(int64_t amount, int64_t cap, int64_t rate, int64_t elapsed_us)
{
    if (amount >= cap || elapsed_us <= 0) return amount;
    int64_t added;
    if (__builtin_mul_overflow(elapsed_us, rate, &added) || added >= cap - amount) return cap;
    return amount + added;
}

/* max(0, amount - rate * elapsed_us), without overflowing. */
static inline int64_t fx_drain(int64_t amount, int64_t rate, int64_t elapsed_us)
{
    if (amount <= 0) return 0;
    if (elapsed_us <= 0) return amount;
    int64_t drained;
    if (__builtin_mul_overflow(elapsed_us, rate, &drained) || drained >= amount) return 0;
    return amount - drained;
}

/* A time between microseconds: us + rem / rate, 0 <= rem < rate. */
typedef struct { int64_t us, rem; } fx_time;

/* t + cost request intervals (cost * unit units of 1/rate us). */
static inline fx_time fx_add_intervals(fx_time t, int64_t cost, lim_divisor rate, int64_t unit)
{
    int64_t units = cost * unit, whole = fx_div(units, rate);
    t.us += whole;
    t.rem += units - whole * rate.d;
    if (t.rem >= rate.d) { t.rem -= rate.d; t.us += 1; }
    return t;
}

/* (t - now) in units of 1/rate us; negative when t is in the past. Only
 * called where t - now is bounded by a few bursts, so no overflow. */
static inline int64_t fx_ahead(fx_time t, int64_t now_us, int64_t rate)
{
    return (t.us - now_us) * rate + t.rem;
}

#endif
