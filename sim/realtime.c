/* realtime.c -- see realtime.h. */
#define _GNU_SOURCE
#include "realtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients.h"
#include "clock.h"
#include "evloop.h"
#include "fleet.h"
#include "pass.h"

/* One attempt as a client made it: what the recorder is fed after the run. */
typedef struct {
    gen_request req;           /* t_us: when it was due, on the scenario's clock */
    evl_sender from;
    lim_decision dec;
    int64_t at_us;             /* time the limiter decided at */
    int64_t latency_ns;        /* from the scheduled time */
    int64_t late_ns;           /* how long after its scheduled time it was sent */
    unsigned char unanswered;  /* Redis gave no decision: dec is the on-error policy's */
    unsigned char failed_call; /* admitted, and failed by the downstream (clients.h) */
    unsigned char ended;       /* this attempt ended its intent, as `outcome` */
    unsigned char outcome;     /* pass_outcome */
} rt_attempt;

typedef struct {
    const scn_scenario *s;
    const scn_limiter *l;
    const rt_options *o;
    const gen_request *reqs;
    size_t n;
    int64_t start_ns;          /* monotonic time of virtual 0 */
    _Atomic int stop;
    cli_budget *budgets;       /* per client class, shared by every client: under `lock` */
    pthread_mutex_t lock;
    const scn_fleet *fleet;    /* a fleet: each client thread is one of its nodes */
    bred *redis;
    char reports[200], shares[200], book[200];   /* controller, lease: their state's keys in Redis */
    _Atomic uint64_t coordinator_calls;
    _Atomic int controller_stop;
} rt_shared;

typedef struct {
    rt_shared *sh;
    bred_client *client;
    unsigned index;
    int64_t skew_us;
    uint64_t errors;
    rt_attempt *log;           /* every attempt this client made, in the order it made them */
    size_t n_log, cap_log;
    evl retries;               /* its clients' retries still to send (clients section only) */
    /* a fleet's node: the arrivals the balancer gave it, and what it keeps to itself */
    uint32_t *mine;
    size_t n_mine;
    unsigned char *state;      /* local: its limiter; local_sync: its replica of the store's */
    int fresh;
    int64_t since_send, last_admit_us, next_sync_us;
    uint64_t offered, admitted, store_calls, syncs;
    /* gossip: its share, the demand heard from each node, its subscription to the others' */
    flt_share share;
    double *heard;
    uint64_t offered_since;
    int64_t since_us, next_publish_us;
    bred_sub *sub;
    uint64_t heard_messages, lost_messages;
    /* controller, lease: its next report or renewal, when a share last reached it, its lease */
    int64_t next_report_us, heard_us, lease_until_us, next_from_us, next_until_us;
    double lease_share, next_share;
    flt_share fallback;        /* on_cut local: its even share, kept for when it cannot reach the store */
    uint64_t fallbacks;
    int cut;                   /* cut off now: its connection was closed */
} rt_client;

/* The scenario's time now, in microseconds: wall time since virtual 0,
 * times the speed. */
static int64_t rt_scenario_us(const rt_shared *sh)
{
    return (int64_t)((double)(clk_mono_ns() - sh->start_ns) / 1000.0 * sh->o->speed);
}

/* Sleeps until mono_ns in slices of at most 100 ms; 0 when stop was set. */
static int rt_sleep_unless_stopped(int64_t mono_ns, _Atomic int *stop)
{
    for (;;) {
        if (atomic_load(stop)) return 0;
        int64_t now = clk_mono_ns();
        if (now >= mono_ns) return 1;
        clk_sleep_until_ns(mono_ns - now > 100000000 ? now + 100000000 : mono_ns);
    }
}

/* Monotonic time at which virtual time t_us is due. */
static int64_t rt_due(const rt_shared *sh, int64_t t_us)
{
    return sh->start_ns + (int64_t)((double)t_us * 1000.0 / sh->o->speed);
}

/* What follows attempt a: its intent ends (a->ended), or a retry is queued
 * on this client's own queue, due on the scenario's clock. */
