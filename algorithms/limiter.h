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
 * steps. User parameters are turned into integers once, by configure();
 * the integers in lim_config.v are what the Lua script gets as ARGV.
 *   - a rate is what the user stated, a count per period (lim_rate: "20/min"
 *     is 20 per 60,000,000 us; a plain number is requests per second with
 *     at most 9 decimals), never rounded. With g = gcd(count, per_us), one
 *     request is per_us/g units and count/g units accrue per microsecond
 *     (fixedpoint.h fx_rate_units), so every refill is exact.
 *   - token-like amounts are kept in those units; configure() refuses a
 *     rate whose unit times the largest count (capacity, burst) would reach
 *     2^52, so that two such amounts still sum below 2^53.
 *   - counts (capacity, burst, limit, cost) are at most LIM_COUNT_MAX.
 */
#ifndef RATELAB_LIMITER_H
#define RATELAB_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#define LIM_UNIT       1000000000LL       /* nano-requests per request */
#define LIM_SAFE_MAX   (1LL << 53)        /* exact integer range of a double */
#define LIM_COUNT_MAX  4000000.0          /* capacity, burst, limit, cost */
#define LIM_RATE_MIN   1e-6               /* requests per second: about 1 per 11.6 days */
#define LIM_RATE_MAX   1e9
#define LIM_RETRY_NEVER (-1)              /* retry_after_us: cost can never pass */

#define LIM_MAX_PARAMS 10
#define LIM_MAX_CONFIG 8

/* RATE: a number of requests per second, or a count per period as text
 * ("20/min"); min and max bound it in requests per second. */
typedef enum { LIM_PARAM_NUMBER, LIM_PARAM_INTEGER, LIM_PARAM_CHOICE, LIM_PARAM_RATE } lim_param_kind;

/* A rate, exactly: `count` requests every `per_us` microseconds (both >= 1,
 * as given, not reduced). `plain`: given as a number per second, and
 * printed as that number; else printed as count/period. */
typedef struct {
    int64_t count, per_us;
    int plain;
} lim_rate;

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

/* A divisor fixed at configuration, as a multiplier and a shift
 * (fixedpoint.h fx_divisor_of, fx_div): a decision divides by it with one
 * multiplication, where a 64-bit division costs it several times more. */
typedef struct {
    uint64_t magic;
    uint32_t shift;
    int64_t d;
} lim_divisor;

/* A configured limiter: the integer form of its parameters. */
typedef struct {
    const struct lim_ops *ops;   /* the rate limiter that decides with it; NULL for a queue */
    int64_t v[LIM_MAX_CONFIG];   /* algorithm-specific; also the Lua ARGV */
    lim_divisor div[2];          /* algorithm-specific divisors among v[] (host side only, not ARGV) */
    size_t state_size;           /* bytes of per-key state */
    /* Set by the caller before configure: the largest cost a request will
     * have (the scenario's costs), so that exact amounts are sized by what
     * can happen, not by LIM_COUNT_MAX (0: LIM_COUNT_MAX). No request may
     * cost more. */
    int64_t max_cost;
} lim_config;

/* What a limiter answers for one request. */
typedef struct {
    int allowed;                 /* 1 admitted, 0 rejected */
    int64_t remaining;           /* whole cost-1 requests still admissible now */
    int64_t retry_after_us;      /* rejected: wait before this cost could pass; LIM_RETRY_NEVER; 0 if allowed */
    int64_t delay_us;            /* admitted: wait before release (shapers); 0 for policers */
} lim_decision;

/* A rate limiter decides each request when it arrives; a queue accepts
 * it and delivers it later (sim/queue_run.h drives it); a chain passes a
 * request only if each of its limiters admits it (sim/chain.h); a fleet
 * is many gateway nodes sharing one limiter's limit (sim/fleet.h). */
typedef enum { LIM_KIND_LIMITER = 0, LIM_KIND_QUEUE, LIM_KIND_CHAIN, LIM_KIND_FLEET } lim_kind;

/* Which promise the oracle (sim/oracle.h) holds an algorithm to. */
typedef enum {
    LIM_ORACLE_NONE = 0,         /* not given: the registry test fails, the oracle refuses */
    LIM_ORACLE_BUCKET,           /* sum(cost i..j) <= burst + rate*(t_j - t_i); burst_param names burst */
    LIM_ORACLE_LEAKY,            /* meter: the bucket's bound with the first of a pair free; queue: departures */
    LIM_ORACLE_WINDOW_LOG,       /* admitted cost in every (t - W, t] <= limit */
    LIM_ORACLE_WINDOW_FIXED,     /* admitted cost in every aligned window <= limit */
    LIM_ORACLE_WINDOW_ESTIMATE,  /* no exact bound: measured against the exact log only */
} lim_oracle_family;

/* A configuration `ratelab perf` measures: JSON members of the limiter
 * (without "algorithm") for one key taking all the traffic, and per key
 * for many Zipf keys; `variant` tells two cases of one algorithm apart. */
typedef struct {
    const char *variant;         /* NULL, or e.g. "meter" */
    const char *one_key, *many_keys;
} lim_perf_case;

/* What the rest of ratelab needs to know of an algorithm besides its
 * functions: kept here, so that no module recognises algorithms by name. */
typedef struct {
    lim_oracle_family family;
    const char *burst_param;     /* BUCKET: the parameter that is the burst ("capacity", "burst") */
    const char *approximates;    /* an approximation: the exact algorithm it is measured against; NULL if exact */
    int client_side;             /* no Lua twin, on purpose: Redis runs it read-decide-write */
    const lim_perf_case *perf;   /* what `ratelab perf` measures, ended by a case with one_key NULL */
    const char *const *split;    /* the parameters a fleet's nodes share out (a rate, a size), NULL-ended */
} lim_facts;

