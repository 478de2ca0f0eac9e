/* oracle.c -- see oracle.h. */
#include "oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t orc_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* A parameter of l by name: the oracle reads the parameters as given, not
 * the algorithm's integer config. */
static double orc_param(const scn_limiter *l, const char *name)
{
    for (size_t i = 0; i < l->ops->n_params; i++)
        if (strcmp(l->ops->params[i].name, name) == 0) return l->values[i];
    return NAN;
}

/* Most cost one key may have admitted over [first_us, last_us];
 * `free_cost` is what the leaky bucket lets through on top of its
 * capacity: the cost of the first request the limiter saw of the key. */
static double orc_bound(const scn_limiter *l, int64_t first_us, int64_t last_us, int64_t free_cost)
{
    const lim_facts *f = &l->ops->facts;
    double span_s = (double)(last_us - first_us) / 1e6;
    int64_t w;
    switch (f->family) {
    case LIM_ORACLE_BUCKET: return orc_param(l, f->burst_param) + orc_param(l, "rate") * span_s;
    case LIM_ORACLE_LEAKY:
        /* meter: a new key's first request passes whatever its cost, then
         * capacity more back-to-back; queue: the first departs at once,
         * then capacity waits */
        return orc_param(l, "capacity") + (double)free_cost + orc_param(l, "rate") * span_s;
    case LIM_ORACLE_WINDOW_FIXED:   /* limit in every window the span touches */
        w = (int64_t)llround(orc_param(l, "window_ms") * 1000.0);
        return orc_param(l, "limit") * (double)(orc_floor_div(last_us, w) - orc_floor_div(first_us, w) + 1);
    case LIM_ORACLE_WINDOW_LOG:   /* [first, last] is covered by this many disjoint (t - w, t] */
        w = (int64_t)llround(orc_param(l, "window_ms") * 1000.0);
        return orc_param(l, "limit") * (double)((last_us - first_us + 1 + w - 1) / w);
    default: return NAN;
    }
}

double orc_rate_per_s(const scn_limiter *l)
{
    if (!l->ops) return NAN;
    switch (l->ops->facts.family) {
    case LIM_ORACLE_BUCKET:
    case LIM_ORACLE_LEAKY: return orc_param(l, "rate");
    case LIM_ORACLE_WINDOW_FIXED:
    case LIM_ORACLE_WINDOW_LOG:
    case LIM_ORACLE_WINDOW_ESTIMATE: return orc_param(l, "limit") / (orc_param(l, "window_ms") / 1000.0);
    default: return NAN;
    }
}

/* ---- the streaming check -------------------------------------------------------------- */

typedef __int128 orc_i128;

enum { ORC_BUCKET, ORC_METER, ORC_QUEUE, ORC_LOG, ORC_FIXED, ORC_COUNTER };

typedef struct {
    int64_t t_us, cost;
} orc_entry;

/* A ring of admitted (time, cost) per key, summing what is in (t - W, t]. */
typedef struct {
    orc_entry *e;
    uint32_t cap, head, n;
    int64_t sum;
} orc_ring;

typedef struct {
    int seen;
    int64_t t0;                 /* first time: times are taken relative to it */
    int64_t last;               /* latest time, relative */
    int64_t admitted;           /* cost admitted so far */
    int64_t max_admitted_cost;  /* the largest cost admitted: the leaky bucket's free first request */
    orc_i128 min;               /* bucket: min over admitted i of (C_before_i - rate*t_i), or meter's form */
    int64_t min_t;
    int64_t ref_admitted;       /* the greedy reference's cost so far */
    orc_i128 ref_min;
    int64_t last_departure;     /* queue */
    int has_departure;
    int64_t window, window_cost;    /* fixed_window's aligned window */
    int64_t cmp_window, cmp_cost, cmp_reference;   /* this aligned window's admitted cost, and the reference's */
} orc_key;

struct orc_check {
    const scn_limiter *l;
    int kind;
    int64_t rate;               /* the rate is `rate` requests per `unit` us, exactly as given: */
    int64_t unit;               /* amounts are kept in 1/unit request, `rate` of them accrue per us */
    int64_t burst;              /* requests */
    int64_t capacity;           /* queue slots */
    int64_t limit, window_us;
    size_t n_keys;
    orc_key *keys;
    orc_ring *admitted_ring;    /* the limiter's admitted, windows */
    orc_ring *reference_ring;   /* the reference sliding log's admitted */
    orc_entry *ring_memory;
    double diff_sum;            /* sum of |admitted - reference| over closed windows */
    uint64_t windows;
    orc_report r;
};

