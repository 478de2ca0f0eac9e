/*
 * leaky_bucket -- two classic readings of the same bucket.
 *
 * mode "queue" (a shaper: Sentinel's pacing controller, nginx limit_req
 * without nodelay): request i departs at d_i = max(t_i, d_last + cost/rate)
 * and waits d_i - t_i; it is dropped iff that wait exceeds capacity/rate,
 * the wait at the back of a queue `capacity` deep. A drop leaves d_last.
 *
 * mode "meter" (a policer: nginx limit_req burst=capacity nodelay, as its
 * ngx_http_limit_req_module computes it): a key's first request is admitted
 * with excess = 0; after that excess' = max(0, excess - rate*dt + cost) and
 * the request is rejected iff excess' > capacity, leaving the state as it
 * was. So capacity + 1 requests pass back-to-back.
 *
 * Resolution: departures are exact (fixedpoint.h fx_time); the reported
 * delay is rounded up to the next whole microsecond. Excess is kept in
 * units of 1/unit request, exact for any count per period. A request of
 * any cost may pass from idle, so unit * (capacity + the largest cost) must
 * fit the exact range: the largest cost the scenario can produce
 * (lim_config.max_cost), so "1/h" at every cost 1 is exact and runs. v[0] = rate (units/us), v[1] = capacity, v[2] = mode
 * (0 queue, 1 meter), v[3] = unit (units per request).
 */
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

enum { LB_QUEUE = 0, LB_METER = 1 };

static const char *const lb_modes[] = { "queue", "meter", NULL };

static const lim_param_spec lb_params[] = {
    { "rate", LIM_PARAM_RATE, 1, 0, LIM_RATE_MIN, LIM_RATE_MAX, NULL, "requests released (queue) or forgiven (meter) per second, or per period" },
    { "capacity", LIM_PARAM_INTEGER, 1, 0, 0, LIM_COUNT_MAX, NULL, "queue slots (queue) or excess allowed (meter)" },
    { "mode", LIM_PARAM_CHOICE, 0, LB_QUEUE, 0, 1, lb_modes, "queue (delays) or meter (drops only)" },
};

typedef struct {
    int64_t excess;     /* nano-requests */
    int64_t last_us;    /* time of the last admitted request */
} lb_meter_state;

static int lb_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    int64_t rate, unit, largest_cost = cfg->max_cost > 0 ? cfg->max_cost : (int64_t)LIM_COUNT_MAX;
    if (fx_rate_units(&rates[0], (int64_t)values[1] + largest_cost, "capacity + the largest cost", &rate, &unit,
                      err, errlen) != 0)
        return -1;
    cfg->v[0] = rate;
    cfg->v[1] = (int64_t)values[1];
    cfg->v[2] = (int64_t)values[2];
    cfg->v[3] = unit;
    cfg->div[0] = fx_divisor_of(rate);
    cfg->div[1] = fx_divisor_of(unit);
    cfg->state_size = sizeof(fx_time) > sizeof(lb_meter_state) ? sizeof(fx_time)
                                                               : sizeof(lb_meter_state);
    return 0;
}

/* Whole cost-1 requests admissible when the first of them would wait (queue)
 * or bring the excess to (meter) `first` units and each further one adds
 * `unit`, against a ceiling of `limit` units. */
static int64_t lb_count_fitting(int64_t first, int64_t limit, lim_divisor unit)
{
    if (first > limit) return 0;
    return 1 + fx_div(limit - first, unit);
}

/* The departure a request of `cost` would get at now_us: never before now,
 * so fx_ahead() of it is bounded by the queue, however long the key idled. */
static fx_time lb_departure(const fx_time *last, int64_t now_us, int64_t cost, lim_divisor rate, int64_t unit)
{
    fx_time d = fx_add_intervals(*last, cost, rate, unit);
    if (d.us < now_us) d = (fx_time){ now_us, 0 };
    return d;
}

