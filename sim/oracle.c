/* oracle.c -- see oracle.h. */
#include "oracle.h"
#include "../algorithms/hugemem.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
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

/* An admitted (time, cost) of a window ring, in 8 bytes: the low 42 bits
 * of the key's relative time and the cost (at most LIM_COUNT_MAX < 2^22)
 * above them. Ages are exact while they stay within 2^41 us (25.4 days),
 * which holds because a ring keeps only (t - W, t], W < 2^41 us, and is
 * emptied when its key was idle W or longer: hourly, daily and weekly
 * windows are checked exactly. */
typedef uint64_t orc_entry;

#define ORC_TIME_BITS 42
#define ORC_TIME_MASK (((uint64_t)1 << ORC_TIME_BITS) - 1)
#define ORC_MAX_WINDOW_US ((int64_t)1 << (ORC_TIME_BITS - 1))

_Static_assert((uint64_t)LIM_COUNT_MAX < ((uint64_t)1 << (64 - ORC_TIME_BITS)), "a cost fits above the time");

static inline orc_entry orc_entry_of(int64_t t, int64_t cost)
{
    return ((uint64_t)cost << ORC_TIME_BITS) | ((uint64_t)t & ORC_TIME_MASK);
}

static inline int64_t orc_entry_cost(orc_entry e) { return (int64_t)(e >> ORC_TIME_BITS); }

/* t minus the entry's time: negative for an entry stamped after t (a
 * request that reached the limiter out of time order). */
static inline int64_t orc_entry_age(orc_entry e, int64_t t)
{
    uint64_t d = ((uint64_t)t - e) << (64 - ORC_TIME_BITS);
    return (int64_t)d >> (64 - ORC_TIME_BITS);
}

/* What the check keeps per key: one cache line, aligned (the static
 * assertion below), whatever the family. Times are relative to the
 * key's first (t0), so a run's absolute times never multiply a rate. */
typedef struct {
    _Alignas(64) int64_t t0;    /* first time; INT64_MIN: the key was not seen */
    int64_t last;               /* latest time, relative */
    int64_t admitted;           /* cost admitted so far */
    union {
        /* Bucket and meter. The pairwise bound sum(cost i..j) <= burst +
         * rate*(t_j - t_i) over admitted i <= j is a level: with amounts
         * in 1/unit request, after admitting j at t_j
         *   L_j = cost_j*unit + max(L_prev - rate*(t_j - t_prev), 0)
         * (meter: max(L_prev + cost_j*unit - rate*(t_j - t_prev), 0), the
         * first of a pair free), and j breaks the bound by L_j - burst*unit.
         * This is the running minimum of (admitted before i - rate*t_i)
         * rewritten exactly, for any order of times. */
        struct {
            int64_t level;        /* the limiter's admissions; saturates at INT64_MAX */
            int64_t ref_level;    /* the greedy reference's: never above burst*unit */
            int64_t at, ref_at;   /* when each level was taken; INT64_MIN: nothing admitted yet */
            int64_t pair_from;    /* where the pair ending at the limiter's latest admission starts */
        } b;
        struct {
            int64_t last_departure;   /* INT64_MIN: none yet */
            uint32_t max_admitted_cost;   /* the leaky bucket's free first request, at most */
        } q;
        /* Windows: the limiter's admitted and the reference log's, each a
         * ring in the check's ring memory, and this aligned window's
         * admitted cost by each (the aligned window of `last`). */
        struct {
            int64_t cmp_cost;
            int64_t mine_sum;
            uint32_t ref_sum, cmp_reference;   /* both at most the limit (< 2^32: see orc_ring_setup) */
            uint32_t mine_head, mine_n, ref_head, ref_n;
        } w;
    };
} orc_key;

_Static_assert(sizeof(orc_key) == 64, "an oracle entry is one cache line");

struct orc_check {
    const scn_limiter *l;
    int kind;
    int64_t rate;               /* the rate is `rate` requests per `unit` us, exactly as given: */
    int64_t unit;               /* amounts are kept in 1/unit request, `rate` of them accrue per us */
    int64_t burst;              /* requests */
    int64_t capacity;           /* queue slots */
    int64_t limit, window_us;
    int64_t max_admitted_cost;  /* meter: the free first request, at most (any key's) */
    size_t n_keys;
    orc_key *keys;
    orc_entry *ring_memory;     /* per key: its admitted ring, then its reference ring */
    uint32_t cap_mine, cap_ref;
    double diff_sum;            /* sum of |admitted - reference| over closed windows */
    uint64_t windows;
    orc_report r;
};