/* What every entry of a scenario's "limiters" has, a rate limiter or the
 * queue: its name, its JSON parameters and how they become integers. A
 * rate limiter (lim_ops) adds what decides requests one by one; the queue
 * (queue.h) is only this, and sim/queue_run.h drives it.
 *   configure: turns parameter values (in params[] order, already
 *   range-checked) into cfg->v and cfg->state_size; rates[i] is the exact
 *   form of a RATE parameter i (values[i] is the same rate per second, for
 *   display). Returns 0, or -1 with a message naming the parameter first. */
#define LIM_ENTRY_MEMBERS                                                                                    \
    const char *name;                                                                                        \
    lim_kind kind;                                                                                           \
    const char *summary;                                                                                     \
    const char *level_name;      /* what the level series measures, one word (for plots) */                 \
    const lim_param_spec *params;                                                                            \
    size_t n_params;                                                                                         \
    int (*configure)(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen);

typedef struct lim_entry {
    LIM_ENTRY_MEMBERS
} lim_entry;

/* A rate limiter: an entry (its members reachable directly, ops->name, or
 * as one, &ops->entry), its facts and its decision functions. */
typedef struct lim_ops {
    union {
        lim_entry entry;         /* first: a lim_entry of kind LIM_KIND_LIMITER is its lim_ops */
        struct { LIM_ENTRY_MEMBERS };
    };
    lim_facts facts;

    /* Decides one request of `cost` at `now_us` and updates `state` (which the
     * caller zeroed when is_new). Never fails. */
    void (*decide)(const lim_config *cfg, void *state, int is_new,
                   int64_t now_us, int64_t cost, lim_decision *out);

    /* The state's level at now_us without changing it (tokens, window
     * count...), in whole requests; state NULL means a key never seen. */
    int64_t (*level)(const lim_config *cfg, const void *state, int64_t now_us);

    /* Optional (NULL: a fleet cannot sync it): charges `cost` admitted
     * elsewhere at now_us, whatever the state holds (tokens may go below
     * zero, a count above the limit), as a store takes a synced delta. */
    void (*consume)(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost);
} lim_ops;

/* The rate limiters, NULL-terminated, in a fixed order. */
extern const lim_ops *const lim_registry[];

/* Everything a scenario entry may name (the rate limiters, then the
 * queue), NULL-terminated. */
extern const lim_entry *const lim_entries[];

/* The rate limiter called `name`, or NULL (also for the queue). */
const lim_ops *lim_find(const char *name);

/* The entry called `name`, rate limiter or queue, or NULL. */
const lim_entry *lim_find_entry(const char *name);

/* The rate limiter entry e is, or NULL when e is a queue. */
static inline const lim_ops *lim_entry_limiter(const lim_entry *e)
{
    return e && e->kind == LIM_KIND_LIMITER ? (const lim_ops *)(const void *)e : NULL;
}

/* Index of parameter `name` in e->params, or -1. */
int lim_param_index(const lim_entry *e, const char *name);

/* Fills values[] with each parameter's default (NAN where configure derives it). */
void lim_default_values(const lim_entry *e, double *values);

/* 0 when v is finite, within [min, max] and (if integer) whole; else -1
 * with the reason in msg ("must be > 0, got -1"): the wording every reader
 * of parameters shares. */
int lim_range_check(double v, double min, double max, int integer, char *msg, size_t len);

/* Checks every value against its parameter's schema (required, range,
 * choice), then configures cfg. 0, or -1 with "name: reason" in msg. */
int lim_configure_checked(const lim_entry *e, const double *values, const lim_rate *rates, lim_config *cfg,
                          char *msg, size_t len);

/* A rate as text: "20/min", "1/3s", "100/1500ms", "5/s" (a count, then a
 * period with a unit: us, ms, s, min, h, d; the count defaults to 1 and
 * must be whole, the period must come to whole microseconds), or a plain
 * number of requests per second. 0, or -1 with the reason in why. */
int lim_rate_parse(const char *text, lim_rate *r, char *why, size_t len);

/* v as the exact fraction *num / *den with den = 10^k, k <= max_decimals
 * the fewest decimals that read back as this very double (0.1 is 1/10).
 * 0, or -1 when v is not positive and finite or needs more decimals. */
int lim_exact_decimal(double v, int max_decimals, int64_t *num, int64_t *den);

/* A plain number of requests per second as an exact rate: it must have at
 * most 9 decimals (0.1, 2.5, 1e-3); else -1, and why names the nearest
 * value that is kept exactly and the count-per-period way to write it. */
int lim_rate_from_number(double per_s, lim_rate *r, char *why, size_t len);

/* The rate in requests per second (for display and ranges). */
double lim_rate_per_s(const lim_rate *r);

/* The rate as it is used and was given: "0.5" (plain) or "20/min". */
void lim_rate_format(const lim_rate *r, char *buf, size_t len);

/* "rate=100 capacity=200": an entry's parameters (values, rates: in
 * e->params order) as given or defaulted, derived ones left out; what the
 * decision log's header and summary.csv's params column hold, in the
 * syntax --params, SET and the sweep's CSVs use. */
void lim_format_params(const lim_entry *e, const double *values, const lim_rate *rates, char *buf, size_t len);

/* Parses the text of one value of parameter p (a choice by name, a rate as
 * lim_rate_parse reads it, or a number) into *value (and *rate for a
 * RATE). 0, or -1 with the reason in why. Ranges are not checked here. */
int lim_param_parse(const lim_param_spec *p, const char *text, double *value, lim_rate *rate, char *why, size_t len);

#endif
