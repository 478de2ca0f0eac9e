/*
 * fixed_window -- window = floor(t / window); admit iff count + cost <= limit
 * in the current window. Cheap and coarse: across an edge it can pass up to
 * 2*limit within one window length.
 * v[0] = limit, v[1] = window in microseconds.
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

typedef struct {
    int64_t window;     /* index of the window `count` belongs to */
    int64_t count;
} fw_state;

static const lim_param_spec fw_params[] = { FX_WINDOW_PARAMS("window") };

static int fw_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    (void)err, (void)errlen;
    cfg->v[0] = (int64_t)values[0];
    cfg->v[1] = (int64_t)llround(values[1] * 1000.0);
    cfg->div[0] = fx_divisor_of(cfg->v[1]);
    cfg->state_size = sizeof(fw_state);
    return 0;
}

static void fw_decide(const lim_config *cfg, void *state, int is_new,
                      int64_t now_us, int64_t cost, lim_decision *out)
{
    fw_state *s = state;
    int64_t limit = cfg->v[0], w = cfg->v[1];
    int64_t idx = fx_floor_div_by(now_us, cfg->div[0]);
    /* A request stamped into an older window (skew) counts in the current one. */
    if (is_new || idx > s->window) {
        s->window = idx;
        s->count = 0;
    }
    out->delay_us = 0;
    if (s->count + cost <= limit) {
        s->count += cost;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = cost > limit ? LIM_RETRY_NEVER : (s->window + 1) * w - now_us;
    }
    out->remaining = limit - s->count;
}

static void fw_consume(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost)
{
    fw_state *s = state;
    int64_t idx = fx_floor_div_by(now_us, cfg->div[0]);
    if (is_new || idx > s->window) {
        s->window = idx;
        s->count = 0;
    }
    s->count += cost;   /* above the limit when the fleet took more */
}

static int64_t fw_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    const fw_state *s = state;
    if (!s || fx_floor_div(now_us, cfg->v[1]) > s->window) return 0;
    return s->count;
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case fw_perf[] = {
    { NULL, "\"limit\":10000,\"window_ms\":1",
      "\"limit\":20,\"window_ms\":1000" },
    { NULL, NULL, NULL },
};

static const char *const fw_split[] = { "limit", NULL };

const lim_ops fixed_window_ops = {
    .name = "fixed_window",
    .facts = { LIM_ORACLE_WINDOW_FIXED, NULL, "sliding_window_log", 0, fw_perf, fw_split },
    .summary = "counts per aligned window of `window_ms`; admits up to `limit`",
    .level_name = "count-in-window",
    .params = fw_params,
    .n_params = sizeof fw_params / sizeof fw_params[0],
    .configure = fw_configure,
    .decide = fw_decide,
    .level = fw_level,
    .consume = fw_consume,
};
