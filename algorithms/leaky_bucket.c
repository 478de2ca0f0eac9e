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
 * nano-requests. v[0] = rate_m, v[1] = capacity, v[2] = mode (0 queue, 1 meter).
 */
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

enum { LB_QUEUE = 0, LB_METER = 1 };

static const char *const lb_modes[] = { "queue", "meter", NULL };

static const lim_param_spec lb_params[] = {
    { "rate", LIM_PARAM_NUMBER, 1, 0, LIM_RATE_MIN, LIM_RATE_MAX, NULL, "requests released (queue) or forgiven (meter) per second" },
    { "capacity", LIM_PARAM_INTEGER, 1, 0, 0, LIM_COUNT_MAX, NULL, "queue slots (queue) or excess allowed (meter)" },
    { "mode", LIM_PARAM_CHOICE, 0, LB_QUEUE, 0, 1, lb_modes, "queue (delays) or meter (drops only)" },
};

typedef struct {
    int64_t excess;     /* nano-requests */
    int64_t last_us;    /* time of the last admitted request */
} lb_meter_state;

static int lb_configure(const double *values, lim_config *cfg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    cfg->v[0] = fx_rate_m(values[0]);
    cfg->v[1] = (int64_t)values[1];
    cfg->v[2] = (int64_t)values[2];
    cfg->state_size = sizeof(fx_time) > sizeof(lb_meter_state) ? sizeof(fx_time)
                                                               : sizeof(lb_meter_state);
    return 0;
}

/* Whole cost-1 requests admissible when the first of them would wait (queue)
 * or bring the excess to (meter) `first` units and each further one adds
 * LIM_UNIT, against a ceiling of `limit` units. */
static int64_t lb_count_fitting(int64_t first, int64_t limit)
{
    if (first > limit) return 0;
    return 1 + (limit - first) / LIM_UNIT;
}

/* The departure a request of `cost` would get at now_us: never before now,
 * so fx_ahead() of it is bounded by the queue, however long the key idled. */
static fx_time lb_departure(const fx_time *last, int64_t now_us, int64_t cost, int64_t rate_m)
{
    fx_time d = fx_add_intervals(*last, cost, rate_m);
    if (d.us < now_us) d = (fx_time){ now_us, 0 };
    return d;
}

static void lb_queue_decide(const lim_config *cfg, fx_time *last, int is_new,
                            int64_t now_us, int64_t cost, lim_decision *out)
{
    int64_t rate_m = cfg->v[0], limit = cfg->v[1] * LIM_UNIT;
    fx_time d = is_new ? (fx_time){ now_us, 0 } : lb_departure(last, now_us, cost, rate_m);
    int64_t wait = fx_ahead(d, now_us, rate_m);
    if (wait <= limit) {
        *last = d;
        out->allowed = 1;
        out->delay_us = fx_ceil_div(wait, rate_m);
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(wait + LIM_UNIT, limit);
    } else {
        out->allowed = 0;
        out->delay_us = 0;
        out->retry_after_us = fx_ceil_div(wait - limit, rate_m);
        out->remaining = lb_count_fitting(fx_ahead(lb_departure(last, now_us, 1, rate_m), now_us, rate_m), limit);
    }
}

/* Excess after a request of `cost` at now_us, before the capacity check. */
static int64_t lb_meter_excess(const lb_meter_state *s, int64_t now_us, int64_t cost, int64_t rate_m)
{
    return fx_drain(s->excess + cost * LIM_UNIT, rate_m, now_us - s->last_us);
}

static void lb_meter_decide(const lim_config *cfg, lb_meter_state *s, int is_new,
                            int64_t now_us, int64_t cost, lim_decision *out)
{
    int64_t rate_m = cfg->v[0], limit = cfg->v[1] * LIM_UNIT;
    out->delay_us = 0;
    if (is_new) {
        s->excess = 0;
        s->last_us = now_us;
        out->allowed = 1;
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(LIM_UNIT, limit);
        return;
    }
    int64_t excess = lb_meter_excess(s, now_us, cost, rate_m);
    if (excess <= limit) {
        s->excess = excess;
        if (now_us > s->last_us) s->last_us = now_us;
        out->allowed = 1;
        out->retry_after_us = 0;
        out->remaining = lb_count_fitting(excess + LIM_UNIT, limit);
    } else {
        out->allowed = 0;
        /* excess > limit >= 0, so it was not clamped: every further microsecond
         * forgives exactly rate_m units. */
        out->retry_after_us = fx_ceil_div(excess - limit, rate_m);
        out->remaining = lb_count_fitting(lb_meter_excess(s, now_us, 1, rate_m), limit);
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
        return fx_drain(s->excess, cfg->v[0], now_us - s->last_us) / LIM_UNIT;
    }
    const fx_time *last = state;
    if (last->us < now_us) return 0;
    /* requests still waiting: the backlog in whole request intervals */
    return fx_ceil_div(fx_ahead(*last, now_us, cfg->v[0]), LIM_UNIT);
}

const lim_ops leaky_bucket_ops = {
    .name = "leaky_bucket",
    .summary = "queue: releases at `rate`, delays up to `capacity` deep; meter: nginx nodelay excess",
    .level_name = "queued(queue)/excess(meter)",
    .params = lb_params,
    .n_params = sizeof lb_params / sizeof lb_params[0],
    .configure = lb_configure,
    .decide = lb_decide,
    .level = lb_level,
};