#define ORC_RING_BUDGET (1ULL << 30)

static int orc_ring_setup(orc_check *c, uint32_t cap_admitted, uint32_t cap_reference)
{
    size_t per_key = (size_t)cap_admitted + cap_reference;
    if ((double)per_key * (double)c->n_keys * sizeof(orc_entry) > (double)ORC_RING_BUDGET) return 0;
    c->ring_memory = malloc(per_key * c->n_keys * sizeof(orc_entry));
    c->admitted_ring = calloc(c->n_keys, sizeof *c->admitted_ring);
    c->reference_ring = calloc(c->n_keys, sizeof *c->reference_ring);
    if (!c->ring_memory || !c->admitted_ring || !c->reference_ring) return -1;
    for (size_t k = 0; k < c->n_keys; k++) {
        c->admitted_ring[k] = (orc_ring){ c->ring_memory + k * per_key, cap_admitted, 0, 0, 0 };
        c->reference_ring[k] = (orc_ring){ c->ring_memory + k * per_key + cap_admitted, cap_reference, 0, 0, 0 };
    }
    return 1;
}

orc_check *orc_check_create(const scn_limiter *l, size_t n_keys)
{
    if (!l->ops || !orc_judges(l->ops)) return NULL;
    orc_check *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->l = l;
    c->n_keys = n_keys;
    c->keys = calloc(n_keys, sizeof *c->keys);
    if (!c->keys) { orc_check_destroy(c); return NULL; }
    c->r.wrongly_allowed = c->r.wrongly_blocked = -1;
    c->r.max_window_cost = -1;
    c->r.window_checked = 1;
    /* the rate as the user stated it: a count per period, or (a whole
     * number per second, naive_token_bucket) that over one second */
    int ri = lim_param_index(l->entry, "rate");
    if (ri >= 0 && l->ops->params[ri].kind == LIM_PARAM_RATE) {
        c->rate = l->rates[ri].count;
        c->unit = l->rates[ri].per_us;
    } else if (ri >= 0) {
        c->rate = (int64_t)l->values[ri];
        c->unit = 1000000;
    }
    switch (l->ops->facts.family) {
    case LIM_ORACLE_BUCKET:
        c->kind = ORC_BUCKET;
        c->burst = (int64_t)orc_param(l, l->ops->facts.burst_param);
        break;
    case LIM_ORACLE_LEAKY:
        c->capacity = (int64_t)orc_param(l, "capacity");
        c->kind = orc_param(l, "mode") == 1 ? ORC_METER : ORC_QUEUE;
        c->burst = c->capacity;
        break;
    case LIM_ORACLE_WINDOW_LOG:
    case LIM_ORACLE_WINDOW_FIXED:
    case LIM_ORACLE_WINDOW_ESTIMATE: {
        lim_oracle_family f = l->ops->facts.family;
        c->kind = f == LIM_ORACLE_WINDOW_LOG ? ORC_LOG : f == LIM_ORACLE_WINDOW_FIXED ? ORC_FIXED : ORC_COUNTER;
        c->limit = (int64_t)orc_param(l, "limit");
        c->window_us = (int64_t)llround(orc_param(l, "window_ms") * 1000.0);
        /* every cost is >= 1: an approximation may admit up to twice the
         * limit in a window, the reference at most the limit */
        int fits = orc_ring_setup(c, (uint32_t)(2 * c->limit + 2), (uint32_t)c->limit);
        if (fits < 0) { orc_check_destroy(c); return NULL; }
        if (fits == 0) c->r.window_checked = 0;
        else c->r.wrongly_allowed = c->r.wrongly_blocked = c->r.max_window_cost = 0;
        break;
    }
    default:   /* the oracle has no promise of it to hold it to */
        orc_check_destroy(c);
        return NULL;
    }
    if (c->kind == ORC_BUCKET || c->kind == ORC_METER) c->r.wrongly_allowed = c->r.wrongly_blocked = 0;
    return c;
}

void orc_check_destroy(orc_check *c)
{
    if (!c) return;
    free(c->keys);
    free(c->admitted_ring);
    free(c->reference_ring);
    free(c->ring_memory);
    free(c);
}