static void rt_after(rt_client *c, rt_attempt *a)
{
    rt_shared *sh = c->sh;
    const cli_config *cc = &sh->s->clients;
    if (!cc->n) {
        a->ended = 1;
        a->outcome = a->dec.allowed ? PASS_SUCCEEDED : PASS_ABANDONED;
        return;
    }
    const cli_class *k = &cc->c[a->from.client_class];
    cli_draws dr;
    if (a->from.attempt < k->max_attempts)
        cli_draw(k, sh->s->seed, a->from.intent, a->from.attempt, a->from.prev_backoff_us, &dr);
    int failed;
    int64_t at, backoff;
    double failure_prob = sh->s->downstream.present ? sh->s->downstream.failure_prob : 0;
    /* the refusal's time is the limiter's: the client's clock, or the server's */
    pthread_mutex_lock(&sh->lock);
    if (a->from.attempt == 1 && k->has_budget) cli_budget_intent(&sh->budgets[a->from.client_class], a->at_us);
    cli_outcome o = cli_after(k, &sh->budgets[a->from.client_class], sh->s->seed, failure_prob, sh->s->duration_us,
                              a->from.intent, a->from.attempt, a->from.first_us, &dr, a->at_us, &a->dec, &failed, &at,
                              &backoff);
    pthread_mutex_unlock(&sh->lock);
    a->failed_call = (unsigned char)failed;
    if (o != CLI_COMES_BACK) {
        a->ended = 1;
        a->outcome = o == CLI_SUCCEEDED ? PASS_SUCCEEDED : o == CLI_BUDGET_REFUSED ? PASS_BUDGET_REFUSED
                     : o == CLI_UNFINISHED ? PASS_UNFINISHED : o == CLI_FAILED ? PASS_FAILED : PASS_ABANDONED;
        return;
    }
    gen_request again = { at, a->req.key, a->req.cost };
    evl_sender next = a->from;
    next.attempt++;
    next.prev_backoff_us = backoff;
    evl_push(&c->retries, at, EVL_RETRY, &again, &next);   /* room: one per intent of this client */
}

/* A fleet's node deciding by itself at t_us (its clock): local with its
 * share, local_sync on its replica, pushing what it admitted and pulling
 * the store's state on its own connection once a sync is due. */
/* gossip: what the others published since (PUBLISH/SUBSCRIBE, "node demand"). */
static void rt_node_listen(rt_client *c)
{
    const scn_fleet *f = c->sh->fleet;
    char msg[64];
    int got;
    while ((got = bred_sub_poll(c->sub, msg, sizeof msg)) == 1) {
        unsigned from;
        double demand;
        if (sscanf(msg, "%u %lf", &from, &demand) == 2 && from < f->nodes && from != c->index) {
            c->heard[from] = demand;
            c->heard_messages++;
        }
    }
    if (got < 0) c->lost_messages++;   /* the subscription failed: it decides on what it heard */
}

/* gossip: every interval, publish this node's demand and take own / (own + heard). */
static void rt_node_gossip(rt_client *c, int64_t t_us)
{
    const scn_fleet *f = c->sh->fleet;
    rt_node_listen(c);
    if (t_us < c->next_publish_us) return;
    double own = t_us > c->since_us ? (double)c->offered_since * 1e6 / (double)(t_us - c->since_us) : 0;
    c->offered_since = 0;
    c->since_us = t_us;
    char msg[64];
    snprintf(msg, sizeof msg, "%u %.6f", c->index, own);
    c->store_calls++;
    if (bred_client_publish(c->client, "gossip", msg) != 0) c->errors++;
    double total = own;
    for (unsigned j = 0; j < f->nodes; j++)
        if (j != c->index) total += c->heard[j];
    flt_share_set(&c->share, f, t_us, total > 0 ? own / total : 1.0 / f->nodes);
    while (c->next_publish_us <= t_us) c->next_publish_us += f->interval_us;
}

/* A node that cannot reach what it needs decides by on_cut (fleet.h). */
static void rt_node_fallback(rt_client *c, rt_attempt *a, int64_t t_us)
{
    const scn_fleet *f = c->sh->fleet;
    c->fallbacks++;
    a->dec = (lim_decision){ f->on_cut == SCN_ON_CUT_FAIL_OPEN, 0, 0, 0 };
    if (f->on_cut == SCN_ON_CUT_LOCAL) flt_share_take(&c->fallback, t_us, a->req.cost, 0, &a->dec);
}

/* 1 when node c is cut off at t_us; closes its connections as the cut begins. */
static int rt_node_cut(rt_client *c, int64_t t_us)
{
    const scn_fleet *f = c->sh->fleet;
    int cut = 0;
    for (size_t k = 0; k < f->n_cuts; k++)
        cut |= f->cuts[k].node == c->index && t_us >= f->cuts[k].from_us && t_us < f->cuts[k].to_us;
    if (cut && !c->cut) bred_client_drop(c->client);   /* a real partition; its next use after it reconnects */
    c->cut = cut;
    return cut;
}

/* Node c's demand since its last report, in requests/s, counting anew from t_us. */
static double rt_node_demand(rt_client *c, int64_t t_us)
{
    double d = t_us > c->since_us ? (double)c->offered_since * 1e6 / (double)(t_us - c->since_us) : 0;
    c->offered_since = 0;
    c->since_us = t_us;
    return d;
}

/* controller: report the demand (HSET) and read the share the controller
 * set (HGET), both in Redis, every interval. */
