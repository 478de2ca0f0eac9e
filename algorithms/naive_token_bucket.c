/*
 * naive_token_bucket -- the token bucket as the Redis texts this project grew
 * from write it in Java and Python: the client reads the tokens and the last
 * refill time, computes with whole-second timestamps, and writes them back.
 *
 * The decision itself is kept here, pure; it has deliberately no Lua twin,
 * so the Redis backend runs it the naive way: GET, decide in the client,
 * SET, in separate round trips. Alone it is only coarse (refill in
 * one-second steps); under concurrency two clients read the same tokens
 * and both spend them. ratelab measures by how much it over-admits.
 * v[0] = rate (whole tokens per second), v[1] = capacity, v[2] = initial.
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

typedef struct {
    int64_t tokens;     /* whole tokens */
    int64_t last_s;     /* whole seconds */
} ntb_state;

static const lim_param_spec ntb_params[] = {
    { "rate", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "tokens added per whole second" },
    { "capacity", LIM_PARAM_INTEGER, 1, 0, 1, LIM_COUNT_MAX, NULL, "bucket size in tokens" },
    { "initial", LIM_PARAM_INTEGER, 0, NAN, 0, LIM_COUNT_MAX, NULL, "tokens in a new key's bucket (default: capacity)" },
};

static int ntb_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    double initial = isnan(values[2]) ? values[1] : values[2];
    if (initial > values[1]) {
        snprintf(err, errlen, "initial: must be <= capacity (%.0f), got %.0f", values[1], initial);
        return -1;
    }
    cfg->v[0] = (int64_t)values[0];
    cfg->v[1] = (int64_t)values[1];
    cfg->v[2] = (int64_t)initial;
    cfg->state_size = sizeof(ntb_state);
    return 0;
}

static int64_t ntb_refilled(const lim_config *cfg, const ntb_state *s, int64_t now_s)
{
    int64_t dt = now_s - s->last_s;
    if (dt <= 0) return s->tokens;
    if (dt >= cfg->v[1]) return cfg->v[1];  /* rate >= 1: full after `capacity` seconds at most */
    int64_t t = s->tokens + dt * cfg->v[0];
    return t < cfg->v[1] ? t : cfg->v[1];
}

static void ntb_decide(const lim_config *cfg, void *state, int is_new,
                       int64_t now_us, int64_t cost, lim_decision *out)
{
    ntb_state *s = state;
    int64_t now_s = fx_floor_div(now_us, 1000000);
    if (is_new) {
        s->tokens = cfg->v[2];
        s->last_s = now_s;
    }
    s->tokens = ntb_refilled(cfg, s, now_s);
    if (now_s > s->last_s) s->last_s = now_s;
    out->delay_us = 0;
    if (s->tokens >= cost) {
        s->tokens -= cost;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = cost > cfg->v[1] ? LIM_RETRY_NEVER
                                               : (now_s + fx_ceil_div(cost - s->tokens, cfg->v[0])) * 1000000 - now_us;
    }
    out->remaining = s->tokens;
}

static int64_t ntb_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    if (!state) return cfg->v[2];
    return ntb_refilled(cfg, state, fx_floor_div(now_us, 1000000));
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case ntb_perf[] = {
    { NULL, "\"rate\":1000000,\"capacity\":1000",
      "\"rate\":10,\"capacity\":20" },
    { NULL, NULL, NULL },
};

static const char *const ntb_split[] = { "rate", "capacity", "initial", NULL };

const lim_ops naive_token_bucket_ops = {
    .name = "naive_token_bucket",
    .facts = { LIM_ORACLE_BUCKET, "capacity", NULL, 1, ntb_perf, ntb_split },
    .summary = "the client-side GET/compute/SET bucket with whole-second timestamps (a baseline, no Lua twin)",
    .level_name = "tokens",
    .params = ntb_params,
    .n_params = sizeof ntb_params / sizeof ntb_params[0],
    .configure = ntb_configure,
    .decide = ntb_decide,
    .level = ntb_level,
};