static void orc_violation(orc_check *c, uint32_t key, double excess, int64_t from_us, int64_t to_us)
{
    c->r.violations++;
    if (excess > c->r.worst_excess) {
        c->r.worst_excess = excess;
        c->r.worst_key = key;
        c->r.worst_from_us = from_us;
        c->r.worst_to_us = to_us;
    }
}

/* Drops entries at or before t - W; returns the cost left in (t - W, t]. */
static int64_t orc_ring_expire(orc_ring *g, int64_t t_us, int64_t w)
{
    while (g->n && g->e[g->head].t_us <= t_us - w) {
        g->sum -= g->e[g->head].cost;
        g->head = (g->head + 1) % g->cap;
        g->n--;
    }
    return g->sum;
}

static void orc_ring_push(orc_ring *g, int64_t t_us, int64_t cost)
{
    if (g->n == g->cap) {  /* only when far beyond twice the limit: keep the newest */
        g->sum -= g->e[g->head].cost;
        g->head = (g->head + 1) % g->cap;
        g->n--;
    }
    g->e[(g->head + g->n) % g->cap] = (orc_entry){ t_us, cost };
    g->n++;
    g->sum += cost;
}

/* Bucket family: the pairwise bound through a running minimum. `meter`
 * makes the first request of a pair free (its cost joins the minimum). */
static void orc_bucket(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, int allowed)
{
    int meter = c->kind == ORC_METER;
    orc_i128 rt = (orc_i128)c->rate * t, limit = (orc_i128)c->burst * c->unit;
    /* the greedy reference: admit whenever the bound still holds */
    orc_i128 before = (orc_i128)k->ref_admitted * c->unit - rt;
    orc_i128 after = before + (orc_i128)cost * c->unit;
    orc_i128 term = meter ? after : before;
    orc_i128 min = k->ref_admitted > 0 && k->ref_min < term ? k->ref_min : term;
    int reference = after - min <= limit;
    if (reference) {
        k->ref_admitted += cost;
        k->ref_min = min;
        c->r.reference_admitted += (uint64_t)cost;
    }
    if (allowed && !reference) c->r.wrongly_allowed++;
    if (!allowed && reference) c->r.wrongly_blocked++;
    if (!allowed) return;
    /* k->admitted already counts this request */
    before = (orc_i128)(k->admitted - cost) * c->unit - rt;
    after = before + (orc_i128)cost * c->unit;
    term = meter ? after : before;
    if (k->admitted == cost || term < k->min) { k->min = term; k->min_t = t; }
    orc_i128 excess = after - k->min - limit;
    if (excess > 0) orc_violation(c, key, (double)excess / (double)c->unit, k->t0 + k->min_t, k->t0 + t);
}

static void orc_queue(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, const lim_decision *d)
{
    if (!d->allowed) return;
    int64_t departure = t + d->delay_us;
    /* the most a request may wait: capacity intervals, rounded up to the us */
    double per_us = (double)c->rate / (double)c->unit;   /* requests per us, for the size of an excess */
    int64_t max_wait = (int64_t)(((orc_i128)c->capacity * c->unit + c->rate - 1) / c->rate);
    if (d->delay_us > max_wait) orc_violation(c, key, (double)(d->delay_us - max_wait) * per_us, t, departure);
    if (k->has_departure) {
        /* ceil(cost/rate) less the rounding */
        int64_t gap = (int64_t)(((orc_i128)cost * c->unit + c->rate - 1) / c->rate) - 1;
        int64_t got = departure - k->last_departure;
        if (got < gap) orc_violation(c, key, (double)(gap - got) * per_us, k->last_departure, departure);
    }
    k->last_departure = departure;
    k->has_departure = 1;
}

static void orc_close_window(orc_check *c, orc_key *k)
{
    if (k->cmp_window == INT64_MIN) return;
    c->diff_sum += (double)llabs(k->cmp_cost - k->cmp_reference);
    c->windows++;
}