static void rt_node_report(rt_client *c, int64_t t_us, int cut)
{
    const scn_fleet *f = c->sh->fleet;
    if (t_us < c->next_report_us) return;
    while (c->next_report_us <= t_us) c->next_report_us += f->interval_us;
    if (cut) {
        c->lost_messages++;
        return;
    }
    char node[16], demand[40];
    snprintf(node, sizeof node, "%u", c->index);
    snprintf(demand, sizeof demand, "%.6f", rt_node_demand(c, t_us));
    const char *hset[] = { "HSET", c->sh->reports, node, demand }, *hget[] = { "HGET", c->sh->shares, node };
    rconn_reply rep;
    c->store_calls += 2;
    if (bred_client_command(c->client, 4, hset, &rep) != 0 || bred_client_command(c->client, 3, hget, &rep) != 0) {
        c->errors++;
        return;
    }
    if (rep.is_nil || rep.len == 0 || rep.len >= sizeof demand) return;   /* no round yet */
    memcpy(demand, rep.bytes, rep.len);
    demand[rep.len] = '\0';
    double share;
    long long round;
    if (sscanf(demand, "%lf %lld", &share, &round) != 2) return;
    flt_share_set(&c->share, f, t_us, share);
    if (round > c->heard_us) c->heard_us = round;   /* as fresh as the controller's last round */
}

/* lease: renew every lease / 2 with the demand, through the coordinator's
 * script (its book in Redis); a larger grant starts when the old one ends. */
static void rt_node_renew(rt_client *c, int64_t t_us, int cut)
{
    const scn_fleet *f = c->sh->fleet;
    if (c->next_from_us >= 0 && t_us >= c->next_from_us) {
        flt_share_set(&c->share, f, c->next_from_us, c->next_share);
        c->lease_share = c->next_share;
        c->lease_until_us = c->next_until_us;
        c->next_from_us = -1;
    }
    if (t_us < c->next_report_us) return;
    while (c->next_report_us <= t_us) c->next_report_us += f->lease_us / 2;
    if (cut || t_us >= f->coordinator_stop_us) {   /* no answer: it holds what it has, until it runs out */
        c->lost_messages++;
        return;
    }
    char node[16], demand[40], now[32], lease[32], nodes[16], ttl[32];
    snprintf(node, sizeof node, "%u", c->index);
    snprintf(demand, sizeof demand, "%.6f", rt_node_demand(c, t_us));
    snprintf(now, sizeof now, "%lld", (long long)t_us);
    snprintf(lease, sizeof lease, "%lld", (long long)f->lease_us);
    snprintf(nodes, sizeof nodes, "%u", f->nodes);
    snprintf(ttl, sizeof ttl, "%d", 86400000);
    const char *eval[] = { "EVAL", bred_script("fleet_lease"), "1", c->sh->book, node, demand, now, lease, nodes, ttl };
    rconn_reply rep;
    c->store_calls++;
    if (bred_client_command(c->client, 10, eval, &rep) != 0 || rep.n < 1 || rep.len == 0 || rep.len >= sizeof demand) {
        c->errors++;
        return;
    }
    memcpy(demand, rep.bytes, rep.len);
    demand[rep.len] = '\0';
    double grant = atof(demand);
    c->heard_us = t_us;
    if (grant <= c->lease_share || t_us >= c->lease_until_us) {   /* smaller, or nothing held: at once */
        flt_share_set(&c->share, f, t_us, grant);
        c->lease_share = grant;
        c->lease_until_us = rep.v[0];
        c->next_from_us = -1;
    } else {
        c->next_share = grant;
        c->next_until_us = rep.v[0];
        c->next_from_us = c->lease_until_us;
    }
}

/* Decides a's request at node c: by the store (central, at now_us for
 * Redis: negative for its TIME), or by itself at t_us (its clock). 0, or
 * -1 when Redis gave no decision. */
static int rt_node_decide(rt_client *c, rt_attempt *a, int64_t now_us, int64_t t_us)
{
    const scn_fleet *f = c->sh->fleet;
    const scn_limiter *base = c->sh->l->base;
    int cut = f->n_cuts && rt_node_cut(c, t_us);
    a->at_us = t_us;
    switch (f->strategy) {
    case SCN_FLEET_CENTRAL:
        if (cut) {
            rt_node_fallback(c, a, t_us);
            return 0;
        }
        c->store_calls++;
        return bred_client_decide(c->client, 0, now_us, a->req.cost, &a->dec, &a->at_us);
    case SCN_FLEET_GOSSIP:
        c->offered_since++;
        if (cut) {   /* it hears nothing and tells nothing; what came meanwhile is lost */
            char drop[64];
            while (bred_sub_poll(c->sub, drop, sizeof drop) == 1) c->lost_messages++;
        } else {
            rt_node_gossip(c, t_us);
        }
        break;
    case SCN_FLEET_CONTROLLER:
        c->offered_since++;
        rt_node_report(c, t_us, cut);
        break;
    case SCN_FLEET_LEASE:
        c->offered_since++;
        rt_node_renew(c, t_us, cut);
        break;
    case SCN_FLEET_LOCAL_SYNC:
        if (t_us >= c->next_sync_us) {   /* push what it admitted, pull the store's state */
            if (cut) {
                c->lost_messages++;   /* its delta waits for the next push */
            } else {
                c->store_calls += 2;   /* a failure is counted by the backend; its delta goes with the next push */
                if (bred_client_push_pull(c->client, c->last_admit_us, c->since_send, c->state, &c->fresh) == 0) {
                    c->since_send = 0;
                    c->syncs++;
                }
            }
            while (c->next_sync_us <= t_us) c->next_sync_us += f->sync_us;
        }
        base->ops->decide(&base->cfg, c->state, c->fresh, t_us, a->req.cost, &a->dec);   /* on its replica */
        c->fresh = 0;
        if (a->dec.allowed) {
            c->since_send += a->req.cost;
            c->last_admit_us = t_us;
        }
        return 0;
    case SCN_FLEET_LOCAL:
        base->ops->decide(&f->node_cfg[c->index], c->state, c->fresh, t_us, a->req.cost, &a->dec);
        c->fresh = 0;
        return 0;
    }
    /* the shares: stale or run out, it falls back; else its bucket decides */
    int lapsed = f->strategy == SCN_FLEET_LEASE ? t_us >= c->lease_until_us
                                                : f->stale_us > 0 && t_us - c->heard_us > f->stale_us;
    if (lapsed) rt_node_fallback(c, a, t_us);
    else flt_share_take(&c->share, t_us, a->req.cost,
                        f->strategy == SCN_FLEET_LEASE ? f->lease_us / 2 : f->interval_us, &a->dec);
    return 0;
}

