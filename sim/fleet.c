/* fleet.c -- see fleet.h. */
#include "fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durations.h"
#include "hist.h"
#include "keyspace.h"

static int flt_no_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)values, (void)rates, (void)cfg;
    snprintf(err, errlen, "a fleet is configured by its limiter and its fleet fields (flt_point)");
    return -1;
}

/* What a sweep may vary (sweep.h): values[] of a fleet's scn_limiter, NAN where its strategy has none. */
static const lim_param_spec flt_params[] = {
    { "nodes", LIM_PARAM_INTEGER, 1, 1, 1, SCN_MAX_NODES, NULL, "gateway nodes" },
    { "sync_ms", LIM_PARAM_NUMBER, 0, NAN, 1e-3, 3.6e6, NULL, "local_sync: how often a node syncs" },
    { "interval_ms", LIM_PARAM_NUMBER, 0, NAN, 1e-3, 3.6e6, NULL, "controller, gossip: how often shares are set" },
    { "lease_ms", LIM_PARAM_NUMBER, 0, NAN, 1e-3, 3.6e6, NULL, "lease: how long a grant holds" },
};

const lim_entry fleet_entry = {
    .name = "fleet",
    .kind = LIM_KIND_FLEET,
    .summary = "N gateway nodes sharing one global limit (central, local split, synced, leased, controlled, gossiping)",
    .level_name = "level",
    .params = flt_params,
    .n_params = sizeof flt_params / sizeof flt_params[0],
    .configure = flt_no_configure,
};

const char *const flt_strategy_names[] = { "central", "local", "local_sync", "lease", "controller", "gossip", NULL };
const char *const flt_balance_names[] = { "round_robin", "random", "key_hash", "weighted", NULL };

/* A message or timer of the fleet, in the order ties are handled. */
typedef enum {
    FLT_SEND, FLT_ARRIVE, FLT_REPLY,            /* local_sync: push leaves, reaches the store, pull returns */
    FLT_REPORT, FLT_REPORT_ARRIVE, FLT_CONTROL, /* controller: a node's report leaves, arrives; the controller sets shares */
    FLT_SHARE,                                  /* controller: a node's new share reaches it */
    FLT_PUBLISH, FLT_HEARD,                     /* gossip: a node publishes its demand; one of the others hears it */
    FLT_RENEW, FLT_AT_COORDINATOR, FLT_GRANT,   /* lease: a renewal leaves, reaches the coordinator; the grant returns */
} flt_step_kind;

/* 1 for the strategies that give each node a share of the rate. */
static int flt_shares(const scn_fleet *c)
{
    return c->strategy == SCN_FLEET_LEASE || c->strategy == SCN_FLEET_CONTROLLER || c->strategy == SCN_FLEET_GOSSIP;
}

typedef struct {
    int64_t t_us;
    flt_step_kind step;
    uint32_t node, from;       /* the node it concerns; HEARD: the one it is from */
    double value;              /* a demand (requests/s) or a share of the rate */
    int64_t until_us;          /* GRANT: when the lease it carries expires */
} flt_event;

typedef struct {
    unsigned char *state;      /* its limiter (local) or its replica of the store's (local_sync) */
    int fresh;                 /* state never set */
    unsigned char *snapshot;   /* local_sync: the store's state its pull carries back */
    int snapshot_fresh, snapshot_ok;
    int64_t since_send;        /* cost admitted since its last push left */
    int64_t last_admit_us;     /* when it admitted the last of it */
    int64_t pushing, pushing_at_us;   /* the push in flight: its cost, and when the last of it was admitted */
    int64_t next_grid_us;      /* its next sync time on its grid */
    uint64_t offered, admitted;
    /* lease, controller, gossip: its share of the rate, enforced by a bucket of its own */
    flt_share b;
    int64_t lease_until_us;    /* lease: when its grant runs out (then it has none) */
    double share;              /* lease: the fraction of the limit granted */
    double next_rate;          /* lease: a larger grant, held back until the old one expires (from -1: none) */
    int64_t next_from_us, next_until_us;
    uint64_t offered_since;    /* requests since its last report, publish or renewal */
    int64_t since_us;
    double *heard;             /* gossip: the last demand heard from each node (requests/s) */
    int64_t heard_us;          /* when a share, a grant or a gossip last reached it */
    double fb_tokens;          /* on_cut local: its even share, in a bucket kept for the fallback */
    int64_t fb_at_us;
} flt_node;

/* lease: what the coordinator knows of a node */
typedef struct {
    double demand;             /* requests/s, as last told */
    double grant, old_grant;   /* the last grant; the one before while it holds */
    int64_t until_us, old_until_us;
} flt_lessee;

