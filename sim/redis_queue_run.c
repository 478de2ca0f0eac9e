/* redis_queue_run.c -- see redis_queue_run.h. */
#define _GNU_SOURCE
#include "redis_queue_run.h"

#include "redis_cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../algorithms/queue.h"
#include "clock.h"
#include "queue_run.h"
#include "pass.h"
#include "redis_queue.h"
#include "rng.h"

#define RQR_MAX_CONSUMERS 64
#define RQR_OUTAGE_LIMIT_US 30000000      /* a server away longer ends the run */
#define RQR_START_DELAY_US 300000         /* consumers get ready before t0 */
#define RQR_FAULT_POLL_US 5000            /* a fault waiting for a busy consumer looks this often */
#define RQR_PROBE_MESSAGES 1000
#define RQR_PROBE_ROUNDS 3
#define RQR_PROBE_BUDGET_US 500000

const char *rqr_server_args(int durability)
{
    if (durability == QUEUE_DURABLE_ALWAYS) return "--appendonly yes --appendfsync always";
    if (durability == QUEUE_DURABLE_EVERYSEC) return "--appendonly yes --appendfsync everysec";
    return "";
}

/* Sleeps until the wall clock reads t_us (the queue's processes share it). */
static void rqr_sleep_until(int64_t t_us) { clk_sleep_ns((t_us - rq_now_us()) * 1000); }

/* One fault as it happened: when it was meant and when it landed, what was
 * in processing at that instant, and what the reaper returned after it. */
typedef struct {
    int is_restart;
    uint32_t consumer;                     /* a kill's victim */
    int64_t planned_us, at_us;             /* from t0 */
    long processing, held;                 /* in processing in all, and by the victim; -1: unknown */
    uint64_t reaped_at;                    /* the reaper's count at the fault */
    uint64_t reaped_after;                 /* what it returned within the window after it */
    int open;                              /* the window (visibility + 2 reaper periods) still runs */
} rqr_fault;

typedef struct {
    const rqr_options *o;
    const scn_scenario *s;
    const scn_limiter *l;
    rq_setup setup;
    rq *q;
    int stop[2];
    uint32_t n_consumers;
    pid_t pid[RQR_MAX_CONSUMERS];
    uint32_t incarnation[RQR_MAX_CONSUMERS], share[RQR_MAX_CONSUMERS];
    rng rng_faults;
    int64_t *kill_at, *restart_at;         /* µs after t0, sorted */
    uint32_t kills_done, restarts_done, crashes;
    int64_t next_reap_us, reap_period_us;
    qm_tick *ticks;
    size_t n_ticks, tick;
    rq_levels last;
    uint64_t max_queue_len, max_processing, reaped;
    int64_t down_since_us;                 /* 0: the server answers */
    int64_t fault_poll_us;                 /* a fault waiting for messages in processing looks again then */
    rqr_fault *faults;                     /* kills and restarts, in the order they landed */
    uint32_t n_faults;
    rsrv *killed_master;                   /* a cluster: killed, started again once failed over */
    int rejoining;                         /* started again, not yet a replica in sync: no kill until then */
    int64_t killed_at_us, killed_look_us;   /* when killed; when to look for its replica again */
    uint64_t failovers;
    double failover_s_max;                 /* the longest kill-to-new-master */
} rqr;

/* The reaper's count so far, as the server keeps it (-1: no answer). */
static int64_t rqr_reaped_now(rqr *r)
{
    rq_levels v;
    return rq_levels_get(r->q, &v) == 0 ? (int64_t)v.reaped : -1;
}

/* Records a fault about to happen at `planned`, with what is in processing. */
static rqr_fault *rqr_fault_begin(rqr *r, int is_restart, uint32_t consumer, int64_t planned)
{
    rqr_fault *f = &r->faults[r->n_faults++];
    rq_levels v;
    int ok = rq_levels_get(r->q, &v) == 0;
    *f = (rqr_fault){ is_restart, consumer, planned, rq_now_us() - r->setup.t0_us, ok ? (long)v.processing : -1,
                      is_restart ? (ok ? (long)v.processing : -1)
                                 : rq_processing_len(r->q, consumer, r->incarnation[consumer]),
                      ok ? v.reaped : 0, 0, 1 };
    return f;
}