/* Ring memory is at most this much; beyond it the windows are not
 * checked (window_checked 0): 512 MiB is 64 entries per key at 1M keys,
 * a limit of 20 (3 x limit + 2 entries each), or a limit of 22M on one key. */
#define ORC_RING_BUDGET (1ULL << 29)

static int orc_ring_setup(orc_check *c, uint32_t cap_mine, uint32_t cap_ref)
{
    size_t per_key = (size_t)cap_mine + cap_ref;
    double bytes = (double)per_key * (double)c->n_keys * sizeof(orc_entry);
    if (c->window_us >= ORC_MAX_WINDOW_US) {
        snprintf(c->r.unchecked, sizeof c->r.unchecked, "a window of %.1f days: the exact check keeps ages up to "
                 "%.1f days", (double)c->window_us / 86400e6, (double)ORC_MAX_WINDOW_US / 86400e6);
        return 0;
    }
    if (bytes > (double)ORC_RING_BUDGET) {
        snprintf(c->r.unchecked, sizeof c->r.unchecked, "the exact window logs would take %.0f MiB (%zu keys x %zu "
                 "entries) and the oracle may use %llu MiB", bytes / (1 << 20), c->n_keys, per_key,
                 (unsigned long long)(ORC_RING_BUDGET >> 20));
        return 0;
    }
    c->ring_memory = hmem_alloc(per_key * c->n_keys * sizeof(orc_entry));
    if (!c->ring_memory) return -1;
    c->cap_mine = cap_mine;
    c->cap_ref = cap_ref;
    return 1;
}

orc_check *orc_check_create(const scn_limiter *l, size_t n_keys)
{
    if (!l->ops || !orc_judges(l->ops)) return NULL;
    orc_check *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->l = l;
    c->n_keys = n_keys;
    /* aligned, so that an entry is one line, not two */
    c->keys = hmem_alloc(n_keys * sizeof *c->keys);
    if (!c->keys) { orc_check_destroy(c); return NULL; }
    for (size_t k = 0; k < n_keys; k++) c->keys[k].t0 = INT64_MIN;
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
        /* (the limit is at most LIM_COUNT_MAX, configured) */
        int fits = c->window_us > 0 ? orc_ring_setup(c, (uint32_t)(2 * c->limit + 2), (uint32_t)c->limit) : 0;
        if (fits < 0) { orc_check_destroy(c); return NULL; }
        if (fits == 0) c->r.window_checked = 0;
        else c->r.wrongly_allowed = c->r.wrongly_blocked = c->r.max_window_cost = 0;
        /* a fixed window's own promise needs only the aligned window's sum,
         * kept per key: it is checked whatever the rings */
        if (fits == 0 && c->kind == ORC_LOG) c->r.violations = (uint64_t)-1;
        break;
    }
    default:   /* the oracle has no promise of it to hold it to */
        orc_check_destroy(c);
        return NULL;
    }
    if (c->kind == ORC_BUCKET || c->kind == ORC_METER) {
        /* the reference's level stays within burst*unit: it must fit */
        if ((orc_i128)c->burst * c->unit >= (orc_i128)INT64_MAX / 2) { orc_check_destroy(c); return NULL; }
        c->r.wrongly_allowed = c->r.wrongly_blocked = 0;
    }
    return c;
}