struct flt_model {
    const scn_scenario *s;
    const scn_limiter *f, *base;
    const scn_fleet *cfg;
    flt_node *node;
    unsigned char *store;      /* central, local_sync, in memory: the store's state */
    int store_fresh;
    flt_store where;           /* the store: this model's memory, or the backend's (Redis) */
    flt_event *events;         /* min-heap by (time, node), one per node */
    size_t n_events;
    flt_balancer balancer;
    dur_dist link;
    uint64_t n;                /* requests decided: the balancer's count */
    uint64_t store_calls, syncs;
    uint64_t fallbacks, lost;  /* decisions taken by on_cut; messages a cut or a stopped coordinator lost */
    hist *added;
    double *reported;          /* controller: the demand each node last reported (requests/s) */
    flt_lessee *lessee;        /* lease: the coordinator's book */
    size_t cap_events;
};

/* splitmix64's finaliser (Steele, Lea and Flood, OOPSLA 2014). */
static uint64_t flt_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void flt_node_values(const scn_limiter *base, const scn_fleet *f, uint32_t i, double *values, lim_rate *rates)
{
    const lim_entry *e = base->entry;
    uint64_t share = f->split ? f->split[i] : 1, total = f->split ? f->split_total : f->nodes;
    memcpy(values, base->values, sizeof base->values);
    memcpy(rates, base->rates, sizeof base->rates);
    const char *const *split = base->ops->facts.split;
    for (size_t k = 0; split && split[k]; k++) {
        int p = lim_param_index(e, split[k]);
        if (p < 0 || isnan(values[p])) continue;
        if (e->params[p].kind == LIM_PARAM_RATE) {
            rates[p].count *= (int64_t)share;
            rates[p].per_us *= (int64_t)total;
            rates[p].plain = 0;
            values[p] = values[p] * (double)share / (double)total;
        } else {
            double v = floor(values[p] * (double)share / (double)total);
            values[p] = v < e->params[p].min ? e->params[p].min : v;
        }
    }
}

int flt_share_below_one(const scn_limiter *l, char *msg, size_t len)
{
    const scn_fleet *f = l->fleet;
    /* central and local_sync decide on the whole limit: no share */
    if (!f || f->strategy == SCN_FLEET_CENTRAL || f->strategy == SCN_FLEET_LOCAL_SYNC || f->burst <= 0) return 0;
    uint64_t least = f->split ? UINT64_MAX : 1, total = f->split ? f->split_total : f->nodes;
    for (uint32_t i = 0; f->split && i < f->nodes; i++)
        if (f->split[i] < least) least = f->split[i];
    double share = f->burst * (double)least / (double)total;
    if (share >= 1) return 0;
    snprintf(msg, len, "%s: %u nodes share a burst of %g: the smallest node's share is %g x %llu/%llu = %.3g of a "
             "request, %s", l->name, f->nodes, f->burst, f->burst, (unsigned long long)least,
             (unsigned long long)total, share,
             f->strategy == SCN_FLEET_LOCAL
                 ? "raised to one request per node: together they may admit more than the limit"
                 : "so a node admits nothing until its share grows: fewer nodes or a larger burst");
    return 1;
}

void flt_values(const scn_fleet *f, double *values)
{
    values[FLT_NODES] = f->nodes;
    values[FLT_SYNC_MS] = f->sync_us ? (double)f->sync_us / 1000 : NAN;
    values[FLT_INTERVAL_MS] = f->interval_us ? (double)f->interval_us / 1000 : NAN;
    values[FLT_LEASE_MS] = f->lease_us ? (double)f->lease_us / 1000 : NAN;
}

int flt_configure_nodes(const scn_limiter *base, scn_fleet *f, char *err, size_t errlen)
{
    free(f->node_cfg);
    f->node_cfg = NULL;
    if (f->strategy != SCN_FLEET_LOCAL) return 0;
    if (!(f->node_cfg = calloc(f->nodes, sizeof *f->node_cfg))) {
        snprintf(err, errlen, "out of memory for %u nodes", f->nodes);
        return -1;
    }
    for (uint32_t k = 0; k < f->nodes; k++) {
        double values[LIM_MAX_PARAMS];
        lim_rate rates[LIM_MAX_PARAMS];
        char why[300];
        flt_node_values(base, f, k, values, rates);
        f->node_cfg[k].max_cost = base->cfg.max_cost;
        if (lim_configure_checked(base->entry, values, rates, &f->node_cfg[k], why, sizeof why) != 0) {
            snprintf(err, errlen, "node %u's share of %s: %s", k, base->name, why);
            return -1;
        }
        f->node_cfg[k].ops = base->ops;
    }
    return 0;
}

