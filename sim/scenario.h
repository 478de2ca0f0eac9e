/*
 * scenario.h -- a traffic scenario, loaded from JSON and fully validated.
 *
 * scn_load either returns a scenario in which every value is in range and
 * every limiter configured, or an error that names the file and the place:
 * "file:line:col: ..." for JSON syntax, "file: limiters[2].rate: must be
 * > 0, got -1" for meaning. The format is documented in scenarios/README.md.
 */
#ifndef RATELAB_SCENARIO_H
#define RATELAB_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "../algorithms/limiter.h"
#include "clients.h"
#include "keyspace.h"
#include "trace.h"

#define SCN_NAME_MAX 64
#define SCN_MAX_LIMITERS 64
#define SCN_MAX_WEIGHTED 16
#define SCN_MAX_DURATION_S 604800.0      /* a week of virtual time */
#define SCN_MAX_TICKS 1000000.0
#define SCN_MAX_REQUESTS 1e10            /* guard against a runaway file */
#define SCN_STATE_BUDGET (4ULL << 30)    /* bytes of limiter state per limiter */
#define SCN_MAX_FILE_BYTES (64u << 20)   /* the largest scenario file read */

typedef enum { SCN_POISSON, SCN_UNIFORM } scn_arrival;
typedef enum { SCN_CONSTANT, SCN_RAMP, SCN_BURST, SCN_SPIKE, SCN_SINE, SCN_TRACE } scn_shape;
typedef enum { SCN_COST_FIXED, SCN_COST_UNIFORM, SCN_COST_WEIGHTED } scn_cost_dist;
typedef enum { SCN_KEYS_UNIFORM, SCN_KEYS_ZIPF } scn_key_dist;

typedef struct {
    scn_shape shape;
    double start_s, end_s;
    double rate;                 /* constant */
    double from, to;             /* ramp: linear from `from` to `to` */
    double base, peak;           /* burst, spike */
    double period_s, on_s;       /* burst: `peak` for on_s of every period_s; sine period */
    double hold_s, decay_s;      /* spike: `peak` for hold_s, then e-folding decay to base */
    double mean, amplitude;      /* sine */
    size_t trace;                /* trace: index into scenario.traces */
    double time_scale, skip_s;   /* trace: speed-up; seconds of the trace skipped */
    int64_t scale_num, scale_den;   /* trace: time_scale exactly, as num/den */
} scn_phase;

typedef struct {
    scn_cost_dist dist;
    uint32_t value;              /* fixed */
    uint32_t min, max;           /* uniform, inclusive */
    size_t n;                    /* weighted */
    uint32_t values[SCN_MAX_WEIGHTED];
    double weights[SCN_MAX_WEIGHTED];
} scn_cost;

typedef enum { SCN_SERVICE_FIXED, SCN_SERVICE_EXPONENTIAL, SCN_SERVICE_LOGNORMAL } scn_service_dist;

/* What the limiter protects (optional): see downstream.h. */
typedef struct {
    int present;
    double capacity_rps;             /* what it can take per second: more is overload */
    uint32_t concurrency;            /* requests served at once */
    scn_service_dist dist;
    double mean_ms, p99_ms;          /* service time; p99 only for lognormal */
    double failure_prob;             /* a delivery fails (a queue retries it); limiters ignore it */
    int64_t timeout_us;              /* clients stop waiting for a call after this (0: never; clients.h) */
} scn_downstream;

#define SCN_MAX_TIERS 4

/* How a chain combines its tiers (chain.h). */
typedef enum { SCN_CHAIN_ALL_OR_NOTHING, SCN_CHAIN_IN_ORDER_REFUND, SCN_CHAIN_IN_ORDER_NO_REFUND } scn_chain_policy;

/* A fleet (fleet.h): N gateway nodes sharing one global limiter's limit. */
typedef enum {
    SCN_FLEET_CENTRAL, SCN_FLEET_LOCAL, SCN_FLEET_LOCAL_SYNC, SCN_FLEET_LEASE, SCN_FLEET_CONTROLLER, SCN_FLEET_GOSSIP
} scn_fleet_strategy;
typedef enum { SCN_BALANCE_ROUND_ROBIN, SCN_BALANCE_RANDOM, SCN_BALANCE_KEY_HASH, SCN_BALANCE_WEIGHTED } scn_balance;
#define SCN_MAX_NODES 1024
#define SCN_MAX_CUTS 16

