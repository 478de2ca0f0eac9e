/*
 * sliding_window_counter -- Cloudflare's estimate ("How we built rate
 * limiting capable of scaling to millions of domains", 2017): the previous
 * window's count weighted by the part of it still inside the sliding window,
 *   est = prev * (window - t mod window) / window + cur,
 * admit iff est + cost <= limit. Compared in integers multiplied by the
 * window (requests x microseconds), so no division rounds a decision;
 * configure() keeps limit * window below 2^53.
 * v[0] = limit, v[1] = window in microseconds.
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

typedef struct {
    int64_t window;     /* index of the current window */
    int64_t cur;        /* admitted cost in it */
    int64_t prev;       /* admitted cost in the one before */
} swc_state;

static const lim_param_spec swc_params[] = { FX_WINDOW_PARAMS("sliding window") };

static int swc_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    cfg->v[0] = (int64_t)values[0];
    cfg->v[1] = (int64_t)llround(values[1] * 1000.0);
    if ((double)cfg->v[0] * (double)cfg->v[1] >= (double)LIM_SAFE_MAX) {
        snprintf(err, errlen, "window_ms: limit x window must stay below 2^53 request-microseconds "
                 "(largest window for limit %lld is %.0f ms)", (long long)cfg->v[0],
                 (double)LIM_SAFE_MAX / (double)cfg->v[0] / 1000.0);
        return -1;
    }
    cfg->div[0] = fx_divisor_of(cfg->v[1]);
    cfg->state_size = sizeof(swc_state);
    return 0;
}

/* The state as it stands in window `idx` (rolled forward, not stored). */
static swc_state swc_at(const swc_state *s, int64_t idx)
{
    if (idx == s->window) return *s;
    if (idx == s->window + 1) return (swc_state){ idx, 0, s->cur };
    if (idx > s->window) return (swc_state){ idx, 0, 0 };
    return *s;  /* stamped into an older window (skew): judged in the current one */
}

/* prev * (w - m) + cur * w: the estimate times w. */
static int64_t swc_weighted(const swc_state *s, int64_t w, int64_t m)
{
    return s->prev * (w - m) + s->cur * w;
}

/* Wait until a request of `cost` fits, from offset m in window s->window. */
static int64_t swc_retry(const swc_state *s, int64_t limit, int64_t w, int64_t m, int64_t cost)
{
    if (cost > limit) return LIM_RETRY_NEVER;
    if (s->cur + cost <= limit) {
        /* Later in this window: prev * (w - m') <= (limit - cur - cost) * w. */
        int64_t m2 = w - (limit - s->cur - cost) * w / s->prev;
        return m2 - m;
    }
    /* Next window, where prev becomes cur: cur * (w - m') <= (limit - cost) * w. */
    int64_t m2 = w - (limit - cost) * w / s->cur;
    return (w - m) + m2;
}

static void swc_decide(const lim_config *cfg, void *state, int is_new,
                       int64_t now_us, int64_t cost, lim_decision *out)
{
    swc_state *s = state;
    int64_t limit = cfg->v[0], w = cfg->v[1];
    int64_t idx = fx_floor_div_by(now_us, cfg->div[0]);
    if (is_new) *s = (swc_state){ idx, 0, 0 };
    *s = swc_at(s, idx);
    int64_t m = now_us - s->window * w;
    if (m < 0) m = 0;

    int64_t weighted = swc_weighted(s, w, m);
    out->delay_us = 0;
    if (weighted + cost * w <= limit * w) {
        s->cur += cost;
        weighted += cost * w;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = swc_retry(s, limit, w, m, cost);
    }
    out->remaining = weighted >= limit * w ? 0 : fx_div(limit * w - weighted, cfg->div[0]);
}

static void swc_consume(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost)
{
    swc_state *s = state;
    int64_t idx = fx_floor_div_by(now_us, cfg->div[0]);
    if (is_new) *s = (swc_state){ idx, 0, 0 };
    *s = swc_at(s, idx);
    s->cur += cost;
}

static int64_t swc_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    if (!state) return 0;
    int64_t w = cfg->v[1], idx = fx_floor_div(now_us, w);
    swc_state s = swc_at(state, idx);
    int64_t m = now_us - s.window * w;
    return swc_weighted(&s, w, m < 0 ? 0 : m) / w;
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case swc_perf[] = {
    { NULL, "\"limit\":10000,\"window_ms\":1",
      "\"limit\":20,\"window_ms\":1000" },
    { NULL, NULL, NULL },
};

static const char *const swc_split[] = { "limit", NULL };

const lim_ops sliding_window_counter_ops = {
    .name = "sliding_window_counter",
    .facts = { LIM_ORACLE_WINDOW_ESTIMATE, NULL, "sliding_window_log", 0, swc_perf, swc_split },
    .summary = "Cloudflare's weighted previous + current window count",
    .level_name = "estimated-count",
    .params = swc_params,
    .n_params = sizeof swc_params / sizeof swc_params[0],
    .configure = swc_configure,
    .decide = swc_decide,
    .level = swc_level,
    .consume = swc_consume,
};
