/*
 * redis_queue.h -- the reliable queue on real Redis lists: the pattern the
 * memory model (queue_model.h) simulates.
 *
 * Keys, all under one prefix with one hash tag (one slot):
 *   <prefix>ready            list: LPUSH by producers, taken from the right
 *   <prefix>processing:<cid> list: what consumer <cid> has taken (LMOVE)
 *   <prefix>lease:<cid>      hash: message -> server time it was taken
 *   <prefix>consumers        set of cids with a processing list
 *   <prefix>dead             list: dead letters, each with its last error
 *   <prefix>done             hash: id -> successes (more than 1: duplicates)
 *   <prefix>e2e              hash: id -> "e2e_us,done_us" of the first success
 *   <prefix>stats            hash: deliveries, succeeded, retries, dead,
 *                            duplicates, reaped, s:<second> deliveries
 * A message is JSON: {"id":7,"key":"api:0","cost":1,"enqueued_us":1500,
 * "attempts":0}, enqueued_us counted from the run's start (t0_us), so that
 * Lua's cjson (14 significant digits) re-encodes it exactly; a failed or
 * reaped one also carries "last_error". Several steps that must not be
 * split are one Lua script each (sim/lua/queue_*.lua): produce with the
 * max_queue check, take (LMOVE + lease), ack (LREM + success), fail
 * (LREM + requeue or dead letter), reap, levels.
 *
 * Consumers are processes of their own (rq_consumer_spawn), so that a
 * fault test can kill -9 one between LMOVE and LREM: everything they know
 * is in Redis. They reconnect when the server goes away.
 */
#ifndef RATELAB_REDIS_QUEUE_H
#define RATELAB_REDIS_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "queue_model.h"
#include "redis_url.h"
#include "scenario.h"

#define RQ_MAX_SEEDS 32

typedef struct {
    char prefix[200];            /* every key starts with it; ends with ':'; one hash tag: one slot */
    rurl url;
    /* On a Redis Cluster the queue lives on the master of its tag's slot,
     * found from the first seed that answers, and found again after every
     * lost connection or redirect (a failover moves it). */
    int cluster;
    rurl seeds[RQ_MAX_SEEDS];
    int n_seeds;
    int wait_replicas;           /* > 0: WAIT for that many replicas after every write (0: asynchronous) */
    int timeout_ms;              /* connect and command timeout */
    qm_config q;                 /* batch, interval, max_attempts, max_queue, block */
    int64_t visibility_us;
    scn_downstream down;         /* service times of the consumers' downstream calls */
    double failure_prob;
    uint64_t seed;
    int64_t t0_us;               /* the run's start on the realtime clock (µs since the epoch) */
} rq_setup;

/* The queue as one look sees it. */
typedef struct {
    uint64_t queued, processing, dead;
    uint64_t deliveries, succeeded, retries, duplicates, reaped;
} rq_levels;

typedef struct rq rq;

/* A connection for producing, reaping and looking (scripts loaded). NULL
 * with a message when the server cannot be reached. */
rq *rq_open(const rq_setup *s, char *err, size_t errlen);
void rq_close(rq *q);

/* Makes a new connection after the server went away (on a cluster, to
 * the slot's master as the seeds say now); 0 or -1. */
int rq_recover(rq *q);

/* Connection errors seen so far. */
uint64_t rq_errors(const rq *q);

/* Writes whose WAIT saw fewer replicas than wait_replicas (this connection's). */
uint64_t rq_unreplicated(const rq *q);

/* LPUSHes message `id`, stamped with `enqueued_us` (the arrival it was
 * scheduled for, from t0: end to end counts from there). 1 queued, 0
 * refused (max_queue reached), -2 the server answered with an error (OOM
 * at maxmemory...: rq_refusal says which; not sent again), -1 no answer
 * (the caller may send it again: at-least-once). */
int rq_produce(rq *q, uint64_t id, const char *key, uint32_t cost, int64_t enqueued_us);

/* The error reply of the last produce that got one. */
const char *rq_refusal(const rq *q);

/* Messages in the processing list of consumer `index`'s incarnation; -1
 * when the server does not answer. */
long rq_processing_len(rq *q, uint32_t index, uint32_t incarnation);

