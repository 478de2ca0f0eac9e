/*
 * limiter.h -- the interface every rate-limiting algorithm implements, and
 * the registry that names them.
 *
 * An algorithm is a set of pure functions of (config, per-key state, time,
 * cost): no clock, no I/O, no allocation, no globals. The caller owns the
 * state (see keystore.h) and supplies virtual or wall time in microseconds.
 *
 * Numbers: every quantity an algorithm keeps is an int64 that stays below
 * 2^53, so the Redis Lua twin (doubles) can take exactly the same integer
 * steps. User parameters (doubles) are turned into integers once, by
 * configure(); the integers in lim_config.v are what the Lua script gets as
 * ARGV. Shared scales:
 *   - a rate is kept as rate_m = round(rate * 1000): milli-requests per
 *     second, which is also nano-requests per microsecond. Resolution
 *     0.001/s; range LIM_RATE_MIN..LIM_RATE_MAX.
 *   - token-like amounts are kept in nano-requests (LIM_UNIT per request).
 *   - counts (capacity, burst, limit, cost) are at most LIM_COUNT_MAX, so
 *     that two of them in nano-requests still sum below 2^53.
 */
#ifndef RATELAB_LIMITER_H
#define RATELAB_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#define LIM_UNIT       1000000000LL       /* nano-requests per request */
#define LIM_SAFE_MAX   (1LL << 53)        /* exact integer range of a double */
#define LIM_COUNT_MAX  4000000.0          /* capacity, burst, limit, cost */
#define LIM_RATE_MIN   0.001              /* requests per second */
#define LIM_RATE_MAX   1e9
#define LIM_RETRY_NEVER (-1)              /* retry_after_us: cost can never pass */

#define LIM_MAX_PARAMS 10
#define LIM_MAX_CONFIG 8

typedef enum { LIM_PARAM_NUMBER, LIM_PARAM_INTEGER, LIM_PARAM_CHOICE } lim_param_kind;

/* One parameter of an algorithm, as a scenario names it. */
typedef struct {
    const char *name;
    lim_param_kind kind;
    int required;
    double default_value;        /* used when absent and not required; NAN: configure() derives it */
    double min, max;             /* inclusive bounds for NUMBER and INTEGER */
    const char *const *choices;  /* CHOICE: NULL-terminated; the value is the index */
    const char *doc;
} lim_param_spec;

struct lim_ops;

/* A configured limiter: the integer form of its parameters. */
typedef struct {
    const struct lim_ops *ops;
    int64_t v[LIM_MAX_CONFIG];   /* algorithm-specific; also the Lua ARGV */
    size_t state_size;           /* bytes of per-key state */
} lim_config;

/* What a limiter answers for one request. */
typedef struct {
    int allowed;                 /* 1 admitted, 0 rejected */
    int64_t remaining;           /* whole cost-1 requests still admissible now */
    int64_t retry_after_us;      /* rejected: wait before this cost could pass; LIM_RETRY_NEVER; 0 if allowed */
    int64_t delay_us;            /* admitted: wait before release (shapers); 0 for policers */
} lim_decision;

/* A rate limiter decides each request when it arrives; a queue accepts
 * it and delivers it later (sim/queue_run.h runs it, not decide()). */
typedef enum { LIM_KIND_LIMITER = 0, LIM_KIND_QUEUE } lim_kind;

typedef struct lim_ops {
    const char *name;
    lim_kind kind;               /* LIM_KIND_QUEUE: decide and level are NULL */
    const char *summary;
    const char *level_name;      /* what level() measures, one word (for plots) */
    const lim_param_spec *params;
    size_t n_params;

    /* Turns parameter values (in params[] order, already range-checked) into
     * cfg->v and cfg->state_size. Returns 0, or -1 with a message naming the
     * parameter for checks that involve several parameters. */
    int (*configure)(const double *values, lim_config *cfg, char *err, size_t errlen);

    /* Decides one request of `cost` at `now_us` and updates `state` (which the
     * caller zeroed when is_new). Never fails. */
    void (*decide)(const lim_config *cfg, void *state, int is_new,
                   int64_t now_us, int64_t cost, lim_decision *out);

    /* The state's level at now_us without changing it (tokens, queue length,
     * window count...), in whole requests; state NULL means a key never seen. */
    int64_t (*level)(const lim_config *cfg, const void *state, int64_t now_us);
} lim_ops;

/* The registered algorithms, NULL-terminated, in a fixed order. */
extern const lim_ops *const lim_registry[];

/* The algorithm called `name`, or NULL. */
const lim_ops *lim_find(const char *name);

/* Index of parameter `name` in ops->params, or -1. */
int lim_param_index(const lim_ops *ops, const char *name);

/* Fills values[] with each parameter's default (NAN where configure derives it). */
void lim_default_values(const lim_ops *ops, double *values);

/* 0 when v is finite, within [min, max] and (if integer) whole; else -1
 * with the reason in msg ("must be > 0, got -1"): the wording every reader
 * of parameters shares. */
int lim_range_check(double v, double min, double max, int integer, char *msg, size_t len);

/* Checks every value against its parameter's schema (required, range,
 * choice), then configures cfg. 0, or -1 with "name: reason" in msg. */
int lim_configure_checked(const lim_ops *ops, const double *values, lim_config *cfg, char *msg, size_t len);

#endif