/* controller: the central controller, a thread of its own: every
 * interval, one round (fleet_control.lua) on Redis, until it stops. */
static void *rt_controller_main(void *arg)
{
    rt_shared *sh = arg;
    const scn_fleet *f = sh->fleet;
    char err[256], nodes[16];
    bred_client *c = bred_client_open(sh->redis, err, sizeof err);
    if (!c) return NULL;
    snprintf(nodes, sizeof nodes, "%u", f->nodes);
    for (int64_t t = f->interval_us; t < sh->s->duration_us && t < f->coordinator_stop_us; t += f->interval_us) {
        if (!rt_sleep_unless_stopped(rt_due(sh, t), &sh->controller_stop) || atomic_load(&sh->stop)) break;
        char round[32];
        snprintf(round, sizeof round, "%lld", (long long)t);
        const char *eval[] = { "EVAL", bred_script("fleet_control"), "2", sh->reports, sh->shares, nodes, "86400000",
                               round };
        rconn_reply rep;
        atomic_fetch_add(&sh->coordinator_calls, 1);
        bred_client_command(c, 8, eval, &rep);   /* a lost round: the nodes keep their shares */
    }
    bred_client_close(c);
    return NULL;
}

/* Takes this client's next attempt (a retry due first, else its next
 * arrival) into *a; 0 when it has none left. */
static int rt_next_attempt(rt_client *c, size_t *k, size_t *mine, rt_attempt *a)
{
    rt_shared *sh = c->sh;
    const cli_config *cc = &sh->s->clients;
    int64_t t_retry;
    evl_kind kind;
    int retry = cc->n && evl_next(&c->retries, &t_retry, &kind);
    if (*k >= sh->n && !retry) return 0;
    memset(a, 0, sizeof *a);
    if (retry && (*k >= sh->n || t_retry < sh->reqs[*k].t_us)) {
        evl_event e;
        evl_pop(&c->retries, &e);
        a->req = e.req;
        a->from = e.from;
    } else {
        a->req = sh->reqs[*k];
        a->from = (evl_sender){ .intent = *k, .first_us = a->req.t_us, .attempt = 1,
                                .client_class = cli_class_of(cc, sh->s->seed, *k) };
        if (sh->fleet) *k = ++*mine < c->n_mine ? c->mine[*mine] : sh->n;
        else *k += sh->o->clients;
    }
    return 1;
}

/* When this client's next attempt is due (INT64_MAX: none is left), without taking it. */
static int64_t rt_next_due(const rt_client *c, size_t k)
{
    const rt_shared *sh = c->sh;
    int64_t t_retry, t = k < sh->n ? sh->reqs[k].t_us : INT64_MAX;
    evl_kind kind;
    if (sh->s->clients.n && evl_next((evl *)&c->retries, &t_retry, &kind) && t_retry < t) t = t_retry;
    return t == INT64_MAX ? INT64_MAX : rt_due(sh, t);
}

/* Attempt a got no decision from Redis (asked at now_us, negative: the
 * server's clock): the on-error policy decides it, and it is counted. */
static void rt_unanswered(rt_client *c, rt_attempt *a, int64_t now_us)
{
    a->dec = (lim_decision){ c->sh->o->on_error_allow, 0, 0, 0 };
    a->at_us = now_us < 0 ? a->req.t_us : now_us;
    a->unanswered = 1;
    c->errors++;
}

/* A fleet's node: one attempt at a time, deciding as its strategy says. */
static void rt_node_attempt(rt_client *c, rt_attempt *a, int64_t due)
{
    rt_shared *sh = c->sh;
    int64_t now_us = sh->o->server_clock ? -1 : rt_scenario_us(sh) + c->skew_us;
    if (rt_node_decide(c, a, now_us, now_us < 0 ? rt_scenario_us(sh) : now_us) != 0) rt_unanswered(c, a, now_us);
    a->latency_ns = clk_mono_ns() - due;
    c->offered++;
    c->admitted += a->dec.allowed != 0;
}

