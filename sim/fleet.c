/* fleet.c -- see fleet.h. */
#include "fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "downstream.h"
#include "hist.h"
#include "keyspace.h"

static int flt_no_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)values, (void)rates, (void)cfg;
    snprintf(err, errlen, "a fleet is configured by its limiter");
    return -1;
}

const lim_entry fleet_entry = {
    .name = "fleet",
    .kind = LIM_KIND_FLEET,
    .summary = "N gateway nodes sharing one global limit (central, local split, local with periodic sync)",
    .level_name = "level",
    .params = NULL,
    .n_params = 0,
    .configure = flt_no_configure,
};

const char *const flt_strategy_names[] = { "central", "local", "local_sync", NULL };
const char *const flt_balance_names[] = { "round_robin", "random", "key_hash", "weighted", NULL };

typedef enum { FLT_SEND, FLT_ARRIVE, FLT_REPLY } flt_step;

/* A node's next sync message: one pending per node at a time. */
typedef struct {
    int64_t t_us;
    uint32_t node;
    flt_step step;
} flt_event;

typedef struct {
    unsigned char *state;      /* its limiter (local) or its replica of the store's (local_sync) */
    int fresh;                 /* state never set */
    unsigned char *snapshot;   /* local_sync: the store's state its pull carries back */
    int snapshot_fresh;
    int64_t since_send;        /* cost admitted since its last push left */
    int64_t last_admit_us;     /* when it admitted the last of it */
    int64_t pushing, pushing_at_us;   /* the push in flight: its cost, and when the last of it was admitted */
    int64_t next_grid_us;      /* its next sync time on its grid */
    uint64_t offered, admitted;
} flt_node;

