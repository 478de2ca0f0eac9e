/*
 * token_bucket -- tokens = min(capacity, tokens + rate*dt); a request of
 * `cost` is admitted iff tokens >= cost, and then takes them.
 *
 * Resolution: exact. Tokens are kept in units of 1/unit token, and `rate`
 * units accrue per microsecond (fixedpoint.h fx_rate_units), so every
 * refill is exact for any count per period.
 * v[0] = rate (units/us), v[1] = capacity in units, v[2] = initial in units,
 * v[3] = unit (units per token).
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

typedef struct {
    int64_t tokens;     /* nano-tokens */
    int64_t last_us;    /* time of the last refill */
} tb_state;

static const lim_param_spec tb_params[] = {
    { "rate", LIM_PARAM_RATE, 1, 0, LIM_RATE_MIN, LIM_RATE_MAX, NULL, "tokens added per second, or per period (\"20/min\")" },
    { "capacity", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "bucket size in tokens (largest burst)" },
    { "initial", LIM_PARAM_INTEGER, 0, NAN, 0, LIM_COUNT_MAX, NULL, "tokens in a new key's bucket (default: capacity)" },
};

static int tb_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    double initial = isnan(values[2]) ? values[1] : values[2];
    if (initial > values[1]) {
        snprintf(err, errlen, "initial: must be <= capacity (%.0f), got %.0f", values[1], initial);
        return -1;
    }
    int64_t rate, unit;
    if (fx_rate_units(&rates[0], (int64_t)values[1], "capacity", &rate, &unit, err, errlen) != 0) return -1;
    cfg->v[0] = rate;
    cfg->v[1] = (int64_t)values[1] * unit;
    cfg->v[2] = (int64_t)initial * unit;
    cfg->v[3] = unit;
    cfg->div[0] = fx_divisor_of(rate);
    cfg->div[1] = fx_divisor_of(unit);
    cfg->state_size = sizeof(tb_state);
    return 0;
}

static int64_t tb_refilled(const lim_config *cfg, const tb_state *s, int64_t now_us)
{
    return fx_fill(s->tokens, cfg->v[1], cfg->v[0], now_us - s->last_us);
}

static void tb_decide(const lim_config *cfg, void *state, int is_new,
                      int64_t now_us, int64_t cost, lim_decision *out)
{
    tb_state *s = state;
    int64_t capacity = cfg->v[1], unit = cfg->v[3];
    if (is_new) {
        s->tokens = cfg->v[2];
        s->last_us = now_us;
    }
    /* A refusal leaves the bucket as it was: the refill is linear up to the
     * capacity, so a later request refills from the old (tokens, last) to
     * what it would from the refused one's, and one stamped earlier (client
     * clock skew) gets no tokens from the refused one's time. The Lua twin
     * then writes nothing on a refusal. */
    int64_t tokens = tb_refilled(cfg, s, now_us);
    out->delay_us = 0;
    int64_t need;   /* cost * unit > capacity: never (cost > capacity / unit, without the division) */
    if (__builtin_mul_overflow(cost, unit, &need) || need > capacity) {
        out->allowed = 0;
        out->retry_after_us = LIM_RETRY_NEVER;
    } else if (tokens >= need) {
        tokens -= need;
        s->tokens = tokens;
        /* an earlier stamp than the last one gets no refill and does not move the clock back */
        if (now_us > s->last_us) s->last_us = now_us;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = fx_ceil_div_by(need - tokens, cfg->div[0]);
    }
    out->remaining = fx_div(tokens, cfg->div[1]);
}

static void tb_consume(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost)
{
    tb_state *s = state;
    if (is_new) {
        s->tokens = cfg->v[2];
        s->last_us = now_us;
    }
    s->tokens = tb_refilled(cfg, s, now_us);
    if (now_us > s->last_us) s->last_us = now_us;
    s->tokens -= cost * cfg->v[3];   /* below zero when the fleet took more than there was */
}

static int64_t tb_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    if (!state) return cfg->v[2] / cfg->v[3];
    return tb_refilled(cfg, state, now_us) / cfg->v[3];
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case tb_perf[] = {
    { NULL, "\"rate\":1e7,\"capacity\":1000",
      "\"rate\":10,\"capacity\":20" },
    { NULL, NULL, NULL },
};

static const char *const tb_split[] = { "rate", "capacity", "initial", NULL };

const lim_ops token_bucket_ops = {
    .name = "token_bucket",
    .facts = { LIM_ORACLE_BUCKET, "capacity", NULL, 0, tb_perf, tb_split },
    .summary = "refills at `rate`, holds up to `capacity`; admits while tokens last",
    .level_name = "tokens",
    .params = tb_params,
    .n_params = sizeof tb_params / sizeof tb_params[0],
    .configure = tb_configure,
    .decide = tb_decide,
    .level = tb_level,
    .consume = tb_consume,
};