static void *rt_client_main(void *arg)
{
    rt_client *c = arg;
    rt_shared *sh = c->sh;
    size_t k = c->index, mine = 0;   /* this client's next arrival (a node: the next of its own) */
    if (sh->fleet) k = c->n_mine ? c->mine[0] : sh->n;
    unsigned depth = sh->fleet ? 1 : sh->o->in_flight;
    uint32_t keys[RT_MAX_IN_FLIGHT];
    int64_t now[RT_MAX_IN_FLIGHT], costs[RT_MAX_IN_FLIGHT], due[RT_MAX_IN_FLIGHT];
    lim_decision dec[RT_MAX_IN_FLIGHT];
    int64_t at[RT_MAX_IN_FLIGHT];
    unsigned char answered[RT_MAX_IN_FLIGHT];
    while (!atomic_load(&sh->stop) && c->n_log < c->cap_log) {
        rt_attempt *first = &c->log[c->n_log];
        if (!rt_next_attempt(c, &k, &mine, first)) break;
        due[0] = rt_due(sh, first->req.t_us);
        if (!rt_sleep_unless_stopped(due[0], &sh->stop)) break;
        if (sh->fleet) {
            rt_node_attempt(c, first, due[0]);
            c->n_log++;
            rt_after(c, first);
            continue;
        }
        /* every attempt of this client due by now goes in the same round trip */
        size_t n = 1;
        int64_t sent_ns = clk_mono_ns();
        while (n < depth && c->n_log + n < c->cap_log && rt_next_due(c, k) <= sent_ns &&
               rt_next_attempt(c, &k, &mine, &c->log[c->n_log + n])) {
            due[n] = rt_due(sh, c->log[c->n_log + n].req.t_us);
            n++;
        }
        int64_t now_us = sh->o->server_clock ? -1 : rt_scenario_us(sh) + c->skew_us;
        for (size_t i = 0; i < n; i++) {
            const rt_attempt *a = &c->log[c->n_log + i];
            keys[i] = sh->l->global ? 0 : a->req.key;
            now[i] = now_us;
            costs[i] = a->req.cost;
        }
        bred_client_decide_many(c->client, n, keys, now, costs, dec, at, answered);
        int64_t done_ns = clk_mono_ns();
        for (size_t i = 0; i < n; i++) {
            rt_attempt *a = &c->log[c->n_log + i];
            if (answered[i]) {
                a->dec = dec[i];
                a->at_us = at[i];
            } else {
                rt_unanswered(c, a, now_us);
            }
            a->latency_ns = done_ns - due[i];
            a->late_ns = sent_ns - due[i];
        }
        for (size_t i = 0; i < n; i++) rt_after(c, &c->log[c->n_log + i]);
        c->n_log += n;
    }
    return NULL;
}

static int rt_by_due(const void *x, const void *y)
{
    const rt_attempt *a = *(const rt_attempt *const *)x, *b = *(const rt_attempt *const *)y;
    if (a->req.t_us != b->req.t_us) return (a->req.t_us > b->req.t_us) - (a->req.t_us < b->req.t_us);
    return (a > b) - (a < b);   /* one client's attempts stay in the order it made them */
}

static int rt_by_decided(const void *x, const void *y)
{
    const rt_attempt *a = *(const rt_attempt *const *)x, *b = *(const rt_attempt *const *)y;
    if (a->at_us != b->at_us) return (a->at_us > b->at_us) - (a->at_us < b->at_us);
    return (a > b) - (a < b);
}

/* The most attempts any intent may make. */
static uint32_t rt_max_attempts(const cli_config *cc)
{
    uint32_t most = 1;
    for (size_t i = 0; i < cc->n; i++)
        if (cc->c[i].max_attempts > most) most = cc->c[i].max_attempts;
    return most;
}

int rt_supports(const scn_scenario *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_limiters; i++) {
        const scn_fleet *f = s->limiters[i].fleet;
        if (!f) continue;
        if (f->nodes > RT_MAX_CLIENTS) {
            snprintf(err, errlen, "fleet '%s': realtime mode runs at most %d nodes (a thread each): leave it out with "
                                  "--only", s->limiters[i].name, RT_MAX_CLIENTS);
            return -1;
        }
    }
    for (size_t i = 0; i < s->clients.n; i++)
        if (s->clients.c[i].retry_on_timeout) {
            snprintf(err, errlen, "clients[%zu].retry_on: \"timeout\" needs --mode virtual: realtime mode models the "
                                  "downstream after the run, so no call's answer reaches its client in time", i);
            return -1;
        }
    return 0;
}

/* A fleet: the balancer gives each arrival its node (client thread),
 * and each node its own state. 0, or -1 when memory is short. */