static void lb_queue_decide(const lim_config *cfg, fx_time *last, int is_new,
                            int64_t now_us, int64_t cost, lim_decision *out)
{
    int64_t rate = cfg->v[0], unit = cfg->v[3], limit = cfg->v[1] * unit;
    fx_time d = is_new ? (fx_time){ now_us, 0 } : lb_departure(last, now_us, cost, cfg->div[0], unit);
    int64_t wait = fx_ahead(d, now_us, rate);
    if (wait <= limit) {
        *last = d;
        out->allowed = 1;
        out->delay_us = fx_ceil_div_by(wait, cfg->div[0]);
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(wait + unit, limit, cfg->div[1]);
    } else {
        out->allowed = 0;
        out->delay_us = 0;
        out->retry_after_us = fx_ceil_div_by(wait - limit, cfg->div[0]);
        out->remaining = lb_count_fitting(fx_ahead(lb_departure(last, now_us, 1, cfg->div[0], unit), now_us, rate),
                                          limit, cfg->div[1]);
    }
}

/* Excess after a request of `cost` at now_us, before the capacity check. */
static int64_t lb_meter_excess(const lb_meter_state *s, int64_t now_us, int64_t cost, int64_t rate, int64_t unit)
{
    return fx_drain(s->excess + cost * unit, rate, now_us - s->last_us);
}

static void lb_meter_decide(const lim_config *cfg, lb_meter_state *s, int is_new,
                            int64_t now_us, int64_t cost, lim_decision *out)
{
    int64_t rate = cfg->v[0], unit = cfg->v[3], limit = cfg->v[1] * unit;
    out->delay_us = 0;
    if (is_new) {
        s->excess = 0;
        s->last_us = now_us;
        out->allowed = 1;
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(unit, limit, cfg->div[1]);
        return;
    }
    int64_t excess = lb_meter_excess(s, now_us, cost, rate, unit);
    if (excess <= limit) {
        s->excess = excess;
        if (now_us > s->last_us) s->last_us = now_us;
        out->allowed = 1;
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(excess + unit, limit, cfg->div[1]);
    } else {
        out->allowed = 0;
        /* excess > limit >= 0, so it was not clamped: every further microsecond
         * forgives exactly `rate` units. */
        out->retry_after_us = fx_ceil_div_by(excess - limit, cfg->div[0]);
        out->remaining = lb_count_fitting(lb_meter_excess(s, now_us, 1, rate, unit), limit, cfg->div[1]);
    }
}

static void lb_decide(const lim_config *cfg, void *state, int is_new,
                      int64_t now_us, int64_t cost, lim_decision *out)
{
    if (cfg->v[2] == LB_METER)
        lb_meter_decide(cfg, state, is_new, now_us, cost, out);
    else
        lb_queue_decide(cfg, state, is_new, now_us, cost, out);
}

static int64_t lb_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    if (!state) return 0;
    if (cfg->v[2] == LB_METER) {
        const lb_meter_state *s = state;
        return fx_drain(s->excess, cfg->v[0], now_us - s->last_us) / cfg->v[3];
    }
    const fx_time *last = state;
    if (last->us < now_us) return 0;
    /* requests still waiting: the backlog in whole request intervals */
    return fx_ceil_div(fx_ahead(*last, now_us, cfg->v[0]), cfg->v[3]);
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case lb_perf[] = {
    { "queue", "\"rate\":1e7,\"capacity\":1000",
      "\"rate\":10,\"capacity\":20" },
    { "meter", "\"mode\":\"meter\",\"rate\":1e7,\"capacity\":1000",
      "\"mode\":\"meter\",\"rate\":10,\"capacity\":20" },
    { NULL, NULL, NULL },
};

static const char *const lb_split[] = { "rate", "capacity", NULL };

const lim_ops leaky_bucket_ops = {
    .name = "leaky_bucket",
    .facts = { LIM_ORACLE_LEAKY, NULL, NULL, 0, lb_perf, lb_split },
    .summary = "queue: releases at `rate`, delays up to `capacity` deep; meter: nginx nodelay excess",
    .level_name = "queued(queue)/excess(meter)",
    .params = lb_params,
    .n_params = sizeof lb_params / sizeof lb_params[0],
    .configure = lb_configure,
    .decide = lb_decide,
    .level = lb_level,
};
