/*
 * gcra -- the generic cell rate algorithm (ITU-T I.371 virtual scheduling),
 * as redis-cell and throttled use it: T = 1/rate,
 *   tat' = max(tat, now) + cost*T, admit iff tat' - now <= burst*T.
 * From idle, `burst` back-to-back requests pass (redis-cell's max_burst is
 * burst - 1).
 *
 * The theoretical arrival time is kept exactly: whole microseconds plus a
 * remainder in 1/rate us (fixedpoint.h), so T = unit/rate us is never
 * rounded, whatever count per period the rate was given as.
 * v[0] = rate (units/us), v[1] = burst, v[2] = unit (units per request).
 */
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

static const lim_param_spec gcra_params[] = {
    { "rate", LIM_PARAM_RATE, 1, 0, LIM_RATE_MIN, LIM_RATE_MAX, NULL, "sustained requests per second, or per period (\"20/min\")" },
    { "burst", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "requests that pass back-to-back from idle" },
};

static int gcra_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    int64_t rate, unit;
    if (fx_rate_units(&rates[0], (int64_t)values[1], "burst", &rate, &unit, err, errlen) != 0) return -1;
    cfg->v[0] = rate;
    cfg->v[1] = (int64_t)values[1];
    cfg->v[2] = unit;
    cfg->div[0] = fx_divisor_of(rate);
    cfg->div[1] = fx_divisor_of(unit);
    cfg->state_size = sizeof(fx_time);
    return 0;
}

/* The tat from which a request at now_us starts: max(tat, now). */
static fx_time gcra_base(const fx_time *tat, int64_t now_us)
{
    /* rem < 1 us, so tat >= now exactly when its whole part is. */
    if (tat->us >= now_us) return *tat;
    return (fx_time){ now_us, 0 };
}

/* Requests that fit from base now: none when the tat is ahead by more than
 * the limit, as a client stamped behind the last request (clock skew) or a
 * fleet's deltas can put it. */
static int64_t gcra_admissible(const lim_config *cfg, int64_t limit, int64_t ahead)
{
    return ahead >= limit ? 0 : fx_div(limit - ahead, cfg->div[1]);
}

static void gcra_decide(const lim_config *cfg, void *state, int is_new,
                        int64_t now_us, int64_t cost, lim_decision *out)
{
    fx_time *tat = state;
    int64_t rate = cfg->v[0], unit = cfg->v[2], limit = cfg->v[1] * unit;
    if (is_new) *tat = (fx_time){ now_us, 0 };

    fx_time base = gcra_base(tat, now_us);
    out->delay_us = 0;
    if (cost > cfg->v[1]) {   /* never: more than burst intervals ahead even from idle */
        out->allowed = 0;
        out->retry_after_us = LIM_RETRY_NEVER;
        out->remaining = gcra_admissible(cfg, limit, fx_ahead(base, now_us, rate));
        return;
    }
    fx_time next = fx_add_intervals(base, cost, cfg->div[0], unit);
    int64_t ahead = fx_ahead(next, now_us, rate);
    if (ahead <= limit) {
        *tat = next;
        out->allowed = 1;
        out->retry_after_us = 0;
        out->remaining = gcra_admissible(cfg, limit, ahead);
    } else {
        out->allowed = 0;
        out->retry_after_us = fx_ceil_div_by(ahead - limit, cfg->div[0]);
        out->remaining = gcra_admissible(cfg, limit, fx_ahead(base, now_us, rate));
    }
}

static void gcra_consume(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost)
{
    fx_time *tat = state;
    if (is_new) *tat = (fx_time){ now_us, 0 };
    *tat = fx_add_intervals(gcra_base(tat, now_us), cost, cfg->div[0], cfg->v[2]);   /* however far ahead */
}

static int64_t gcra_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    if (!state) return cfg->v[1];
    fx_time base = gcra_base(state, now_us);
    return gcra_admissible(cfg, cfg->v[1] * cfg->v[2], fx_ahead(base, now_us, cfg->v[0]));
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case gcra_perf[] = {
    { NULL, "\"rate\":1e7,\"burst\":1000",
      "\"rate\":10,\"burst\":20" },
    { NULL, NULL, NULL },
};

static const char *const gcra_split[] = { "rate", "burst", NULL };

const lim_ops gcra_ops = {
    .name = "gcra",
    .facts = { LIM_ORACLE_BUCKET, "burst", NULL, 0, gcra_perf, gcra_split },
    .summary = "theoretical arrival time advances by 1/rate per request; admits within `burst` intervals",
    .level_name = "admissible-now",
    .params = gcra_params,
    .n_params = sizeof gcra_params / sizeof gcra_params[0],
    .configure = gcra_configure,
    .decide = gcra_decide,
    .level = gcra_level,
    .consume = gcra_consume,
};