int flt_point(const scn_limiter *l, const double *values, scn_limiter *out, char *err, size_t errlen)
{
    *out = *l;
    out->fleet = malloc(sizeof *out->fleet);
    if (!out->fleet) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    scn_fleet *f = out->fleet;
    *f = *l->fleet;
    f->node_cfg = NULL;
    f->nodes = (uint32_t)values[FLT_NODES];
    if (f->nodes != l->fleet->nodes && (f->weights || f->split)) {
        snprintf(err, errlen, "nodes: %s has weights or a split per node, so its nodes cannot vary", l->name);
        flt_point_free(out);
        return -1;
    }
    for (size_t k = 0; k < f->n_cuts; k++)
        if (f->cuts[k].node >= f->nodes) {
            snprintf(err, errlen, "nodes: %u leaves out cut node %u", f->nodes, f->cuts[k].node);
            flt_point_free(out);
            return -1;
        }
    const struct { int index; int64_t *us; } timers[] = {
        { FLT_SYNC_MS, &f->sync_us }, { FLT_INTERVAL_MS, &f->interval_us }, { FLT_LEASE_MS, &f->lease_us } };
    for (size_t k = 0; k < 3; k++) {
        if (isnan(values[timers[k].index])) continue;
        if (*timers[k].us == 0) {
            snprintf(err, errlen, "%s: not a field of strategy %s", flt_params[timers[k].index].name,
                     flt_strategy_names[f->strategy]);
            flt_point_free(out);
            return -1;
        }
        *timers[k].us = llround(values[timers[k].index] * 1000);
    }
    memcpy(out->values, values, sizeof out->values);
    if (flt_configure_nodes(l->base, f, err, errlen) != 0) {
        flt_point_free(out);
        return -1;
    }
    return 0;
}

void flt_point_free(scn_limiter *point)
{
    if (!point->fleet) return;
    free(point->fleet->node_cfg);
    free(point->fleet);
    point->fleet = NULL;
}

static int flt_earlier(const flt_event *a, const flt_event *b)
{
    if (a->t_us != b->t_us) return a->t_us < b->t_us;
    if (a->step != b->step) return a->step < b->step;
    if (a->node != b->node) return a->node < b->node;
    return a->from < b->from;
}

/* A node's own timers (a sync, a report, a control round, a publish, a
 * renewal): at most one each, nodes + 1 in all, and room is kept for them. */
static int flt_is_timer(flt_step_kind k)
{
    return k == FLT_SEND || k == FLT_REPORT || k == FLT_CONTROL || k == FLT_PUBLISH || k == FLT_RENEW;
}

/* Schedules e. The queue is sized for every message a link of about its
 * delay keeps in flight; one beyond that is lost, and counted, so that a
 * very slow link loses messages instead of allocating per request. */