static int rt_assign_nodes(rt_shared *sh, rt_client *nodes, char *err, size_t errlen)
{
    const scn_fleet *f = sh->fleet;
    flt_balancer b;
    uint32_t *node = malloc((sh->n + 1) * sizeof *node);
    if (!node || flt_balancer_init(&b, f, sh->s) != 0) {
        free(node);
        snprintf(err, errlen, "%s: out of memory for the nodes of %zu requests", sh->l->name, sh->n);
        return -1;
    }
    for (size_t k = 0; k < sh->n; k++) nodes[node[k] = flt_balance(&b, k, sh->reqs[k].key)].n_mine++;
    flt_balancer_free(&b);
    int rc = 0;
    size_t size = sh->l->base->cfg.state_size ? sh->l->base->cfg.state_size : 1;
    for (uint32_t i = 0; i < f->nodes && rc == 0; i++) {
        rt_client *c = &nodes[i];
        c->mine = malloc((c->n_mine + 1) * sizeof *c->mine);
        c->state = calloc(1, size);
        c->fresh = 1;
        c->next_sync_us = f->sync_us * (int64_t)i / (int64_t)f->nodes;   /* node i's grid: i/N of a sync later */
        if (!c->mine || !c->state) rc = -1;
        if (f->rate_per_s > 0) {   /* an even share to begin with, its bucket full; the fallback's too */
            flt_share_set(&c->share, f, 0, 1.0 / f->nodes);
            c->share.tokens = c->share.burst;
            flt_share_set(&c->fallback, f, 0, 1.0 / f->nodes);
            c->fallback.tokens = c->fallback.burst;
        }
        c->lease_share = 1.0 / f->nodes;
        c->lease_until_us = f->lease_us;
        c->next_from_us = -1;
        /* as in virtual time: reports every interval; renewals from lease/2, node i i/N of that later */
        c->next_report_us = f->strategy == SCN_FLEET_LEASE ? f->lease_us / 2 * (f->nodes + (int64_t)i) / f->nodes
                                                             : f->interval_us;
        if (f->strategy == SCN_FLEET_GOSSIP) {   /* published in turn */
            c->next_publish_us = f->interval_us + f->interval_us * (int64_t)i / (int64_t)f->nodes;
            if (!(c->heard = calloc(f->nodes, sizeof *c->heard))) rc = -1;
        }
        c->n_mine = 0;
    }
    for (size_t k = 0; rc == 0 && k < sh->n; k++) nodes[node[k]].mine[nodes[node[k]].n_mine++] = (uint32_t)k;
    free(node);
    if (rc != 0) snprintf(err, errlen, "%s: out of memory for %u nodes", sh->l->name, f->nodes);
    return rc;
}

/* What the nodes did, into *r (the backend's report replaced). */
static int rt_fleet_report(const rt_client *nodes, unsigned n, uint64_t coordinator_calls, flt_report *r)
{
    flt_report_free(r);
    memset(r, 0, sizeof *r);
    r->nodes = n;
    r->offered = malloc(n * sizeof *r->offered);
    r->admitted = malloc(n * sizeof *r->admitted);
    if (!r->offered || !r->admitted) {
        flt_report_free(r);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        r->offered[i] = nodes[i].offered;
        r->admitted[i] = nodes[i].admitted;
        r->store_calls += nodes[i].store_calls;
        r->syncs += nodes[i].syncs;
        r->lost_messages += nodes[i].lost_messages;
        r->fallbacks += nodes[i].fallbacks;
    }
    r->store_calls += coordinator_calls;
    const scn_fleet *f = nodes[0].sh->fleet;
    if (f->strategy == SCN_FLEET_GOSSIP || f->strategy == SCN_FLEET_CONTROLLER || f->strategy == SCN_FLEET_LEASE) {
        if (!(r->share = malloc(n * sizeof *r->share))) {
            flt_report_free(r);
            return -1;
        }
        for (unsigned i = 0; i < n; i++) r->share[i] = nodes[i].share.rate_us * 1e6 / nodes[i].sh->fleet->rate_per_s;
    }
    return 0;   /* a round trip's time is in the latency columns: added latency is virtual time's */
}