/* What a node decides when it cannot reach what it needs (fleet.h). */
typedef enum { SCN_ON_CUT_LOCAL, SCN_ON_CUT_FAIL_OPEN, SCN_ON_CUT_FAIL_CLOSED } scn_on_cut;

/* A node cut off from the store, the coordinator and the others over [from, to). */
typedef struct {
    uint32_t node;
    int64_t from_us, to_us;
} scn_cut;

typedef struct {
    scn_fleet_strategy strategy;
    scn_balance balance;
    uint32_t nodes;
    double *weights;                 /* weighted: the balancer's weight per node (owned), else NULL */
    uint32_t *split;                 /* local: each node's whole share of the limit (owned); NULL: even */
    uint64_t split_total;
    lim_config *node_cfg;            /* local: each node's limiter (owned) */
    int64_t sync_us;                 /* local_sync: how often a node syncs */
    int64_t interval_us;             /* controller, gossip: how often shares are set */
    int64_t lease_us;                /* lease: how long a grant holds (renewed at half of it) */
    double rate_per_s, burst;        /* the limit shared (the limiter's rate, burst); 0 when it has no rate */
    scn_cut cuts[SCN_MAX_CUTS];
    size_t n_cuts;
    scn_on_cut on_cut;
    int64_t coordinator_stop_us;     /* controller, lease: when it stops (INT64_MAX: never) */
    int64_t stale_us;                /* controller, gossip: a node that heard nothing this long falls back (0: never) */
    scn_service_dist link_dist;      /* one way between a node and the store */
    double link_mean_ms, link_p99_ms;   /* mean 0: no delay */
} scn_fleet;

typedef struct scn_limiter {
    char name[SCN_NAME_MAX];
    const lim_entry *entry;          /* what it is: its name, parameters, kind */
    const lim_ops *ops;              /* a rate limiter's functions and facts; NULL for a queue entry */
    double values[LIM_MAX_PARAMS];   /* in entry->params order (a rate: per second, for display) */
    lim_rate rates[LIM_MAX_PARAMS];  /* a RATE parameter exactly, as given */
    int global;                      /* scope "global": one key for all requests */
    lim_config cfg;
    char sweep[256];                 /* its grid for `ratelab sweep --algo all` (sweep.h), or "" */
    /* a chain (entry kind LIM_KIND_CHAIN): copies of the limiters it chains, in order (owned) */
    struct scn_limiter *tiers;
    size_t n_tiers;
    scn_chain_policy policy;
    /* a fleet (entry kind LIM_KIND_FLEET): the limiter whose limit it shares (a copy) and how (owned) */
    struct scn_limiter *base;
    scn_fleet *fleet;
} scn_limiter;

typedef struct {
    char name[SCN_NAME_MAX];
    char *description;
    char *path;
    uint64_t file_hash;              /* FNV-1a of the file's bytes */
    double duration_s;
    int64_t duration_us;
    uint64_t seed;
    int64_t tick_us;
    scn_arrival arrival;
    scn_phase *phases;
    size_t n_phases;
    scn_key_dist key_dist;
    double zipf_exponent;
    uint32_t key_count;              /* generated keys: ids 0..key_count-1 */
    char key_prefix[SCN_NAME_MAX];
    scn_cost cost;
    uint32_t max_cost;               /* the largest cost a request can have: its distribution's, its traces' */
    kspace *keys;                    /* generated keys, then every trace's keys */
    trace *traces;
    char **trace_paths;
    size_t n_traces;
    scn_limiter *limiters;
    size_t n_limiters;
    uint32_t level_key;              /* the key whose state `level` reports */
    scn_downstream downstream;
    char targets[256];               /* what a sweep must meet (targets.h), or "" */
    cli_config clients;              /* what clients do after a refusal (clients.h); n 0: nothing */
} scn_scenario;

typedef struct {
    const char *const *sets;         /* "limiter.param=value"; limiter by name, else by algorithm */
    size_t n_sets;
    const char *only;                /* comma-separated limiter names or algorithms; NULL keeps all */
} scn_options;

/* Loads and validates `path` with `opt` applied. Returns 0, or -1 with the
 * error in err (nothing allocated then). */
int scn_load(const char *path, const scn_options *opt, scn_scenario *out, char *err, size_t errlen);

void scn_free(scn_scenario *s);

/* "rate=100 capacity=200" for a limiter, "tiers=a+b policy=..." for a
 * chain: what summary.csv and the decision log name as its parameters. */
void scn_params(const scn_limiter *l, char *buf, size_t len);

/* Number of ticks (the last may be partial). */
size_t scn_tick_count(const scn_scenario *s);

#endif