static void flt_push(flt_model *m, flt_event e)
{
    if (!flt_is_timer(e.step) && m->n_events + m->cfg->nodes + 1 >= m->cap_events) {
        m->lost++;
        return;
    }
    size_t i = m->n_events++;
    m->events[i] = e;
    while (i > 0 && flt_earlier(&m->events[i], &m->events[(i - 1) / 2])) {
        flt_event t = m->events[i];
        m->events[i] = m->events[(i - 1) / 2];
        m->events[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static flt_event flt_pop(flt_model *m)
{
    flt_event top = m->events[0];
    size_t n = --m->n_events;
    m->events[0] = m->events[n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        if (l < n && flt_earlier(&m->events[l], &m->events[least])) least = l;
        if (r < n && flt_earlier(&m->events[r], &m->events[least])) least = r;
        if (least == i) break;
        flt_event t = m->events[i];
        m->events[i] = m->events[least];
        m->events[least] = t;
        i = least;
    }
    return top;
}

static flt_event flt_msg(int64_t t_us, flt_step_kind step, uint32_t node)
{
    return (flt_event){ .t_us = t_us, .step = step, .node = node };
}

/* One way over the link. */
static int64_t flt_link(flt_model *m) { return m->cfg->link_mean_ms > 0 ? dur_draw(&m->link) : 0; }

/* 1 when node i is cut off at t_us. */
static int flt_cut(const flt_model *m, uint32_t i, int64_t t_us)
{
    for (size_t k = 0; k < m->cfg->n_cuts; k++)
        if (m->cfg->cuts[k].node == i && t_us >= m->cfg->cuts[k].from_us && t_us < m->cfg->cuts[k].to_us) return 1;
    return 0;
}

/* A node that cannot reach what it needs decides by on_cut: admit, refuse,
 * or its even share in a bucket of its own (rate-limiter-flexible's
 * insurance limiter, Sentinel's fallback to local). */
static void flt_fallback(flt_model *m, flt_node *n, const gen_request *q, lim_decision *out)
{
    m->fallbacks++;
    *out = (lim_decision){ 0, 0, 0, 0 };
    switch (m->cfg->on_cut) {
    case SCN_ON_CUT_FAIL_OPEN: out->allowed = 1; return;
    case SCN_ON_CUT_FAIL_CLOSED: return;
    case SCN_ON_CUT_LOCAL: {
        double rate_us = m->cfg->rate_per_s / m->cfg->nodes / 1e6, burst = m->cfg->burst / m->cfg->nodes;
        if (q->t_us > n->fb_at_us) {
            n->fb_tokens += rate_us * (double)(q->t_us - n->fb_at_us);
            if (n->fb_tokens > burst) n->fb_tokens = burst;
            n->fb_at_us = q->t_us;
        }
        if (n->fb_tokens >= (double)q->cost) {
            n->fb_tokens -= (double)q->cost;
            out->allowed = 1;
        } else {
            out->retry_after_us = (int64_t)ceil(((double)q->cost - n->fb_tokens) / rate_us);
        }
        out->remaining = n->fb_tokens >= 1 ? (int64_t)floor(n->fb_tokens) : 0;
        return;
    }
    }
}

/* Charges `cost` to state at t_us, whatever it holds (a delta another
 * node, or this one, admitted already). */
static void flt_consume(const flt_model *m, unsigned char *state, int *fresh, int64_t t_us, int64_t cost)
{
    if (cost <= 0) return;
    m->base->ops->consume(&m->base->cfg, state, *fresh, t_us, cost);
    *fresh = 0;
}

/* ---- lease, controller, gossip: a share of the rate per node ---------- */

void flt_share_refill(flt_share *b, int64_t t_us)
{
    if (t_us <= b->at_us) return;
    b->tokens += b->rate_us * (double)(t_us - b->at_us);
    if (b->tokens > b->burst) b->tokens = b->burst;
    b->at_us = t_us;
}

void flt_share_set(flt_share *b, const scn_fleet *f, int64_t t_us, double fraction)
{
    flt_share_refill(b, t_us);
    b->rate_us = f->rate_per_s * fraction / 1e6;
    b->burst = f->burst * fraction;
    if (b->tokens > b->burst) b->tokens = b->burst;
}

void flt_share_take(flt_share *b, int64_t t_us, int64_t cost, int64_t reshare_us, lim_decision *out)
{
    flt_share_refill(b, t_us);
    double c = (double)cost;
    out->delay_us = 0;
    if (b->tokens >= c) {
        b->tokens -= c;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = b->rate_us > 0 && b->burst >= c ? (int64_t)ceil((c - b->tokens) / b->rate_us)
                                                              : reshare_us;   /* until its share changes */
    }
    out->remaining = b->tokens >= 1 ? (int64_t)floor(b->tokens) : 0;
}


/* Node n enforces `fraction` of the limit from t_us on. */
static void flt_set_share(const flt_model *m, flt_node *n, int64_t t_us, double fraction)
{
    flt_share_set(&n->b, m->cfg, t_us, fraction);
}

/* Node n's demand since its last report, in requests/s, and a new count from t_us. */
static double flt_demand(flt_node *n, int64_t t_us)
{
    double d = t_us > n->since_us ? (double)n->offered_since * 1e6 / (double)(t_us - n->since_us) : 0;
    n->offered_since = 0;
    n->since_us = t_us;
    return d;
}

/* lease: a held-back grant starts when the old one ends; an unrenewed one ends. */
static void flt_lease_at(const flt_model *m, flt_node *n, int64_t t_us)
{
    if (n->next_from_us >= 0 && t_us >= n->next_from_us) {
        flt_set_share(m, n, n->next_from_us, n->next_rate);
        n->share = n->next_rate;
        n->lease_until_us = n->next_until_us;
        n->next_from_us = -1;
    }
    if (t_us >= n->lease_until_us && n->b.burst > 0) {   /* not renewed in time: fail closed */
        flt_set_share(m, n, n->lease_until_us, 0);
        n->share = 0;
    }
}

/* The coordinator grants node i its share of the demand it knows, never
 * letting what the nodes may hold at once pass the whole: another node
 * holds the larger of its last two grants until the older expires. */
static double flt_grant(flt_model *m, uint32_t i, int64_t t_us)
{
    double total = 0, others = 0;
    for (uint32_t j = 0; j < m->cfg->nodes; j++) {
        total += m->lessee[j].demand;
        if (j == i) continue;
        const flt_lessee *l = &m->lessee[j];
        others += t_us < l->old_until_us && l->old_grant > l->grant ? l->old_grant : l->grant;
    }
    double fair = total > 0 ? m->lessee[i].demand / total : 1.0 / m->cfg->nodes;
    double room = 1 - others;
    return fair < room ? fair : room > 0 ? room : 0;
}

static void flt_step_share(flt_model *m, flt_event e)
{
    const scn_fleet *c = m->cfg;
    flt_node *n = e.node < c->nodes ? &m->node[e.node] : NULL;
    switch (e.step) {
    case FLT_REPORT: {   /* a node tells the controller its demand (a cut one cannot: its count goes on) */
        flt_push(m, flt_msg(e.t_us + c->interval_us, FLT_REPORT, e.node));
        if (flt_cut(m, e.node, e.t_us)) {
            m->lost++;
            break;
        }
        flt_event r = flt_msg(e.t_us + flt_link(m), FLT_REPORT_ARRIVE, e.node);
        r.value = flt_demand(n, e.t_us);
        flt_push(m, r);
        m->store_calls++;
        break;
    }
    case FLT_REPORT_ARRIVE: m->reported[e.node] = e.value; break;
    case FLT_CONTROL: {   /* shares in proportion to demand, summing to the limit */
        if (e.t_us >= c->coordinator_stop_us) break;   /* stopped: no round again */
        double total = 0;
        for (uint32_t j = 0; j < c->nodes; j++) total += m->reported[j];
        for (uint32_t j = 0; j < c->nodes; j++) {
            flt_event sh = flt_msg(e.t_us + flt_link(m), FLT_SHARE, j);
            sh.value = total > 0 ? m->reported[j] / total : 1.0 / c->nodes;
            flt_push(m, sh);
            m->store_calls++;
        }
        flt_push(m, flt_msg(e.t_us + c->interval_us, FLT_CONTROL, UINT32_MAX));
        break;
    }
    case FLT_SHARE:
        if (flt_cut(m, e.node, e.t_us)) {
            m->lost++;
            break;
        }
        flt_set_share(m, n, e.t_us, e.value);
        n->heard_us = e.t_us;
        break;
    case FLT_PUBLISH: {   /* gossip: tell everyone, then take a share of what was heard */
        flt_push(m, flt_msg(e.t_us + c->interval_us, FLT_PUBLISH, e.node));
        if (flt_cut(m, e.node, e.t_us)) {   /* nobody hears it; it keeps the share it has */
            m->lost++;
            break;
        }
        double own = flt_demand(n, e.t_us), total = own;
        n->heard[e.node] = own;
        for (uint32_t j = 0; j < c->nodes; j++) {
            if (j == e.node) continue;
            total += n->heard[j];
            flt_event h = flt_msg(e.t_us + flt_link(m), FLT_HEARD, j);
            h.from = e.node;
            h.value = own;
            flt_push(m, h);
        }
        flt_set_share(m, n, e.t_us, total > 0 ? own / total : 1.0 / c->nodes);
        m->store_calls++;
        break;
    }
    case FLT_HEARD:
        if (flt_cut(m, e.node, e.t_us)) {
            m->lost++;
            break;
        }
        n->heard[e.from] = e.value;
        n->heard_us = e.t_us;
        break;
    case FLT_RENEW: {
        flt_push(m, flt_msg(e.t_us + c->lease_us / 2, FLT_RENEW, e.node));
        if (flt_cut(m, e.node, e.t_us)) {
            m->lost++;
            break;
        }
        flt_event r = flt_msg(e.t_us + flt_link(m), FLT_AT_COORDINATOR, e.node);
        r.value = flt_demand(n, e.t_us);
        flt_push(m, r);
        m->store_calls++;
        break;
    }
    case FLT_AT_COORDINATOR: {
        if (e.t_us >= c->coordinator_stop_us) {   /* stopped: nobody answers */
            m->lost++;
            break;
        }
        flt_lessee *l = &m->lessee[e.node];
        l->demand = e.value;
        double g = flt_grant(m, e.node, e.t_us);
        l->old_grant = l->grant;
        l->old_until_us = l->until_us;
        l->grant = g;
        l->until_us = e.t_us + c->lease_us;
        flt_event gr = flt_msg(e.t_us + flt_link(m), FLT_GRANT, e.node);
        gr.value = g;
        gr.until_us = l->until_us;
        flt_push(m, gr);
        break;
    }
    case FLT_GRANT:
        if (flt_cut(m, e.node, e.t_us)) {
            m->lost++;
            break;
        }
        n->heard_us = e.t_us;
        flt_lease_at(m, n, e.t_us);
        if (e.value <= n->share || n->b.burst == 0) {   /* smaller (or nothing held): at once */
            flt_set_share(m, n, e.t_us, e.value);
            n->share = e.value;
            n->lease_until_us = e.until_us;
            n->next_from_us = -1;
        } else {   /* larger: once the grant it replaces has run out */
            n->next_rate = e.value;
            n->next_until_us = e.until_us;
            n->next_from_us = n->lease_until_us;
        }
        break;
    default: break;
    }
}

/* Decides q at node n by its share's bucket. */
static void flt_share_decide(flt_model *m, flt_node *n, const gen_request *q, lim_decision *out)
{
    const scn_fleet *c = m->cfg;
    if (c->strategy == SCN_FLEET_LEASE) {
        flt_lease_at(m, n, q->t_us);
        if (q->t_us >= n->lease_until_us) {   /* its lease ran out unrenewed */
            flt_fallback(m, n, q, out);
            return;
        }
    } else if (c->stale_us > 0 && q->t_us - n->heard_us > c->stale_us) {   /* its share went stale */
        flt_fallback(m, n, q, out);
        return;
    }
    flt_share_take(&n->b, q->t_us, q->cost, c->strategy == SCN_FLEET_LEASE ? c->lease_us / 2 : c->interval_us, out);
}

/* Handles one message or timer (local_sync's here, the shares' above). */
static void flt_step(flt_model *m, flt_event e)
{
    if (e.step > FLT_REPLY) {
        flt_step_share(m, e);
        return;
    }
    flt_node *n = &m->node[e.node];
    size_t size = m->base->cfg.state_size;
    switch (e.step) {
    case FLT_SEND:
        if (flt_cut(m, e.node, e.t_us)) {   /* cannot push: its delta waits for the next round */
            m->lost++;
            while (n->next_grid_us <= e.t_us) n->next_grid_us += m->cfg->sync_us;
            flt_push(m, flt_msg(n->next_grid_us, FLT_SEND, e.node));
            break;
        }
        n->pushing = n->since_send;
        n->pushing_at_us = n->last_admit_us;
        n->since_send = 0;
        flt_push(m, flt_msg(e.t_us + flt_link(m), FLT_ARRIVE, e.node));
        break;
    case FLT_ARRIVE:   /* INCRBY the delta, GET the total */
        /* charged as of the delta's last admission: the window it was counted in, the bucket's refill until then */
        n->snapshot_ok = m->where.push_pull(m->where.ctx, n->pushing_at_us, n->pushing, n->snapshot,
                                            &n->snapshot_fresh) == 0;
        n->pushing = 0;
        m->store_calls += 2;
        flt_push(m, flt_msg(e.t_us + flt_link(m), FLT_REPLY, e.node));
        break;
    case FLT_REPLY:
        if (flt_cut(m, e.node, e.t_us)) {   /* the pull is lost: it keeps its replica */
            m->lost++;
            while (n->next_grid_us <= e.t_us) n->next_grid_us += m->cfg->sync_us;
            flt_push(m, flt_msg(n->next_grid_us, FLT_SEND, e.node));
            break;
        }
        if (!n->snapshot_ok) {   /* the store did not answer: it keeps its replica */
            m->lost++;
            while (n->next_grid_us <= e.t_us) n->next_grid_us += m->cfg->sync_us;
            flt_push(m, flt_msg(n->next_grid_us, FLT_SEND, e.node));
            break;
        }
        memcpy(n->state, n->snapshot, size);
        n->fresh = n->snapshot_fresh;
        flt_consume(m, n->state, &n->fresh, n->last_admit_us, n->since_send);
        m->syncs++;
        while (n->next_grid_us <= e.t_us) n->next_grid_us += m->cfg->sync_us;
        flt_push(m, flt_msg(n->next_grid_us, FLT_SEND, e.node));
        break;
    default: break;
    }
}

/* ---- the store in memory ------------------------------------------------ */

static void flt_mem_decide(void *ctx, int64_t t_us, int64_t cost, lim_decision *out)
{
    flt_model *m = ctx;
    m->base->ops->decide(&m->base->cfg, m->store, m->store_fresh, t_us, cost, out);
    m->store_fresh = 0;
}

static int flt_mem_push_pull(void *ctx, int64_t at_us, int64_t cost, void *state, int *fresh)
{
    flt_model *m = ctx;
    flt_consume(m, m->store, &m->store_fresh, at_us, cost);
    memcpy(state, m->store, m->base->cfg.state_size);
    *fresh = m->store_fresh;
    return 0;
}

static int64_t flt_mem_level(void *ctx, int64_t now_us)
{
    const flt_model *m = ctx;
    return m->base->ops->level(&m->base->cfg, m->store_fresh ? NULL : m->store, now_us);
}

void flt_destroy(flt_model *m)
{
    if (!m) return;
    if (m->node)
        for (uint32_t i = 0; i < m->cfg->nodes; i++) {
            free(m->node[i].state);
            free(m->node[i].snapshot);
            free(m->node[i].heard);
        }
    free(m->node);
    free(m->store);
    free(m->events);
    flt_balancer_free(&m->balancer);
    free(m->added);
    free(m->reported);
    free(m->lessee);
    free(m);
}

flt_model *flt_create(const scn_scenario *s, const scn_limiter *f, const flt_store *store, char *err, size_t errlen)
{
    flt_model *m = calloc(1, sizeof *m);
    if (!m) goto short_of_memory;
    m->where = store ? *store : (flt_store){ m, flt_mem_decide, flt_mem_push_pull, flt_mem_level };
    m->s = s;
    m->f = f;
    m->base = f->base;
    m->cfg = f->fleet;
    uint32_t nodes = m->cfg->nodes;
    size_t size = m->base->cfg.state_size ? m->base->cfg.state_size : 1;
    m->node = calloc(nodes, sizeof *m->node);
    m->store = calloc(1, size);
    /* every message that can be on its way at once: a node's report and share, or each of its gossip */
    /* messages in flight: rounds of them while a message is on its way (a link of 20 x its mean, or of its
     * p99, counts as long as one gets), each round a node's report, share, renewal and grant, or its gossip */
    double link_ms = m->cfg->link_dist == SCN_SERVICE_LOGNORMAL ? m->cfg->link_p99_ms
                     : m->cfg->link_dist == SCN_SERVICE_EXPONENTIAL ? 20 * m->cfg->link_mean_ms
                                                                   : m->cfg->link_mean_ms;
    int64_t period_us = m->cfg->sync_us ? m->cfg->sync_us : m->cfg->interval_us ? m->cfg->interval_us
                        : m->cfg->lease_us ? m->cfg->lease_us / 2 : 1000000;
    size_t rounds = (size_t)ceil(2 * link_ms * 1000 / (double)(period_us > 0 ? period_us : 1)) + 2;
    if (rounds > 64) rounds = 64;
    size_t per_round = m->cfg->strategy == SCN_FLEET_GOSSIP ? (size_t)nodes * nodes : 3 * (size_t)nodes;
    size_t messages = rounds * per_round;
    if (messages > (size_t)1 << 22) messages = (size_t)1 << 22;   /* 4M (192 MiB): beyond, a message is lost */
    m->cap_events = messages + nodes + 2;
    m->events = malloc(m->cap_events * sizeof *m->events);
    m->added = malloc(sizeof *m->added);
    if (!m->node || !m->store || !m->events || !m->added) goto short_of_memory;
    hist_init(m->added);
    m->store_fresh = 1;
    for (uint32_t i = 0; i < nodes; i++) {
        flt_node *n = &m->node[i];
        n->state = calloc(1, size);
        n->snapshot = m->cfg->strategy == SCN_FLEET_LOCAL_SYNC ? calloc(1, size) : malloc(1);
        if (!n->state || !n->snapshot) goto short_of_memory;
        n->fresh = 1;
        n->fb_tokens = m->cfg->burst / nodes;
        if (m->cfg->strategy == SCN_FLEET_LOCAL_SYNC) {   /* node i's grid: offset by i/N of a sync */
            n->next_grid_us = m->cfg->sync_us * (int64_t)i / (int64_t)nodes;
            flt_push(m, flt_msg(n->next_grid_us, FLT_SEND, i));
            n->next_grid_us += m->cfg->sync_us;
        }
        if (flt_shares(m->cfg)) {   /* an even share to begin with, its bucket full */
            flt_set_share(m, n, 0, 1.0 / nodes);
            n->b.tokens = n->b.burst;
            n->share = 1.0 / nodes;
            n->next_from_us = -1;
            n->lease_until_us = m->cfg->lease_us;
            if (m->cfg->strategy == SCN_FLEET_GOSSIP) {
                if (!(n->heard = calloc(nodes, sizeof *n->heard))) goto short_of_memory;
                /* published in turn, i/N of an interval apart */
                flt_push(m, flt_msg(m->cfg->interval_us + m->cfg->interval_us * (int64_t)i / nodes, FLT_PUBLISH, i));
            }
            if (m->cfg->strategy == SCN_FLEET_CONTROLLER) flt_push(m, flt_msg(m->cfg->interval_us, FLT_REPORT, i));
            if (m->cfg->strategy == SCN_FLEET_LEASE)
                flt_push(m, flt_msg(m->cfg->lease_us / 2 * (nodes + (int64_t)i) / nodes, FLT_RENEW, i));
        }
    }
    if (m->cfg->strategy == SCN_FLEET_CONTROLLER) {
        if (!(m->reported = calloc(nodes, sizeof *m->reported))) goto short_of_memory;
        flt_push(m, flt_msg(m->cfg->interval_us, FLT_CONTROL, UINT32_MAX));
    }
    if (m->cfg->strategy == SCN_FLEET_LEASE) {
        if (!(m->lessee = calloc(nodes, sizeof *m->lessee))) goto short_of_memory;
        for (uint32_t i = 0; i < nodes; i++)
            m->lessee[i] = (flt_lessee){ 0, 1.0 / nodes, 0, m->cfg->lease_us, 0 };
    }
    if (flt_balancer_init(&m->balancer, m->cfg, s) != 0) goto short_of_memory;
    if (m->cfg->link_mean_ms > 0)
        dur_init(&m->link, m->cfg->link_dist, m->cfg->link_mean_ms, m->cfg->link_p99_ms, s->seed, 6);
    return m;
short_of_memory:
    snprintf(err, errlen, "%s: out of memory for a fleet of %u nodes", f->name, f->fleet->nodes);
    flt_destroy(m);
    return NULL;
}

int flt_balancer_init(flt_balancer *b, const scn_fleet *f, const scn_scenario *s)
{
    *b = (flt_balancer){ f, s->seed, kspace_hashes(s->keys), NULL };
    if (f->balance != SCN_BALANCE_WEIGHTED) return 0;
    if (!(b->cum = malloc(f->nodes * sizeof *b->cum))) return -1;
    double sum = 0;
    for (uint32_t i = 0; i < f->nodes; i++) b->cum[i] = sum += f->weights[i];
    return 0;
}

void flt_balancer_free(flt_balancer *b)
{
    free(b->cum);
    b->cum = NULL;
}

uint32_t flt_balance(const flt_balancer *b, uint64_t n, uint32_t key)
{
    uint32_t nodes = b->f->nodes;
    uint64_t r = flt_mix(b->seed * 0xd6e8feb86659fd93ULL ^ n * 0x9e3779b97f4a7c15ULL ^ 0x6c656574ULL);
    switch (b->f->balance) {
    case SCN_BALANCE_ROUND_ROBIN: return (uint32_t)(n % nodes);
    case SCN_BALANCE_RANDOM: return (uint32_t)(r % nodes);
    case SCN_BALANCE_KEY_HASH: return (uint32_t)(flt_mix(b->hashes[key]) % nodes);
    case SCN_BALANCE_WEIGHTED: {
        double x = (double)(r >> 11) * 0x1.0p-53 * b->cum[nodes - 1];
        uint32_t lo = 0, hi = nodes - 1;   /* the first cumulative weight above x */
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (b->cum[mid] > x) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
    }
    return 0;
}

int flt_central(const flt_model *m) { return m->cfg->strategy == SCN_FLEET_CENTRAL; }

int flt_route(flt_model *m, const gen_request *q, uint32_t *node, lim_decision *out)
{
    uint32_t i = flt_balance(&m->balancer, m->n, q->key);
    m->n++;
    *node = i;
    while (m->n_events && m->events[0].t_us <= q->t_us) flt_step(m, flt_pop(m));
    flt_node *n = &m->node[i];
    const lim_ops *ops = m->base->ops;
    int64_t added = 0;
    int ask = 0;
    switch (m->cfg->strategy) {
    case SCN_FLEET_CENTRAL:
        if (flt_cut(m, i, q->t_us)) {
            flt_fallback(m, n, q, out);
            break;
        }
        m->store_calls++;
        added = flt_link(m) + flt_link(m);
        ask = 1;
        break;
    case SCN_FLEET_LOCAL:
        ops->decide(&m->cfg->node_cfg[i], n->state, n->fresh, q->t_us, q->cost, out);
        n->fresh = 0;
        break;
    case SCN_FLEET_LEASE:
    case SCN_FLEET_CONTROLLER:
    case SCN_FLEET_GOSSIP:
        n->offered_since++;
        flt_share_decide(m, n, q, out);
        break;
    case SCN_FLEET_LOCAL_SYNC:
        ops->decide(&m->base->cfg, n->state, n->fresh, q->t_us, q->cost, out);
        n->fresh = 0;
        if (out->allowed) {
            n->since_send += q->cost;
            n->last_admit_us = q->t_us;
        }
        break;
    }
    hist_record(m->added, added);
    return ask;
}

void flt_settle(flt_model *m, uint32_t node, const lim_decision *d)
{
    m->node[node].offered++;
    m->node[node].admitted += d->allowed != 0;
}

void flt_decide(flt_model *m, const gen_request *q, lim_decision *out)
{
    uint32_t node;
    if (flt_route(m, q, &node, out)) m->where.decide(m->where.ctx, q->t_us, q->cost, out);
    flt_settle(m, node, out);
}

int64_t flt_level(const flt_model *m, int64_t now_us)
{
    const lim_ops *ops = m->base->ops;
    if (flt_shares(m->cfg)) {   /* the tokens the nodes hold */
        double sum = 0;
        for (uint32_t i = 0; i < m->cfg->nodes; i++) {
            const flt_node *n = &m->node[i];
            double t = n->b.tokens + n->b.rate_us * (double)(now_us > n->b.at_us ? now_us - n->b.at_us : 0);
            sum += t < n->b.burst ? t : n->b.burst;
        }
        return (int64_t)floor(sum);
    }
    if (m->cfg->strategy != SCN_FLEET_LOCAL)
        return m->where.level(m->where.ctx, now_us);
    int64_t sum = 0;
    for (uint32_t i = 0; i < m->cfg->nodes; i++)
        sum += ops->level(&m->cfg->node_cfg[i], m->node[i].fresh ? NULL : m->node[i].state, now_us);
    return sum;
}

size_t flt_state_bytes(const flt_model *m)
{
    size_t per_node = m->cfg->strategy == SCN_FLEET_LOCAL_SYNC ? 2 : m->cfg->strategy == SCN_FLEET_LOCAL ? 1 : 0;
    return m->base->cfg.state_size * (1 + per_node * m->cfg->nodes);
}

int flt_report_fill(const flt_model *m, flt_report *r)
{
    memset(r, 0, sizeof *r);
    r->nodes = m->cfg->nodes;
    r->offered = malloc(r->nodes * sizeof *r->offered);
    r->admitted = malloc(r->nodes * sizeof *r->admitted);
    if (!r->offered || !r->admitted) {
        flt_report_free(r);
        return -1;
    }
    for (uint32_t i = 0; i < r->nodes; i++) {
        r->offered[i] = m->node[i].offered;
        r->admitted[i] = m->node[i].admitted;
    }
    if (flt_shares(m->cfg)) {
        if (!(r->share = malloc(r->nodes * sizeof *r->share))) {
            flt_report_free(r);
            return -1;
        }
        for (uint32_t i = 0; i < r->nodes; i++) r->share[i] = m->node[i].b.rate_us * 1e6 / m->cfg->rate_per_s;
    }
    r->store_calls = m->store_calls;
    r->fallbacks = m->fallbacks;
    r->lost_messages = m->lost;
    r->syncs = m->syncs;
    r->added_p50_us = hist_quantile(m->added, 0.5);
    r->added_p99_us = hist_quantile(m->added, 0.99);
    r->added_max_us = m->added->total ? m->added->max : 0;
    return 0;
}

void flt_report_free(flt_report *r)
{
    free(r->offered);
    free(r->admitted);
    free(r->share);
    r->offered = r->admitted = NULL;
    r->share = NULL;
}