static void orc_windows(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, int allowed)
{
    orc_ring *mine = &c->admitted_ring[key], *ref = &c->reference_ring[key];
    int64_t aligned = orc_floor_div(k->t0 + t, c->window_us);
    if (aligned != k->cmp_window) {
        orc_close_window(c, k);
        k->cmp_window = aligned;
        k->cmp_cost = k->cmp_reference = 0;
    }
    int reference = orc_ring_expire(ref, t, c->window_us) + cost <= c->limit;
    if (reference) k->cmp_reference += cost;
    if (allowed) k->cmp_cost += cost;
    if (reference) {
        orc_ring_push(ref, t, cost);
        c->r.reference_admitted += (uint64_t)cost;
    }
    if (allowed && !reference) c->r.wrongly_allowed++;
    if (!allowed && reference) c->r.wrongly_blocked++;
    if (!allowed) return;
    orc_ring_expire(mine, t, c->window_us);
    orc_ring_push(mine, t, cost);
    if (mine->sum > c->r.max_window_cost) c->r.max_window_cost = mine->sum;
    if (c->kind == ORC_LOG && mine->sum > c->limit)
        orc_violation(c, key, (double)(mine->sum - c->limit), k->t0 + mine->e[mine->head].t_us, k->t0 + t);
    if (c->kind == ORC_FIXED) {
        int64_t idx = orc_floor_div(k->t0 + t, c->window_us);
        if (idx != k->window) { k->window = idx; k->window_cost = 0; }
        k->window_cost += cost;
        if (k->window_cost > c->limit)
            orc_violation(c, key, (double)(k->window_cost - c->limit), idx * c->window_us, k->t0 + t);
    }
}

void orc_check_add(orc_check *c, uint32_t key, int64_t t_us, uint32_t cost, const lim_decision *d)
{
    orc_key *k = &c->keys[key];
    if (!k->seen) {
        k->seen = 1;
        k->t0 = t_us;
        k->window = INT64_MIN;
        k->cmp_window = INT64_MIN;
    }
    c->r.offered++;
    if (d->allowed) c->r.admitted++; else c->r.dropped++;
    int64_t t = t_us - k->t0;
    if (t > k->last) k->last = t;
    if (d->allowed) k->admitted += cost;
    if (d->allowed && cost > k->max_admitted_cost) k->max_admitted_cost = cost;
    switch (c->kind) {
    case ORC_BUCKET:
    case ORC_METER: orc_bucket(c, k, key, t, cost, d->allowed); break;
    case ORC_QUEUE: orc_queue(c, k, key, t, cost, d); break;
    default:
        if (c->r.window_checked) orc_windows(c, k, key, t, cost, d->allowed);
    }
}

void orc_check_count(orc_check *c, const lim_decision *d)
{
    c->r.offered++;
    if (d->allowed) c->r.admitted++; else c->r.dropped++;
}

static uint64_t orc_diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

uint64_t orc_conservation(orc_report *r, uint64_t offered, uint64_t admitted, uint64_t dropped)
{
    uint64_t lost = orc_diff(r->offered, offered) + orc_diff(r->admitted, admitted) + orc_diff(r->dropped, dropped) +
                    orc_diff(admitted + dropped, offered);
    if (lost && r->violations != (uint64_t)-1) r->violations += lost;
    return lost;
}

void orc_check_report(const orc_check *c, orc_report *r)
{
    *r = c->r;
    r->mean_window_diff = -1;
    if (c->admitted_ring) {
        double sum = c->diff_sum;
        uint64_t windows = c->windows;
        for (size_t i = 0; i < c->n_keys; i++) {   /* the windows still open */
            const orc_key *k = &c->keys[i];
            if (k->seen && k->cmp_window != INT64_MIN) { sum += (double)llabs(k->cmp_cost - k->cmp_reference); windows++; }
        }
        r->mean_window_diff = windows ? sum / (double)windows : 0;
    }
    r->over_admitted = 0;
    if (c->kind == ORC_COUNTER) { r->over_admitted = -1; return; }
    double over = 0;
    for (size_t i = 0; i < c->n_keys; i++) {
        const orc_key *k = &c->keys[i];
        if (!k->seen || k->admitted == 0) continue;
        /* the rate term is exact to about 1e-9 of a request: floor what may pass */
        /* The leaky bucket's free first request is the first the limiter
         * saw, which under concurrent clients need not be the first in
         * time: the largest admitted cost bounds it either way. */
        double allowed = floor(orc_bound(c->l, k->t0, k->t0 + k->last, k->max_admitted_cost) + 1e-6);
        if ((double)k->admitted > allowed) over += (double)k->admitted - allowed;
    }
    r->over_admitted = (int64_t)over;
}