/* LPUSHes `raw` as it is (tests: what a broken producer writes). 0 or -1. */
int rq_push_raw(rq *q, const char *raw);

/* Returns deliveries older than the visibility timeout (see queue_reap.lua).
 * 0 or -1; *returned and *dead say how many went where. */
int rq_reap(rq *q, uint64_t *returned, uint64_t *dead);

/* One consistent look. 0 or -1. */
int rq_levels_get(rq *q, rq_levels *out);

/* Keys under the prefix (SCAN), or -1. */
long rq_count_keys(rq *q);

/* UNLINKs every key under the prefix. 0 or -1. */
int rq_delete(rq *q);

/* appendonly/appendfsync as the server has them: QUEUE_DURABLE_* or -1. */
int rq_durability_get(rq *q);

/* Sets them (CONFIG SET) and waits for the AOF rewrite that enabling
 * starts. 0, or -1 with a message. */
int rq_durability_set(rq *q, int durability, char *err, size_t errlen);

/* Takes up to n messages as consumer `cid` and acknowledges each at once,
 * with no downstream: the store's own cost per message, for timing the
 * AOF. Returns how many, or -1. */
long rq_take_ack(rq *q, const char *cid, uint32_t n);

/* Forks consumer `index` (its incarnation-th life): every interval from
 * t0 it takes up to `share` messages, calls the downstream model and acks
 * or fails each. It ends after its batch in hand once stop_fd (a pipe's
 * read end) is readable or closed, or at once with its parent. Returns
 * its pid, or -1. */
pid_t rq_consumer_spawn(const rq_setup *s, uint32_t index, uint32_t incarnation, uint32_t share, int stop_fd);

/* Every message id 0..produced-1, accounted for. */
typedef struct {
    uint64_t succeeded, dead_lettered, still_queued, lost, rejected;
    uint64_t duplicates;         /* successes beyond the first, summed */
    uint64_t dead_unreadable;    /* dead letters without an id (malformed) */
    uint64_t first_lost_id;      /* for the message; valid when lost > 0 */
} rq_tally;

/* Reads every list back and accounts for ids 0..produced-1; rejected[id]
 * nonzero marks the ones max_queue refused (NULL: none). e2e (may be NULL)
 * gets each first success's end-to-end time; ticks[] (may be NULL) gets the
 * per-tick e2e percentiles of the successes that ended in it;
 * second_delivered[] (may be NULL) the deliveries per second.
 * 0, or -1 with a message. */
int rq_reconcile(rq *q, uint64_t produced, const uint8_t *rejected, rq_tally *t, hist *e2e, qm_tick *ticks,
                 size_t n_ticks, int64_t tick_us, uint64_t *second_delivered, size_t n_seconds, char *err,
                 size_t errlen);

/* What one key's balance should be: the costs of its messages that
 * succeeded, as the producer knows them. */
typedef struct {
    const char *key;
    uint64_t expected;
} rq_expected;

/* The effect ledger, reconciled (see queue_ack.lua). */
typedef struct {
    uint64_t applied;              /* effects logged: first successes */
    uint64_t suppressed;           /* duplicate deliveries that applied nothing */
    uint64_t compensated;          /* balances that disagreed with their log, set back to it */
    uint64_t wrong;                /* keys whose logged effects are not their succeeded messages' costs */
    uint64_t balance_total, expected_total;
    char first_wrong[160];         /* "key: balance B, expected E" of the first wrong key */
} rq_effects;

/* Sets succeeded[id] to 1 for every id 0..produced-1 with a recorded
 * success (others 0). 0, or -1 when the server does not answer. */
int rq_succeeded_ids(rq *q, uint64_t produced, uint8_t *succeeded);

/* The compensation pass: replays the effect log against the balances
 * (a balance that disagrees is counted and set to its log's sum), then
 * holds each key's logged sum to exp[] (sorted by key with strcmp; keys
 * absent from it expect 0). 0, or -1 with a message. */
int rq_effects_check(rq *q, const rq_expected *exp, size_t n, rq_effects *out, char *err, size_t errlen);

/* Realtime clock, µs since the epoch. */
int64_t rq_now_us(void);

#endif