void orc_check_destroy(orc_check *c)
{
    if (!c) return;
    hmem_free(c->keys, c->n_keys * sizeof *c->keys);
    hmem_free(c->ring_memory, (size_t)(c->cap_mine + c->cap_ref) * c->n_keys * sizeof(orc_entry));
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

/* Saturating 64-bit arithmetic for the bucket's levels: exact while no
 * bound is reached, which at burst*unit < 2^62 is every case but absurd
 * ones (a time gap of centuries, a level already saturated). Where one
 * saturates the decision it feeds is the exact one's (the level is far
 * above the limit, or far below zero); only the size of such a violation
 * is capped. 64-bit, not 128: the level is a dependency from one request
 * of a key to the next, and a 128-bit chain is twice as long. */
static int64_t orc_sat(int overflowed, int64_t v, int negative)
{
    return overflowed ? (negative ? INT64_MIN : INT64_MAX) : v;
}

static int64_t orc_sat_mul(int64_t a, int64_t b)
{
    int64_t v;
    int overflowed = __builtin_mul_overflow(a, b, &v);
    return orc_sat(overflowed, v, (a < 0) != (b < 0));
}

static int64_t orc_sat_add(int64_t a, int64_t b)
{
    int64_t v;
    int overflowed = __builtin_add_overflow(a, b, &v);
    return orc_sat(overflowed, v, a < 0);
}

static int64_t orc_sat_sub(int64_t a, int64_t b)
{
    int64_t v;
    int overflowed = __builtin_sub_overflow(a, b, &v);
    return orc_sat(overflowed, v, a < 0);
}

/* Where a level taken at `at` stands at t, before what t adds: for the
 * bucket, max(level - rate*dt, 0) plus nothing yet; returns the drained
 * amount, negative when the level emptied (a new pair starts). */
static int64_t orc_drained(const orc_check *c, int64_t level, int64_t at, int64_t t)
{
    return orc_sat_sub(level, orc_sat_mul(c->rate, orc_sat_sub(t, at)));
}

/* Bucket family: the reference decides, then the limiter's admission is
 * checked against the bound. */
static void orc_bucket(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, int allowed)
{
    int meter = c->kind == ORC_METER;
    int64_t limit = c->burst * c->unit, amount = orc_sat_mul(cost, c->unit);
    /* the greedy reference: admit whenever the bound still holds */
    int64_t next;
    if (k->b.ref_at == INT64_MIN) next = meter ? 0 : amount;
    else {
        int64_t d = orc_drained(c, k->b.ref_level, k->b.ref_at, t);
        next = meter ? (orc_sat_add(d, amount) > 0 ? orc_sat_add(d, amount) : 0) : orc_sat_add(amount, d > 0 ? d : 0);
    }
    int reference = next <= limit;
    if (reference) {
        k->b.ref_level = next;
        k->b.ref_at = t;
        c->r.reference_admitted += (uint64_t)cost;
    }
    if (allowed && !reference) c->r.wrongly_allowed++;
    if (!allowed && reference) c->r.wrongly_blocked++;
    if (!allowed) return;
    int64_t level;
    if (k->b.at == INT64_MIN) {
        level = meter ? 0 : amount;
        k->b.pair_from = t;
    } else {
        int64_t d = orc_drained(c, k->b.level, k->b.at, t);
        if (meter) {
            level = orc_sat_add(d, amount);
            if (level < 0) { level = 0; k->b.pair_from = t; }
        } else {
            if (d < 0) { d = 0; k->b.pair_from = t; }
            level = orc_sat_add(amount, d);
        }
    }
    k->b.level = level;
    k->b.at = t;
    if (level > limit) orc_violation(c, key, (double)(level - limit) / (double)c->unit, k->t0 + k->b.pair_from, k->t0 + t);
}

static void orc_queue(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, const lim_decision *d)
{
    if (!d->allowed) return;
    if (cost > k->q.max_admitted_cost) k->q.max_admitted_cost = (uint32_t)cost;
    int64_t departure = t + d->delay_us;
    /* the most a request may wait: capacity intervals, rounded up to the us */
    double per_us = (double)c->rate / (double)c->unit;   /* requests per us, for the size of an excess */
    int64_t max_wait = (int64_t)(((orc_i128)c->capacity * c->unit + c->rate - 1) / c->rate);
    if (d->delay_us > max_wait) orc_violation(c, key, (double)(d->delay_us - max_wait) * per_us, t, departure);
    if (k->q.last_departure != INT64_MIN) {
        /* ceil(cost/rate) less the rounding */
        int64_t gap = (int64_t)(((orc_i128)cost * c->unit + c->rate - 1) / c->rate) - 1;
        int64_t got = departure - k->q.last_departure;
        if (got < gap) orc_violation(c, key, (double)(gap - got) * per_us, k->q.last_departure, departure);
    }
    k->q.last_departure = departure;
}

/* One window ring of a key: its entries, capacity, first and count, and
 * where it starts again once empty. The admitted ring starts again at its
 * last slot and the reference ring at its first, side by side (in one
 * cache line but when a line ends between them, one key in eight): a key
 * that comes back after a window, as most of a large Zipf key set does,
 * touches one line of ring memory, not two, and it is the line
 * orc_check_prefetch asks for. */
typedef struct {
    orc_entry *e;
    uint32_t cap, *head, *n, home;
} orc_ring;

/* Drops entries at or before t - W; returns the cost dropped. */
static int64_t orc_ring_expire(orc_ring g, int64_t t, int64_t w)
{
    int64_t dropped = 0;
    while (*g.n && orc_entry_age(g.e[*g.head], t) >= w) {
        dropped += orc_entry_cost(g.e[*g.head]);
        *g.head = *g.head + 1 == g.cap ? 0 : *g.head + 1;
        --*g.n;
    }
    if (*g.n == 0) *g.head = g.home;
    return dropped;
}

/* Where key's admitted ring starts; its reference ring follows it. */
static orc_entry *orc_rings_of(const orc_check *c, uint32_t key)
{
    return c->ring_memory + (size_t)key * (c->cap_mine + c->cap_ref);
}

/* Appends; when full (far beyond twice the limit) keeps the newest.
 * Returns the cost that fell out. */
static int64_t orc_ring_push(orc_ring g, int64_t t, int64_t cost)
{
    int64_t out = 0;
    if (*g.n == g.cap) {
        out = orc_entry_cost(g.e[*g.head]);
        *g.head = *g.head + 1 == g.cap ? 0 : *g.head + 1;
        --*g.n;
    }
    uint32_t at = *g.head + *g.n;
    g.e[at >= g.cap ? at - g.cap : at] = orc_entry_of(t, cost);
    ++*g.n;
    return out;
}

/* The window families. Without rings (window_checked 0) only the aligned
 * window's sums are kept: the fixed window's promise, and nothing that
 * needs the exact log. */
static void orc_windows(orc_check *c, orc_key *k, uint32_t key, int64_t t, int64_t cost, int allowed, int64_t before)
{
    int rings = c->ring_memory != NULL;
    orc_entry *base = rings ? orc_rings_of(c, key) : NULL;
    orc_ring mine = { base, c->cap_mine, &k->w.mine_head, &k->w.mine_n, c->cap_mine - 1 };
    orc_ring ref = { base ? base + c->cap_mine : NULL, c->cap_ref, &k->w.ref_head, &k->w.ref_n, 0 };
    if (rings) {
        if (t - before >= c->window_us) {   /* idle a window or more: all expired (and 42-bit ages stay exact) */
            k->w.mine_n = k->w.ref_n = 0;
            k->w.mine_sum = k->w.ref_sum = 0;
        }
        k->w.mine_sum -= orc_ring_expire(mine, t, c->window_us);
        k->w.ref_sum -= (uint32_t)orc_ring_expire(ref, t, c->window_us);
    }
    /* this aligned window against the one of the latest earlier request:
     * a later one closes it; a late request of an earlier one, out of
     * order, is compared nowhere */
    int64_t aligned = orc_floor_div(k->t0 + t, c->window_us), start = aligned * c->window_us;
    int64_t open_since = k->t0 + before - start;   /* where the open window's time falls in this one */
    int compared = open_since < c->window_us;      /* the open window is this one or an earlier one */
    if (open_since < 0) {                          /* an earlier one: this request closes it */
        c->diff_sum += (double)llabs(k->w.cmp_cost - (int64_t)k->w.cmp_reference);
        c->windows++;
        k->w.cmp_cost = 0;
        k->w.cmp_reference = 0;
    }
    if (allowed && compared) k->w.cmp_cost += cost;
    if (c->kind == ORC_FIXED && allowed && compared && k->w.cmp_cost > c->limit)
        orc_violation(c, key, (double)(k->w.cmp_cost - c->limit), start, k->t0 + t);
    if (!rings) return;
    int reference = (int64_t)k->w.ref_sum + cost <= c->limit;
    if (reference) {
        if (compared) k->w.cmp_reference += (uint32_t)cost;
        k->w.ref_sum += (uint32_t)cost - (uint32_t)orc_ring_push(ref, t, cost);
        c->r.reference_admitted += (uint64_t)cost;
    }
    if (allowed && !reference) c->r.wrongly_allowed++;
    if (!allowed && reference) c->r.wrongly_blocked++;
    if (!allowed) return;
    k->w.mine_sum += cost - orc_ring_push(mine, t, cost);
    if (k->w.mine_sum > c->r.max_window_cost) c->r.max_window_cost = k->w.mine_sum;
    if (c->kind == ORC_LOG && k->w.mine_sum > c->limit)
        orc_violation(c, key, (double)(k->w.mine_sum - c->limit),
                      k->t0 + t - orc_entry_age(mine.e[k->w.mine_head], t), k->t0 + t);
}

void orc_check_prefetch(const orc_check *c, uint32_t key)
{
    __builtin_prefetch(&c->keys[key], 1);
    /* the line where an emptied ring starts again: where a key that was
     * idle, or seen once a window, keeps its entries (orc_ring: home) */
    if (c->ring_memory) __builtin_prefetch(orc_rings_of(c, key) + c->cap_mine - 1, 1);
}

int orc_check_has_rings(const orc_check *c) { return c->ring_memory != NULL; }

void orc_check_prefetch_rings(const orc_check *c, uint32_t key)
{
    const orc_key *k = &c->keys[key];
    if (k->t0 == INT64_MIN) return;
    const orc_entry *base = orc_rings_of(c, key);
    uint32_t mine_tail = k->w.mine_head + k->w.mine_n, ref_tail = k->w.ref_head + k->w.ref_n;
    __builtin_prefetch(&base[k->w.mine_head], 1);
    __builtin_prefetch(&base[mine_tail >= c->cap_mine ? mine_tail - c->cap_mine : mine_tail], 1);
    base += c->cap_mine;
    __builtin_prefetch(&base[k->w.ref_head], 1);
    __builtin_prefetch(&base[ref_tail >= c->cap_ref ? ref_tail - c->cap_ref : ref_tail], 1);
}

/* Above 1 MiB of entries (16384 keys) they leave this machine's L2 */
int orc_check_worth_prefetching(const orc_check *c) { return c->n_keys * sizeof(orc_key) > (1u << 20); }

/* orc_check_add's body, inlined into the batch form's loop. */
static inline __attribute__((always_inline)) void orc_add(orc_check *c, uint32_t key, int64_t t_us, uint32_t cost,
                                                          const lim_decision *d)
{
    orc_key *k = &c->keys[key];
    if (k->t0 == INT64_MIN) {
        memset(k, 0, sizeof *k);
        k->t0 = t_us;
        if (c->kind == ORC_BUCKET || c->kind == ORC_METER) k->b.at = k->b.ref_at = INT64_MIN;
        if (c->kind == ORC_QUEUE) k->q.last_departure = INT64_MIN;
    }
    c->r.offered++;
    if (d->allowed) c->r.admitted++; else c->r.dropped++;
    int64_t t = t_us - k->t0, before = k->last;
    if (t > k->last) k->last = t;
    if (d->allowed) k->admitted += cost;
    if (d->allowed && c->kind == ORC_METER && cost > c->max_admitted_cost) c->max_admitted_cost = cost;
    switch (c->kind) {
    case ORC_BUCKET:
    case ORC_METER: orc_bucket(c, k, key, t, cost, d->allowed); break;
    case ORC_QUEUE: orc_queue(c, k, key, t, cost, d); break;
    default: orc_windows(c, k, key, t, cost, d->allowed, before);
    }
}

void orc_check_add(orc_check *c, uint32_t key, int64_t t_us, uint32_t cost, const lim_decision *d)
{
    orc_add(c, key, t_us, cost, d);
}

void orc_check_add_batch(orc_check *c, const gen_request *q, const lim_decision *d, size_t n, int global)
{
    if (global)
        for (size_t i = 0; i < n; i++) orc_add(c, 0, q[i].t_us, q[i].cost, &d[i]);
    else
        for (size_t i = 0; i < n; i++) orc_add(c, q[i].key, q[i].t_us, q[i].cost, &d[i]);
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
    /* a lost request is a violation even where the rest was not checked */
    if (lost) r->violations = (r->violations == (uint64_t)-1 ? 0 : r->violations) + lost;
    return lost;
}

void orc_check_report(const orc_check *c, orc_report *r)
{
    *r = c->r;
    r->mean_window_diff = -1;
    if (c->ring_memory) {
        double sum = c->diff_sum;
        uint64_t windows = c->windows;
        for (size_t i = 0; i < c->n_keys; i++) {   /* the windows still open */
            const orc_key *k = &c->keys[i];
            if (k->t0 != INT64_MIN) { sum += (double)llabs(k->w.cmp_cost - (int64_t)k->w.cmp_reference); windows++; }
        }
        r->mean_window_diff = windows ? sum / (double)windows : 0;
    }
    r->over_admitted = 0;
    if (c->kind == ORC_COUNTER) { r->over_admitted = -1; return; }
    double over = 0;
    for (size_t i = 0; i < c->n_keys; i++) {
        const orc_key *k = &c->keys[i];
        if (k->t0 == INT64_MIN || k->admitted == 0) continue;
        /* the rate term is exact to about 1e-9 of a request: floor what may pass */
        /* The leaky bucket's free first request is the first the limiter
         * saw, which under concurrent clients need not be the first in
         * time: the largest admitted cost bounds it either way. */
        int64_t free_cost = c->kind == ORC_QUEUE ? k->q.max_admitted_cost : c->max_admitted_cost;
        double allowed = floor(orc_bound(c->l, k->t0, k->t0 + k->last, free_cost) + 1e-6);
        if ((double)k->admitted > allowed) over += (double)k->admitted - allowed;
    }
    r->over_admitted = (int64_t)over;
}
