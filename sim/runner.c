/* runner.c -- see runner.h. */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../algorithms/keystore.h"

int64_t run_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_options *opt,
                run_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->limiter = l;
    size_t n_ticks = scn_tick_count(s);
    if (met_init(&out->series, n_ticks, s->tick_us, s->duration_us) != 0) {
        snprintf(err, errlen, "%s: out of memory for %zu ticks of metrics", l->name, n_ticks);
        return -1;
    }
    size_t max_keys = l->global ? 1 : kspace_count(s->keys);
    ks_store *store = ks_create(max_keys, l->cfg.state_size);
    if (!store) {
        snprintf(err, errlen, "%s: out of memory for the state of %zu keys", l->name, max_keys);
        met_free(&out->series);
        return -1;
    }
    const uint64_t *hashes = kspace_hashes(s->keys);
    const lim_ops *ops = l->ops;
    const lim_config *cfg = &l->cfg;
    met_series *m = &out->series;
    uint32_t level_key = l->global ? 0 : s->level_key;
    uint64_t level_hash = l->global ? 0 : hashes[level_key];
    uint64_t sample_mask = opt->latency_sample_every ? opt->latency_sample_every - 1 : 15;

    gen_rewind(g);
    size_t tick = 0;
    int64_t tick_end = s->tick_us < s->duration_us ? s->tick_us : s->duration_us;
    uint64_t n = 0;
    gen_request req;
    lim_decision d;
    int rc = 0;
    int64_t started = run_now_ns();
    while (gen_next(g, &req)) {
        while (req.t_us >= tick_end && tick + 1 < n_ticks) {
            met_close_tick(m, tick, ops->level(cfg, ks_peek(store, level_key, level_hash), tick_end));
            tick++;
            tick_end += s->tick_us;
            if (tick_end > s->duration_us) tick_end = s->duration_us;
        }
        uint32_t key = l->global ? 0 : req.key;
        uint64_t hash = l->global ? 0 : hashes[key];
        int is_new;
        if ((n & sample_mask) == 0) {
            int64_t t0 = run_now_ns();
            void *state = ks_get(store, key, hash, &is_new);
            if (!state) goto full;
            ops->decide(cfg, state, is_new, req.t_us, req.cost, &d);
            met_latency(m, run_now_ns() - t0);
        } else {
            void *state = ks_get(store, key, hash, &is_new);
            if (!state) goto full;
            ops->decide(cfg, state, is_new, req.t_us, req.cost, &d);
        }
        met_record(m, tick, req.t_us, req.cost, &d);
        if ((++n & 0xffff) == 0 && opt->progress) opt->progress(opt->progress_ctx, (double)req.t_us / (double)s->duration_us);
    }
    for (; tick < n_ticks; tick++) {
        met_close_tick(m, tick, ops->level(cfg, ks_peek(store, level_key, level_hash), tick_end));
        tick_end += s->tick_us;
        if (tick_end > s->duration_us) tick_end = s->duration_us;
    }
    met_summarize(m, &out->summary);
    out->summary.wall_s = (double)(run_now_ns() - started) / 1e9;
    out->summary.keys_seen = ks_count(store);
    out->summary.state_bytes = ks_bytes(store);
    goto done;
full:
    /* cannot happen while the store is sized from the keyspace; say so if it does */
    snprintf(err, errlen, "%s: key store full at %zu keys", l->name, max_keys);
    met_free(&out->series);
    rc = -1;
done:
    ks_destroy(store);
    return rc;
}

void run_result_free(run_result *r)
{
    met_free(&r->series);
}