int rt_run(const scn_scenario *s, gen *g, const scn_limiter *l, bred *r, const run_backend *b,
           const rt_options *o, const run_options *ropt, run_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);   /* a failure before the recorder opens still leaves a clean note */
    if (rt_supports(s, err, errlen) != 0) return -1;
    rt_options as_nodes;
    if (l->fleet) {   /* a fleet's nodes are the client threads, one connection each */
        as_nodes = *o;
        as_nodes.clients = l->fleet->nodes;
        o = &as_nodes;
    }
    rt_shared sh = { .s = s, .l = l, .o = o, .fleet = l->fleet, .redis = r };
    pthread_mutex_init(&sh.lock, NULL);
    size_t cap = 1 << 16;
    gen_request *reqs = malloc(cap * sizeof *reqs);
    gen_rewind(g);
    for (gen_request q; reqs && gen_next(g, &q);) {
        if (sh.n == RT_MAX_REQUESTS) {
            snprintf(err, errlen, "%s: realtime mode replays at most %d requests", l->name, RT_MAX_REQUESTS);
            free(reqs);
            pthread_mutex_destroy(&sh.lock);
            return -1;
        }
        if (sh.n == cap) {
            gen_request *bigger = realloc(reqs, (cap *= 2) * sizeof *reqs);
            if (!bigger) { free(reqs); reqs = NULL; break; }
            reqs = bigger;
        }
        reqs[sh.n++] = q;
    }
    if (gen_stopped(g)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        free(reqs);
        pthread_mutex_destroy(&sh.lock);
        return -1;
    }
    const cli_config *cc = &s->clients;
    size_t n = sh.n, n_ticks = scn_tick_count(s);
    size_t per_client = (n + o->clients - 1) / o->clients, most = rt_max_attempts(cc);
    sh.reqs = reqs;
    sh.budgets = cc->n ? calloc(cc->n, sizeof *sh.budgets) : NULL;
    for (size_t i = 0; sh.budgets && i < cc->n; i++) cli_budget_init(&sh.budgets[i], cc->c[i].budget_window_s);
    int64_t *levels = calloc(n_ticks, sizeof *levels);
    rt_client *clients = calloc(o->clients, sizeof *clients);
    pthread_t *threads = calloc(o->clients, sizeof *threads);
    rt_attempt **order = NULL;
    pthread_t controller;
    int controlling = 0;
    int rc = -1;
    unsigned started = 0;
    int begun = 0;
    if (!reqs || (cc->n && !sh.budgets) || !levels || !clients || !threads) {
        snprintf(err, errlen, "%s: out of memory for %zu requests", l->name, n);
        goto done;
    }
    if ((double)per_client * (double)most * o->clients > RT_MAX_REQUESTS) {
        snprintf(err, errlen, "%s: %zu intents of up to %zu attempts are more than realtime mode replays (%d)",
                 l->name, n, most, RT_MAX_REQUESTS);
        goto done;
    }
    if (l->fleet && rt_assign_nodes(&sh, clients, err, errlen) != 0) goto done;
    for (unsigned i = 0; i < o->clients; i++) {
        rt_client *c = &clients[i];
        size_t intents = l->fleet ? c->n_mine : per_client;
        c->cap_log = intents * most + 1;
        c->log = malloc(c->cap_log * sizeof *c->log);
        if (!c->log || (cc->n && evl_init(&c->retries, intents + 1) != 0)) {
            snprintf(err, errlen, "%s: out of memory for the attempts of %zu intents", l->name, n);
            goto done;
        }
    }
    if (b->begin(b->ctx, s, l, err, errlen) != 0) goto done;
    begun = 1;
    bred_name(r, "reports", sh.reports, sizeof sh.reports);   /* the keys of the pass: its prefix is set now */
    bred_name(r, "shares", sh.shares, sizeof sh.shares);
    bred_name(r, "lease", sh.book, sizeof sh.book);
    for (unsigned i = 0; i < o->clients; i++) {
        clients[i].sh = &sh;
        clients[i].index = i;
        /* a skew is a wall-clock offset: on the scenario's clock it scales with the speed */
        double skew_ms = o->clients > 1 ? -o->skew_ms + 2 * o->skew_ms * i / (o->clients - 1) : o->skew_ms;
        clients[i].skew_us = (int64_t)(skew_ms * 1000 * o->speed);
        if (!(clients[i].client = bred_client_open(r, err, errlen))) goto done;
        if (l->fleet && l->fleet->strategy == SCN_FLEET_GOSSIP && !(clients[i].sub = bred_subscribe(r, "gossip", err, errlen)))
            goto done;
    }
    sh.start_ns = clk_mono_ns() + 50000000;   /* every client connected; start together */
    int64_t wall_started = clk_mono_ns();
    for (; started < o->clients; started++)
        if (pthread_create(&threads[started], NULL, rt_client_main, &clients[started]) != 0) {
            snprintf(err, errlen, "%s: cannot start client thread %u", l->name, started);
            atomic_store(&sh.stop, 1);
            goto join;
        }
    controlling = l->fleet && l->fleet->strategy == SCN_FLEET_CONTROLLER &&
                  pthread_create(&controller, NULL, rt_controller_main, &sh) == 0;
    uint32_t level_key = l->global ? 0 : s->level_key;
    for (size_t t = 0; t < n_ticks; t++) {
        int64_t end_us = (int64_t)(t + 1) * s->tick_us < s->duration_us ? (int64_t)(t + 1) * s->tick_us : s->duration_us;
        int64_t due = rt_due(&sh, end_us);
        while (clk_mono_ns() < due && !(ropt->stop && ropt->stop(ropt->progress_ctx)))
            clk_sleep_until_ns(due - clk_mono_ns() > 100000000 ? clk_mono_ns() + 100000000 : due);
        levels[t] = b->level(b->ctx, level_key, o->server_clock ? -1 : rt_scenario_us(&sh));
        if (ropt->progress) ropt->progress(ropt->progress_ctx, (double)end_us / (double)s->duration_us);
        if (ropt->stop && ropt->stop(ropt->progress_ctx)) {
            atomic_store(&sh.stop, 1);
            snprintf(err, errlen, "%s: interrupted", l->name);
            break;
        }
    }
