/*
 * sliding_window_log -- exact: admit iff the cost admitted in (t - window, t]
 * plus this cost is <= limit. Keeps a log of admitted (time, cost) entries,
 * as the Redis texts do in a sorted set; ratelab's twin
 * (lua/sliding_window_log.lua) keeps this same ring, in a hash.
 *
 * The log is a ring inside the key's state. Every cost is >= 1 and the sum
 * in the window is <= limit, so `limit` entries always suffice: the state is
 * 16 + 16 * limit bytes, fixed by the configuration, and nothing is
 * allocated per request. v[0] = limit, v[1] = window in microseconds.
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

typedef struct {
    int64_t t_us;
    int64_t cost;
} swl_entry;

typedef struct {
    int64_t sum;        /* cost of the entries in the log */
    uint32_t head;      /* oldest entry */
    uint32_t n;         /* entries in the log */
    swl_entry log[];    /* `limit` slots */
} swl_state;

static const lim_param_spec swl_params[] = { FX_WINDOW_PARAMS("sliding window") };

static int swl_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    (void)err, (void)errlen;
    cfg->v[0] = (int64_t)values[0];
    cfg->v[1] = (int64_t)llround(values[1] * 1000.0);
    cfg->state_size = sizeof(swl_state) + (size_t)cfg->v[0] * sizeof(swl_entry);
    return 0;
}

/* Slot i of a ring of cap slots, for i < 2 * cap: a compare, not a division. */
static uint32_t swl_slot(uint32_t i, int64_t cap) { return i >= (uint64_t)cap ? (uint32_t)(i - cap) : i; }

/* Drops entries at or before now - window: they have left (t - w, t].
 * An emptied log starts again at slot 0, beside its header: a key that
 * comes back after a window touches one cache line of it, not two. */
static void swl_expire(swl_state *s, int64_t cap, int64_t w, int64_t now_us)
{
    while (s->n > 0 && s->log[s->head].t_us <= now_us - w) {
        s->sum -= s->log[s->head].cost;
        s->head = swl_slot(s->head + 1, cap);
        s->n--;
    }
    if (s->n == 0) s->head = 0;
}

/* When enough old entries will have expired for `cost` to fit. */
static int64_t swl_retry(const swl_state *s, int64_t limit, int64_t w, int64_t now_us, int64_t cost)
{
    if (cost > limit) return LIM_RETRY_NEVER;
    int64_t sum = s->sum;
    for (uint32_t i = 0; i < s->n; i++) {
        const swl_entry *e = &s->log[swl_slot(s->head + i, limit)];
        sum -= e->cost;
        if (sum + cost <= limit) return e->t_us + w - now_us;
    }
    return 0;  /* unreachable: an empty log admits any cost <= limit */
}

static void swl_decide(const lim_config *cfg, void *state, int is_new,
                       int64_t now_us, int64_t cost, lim_decision *out)
{
    swl_state *s = state;
    int64_t limit = cfg->v[0], w = cfg->v[1];
    if (is_new) { s->sum = 0; s->head = 0; s->n = 0; }
    swl_expire(s, limit, w, now_us);
    out->delay_us = 0;
    if (s->sum + cost <= limit) {
        s->log[swl_slot(s->head + s->n, limit)] = (swl_entry){ now_us, cost };
        s->n++;
        s->sum += cost;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = swl_retry(s, limit, w, now_us, cost);
    }
    out->remaining = limit - s->sum;
}

static int64_t swl_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    const swl_state *s = state;
    if (!s) return 0;
    int64_t sum = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const swl_entry *e = &s->log[swl_slot(s->head + i, cfg->v[0])];
        if (e->t_us > now_us - cfg->v[1]) sum += e->cost;
    }
    return sum;
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case swl_perf[] = {
    { NULL, "\"limit\":1000,\"window_ms\":0.1",
      "\"limit\":10,\"window_ms\":1000" },
    { NULL, NULL, NULL },
};

static const char *const swl_split[] = { "limit", NULL };

const lim_ops sliding_window_log_ops = {
    .name = "sliding_window_log",
    .facts = { LIM_ORACLE_WINDOW_LOG, NULL, NULL, 0, swl_perf, swl_split },
    .summary = "exact log of admitted requests over the last `window_ms`",
    .level_name = "count-in-window",
    .params = swl_params,
    .n_params = sizeof swl_params / sizeof swl_params[0],
    .configure = swl_configure,
    .decide = swl_decide,
    .level = swl_level,
};