struct flt_model {
    const scn_scenario *s;
    const scn_limiter *f, *base;
    const scn_fleet *cfg;
    flt_node *node;
    unsigned char *store;      /* central, local_sync: the store's state */
    int store_fresh;
    flt_event *events;         /* min-heap by (time, node), one per node */
    size_t n_events;
    double *cum_weights;       /* balance weighted: cumulative */
    dsm_service link;
    uint64_t n;                /* requests decided: the balancer's count */
    uint64_t store_calls, syncs;
    hist *added;
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

static int flt_earlier(const flt_event *a, const flt_event *b)
{
    return a->t_us < b->t_us || (a->t_us == b->t_us && a->node < b->node);
}

static void flt_push(flt_model *m, flt_event e)
{
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

/* One way over the link. */
static int64_t flt_link(flt_model *m) { return m->cfg->link_mean_ms > 0 ? dsm_service_draw(&m->link) : 0; }

/* Charges `cost` to state at t_us, whatever it holds (a delta another
 * node, or this one, admitted already). */
static void flt_consume(const flt_model *m, unsigned char *state, int *fresh, int64_t t_us, int64_t cost)
{
    if (cost <= 0) return;
    m->base->ops->consume(&m->base->cfg, state, *fresh, t_us, cost);
    *fresh = 0;
}

/* Handles one sync message of node e.node. */
static void flt_step_sync(flt_model *m, flt_event e)
{
    flt_node *n = &m->node[e.node];
    size_t size = m->base->cfg.state_size;
    switch (e.step) {
    case FLT_SEND:
        n->pushing = n->since_send;
        n->pushing_at_us = n->last_admit_us;
        n->since_send = 0;
        flt_push(m, (flt_event){ e.t_us + flt_link(m), e.node, FLT_ARRIVE });
        break;
    case FLT_ARRIVE:   /* INCRBY the delta, GET the total */
        /* charged as of the delta's last admission: the window it was counted in, the bucket's refill until then */
        flt_consume(m, m->store, &m->store_fresh, n->pushing_at_us, n->pushing);
        n->pushing = 0;
        memcpy(n->snapshot, m->store, size);
        n->snapshot_fresh = m->store_fresh;
        m->store_calls += 2;
        flt_push(m, (flt_event){ e.t_us + flt_link(m), e.node, FLT_REPLY });
        break;
    case FLT_REPLY:
        memcpy(n->state, n->snapshot, size);
        n->fresh = n->snapshot_fresh;
        flt_consume(m, n->state, &n->fresh, n->last_admit_us, n->since_send);
        m->syncs++;
        while (n->next_grid_us <= e.t_us) n->next_grid_us += m->cfg->sync_us;
        flt_push(m, (flt_event){ n->next_grid_us, e.node, FLT_SEND });
        break;
    }
}

void flt_destroy(flt_model *m)
{
    if (!m) return;
    if (m->node)
        for (uint32_t i = 0; i < m->cfg->nodes; i++) {
            free(m->node[i].state);
            free(m->node[i].snapshot);
        }
    free(m->node);
    free(m->store);
    free(m->events);
    free(m->cum_weights);
    free(m->added);
    free(m);
}

flt_model *flt_create(const scn_scenario *s, const scn_limiter *f, char *err, size_t errlen)
{
    flt_model *m = calloc(1, sizeof *m);
    if (!m) goto short_of_memory;
    m->s = s;
    m->f = f;
    m->base = f->base;
    m->cfg = f->fleet;
    uint32_t nodes = m->cfg->nodes;
    size_t size = m->base->cfg.state_size ? m->base->cfg.state_size : 1;
    m->node = calloc(nodes, sizeof *m->node);
    m->store = calloc(1, size);
    m->events = malloc(nodes * sizeof *m->events);
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
        if (m->cfg->strategy == SCN_FLEET_LOCAL_SYNC) {   /* node i's grid: offset by i/N of a sync */
            n->next_grid_us = m->cfg->sync_us * (int64_t)i / (int64_t)nodes;
            flt_push(m, (flt_event){ n->next_grid_us, i, FLT_SEND });
            n->next_grid_us += m->cfg->sync_us;
        }
    }
    if (m->cfg->balance == SCN_BALANCE_WEIGHTED) {
        if (!(m->cum_weights = malloc(nodes * sizeof *m->cum_weights))) goto short_of_memory;
        double sum = 0;
        for (uint32_t i = 0; i < nodes; i++) m->cum_weights[i] = sum += m->cfg->weights[i];
    }
    scn_downstream link = { .present = 1, .dist = m->cfg->link_dist, .mean_ms = m->cfg->link_mean_ms,
                            .p99_ms = m->cfg->link_p99_ms };
    if (m->cfg->link_mean_ms > 0) dsm_service_init(&m->link, &link, s->seed, 6);
    return m;
short_of_memory:
    snprintf(err, errlen, "%s: out of memory for a fleet of %u nodes", f->name, f->fleet->nodes);
    flt_destroy(m);
    return NULL;
}

/* The node the balancer sends request q to. */
static uint32_t flt_node_of(flt_model *m, const gen_request *q)
{
    uint32_t nodes = m->cfg->nodes;
    uint64_t r = flt_mix(m->s->seed * 0xd6e8feb86659fd93ULL ^ m->n * 0x9e3779b97f4a7c15ULL ^ 0x6c656574ULL);
    switch (m->cfg->balance) {
    case SCN_BALANCE_ROUND_ROBIN: return (uint32_t)(m->n % nodes);
    case SCN_BALANCE_RANDOM: return (uint32_t)(r % nodes);
    case SCN_BALANCE_KEY_HASH: return (uint32_t)(flt_mix(kspace_hashes(m->s->keys)[q->key]) % nodes);
    case SCN_BALANCE_WEIGHTED: {
        double x = (double)(r >> 11) * 0x1.0p-53 * m->cum_weights[nodes - 1];
        uint32_t lo = 0, hi = nodes - 1;   /* the first cumulative weight above x */
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (m->cum_weights[mid] > x) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
    }
    return 0;
}

void flt_decide(flt_model *m, const gen_request *q, lim_decision *out)
{
    uint32_t i = flt_node_of(m, q);
    m->n++;
    flt_node *n = &m->node[i];
    while (m->n_events && m->events[0].t_us <= q->t_us) flt_step_sync(m, flt_pop(m));
    const lim_ops *ops = m->base->ops;
    int64_t added = 0;
    switch (m->cfg->strategy) {
    case SCN_FLEET_CENTRAL:
        ops->decide(&m->base->cfg, m->store, m->store_fresh, q->t_us, q->cost, out);
        m->store_fresh = 0;
        m->store_calls++;
        added = flt_link(m) + flt_link(m);
        break;
    case SCN_FLEET_LOCAL:
        ops->decide(&m->cfg->node_cfg[i], n->state, n->fresh, q->t_us, q->cost, out);
        n->fresh = 0;
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
    n->offered++;
    n->admitted += out->allowed != 0;
}

int64_t flt_level(const flt_model *m, int64_t now_us)
{
    const lim_ops *ops = m->base->ops;
    if (m->cfg->strategy != SCN_FLEET_LOCAL)
        return ops->level(&m->base->cfg, m->store_fresh ? NULL : m->store, now_us);
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
    r->store_calls = m->store_calls;
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
    r->offered = r->admitted = NULL;
}
