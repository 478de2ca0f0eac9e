/*
 * result.h -- what one pass of one entry on one backend produced: built by
 * the recorder (pass.h) alone, read by output, the report and the checks.
 */
#ifndef RATELAB_RESULT_H
#define RATELAB_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "downstream.h"
#include "fleet.h"
#include "metrics.h"
#include "oracle.h"
#include "queue_model.h"
#include "scenario.h"

/* A Redis Cluster's part of a pass: each node routed to, and what
 * routing met (redis_cluster.h). Latency is per command, from the
 * batch's send to its reply, on the node that answered. */
#define RUN_MAX_SHARDS 16

typedef struct {
    char addr[80];               /* host:port */
    int master;                  /* a master at the end of the pass */
    unsigned slots;              /* the slots it owned then */
    uint64_t keys;               /* the pass's keys it held at the end */
    uint64_t calls;              /* commands it answered */
    int64_t latency_p50_ns, latency_p99_ns;
} run_shard;

/* A fault made on the cluster during the pass (cluster_faults.h). */
#define RUN_MAX_CLUSTER_FAULTS 16

typedef struct {
    int is_reshard;                  /* else a kill-master */
    int64_t planned_us, landed_us;   /* scenario times */
    char victim[80];                 /* kill: the master killed; reshard: "from -> to" */
    unsigned slots_moved;
    uint64_t keys_moved;
    double took_s;                   /* kill: until the replica served the hot slot; reshard: its wall time */
    char error[160];                 /* "" when it went as planned */
} run_cluster_fault;

typedef struct {
    int n;                       /* nodes; 0: not a cluster */
    run_shard shard[RUN_MAX_SHARDS];
    run_cluster_fault fault[RUN_MAX_CLUSTER_FAULTS];
    size_t n_faults;
    uint64_t moved, ask, tryagain, clusterdown, refreshes;
    uint64_t windows;            /* spans in which calls went unanswered (a failover) */
    int64_t window_longest_ns, window_total_ns;
} run_cluster_report;

/* One fault of a chaos run, as it landed (redis_queue_run.h). */
typedef struct {
    int is_restart;              /* a server restart; else a consumer kill */
    uint32_t consumer;           /* a kill's victim */
    int64_t planned_us, at_us;   /* when it was meant and when it landed, from the start */
    long processing, held;       /* in processing at that instant, and held by the victim (-1: unknown) */
    uint64_t reaped_after;       /* deliveries the reaper returned within visibility + 2 reaper periods */
} run_queue_fault;

/* What a queue entry adds to its result. */
typedef struct {
    qm_report report;            /* counts, e2e, peaks, lost (queue_model.h) */
    qm_tick *series;             /* per tick, series.n_ticks entries (owned) */
    const char *durability;      /* "n/a" in memory; on Redis none, everysec or always */
    double msgs_per_s_durable;   /* Redis: produce+take+ack per second with that durability, */
    double msgs_per_s_volatile;  /* and without AOF, measured side by side (0: not measured) */
    uint64_t consumer_kills, server_restarts, reaped;   /* faults survived (chaos), deliveries reaped */
    uint64_t consumer_crashes;   /* consumers that died unasked, and were started again */
    uint64_t failovers;          /* a cluster: the queue's master killed and its replica taking over */
    double failover_s_max;       /* the longest from a kill to the new master */
    uint64_t unreplicated_writes;   /* WAIT saw fewer replicas than asked (the producer's connection) */
    run_queue_fault *faults;     /* Redis: each fault as it landed (owned), n_faults of them */
    uint32_t n_faults;
    int64_t lag_p99_us, lag_max_us;   /* Redis: how far the producer fell behind the schedule */
    int64_t load_end_us;         /* Redis: when the last message was produced, from the start */
    uint64_t server_refused;     /* Redis: messages the server answered with an error (OOM...) */
    int has_effects;             /* Redis: the effect ledger was reconciled: */
    uint64_t effects_applied, effects_suppressed;   /* first successes applied; duplicates that applied nothing */
    uint64_t effects_compensated, effects_wrong;    /* balances set back to their log; keys off the producer's sums */
    char effects_first_wrong[160];
} run_queue_result;

/* What the clients of a pass did (clients.h). Without a clients section
 * every arrival is an intent that ends at its first attempt. */
typedef struct {
    uint64_t intents;            /* first attempts */
    uint64_t succeeded;          /* intents admitted at some attempt */
    uint64_t abandoned;          /* gave up: max_attempts, after_s, or never admissible */
    uint64_t budget_refused;     /* intents ended by a retry their budget refused */
    uint64_t unfinished;         /* their next retry would have come after the run's end */
    uint64_t failed;             /* admitted, failed by the downstream, and not retried */
    uint64_t failed_attempts;    /* admitted attempts the downstream failed (retried or not) */
    uint64_t timed_out_attempts; /* admitted attempts their clients stopped waiting for (retry_on timeout) */
    uint64_t success_attempts;   /* attempts the successful intents took, summed */
    int64_t tts_p50_us, tts_p99_us, tts_max_us;   /* time to success: first attempt -> admitted */
    int64_t peak_second_s;       /* the busiest second of intents in the last phase */
    double recovery_s;           /* from it until attempts/s stays within the limiter's rate and the
                                  * downstream is no longer overloaded; -1: never within the run */
    uint64_t peak_pending;       /* most retries waiting at once */
    double duration_s;           /* the scenario's: goodput is succeeded / duration_s */
    int64_t tts_percentile[101]; /* time to success at 0%, 1%, ... 100% of the successes */
} run_client_stats;

typedef struct run_result {
    const scn_limiter *limiter;
    const char *backend;
    met_series series;
    met_summary summary;
    orc_report oracle;           /* the independent check of every decision */
    int has_downstream;          /* the scenario describes a downstream: */
    dsm_report downstream;       /* what the service saw (downstream.h) */
    uint64_t overload_s;         /* whole seconds released above its capacity_rps */
    char note[700];              /* what the backend said of the pass (to print), or "" */
    uint64_t tier_refused[SCN_MAX_TIERS];   /* a chain: refusals per tier */
    int has_clients;             /* a rate limiter's pass: clients is filled */
    run_client_stats clients;
    run_queue_result *queue;     /* a queue entry's own part (owned), else NULL */
    /* A fleet: what its nodes and store did (arrays owned), and its
     * admissions that broke its limiter's promise. A fleet promises only
     * that nothing is lost (oracle.violations); over-admission against
     * the global bound (oracle.over_admitted) and under-admission against
     * the exact central limiter (oracle.wrongly_blocked) are what it
     * measures. */
    flt_report fleet;            /* nodes 0: not a fleet */
    uint64_t bound_breaches;
    run_cluster_report cluster;  /* on a Redis Cluster: per node */
} run_result;

/* Frees what a result owns (its series, a queue's part). */
void run_result_free(run_result *r);

#endif