join:
    for (unsigned i = 0; i < started; i++) pthread_join(threads[i], NULL);
    if (controlling) {
        atomic_store(&sh.controller_stop, 1);   /* every node is done: the controller too */
        pthread_join(controller, NULL);
    }
    int64_t wall_ended = clk_mono_ns();
    uint64_t errors = 0;
    size_t attempts = 0;
    for (unsigned i = 0; i < o->clients; i++) {
        errors += clients[i].errors;
        attempts += clients[i].n_log;
    }
    bred_add_errors(r, errors);
    if (atomic_load(&sh.stop)) goto done;

    /* Every attempt of every client, in the order they were due. */
    order = malloc((attempts + 1) * sizeof *order);
    pass *p = order ? pass_open(s, l, b->name, ropt->log, out, err, errlen) : NULL;
    if (!p) {
        if (!order) snprintf(err, errlen, "%s: out of memory for the order of %zu attempts", l->name, attempts);
        goto done;
    }
    size_t m = 0;
    for (unsigned i = 0; i < o->clients; i++)
        for (size_t j = 0; j < clients[i].n_log; j++) order[m++] = &clients[i].log[j];
    qsort(order, m, sizeof *order, rt_by_due);
    for (size_t j = 0; j < m; j++) {
        const rt_attempt *a = order[j];
        while (!pass_in_tick(p, a->req.t_us)) pass_close_tick(p, levels[n_ticks - pass_ticks_left(p)]);
        pass_count(p, &a->req, &a->dec);
        pass_latency(p, a->latency_ns);
        if (a->from.attempt == 1) pass_intent(p, a->req.t_us);
        if (a->failed_call) pass_failed_attempt(p);
        if (a->ended) pass_intent_ended(p, (pass_outcome)a->outcome, a->from.first_us, a->req.t_us, a->from.attempt);
    }
    while (pass_ticks_left(p)) pass_close_tick(p, levels[n_ticks - pass_ticks_left(p)]);

    /* The oracle, on the times the limiter decided at, in their order. */
    qsort(order, m, sizeof *order, rt_by_decided);
    for (size_t j = 0; j < m; j++) {
        const rt_attempt *a = order[j];
        if (a->unanswered) pass_unanswered(p, &a->req, a->at_us, &a->dec);
        else pass_judge(p, &a->req, a->at_us, &a->dec);
    }
    run_backend_report said;
    b->end(b->ctx, &said, out->note, sizeof out->note);
    begun = 0;
    /* (after end(), which writes its own note first) Clients that could not keep the schedule: said, as the queue pass
     * says it of its producer (latency still counts from each attempt's
     * scheduled time, so nothing is hidden, but the limiter saw another
     * traffic than the scenario's). */
    size_t late = 0;
    int64_t latest_ns = 0;
    for (size_t j = 0; j < m; j++) {
        late += order[j]->late_ns > s->tick_us * 1000;
        if (order[j]->late_ns > latest_ns) latest_ns = order[j]->late_ns;
    }
    if (m && late * 100 > m) {   /* more than 1% over a tick late */
        size_t used = strlen(out->note);
        snprintf(out->note + used, sizeof out->note - used,
                 "%s%s: the clients fell behind the schedule: %.1f%% of %zu attempts went out more than a tick "
                 "(%.0f ms) late, the latest by %.2f s: this machine or the server could not keep up (more --clients "
                 "or --in-flight, or a lower --speed); the limiter saw other traffic than the scenario's",
                 used ? "; " : "", l->name, 100.0 * (double)late / (double)m, m, (double)s->tick_us / 1e3,
                 (double)latest_ns / 1e9);
    }

    if (l->fleet && rt_fleet_report(clients, o->clients, atomic_load(&sh.coordinator_calls), &said.fleet) != 0) {
        snprintf(err, errlen, "%s: out of memory for the fleet's report per node", l->name);
        pass_abort(p);
        goto done;
    }
    /* The server's TIME follows execution; client clocks may reach it out
     * of their order (pass.h). */
    pass_finish(p, (double)(wall_ended - wall_started) / 1e9, o->server_clock, &said);
    rc = 0;
done:
    if (begun) {
        run_backend_report ignored;
        b->end(b->ctx, &ignored, out->note, sizeof out->note);  /* still delete the keys */
    }
    for (unsigned i = 0; clients && i < o->clients; i++) {
        bred_client_close(clients[i].client);
        free(clients[i].log);
        free(clients[i].mine);
        free(clients[i].state);
        free(clients[i].heard);
        bred_sub_close(clients[i].sub);
        evl_free(&clients[i].retries);
    }
    free(order);
    free(clients);
    free(threads);
    free(levels);
    free(sh.budgets);
    free(reqs);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}