/* Closes the windows of faults whose reaper window has passed. */
static void rqr_fault_windows(rqr *r, int all)
{
    int64_t window = r->setup.visibility_us + 2 * r->reap_period_us, rel = rq_now_us() - r->setup.t0_us;
    for (uint32_t i = 0; i < r->n_faults; i++) {
        rqr_fault *f = &r->faults[i];
        if (!f->open || (!all && rel < f->at_us + window)) continue;
        int64_t now = rqr_reaped_now(r);
        /* a restart without persistence starts the count again */
        if (now >= 0) f->reaped_after = (uint64_t)now >= f->reaped_at ? (uint64_t)now - f->reaped_at : (uint64_t)now;
        f->open = 0;
    }
}

/* One line per fault, stamped with the run's time. */
__attribute__((format(printf, 2, 3))) static void rqr_event(rqr *r, const char *fmt, ...)
{
    if (!r->o->events) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->o->events, "chaos %+8.3f s: ", (double)(rq_now_us() - r->setup.t0_us) / 1e6);
    vfprintf(r->o->events, fmt, ap);
    fputc('\n', r->o->events);
    fflush(r->o->events);
    va_end(ap);
}

/* Kill time i of n, uniform over the middle 80% of the scenario. */
static int64_t *rqr_schedule(rng *g, uint32_t n, int64_t duration_us)
{
    int64_t *at = malloc((n ? n : 1) * sizeof *at);
    if (!at) return NULL;
    for (uint32_t i = 0; i < n; i++) at[i] = duration_us / 10 + (int64_t)(rng_uniform(g) * 0.8 * (double)duration_us);
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && at[j] < at[j - 1]; j--) {
            int64_t t = at[j];
            at[j] = at[j - 1];
            at[j - 1] = t;
        }
    return at;
}

/* The server answered or not: an outage longer than the limit ends the run. */
static int rqr_answered(rqr *r, int ok, char *err, size_t errlen)
{
    if (ok) {
        r->down_since_us = 0;
        return 0;
    }
    int64_t now = rq_now_us();
    if (!r->down_since_us) r->down_since_us = now;
    if (now - r->down_since_us > RQR_OUTAGE_LIMIT_US) {
        snprintf(err, errlen, "%s: Redis has not answered for %d s", r->l->name, RQR_OUTAGE_LIMIT_US / 1000000);
        return -1;
    }
    rqr_sleep_until(now + 20000);
    rq_recover(r->q);
    return 0;
}

/* A killed master of the private cluster: once another master serves the
 * queue's slot, the killed server is started again (it rejoins as a
 * replica of the one that took over). 0, or -1 when it cannot be. */
