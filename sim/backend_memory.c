/* backend_memory.c -- see backend_memory.h. */
#include "backend_memory.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/keystore.h"
#include "chain.h"
#include "fleet.h"

struct bmem {
    unsigned sample_mask;
    uint64_t n;
    double ns_per_cycle;         /* clk_cycles' rate, measured once */
    const scn_scenario *s;
    const scn_limiter *l;
    ks_store *store;
    /* a chain: a store per tier, and each tier's state copied for a decision */
    size_t n_tiers;
    ks_store *tier_store[SCN_MAX_TIERS];
    void *scratch[SCN_MAX_TIERS];
    uint64_t refused[SCN_MAX_TIERS];
    flt_model *fleet;            /* a fleet: its nodes and store */
};

static void bmem_release(bmem *m)
{
    ks_destroy(m->store);
    m->store = NULL;
    for (size_t i = 0; i < SCN_MAX_TIERS; i++) {
        ks_destroy(m->tier_store[i]);
        free(m->scratch[i]);
        m->tier_store[i] = NULL;
        m->scratch[i] = NULL;
    }
    m->n_tiers = 0;
    flt_destroy(m->fleet);
    m->fleet = NULL;
}

static int bmem_begin(void *ctx, const scn_scenario *s, const scn_limiter *l, char *err, size_t errlen)
{
    bmem *m = ctx;
    m->s = s;
    m->l = l;
    m->n = 0;
    memset(m->refused, 0, sizeof m->refused);
    if (l->entry->kind == LIM_KIND_FLEET) return (m->fleet = flt_create(s, l, NULL, err, errlen)) ? 0 : -1;
    if (l->entry->kind == LIM_KIND_CHAIN) {
        m->n_tiers = l->n_tiers;
        for (size_t i = 0; i < l->n_tiers; i++) {
            const scn_limiter *t = &l->tiers[i];
            size_t max_keys = t->global ? 1 : kspace_count(s->keys);
            m->tier_store[i] = ks_create(max_keys, t->cfg.state_size);
            m->scratch[i] = malloc(t->cfg.state_size ? t->cfg.state_size : 1);
            if (!m->tier_store[i] || !m->scratch[i]) {
                snprintf(err, errlen, "%s: out of memory for the state of tier %s", l->name, t->name);
                bmem_release(m);
                return -1;
            }
        }
        return 0;
    }
    size_t max_keys = l->global ? 1 : kspace_count(s->keys);
    m->store = ks_create(max_keys, l->cfg.state_size);
    if (!m->store) {
        snprintf(err, errlen, "%s: out of memory for the state of %zu keys", l->name, max_keys);
        return -1;
    }
    return 0;
}

/* One request through a chain: each tier's state copied, decided, and
 * written back only where the policy keeps it (chain.h). */
static int bmem_chain_decide(bmem *m, const gen_request *q, lim_decision *out)
{
    const scn_limiter *c = m->l;
    int fresh[SCN_MAX_TIERS], keep[SCN_MAX_TIERS];
    for (size_t i = 0; i < c->n_tiers; i++) {
        const scn_limiter *t = &c->tiers[i];
        uint32_t key = t->global ? 0 : q->key;
        const void *kept = ks_peek(m->tier_store[i], key);
        fresh[i] = !kept;
        if (kept) memcpy(m->scratch[i], kept, t->cfg.state_size);
        else memset(m->scratch[i], 0, t->cfg.state_size);
    }
    chain_decide(c, m->scratch, fresh, q->t_us, q->cost, out, keep, m->refused);
    for (size_t i = 0; i < c->n_tiers; i++) {
        if (!keep[i]) continue;
        const scn_limiter *t = &c->tiers[i];
        uint32_t key = t->global ? 0 : q->key;
        int is_new;
        void *state = ks_get(m->tier_store[i], key, &is_new);
        if (!state) return -1;
        memcpy(state, m->scratch[i], t->cfg.state_size);
    }
    return 0;
}

static int bmem_decide(void *ctx, const gen_request *reqs, size_t n, lim_decision *out, int64_t *latency_ns,
                       char *err, size_t errlen)
{
    bmem *m = ctx;
    const lim_ops *ops = m->l->ops;
    const lim_config *cfg = &m->l->cfg;
    int global = m->l->global;
    /* a large store misses the caches on every lookup: ask for the whole batch's states first */
    if (m->store && !global && ks_worth_prefetching(m->store))
        for (size_t i = 0; i < n; i++) ks_prefetch(m->store, reqs[i].key);
    uint64_t seq = m->n;   /* in a register across the batch */
    m->n += n;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = global ? 0 : reqs[i].key;
        int timed = (seq++ & m->sample_mask) == 0;
        uint64_t t0 = timed ? clk_cycles() : 0;
        if (m->fleet) {
            flt_decide(m->fleet, &reqs[i], &out[i]);
        } else if (m->n_tiers) {
            if (bmem_chain_decide(m, &reqs[i], &out[i]) != 0) {
                snprintf(err, errlen, "%s: a key outside the key store", m->l->name);
                return -1;
            }
        } else {
            int is_new;
            void *state = ks_get(m->store, key, &is_new);
            if (!state) {
                /* cannot happen while the store is sized from the keyspace; say so if it does */
                snprintf(err, errlen, "%s: key %u outside the key store", m->l->name, key);
                return -1;
            }
            ops->decide(cfg, state, is_new, reqs[i].t_us, reqs[i].cost, &out[i]);
        }
        latency_ns[i] = timed ? (int64_t)((double)(clk_cycles() - t0) * m->ns_per_cycle + 0.5) : -1;
    }
    return 0;
}

static int64_t bmem_level(void *ctx, uint32_t key, int64_t now_us)
{
    bmem *m = ctx;
    if (m->fleet) return flt_level(m->fleet, now_us);
    if (m->n_tiers) {   /* the first tier's */
        const scn_limiter *t = &m->l->tiers[0];
        uint32_t k = t->global ? 0 : key;
        return t->ops->level(&t->cfg, ks_peek(m->tier_store[0], k), now_us);
    }
    return m->l->ops->level(&m->l->cfg, ks_peek(m->store, m->l->global ? 0 : key), now_us);
}

static void bmem_end(void *ctx, run_backend_report *sum, char *note, size_t notelen)
{
    if (notelen) note[0] = '\0';
    bmem *m = ctx;
    memset(sum, 0, sizeof *sum);
    if (m->fleet) {
        sum->keys_seen = 1;
        sum->state_bytes = flt_state_bytes(m->fleet);
        if (flt_report_fill(m->fleet, &sum->fleet) != 0) snprintf(note, notelen, "%s: out of memory for the "
                                                                  "fleet's report per node", m->l->name);
    } else if (m->n_tiers) {
        for (size_t i = 0; i < m->n_tiers; i++) {
            sum->keys_seen += ks_count(m->tier_store[i]);
            sum->state_bytes += ks_bytes(m->tier_store[i]);
            sum->tier_refused[i] = m->refused[i];
        }
    } else {
        sum->keys_seen = ks_count(m->store);
        sum->state_bytes = ks_bytes(m->store);
    }
    bmem_release(m);
}

bmem *bmem_create(unsigned sample_every, run_backend *out)
{
    bmem *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->sample_mask = sample_every ? sample_every - 1 : 15;
    m->ns_per_cycle = clk_ns_per_cycle();
    *out = (run_backend){ "memory", 64, m, bmem_begin, bmem_decide, bmem_level, bmem_end };
    return m;
}

void bmem_destroy(bmem *m)
{
    if (!m) return;
    bmem_release(m);
    free(m);
}
