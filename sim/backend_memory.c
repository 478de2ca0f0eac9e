/* backend_memory.c -- see backend_memory.h. */
#include "backend_memory.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>

#include "../algorithms/keystore.h"

struct bmem {
    unsigned sample_mask;
    uint64_t n;
    const scn_scenario *s;
    const scn_limiter *l;
    const uint64_t *hashes;
    ks_store *store;
};

static int bmem_begin(void *ctx, const scn_scenario *s, const scn_limiter *l, char *err, size_t errlen)
{
    bmem *m = ctx;
    size_t max_keys = l->global ? 1 : kspace_count(s->keys);
    m->store = ks_create(max_keys, l->cfg.state_size);
    if (!m->store) {
        snprintf(err, errlen, "%s: out of memory for the state of %zu keys", l->name, max_keys);
        return -1;
    }
    m->s = s;
    m->l = l;
    m->hashes = kspace_hashes(s->keys);
    m->n = 0;
    return 0;
}

static int bmem_decide(void *ctx, const gen_request *reqs, size_t n, lim_decision *out, int64_t *latency_ns,
                       char *err, size_t errlen)
{
    bmem *m = ctx;
    const lim_ops *ops = m->l->ops;
    const lim_config *cfg = &m->l->cfg;
    int global = m->l->global;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = global ? 0 : reqs[i].key;
        uint64_t hash = global ? 0 : m->hashes[key];
        int is_new;
        int timed = (m->n++ & m->sample_mask) == 0;
        int64_t t0 = timed ? clk_mono_ns() : 0;
        void *state = ks_get(m->store, key, hash, &is_new);
        if (!state) {
            /* cannot happen while the store is sized from the keyspace; say so if it does */
            snprintf(err, errlen, "%s: key store full", m->l->name);
            return -1;
        }
        ops->decide(cfg, state, is_new, reqs[i].t_us, reqs[i].cost, &out[i]);
        latency_ns[i] = timed ? clk_mono_ns() - t0 : -1;
    }
    return 0;
}

static int64_t bmem_level(void *ctx, uint32_t key, int64_t now_us)
{
    bmem *m = ctx;
    uint64_t hash = m->l->global ? 0 : m->hashes[key];
    return m->l->ops->level(&m->l->cfg, ks_peek(m->store, key, hash), now_us);
}

static void bmem_end(void *ctx, run_backend_report *sum, char *note, size_t notelen)
{
    if (notelen) note[0] = '\0';
    bmem *m = ctx;
    sum->keys_seen = ks_count(m->store);
    sum->state_bytes = ks_bytes(m->store);
    sum->errors = 0;
    ks_destroy(m->store);
    m->store = NULL;
}

bmem *bmem_create(unsigned sample_every, run_backend *out)
{
    bmem *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->sample_mask = sample_every ? sample_every - 1 : 15;
    *out = (run_backend){ "memory", 64, m, bmem_begin, bmem_decide, bmem_level, bmem_end };
    return m;
}

void bmem_destroy(bmem *m)
{
    if (!m) return;
    ks_destroy(m->store);
    free(m);
}