static int rqr_cluster_restart(rqr *r, char *err, size_t errlen)
{
    rurl owner;
    char why[256];
    size_t tag = strcspn(r->setup.prefix, "{");
    int64_t now = rq_now_us();
    if (now < r->killed_look_us) return 0;
    r->killed_look_us = now + 50000;
    int moved = rclu_locate(r->setup.seeds, (size_t)r->setup.n_seeds, r->setup.timeout_ms, r->setup.prefix + tag,
                            strlen(r->setup.prefix + tag), &owner, why, sizeof why) == 0 &&
                owner.port != r->killed_master->port;
    if (!moved && now - r->killed_at_us < RQR_OUTAGE_LIMIT_US) return 0;
    if (!moved) {
        snprintf(err, errlen, "%s: no replica took over the queue's slot within %d s", r->l->name,
                 RQR_OUTAGE_LIMIT_US / 1000000);
        return -1;
    }
    double took = (double)(now - r->killed_at_us) / 1e6;
    if (took > r->failover_s_max) r->failover_s_max = took;
    r->failovers++;
    rqr_event(r, "the replica 127.0.0.1:%d took over the queue's slot %.3f s after the kill; 127.0.0.1:%d started "
              "again", owner.port, took, r->killed_master->port);
    if (rsrv_restart(r->killed_master, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: starting the killed master again failed: %s", r->l->name, why);
        return -1;
    }
    r->killed_master = NULL;
    r->rejoining = 1;
    rq_recover(r->q);
    return 0;
}

static void rqr_respawn(rqr *r, uint32_t k)
{
    r->incarnation[k]++;
    r->pid[k] = rq_consumer_spawn(&r->setup, k, r->incarnation[k], r->share[k], r->stop[0]);
}

/* Faults due, the reaper, the ticks that ended, consumers that died. */
static int rqr_housekeep(rqr *r, char *err, size_t errlen)
{
    if (r->o->stop && r->o->stop(r->o->stop_ctx)) {
        snprintf(err, errlen, "%s: interrupted", r->l ? r->l->name : "queue");
        return -1;
    }
    int64_t rel = rq_now_us() - r->setup.t0_us;
    while (r->kills_done < r->o->consumer_kills && r->kill_at[r->kills_done] <= rel) {
        /* A kill is meant to strike a consumer holding messages: the victim
         * is drawn among those that hold some, and when none does, the kill
         * waits for one, for at most a consumer interval. */
        uint32_t holders[RQR_MAX_CONSUMERS], n_holders = 0;
        for (uint32_t c = 0; c < r->n_consumers; c++)
            if (r->pid[c] > 0 && rq_processing_len(r->q, c, r->incarnation[c]) > 0) holders[n_holders++] = c;
        if (n_holders == 0 && rel < r->kill_at[r->kills_done] + r->setup.q.interval_us) {
            r->fault_poll_us = rq_now_us() + RQR_FAULT_POLL_US;
            break;
        }
        uint32_t k = n_holders ? holders[rng_below(&r->rng_faults, n_holders)]
                               : (uint32_t)rng_below(&r->rng_faults, r->n_consumers);
        rqr_fault *f = rqr_fault_begin(r, 0, k, r->kill_at[r->kills_done]);
        if (r->pid[k] > 0) {
            kill(r->pid[k], SIGKILL);
            waitpid(r->pid[k], NULL, 0);
        }
        r->kills_done++;
        rqr_event(r, "kill -9 consumer c%u (kill %u; planned at %+.3f s): %ld in processing, %ld of them its own", k,
                  r->kills_done, (double)f->planned_us / 1e6, f->processing, f->held);
        rqr_respawn(r, k);
    }
    if (r->killed_master && rqr_cluster_restart(r, err, errlen) != 0) return -1;
    if (r->rejoining && rq_now_us() >= r->killed_look_us) {
        /* a master killed before its replica is in sync has none to take over: the next kill waits */
        r->killed_look_us = rq_now_us() + 50000;
        r->rejoining = !rsrv_cluster_is_ok(r->o->private_cluster);
    }
    while (r->o->private_cluster && !r->killed_master && !r->rejoining && r->restarts_done < r->o->server_restarts &&
           r->restart_at[r->restarts_done] <= rel) {
        rq_levels now;   /* as below: it waits, a consumer interval at most, for messages in processing */
        if (rel < r->restart_at[r->restarts_done] + r->setup.q.interval_us &&
            (rq_levels_get(r->q, &now) != 0 || now.processing == 0)) {
            r->fault_poll_us = rq_now_us() + RQR_FAULT_POLL_US;
            break;
        }
        rurl owner;
        char why[256];
        size_t tag = strcspn(r->setup.prefix, "{");
        if (rclu_locate(r->setup.seeds, (size_t)r->setup.n_seeds, r->setup.timeout_ms, r->setup.prefix + tag,
                        strlen(r->setup.prefix + tag), &owner, why, sizeof why) != 0)
            break;   /* no master known now: tried again on the next pass of the loop */
        rsrv *victim = NULL;
        for (int i = 0; i < r->o->private_cluster->n; i++)
            if (r->o->private_cluster->node[i].port == owner.port && r->o->private_cluster->node[i].pid > 0)
                victim = &r->o->private_cluster->node[i];
        if (!victim) break;
        rqr_fault *f = rqr_fault_begin(r, 1, 0, r->restart_at[r->restarts_done]);
        rsrv_kill(victim);
        r->killed_master = victim;
        r->killed_at_us = rq_now_us();
        r->restarts_done++;
        rqr_event(r, "kill -9 of the queue's master 127.0.0.1:%d (fault %u of %u; planned at %+.3f s): %ld in "
                  "processing", owner.port, r->restarts_done, r->o->server_restarts, (double)f->planned_us / 1e6,
                  f->processing);
    }
    while (r->o->server && r->restarts_done < r->o->server_restarts && r->restart_at[r->restarts_done] <= rel) {
        rq_levels now;   /* a restart too waits, a consumer interval at most, for messages in processing */
        if (rel < r->restart_at[r->restarts_done] + r->setup.q.interval_us &&
            (rq_levels_get(r->q, &now) != 0 || now.processing == 0)) {
            r->fault_poll_us = rq_now_us() + RQR_FAULT_POLL_US;
            break;
        }
        char why[256];
        rqr_fault *f = rqr_fault_begin(r, 1, 0, r->restart_at[r->restarts_done]);
        rsrv_kill(r->o->server);
        r->restarts_done++;
        rqr_event(r, "kill -9 redis-server (restart %u of %u; planned at %+.3f s): %ld in processing",
                  r->restarts_done, r->o->server_restarts, (double)f->planned_us / 1e6, f->processing);
        rqr_sleep_until(rq_now_us() + 200000);
        if (rsrv_restart(r->o->server, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: restarting redis-server failed: %s", r->l->name, why);
            return -1;
        }
        rq_recover(r->q);
    }
    for (uint32_t k = 0; k < r->n_consumers; k++) {
        int status;
        if (r->pid[k] > 0 && waitpid(r->pid[k], &status, WNOHANG) == r->pid[k]) {
            r->crashes++;
            rqr_event(r, "consumer c%u died by itself (status %d); started again", k, status);
            rqr_respawn(r, k);
        }
    }
    if (rq_now_us() >= r->next_reap_us) {
        uint64_t back = 0, dead = 0;
        if (rq_reap(r->q, &back, &dead) == 0) r->reaped += back + dead;
        else if (rqr_answered(r, 0, err, errlen) != 0) return -1;
        r->next_reap_us += r->reap_period_us;
    }
    rel = rq_now_us() - r->setup.t0_us;
    while (r->tick < r->n_ticks && (int64_t)(r->tick + 1) * r->s->tick_us <= rel) {
        rq_levels v;
        qm_tick *k = &r->ticks[r->tick];
        if (rq_levels_get(r->q, &v) != 0) {
            if (rqr_answered(r, 0, err, errlen) != 0) return -1;
            v = r->last;    /* the tick the server was away shows the last look */
        }
        k->queued = v.queued;
        k->processing = v.processing;
        /* counters start again from 0 when a server without persistence restarts */
        k->delivered = v.deliveries >= r->last.deliveries ? v.deliveries - r->last.deliveries : v.deliveries;
        k->succeeded = v.succeeded >= r->last.succeeded ? v.succeeded - r->last.succeeded : v.succeeded;
        k->dead_lettered = v.dead >= r->last.dead ? v.dead - r->last.dead : v.dead;
        if (v.queued > r->max_queue_len) r->max_queue_len = v.queued;
        if (v.processing > r->max_processing) r->max_processing = v.processing;
        r->last = v;
        r->tick++;
        rel = rq_now_us() - r->setup.t0_us;
    }
    rqr_fault_windows(r, 0);
    return 0;
}

static int64_t rqr_next_wake(const rqr *r)
{
    int64_t next = r->next_reap_us, t0 = r->setup.t0_us;
    if (r->tick < r->n_ticks) {
        int64_t t = t0 + (int64_t)(r->tick + 1) * r->s->tick_us;
        if (t < next) next = t;
    }
    /* a fault due but waiting for messages in processing looks again at fault_poll_us */
    if (r->kills_done < r->o->consumer_kills) {
        int64_t t = t0 + r->kill_at[r->kills_done];
        if (t < r->fault_poll_us) t = r->fault_poll_us;
        if (t < next) next = t;
    }
    if (r->o->server && r->restarts_done < r->o->server_restarts) {
        int64_t t = t0 + r->restart_at[r->restarts_done];
        if (t < r->fault_poll_us) t = r->fault_poll_us;
        if (t < next) next = t;
    }
    return next;
}

static int rqr_by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* produce + take + ack per second on the server as it is set: up to
 * RQR_PROBE_MESSAGES messages or RQR_PROBE_BUDGET_US of producing, then
 * every one of them taken and acknowledged. 0 when the server failed. */
static double rqr_probe_round(rq *p)
{
    int64_t start = rq_now_us();
    uint64_t n = 0;
    while (n < RQR_PROBE_MESSAGES && rq_now_us() - start < RQR_PROBE_BUDGET_US)
        if (rq_produce(p, n++, "probe", 1, 0) != 1) return 0;
    uint64_t done = 0;
    while (done < n) {
        long got = rq_take_ack(p, "probe", 100);
        if (got <= 0) return 0;
        done += (uint64_t)got;
    }
    double rate = (double)n / ((double)(rq_now_us() - start) / 1e6);
    rq_delete(p);
    return rate;
}

/* What durability costs: the median of RQR_PROBE_ROUNDS rounds with it
 * and as many without the AOF, alternating. */
static void rqr_probe(rqr *r, int durability, double *durable, double *volatile_)
{
    char err[256];
    rq_setup ps = r->setup;
    if (strlen(r->setup.prefix) + 7 > sizeof ps.prefix) return;
    memcpy(ps.prefix + strlen(ps.prefix), "probe:", 7);
    ps.q.max_queue = 0;
    rq *p = rq_open(&ps, err, sizeof err);
    if (!p) return;
    double with[RQR_PROBE_ROUNDS], without[RQR_PROBE_ROUNDS];
    for (int i = 0; i < RQR_PROBE_ROUNDS; i++) {
        /* side by side, alternating, so that a noisy moment hits both */
        with[i] = rq_durability_set(p, durability, err, sizeof err) == 0 ? rqr_probe_round(p) : 0;
        without[i] = rq_durability_set(p, QUEUE_DURABLE_NONE, err, sizeof err) == 0 ? rqr_probe_round(p) : 0;
    }
    rq_durability_set(p, durability, err, sizeof err);
    qsort(with, RQR_PROBE_ROUNDS, sizeof with[0], rqr_by_value);
    qsort(without, RQR_PROBE_ROUNDS, sizeof without[0], rqr_by_value);
    *durable = with[RQR_PROBE_ROUNDS / 2];
    *volatile_ = without[RQR_PROBE_ROUNDS / 2];
    rq_delete(p);
    rq_close(p);
}

static void rqr_stop_consumers(rqr *r)
{
    /* every consumer holds the pipe's write end too, so closing ours is no
     * signal: a byte left unread keeps it readable for all of them */
    if (r->stop[1] >= 0 && write(r->stop[1], "x", 1) != 1) {
        for (uint32_t k = 0; k < r->n_consumers; k++)
            if (r->pid[k] > 0) kill(r->pid[k], SIGKILL);
    }
    int64_t deadline = rq_now_us() + 60000000;
    for (uint32_t k = 0; k < r->n_consumers; k++) {
        if (r->pid[k] <= 0) continue;
        while (waitpid(r->pid[k], NULL, WNOHANG) == 0) {
            if (rq_now_us() > deadline) {
                kill(r->pid[k], SIGKILL);
                waitpid(r->pid[k], NULL, 0);
                break;
            }
            rqr_sleep_until(rq_now_us() + 5000);
        }
        r->pid[k] = 0;
    }
    for (int i = 0; i < 2; i++) {
        if (r->stop[i] >= 0) close(r->stop[i]);
        r->stop[i] = -1;
    }
}

static int rqr_by_key(const void *a, const void *b)
{
    return strcmp(((const rq_expected *)a)->key, ((const rq_expected *)b)->key);
}

/* The effect ledger against the producer's own record: the messages
 * (ids in generator order) that succeeded, their costs summed per key. */
static int rqr_effects(rqr *r, gen *g, uint64_t produced, rq_effects *fx, char *err, size_t errlen)
{
    size_t n_keys = kspace_count(r->s->keys);
    uint8_t *ok = malloc(produced ? produced : 1);
    uint64_t *sum = calloc(n_keys ? n_keys : 1, sizeof *sum);
    rq_expected *exp = calloc(n_keys ? n_keys : 1, sizeof *exp);
    int rc = -1;
    if (!ok || !sum || !exp) {
        snprintf(err, errlen, "%s: out of memory for the effect ledger", r->l->name);
        goto out;
    }
    if (rq_succeeded_ids(r->q, produced, ok) != 0) {
        snprintf(err, errlen, "%s: reading the successes back failed", r->l->name);
        goto out;
    }
    gen_rewind(g);
    gen_request req;
    for (uint64_t id = 0; id < produced && gen_next(g, &req); id++)
        if (ok[id]) sum[req.key] += req.cost;
    size_t n = 0;
    for (size_t k = 0; k < n_keys; k++)
        if (sum[k]) exp[n++] = (rq_expected){ kspace_name(r->s->keys, (uint32_t)k), sum[k] };
    qsort(exp, n, sizeof *exp, rqr_by_key);
    if (rq_effects_check(r->q, exp, n, fx, err, errlen) != 0) goto out;
    rc = 0;
out:
    free(ok);
    free(sum);
    free(exp);
    return rc;
}

int rqr_run(const rqr_options *o, const scn_scenario *s, gen *g, const scn_limiter *l, run_result *out, char *err,
            size_t errlen)
{
    rqr r = { .o = o, .s = s, .l = l, .stop = { -1, -1 } };
    const int64_t *v = l->cfg.v;
    int rc = -1;
    uint8_t *rejected = NULL;
    uint64_t *second_delivered = NULL;
    hist *e2e = NULL, *lag = NULL;   /* end to end; the producer's lag behind the schedule */
    uint64_t server_refused = 0;
    char refusal[300] = "";         /* the first message the server refused, said at the end */
    qm_config c;
    qrun_config(l, &c);
    r.setup = (rq_setup){ .url = o->url, .timeout_ms = o->timeout_ms, .q = c, .visibility_us = v[QUEUE_V_VISIBILITY_US],
                          .down = s->downstream, .failure_prob = s->downstream.failure_prob, .seed = s->seed,
                          .cluster = o->cluster, .wait_replicas = o->wait_replicas };
    /* one queue, one hash tag, one slot: on a cluster, queues of one
     * scenario land on the masters their names hash to */
    snprintf(r.setup.prefix, sizeof r.setup.prefix, "ratelab:%s-%s:{%s-%s}:", o->run_id, l->name, o->run_id,
             l->name);
    r.setup.seeds[r.setup.n_seeds++] = o->url;
    for (int i = 0; o->private_cluster && i < o->private_cluster->n && r.setup.n_seeds < RQ_MAX_SEEDS; i++) {
        r.setup.seeds[r.setup.n_seeds] = o->url;
        r.setup.seeds[r.setup.n_seeds++].port = o->private_cluster->node[i].port;
    }
    if (o->server_restarts && o->cluster && !o->private_cluster) {
        snprintf(err, errlen, "%s: master kills need ratelab's private cluster (no redis+cluster:// URL)", l->name);
        return -1;
    }
    r.n_consumers = (uint32_t)v[QUEUE_V_CONSUMERS];
    if (o->server_restarts && !o->server && !o->private_cluster) {
        snprintf(err, errlen, "%s: server restarts need the private redis-server (no REDIS_URL)", l->name);
        return -1;
    }
    if (!(r.q = rq_open(&r.setup, err, errlen))) return -1;
    long existing = rq_count_keys(r.q);
    if (existing != 0) {
        snprintf(err, errlen, "%s: %ld key(s) already under %s*; choose another --run-id", l->name, existing,
                 r.setup.prefix);
        rq_close(r.q);
        return -1;
    }
    int wanted = (int)v[QUEUE_V_DURABILITY];
    if (o->server && rq_durability_get(r.q) != wanted && rq_durability_set(r.q, wanted, err, errlen) != 0) {
        rq_close(r.q);
        return -1;
    }
    int durability = rq_durability_get(r.q);

    /* sized once: the arrivals, counted */
    uint64_t n_arrivals = 0, produced = 0;
    gen_request req;
    gen_rewind(g);
    while (gen_next(g, &req)) n_arrivals++;
    r.n_ticks = scn_tick_count(s);
    rng_seed(&r.rng_faults, o->fault_seed, 77);
    r.kill_at = rqr_schedule(&r.rng_faults, o->consumer_kills, s->duration_us);
    r.restart_at = rqr_schedule(&r.rng_faults, o->server_restarts, s->duration_us);
    r.faults = calloc((size_t)o->consumer_kills + o->server_restarts + 1, sizeof *r.faults);
    rejected = calloc(n_arrivals ? n_arrivals : 1, 1);
    r.ticks = calloc(r.n_ticks, sizeof *r.ticks);
    e2e = malloc(sizeof *e2e);
    lag = malloc(sizeof *lag);
    if (!r.kill_at || !r.restart_at || !r.faults || !rejected || !r.ticks || !e2e || !lag || pipe(r.stop) != 0) {
        snprintf(err, errlen, "%s: out of memory for %" PRIu64 " messages", l->name, n_arrivals);
        goto done;
    }
    hist_init(e2e);
    hist_init(lag);
    r.setup.t0_us = rq_now_us() + RQR_START_DELAY_US;
    for (uint32_t k = 0; k < r.n_consumers; k++) {
        r.share[k] = c.batch / r.n_consumers + (k < c.batch % r.n_consumers);
        r.pid[k] = rq_consumer_spawn(&r.setup, k, 0, r.share[k], r.stop[0]);
        if (r.pid[k] < 0) {
            snprintf(err, errlen, "%s: fork of a consumer failed: %s", l->name, strerror(errno));
            goto done;
        }
    }
    /* the reaper: at start-up, then a few times per visibility timeout */
    r.reap_period_us = r.setup.visibility_us / 4;
    if (r.reap_period_us < 20000) r.reap_period_us = 20000;
    if (r.reap_period_us > 1000000) r.reap_period_us = 1000000;
    r.next_reap_us = rq_now_us();
    if (rqr_housekeep(&r, err, errlen) != 0) goto done;

    int64_t block_max = 0, t0 = r.setup.t0_us;
    uint64_t offered_cost = 0, admitted_cost = 0, peak_offered = 0, in_second = 0;
    int64_t second = -1;
    gen_rewind(g);
    while (gen_next(g, &req)) {
        int64_t due = t0 + req.t_us;
        /* Faults, the reaper and tick sampling keep their own times: they
         * run whenever one is due, also while the producer is behind. */
        for (;;) {
            if (rq_now_us() >= rqr_next_wake(&r) && rqr_housekeep(&r, err, errlen) != 0) goto done;
            if (rq_now_us() >= due) break;
            int64_t wake = rqr_next_wake(&r);
            rqr_sleep_until(wake < due ? wake : due);
        }
        hist_record(lag, rq_now_us() - due);
        size_t tick = (size_t)(req.t_us / s->tick_us);
        if (tick >= r.n_ticks) tick = r.n_ticks - 1;
        uint64_t id = produced++;
        offered_cost += req.cost;
        r.ticks[tick].arrived++;
        if (req.t_us / 1000000 != second) { second = req.t_us / 1000000; in_second = 0; }
        if (++in_second > peak_offered) peak_offered = in_second;
        const char *key = kspace_name(s->keys, req.key);
        for (;;) {
            /* stamped with its scheduled arrival: a producer that falls
             * behind does not make the queue look faster */
            int got = rq_produce(r.q, id, key, req.cost, req.t_us);
            if (rqr_answered(&r, got >= 0 || got == -2, err, errlen) != 0) goto done;
            if (got == 1) {
                admitted_cost += req.cost;
                break;
            }
            if (got == -2) {   /* the server refused it (OOM...): an answer, so not sent again */
                if (server_refused++ == 0)
                    snprintf(refusal, sizeof refusal, "%s: Redis refused message %" PRIu64 " (and any later one "
                             "refused is counted the same): %s; counted as rejected", l->name, id, rq_refusal(r.q));
                rejected[id] = 1;
                r.ticks[tick].rejected++;
                break;
            }
            if (got == 0 && !c.block) {
                rejected[id] = 1;
                r.ticks[tick].rejected++;
                break;
            }
            if (got == 0) {
                /* blocked: wait in line for room, as the memory model's producer does */
                int64_t waited = rq_now_us() - due;
                if (waited > block_max) block_max = waited;
                rqr_sleep_until(rq_now_us() + 1000);
            }
            if (rqr_housekeep(&r, err, errlen) != 0) goto done;
        }
    }
    /* the load ends with the last message produced: a producer behind its
     * schedule stretches it past the scenario's duration */
    int64_t load_end_us = rq_now_us() - t0;
    /* the drain: until nothing waits or is in processing, within the limit */
    int64_t drain_until = rq_now_us() + (int64_t)((o->drain_limit_s > 0 ? o->drain_limit_s : 60) * 1e6);
    int64_t drained_at = rq_now_us();
    for (;;) {
        if (rqr_housekeep(&r, err, errlen) != 0) goto done;
        rq_levels lv;
        int ok = rq_levels_get(r.q, &lv) == 0;
        if (rqr_answered(&r, ok, err, errlen) != 0) goto done;
        if (ok && lv.queued == 0 && lv.processing == 0) {
            drained_at = rq_now_us();
            break;
        }
        if (rq_now_us() > drain_until) {
            drained_at = rq_now_us();
            break;
        }
        rqr_sleep_until(rq_now_us() + 20000);
    }
    rqr_fault_windows(&r, 1);
    rqr_stop_consumers(&r);
    while (r.killed_master) {   /* a master killed late: its replica takes over before the tally */
        if (rqr_cluster_restart(&r, err, errlen) != 0) goto done;
        if (r.killed_master) rqr_sleep_until(rq_now_us() + 50000);
    }
    while (r.tick < r.n_ticks) {    /* a run that drained early: the ticks left show the empty queue */
        r.ticks[r.tick].queued = r.ticks[r.tick].processing = 0;
        r.tick++;
    }
    rq_levels final;
    if (rq_levels_get(r.q, &final) != 0 && (rq_recover(r.q) != 0 || rq_levels_get(r.q, &final) != 0)) {
        snprintf(err, errlen, "%s: Redis did not answer at the end of the run", l->name);
        goto done;
    }
    size_t n_seconds = (size_t)((drained_at - t0) / 1000000) + 2;
    second_delivered = calloc(n_seconds, sizeof *second_delivered);
    rq_tally t;
    if (!second_delivered ||
        rq_reconcile(r.q, produced, rejected, &t, e2e, r.ticks, r.n_ticks, s->tick_us, second_delivered, n_seconds,
                     err, errlen) != 0)
        goto done;
    rq_effects fx;
    if (rqr_effects(&r, g, produced, &fx, err, errlen) != 0) goto done;
    qm_report rep = { .produced = produced, .rejected = t.rejected, .succeeded = t.succeeded,
                      .dead_lettered = t.dead_lettered, .still_queued = t.still_queued,
                      .deliveries = final.deliveries, .retries = final.retries, .duplicates = t.duplicates,
                      .block_max_us = block_max, .peak_offered_rps = peak_offered,
                      .max_queue_len = r.max_queue_len, .max_processing = r.max_processing,
                      .drained_at_us = drained_at - t0 };
    rep.lost = (int64_t)produced - (int64_t)(t.rejected + t.succeeded + t.dead_lettered + t.still_queued);
    rep.e2e_p50_us = hist_quantile(e2e, 0.50);
    rep.e2e_p99_us = hist_quantile(e2e, 0.99);
    rep.e2e_p999_us = hist_quantile(e2e, 0.999);
    rep.e2e_max_us = e2e->total ? e2e->max : 0;
    for (size_t i = 0; i < n_seconds; i++)
        if (second_delivered[i] > rep.peak_delivered_rps) rep.peak_delivered_rps = second_delivered[i];
    double durable = 0, volatile_ = 0;
    if (o->measure_durability && o->server) rqr_probe(&r, durability, &durable, &volatile_);
    if (rq_delete(r.q) != 0) {
        snprintf(err, errlen, "%s: deleting the queue's keys failed", l->name);
        goto done;
    }
    pass_queue_measured m = { o->cluster ? "cluster" : "redis", &rep, r.ticks, second_delivered, n_seconds, produced, t.rejected,
                        offered_cost, admitted_cost };
    if (pass_queue(s, l, &m, out, err, errlen) != 0) goto done;
    out->queue->durability = !o->cluster ? queue_durability_name(durability)
                             : o->wait_replicas ? RQR_DURABILITY_WAIT : RQR_DURABILITY_ASYNC;
    out->queue->failovers = r.failovers;
    out->queue->failover_s_max = r.failover_s_max;
    out->queue->unreplicated_writes = rq_unreplicated(r.q);
    out->queue->msgs_per_s_durable = durable;
    out->queue->msgs_per_s_volatile = volatile_;
    out->queue->consumer_kills = r.kills_done;
    out->queue->server_restarts = r.restarts_done;
    out->queue->consumer_crashes = r.crashes;
    out->queue->reaped = final.reaped > r.reaped ? final.reaped : r.reaped;
    out->summary.errors = rq_errors(r.q);
    out->queue->has_effects = 1;
    out->queue->effects_applied = fx.applied;
    out->queue->effects_suppressed = fx.suppressed;
    out->queue->effects_compensated = fx.compensated;
    out->queue->effects_wrong = fx.wrong;
    snprintf(out->queue->effects_first_wrong, sizeof out->queue->effects_first_wrong, "%s", fx.first_wrong);
    out->queue->lag_p99_us = lag->total ? hist_quantile(lag, 0.99) : 0;
    out->queue->lag_max_us = lag->total ? lag->max : 0;
    out->queue->server_refused = server_refused;
    out->queue->n_faults = r.n_faults;
    out->queue->load_end_us = load_end_us;
    out->queue->faults = r.n_faults ? malloc(r.n_faults * sizeof *out->queue->faults) : NULL;
    for (uint32_t i = 0; i < r.n_faults && out->queue->faults; i++) {
        const rqr_fault *f = &r.faults[i];
        out->queue->faults[i] = (run_queue_fault){ f->is_restart, f->consumer, f->planned_us, f->at_us,
                                                  f->processing, f->held, f->reaped_after };
    }
    /* what a person should hear of the pass: the result carries it, the command line prints it */
    int used = snprintf(out->note, sizeof out->note, "%s", refusal);
    if (out->queue->lag_p99_us > s->tick_us && used >= 0 && (size_t)used < sizeof out->note)
        snprintf(out->note + used, sizeof out->note - (size_t)used,
                 "%s%s: the producer fell behind its schedule (lag p99 %.1f ms, max %.1f ms, more than a tick of "
                 "%.0f ms): this machine or the server could not keep up; end to end still counts from each "
                 "message's scheduled arrival", used ? "; " : "", l->name, (double)out->queue->lag_p99_us / 1e3,
                 (double)out->queue->lag_max_us / 1e3, (double)s->tick_us / 1e3);
    out->summary.wall_s = (double)(drained_at - t0) / 1e6;
    rc = 0;
done:
    rqr_stop_consumers(&r);
    if (rc != 0 && r.q) rq_delete(r.q);
    rq_close(r.q);
    free(r.kill_at);
    free(r.restart_at);
    free(r.ticks);
    free(rejected);
    free(second_delivered);
    free(e2e);
    free(lag);
    free(r.faults);
    return rc;
}
