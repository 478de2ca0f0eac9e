/* backend_redis.c -- see backend_redis.h. */
#define _POSIX_C_SOURCE 200809L
#include "backend_redis.h"
#include "fleet.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "redis_conn.h"
#include "redis_scripts.h"

/* now, cost, ttl and a config; a chain's: policy, tiers, and per tier a count and a config */
#define BRED_ARGS (5 + SCN_MAX_TIERS * (1 + LIM_MAX_CONFIG))
#define BRED_BACKOFF_MAX_MS 1000
#define BRED_KEY_MAX (KSPACE_MAX_NAME + 200)

/* One connection deciding for the pass's limiter. */
struct bred_client {
    bred *owner;
    rconn *conn;
    char sha[41];
    char key[SCN_MAX_TIERS][BRED_KEY_MAX];   /* the request's keys: one, or one per tier of a chain */
    size_t klen[SCN_MAX_TIERS];
    const char *keys[SCN_MAX_TIERS];
    int64_t args[BRED_ARGS];
    int argc;                 /* now, cost, ttl and the config up to its last nonzero value */
    int64_t backoff_ms, next_attempt_ns;
    int64_t outage_started_ns;   /* 0: connected, or not yet noticed */
    uint64_t outages;            /* connections lost, and reconnected or not */
    int64_t outage_ns;           /* time without a connection, over the outages that ended */
};

struct bred {
    bred_options opt;
    rurl url;
    bred_client main;         /* virtual mode, levels, setup and cleanup */
    const scn_scenario *s;
    const scn_limiter *l;
    const char *source;       /* NULL: no twin, decided client-side */
    char *chain_source;       /* a chain's script, assembled at begin (owned) */
    _Atomic uint64_t tier_refused[SCN_MAX_TIERS];
    char prefix[160];
    size_t plen;
    _Atomic uint64_t errors;  /* concurrent clients add to it */
    size_t *retry;            /* indices refused with NOSCRIPT, one batch */
    size_t retry_cap;
    int64_t mem_bytes, mem_sampled;   /* MEMORY USAGE over a sample of keys */
    char last_error[200];     /* why the last request got no decision (virtual mode) */
    flt_model *fleet;         /* a fleet: its nodes here, its shared state in Redis */
    size_t *asked;            /* a central fleet, one batch: the requests the shared limiter decides */
    uint32_t *node_of;        /* and each request's node */
};

/* ---- one connection ------------------------------------------------------------ */

static int bred_load_script(bred_client *c, char *err, size_t errlen)
{
    bred *r = c->owner;
    if (!r->source) return 0;
    redisContext *ctx = rconn_ctx(c->conn);
    redisReply *rep = ctx ? redisCommand(ctx, "SCRIPT LOAD %s", r->source) : NULL;
    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        snprintf(err, errlen, "%s: SCRIPT LOAD failed: %s", r->l->name,
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : ctx ? ctx->errstr : "not connected");
        freeReplyObject(rep);
        return -1;
    }
    memcpy(c->sha, rep->str, 40);
    c->sha[40] = '\0';
    freeReplyObject(rep);
    return 0;
}

/* A connection, if one can be had now without waiting past the backoff. */
static int bred_connected(bred_client *c)
{
    if (rconn_ctx(c->conn)) return 1;
    int64_t now = clk_mono_ns();
    if (!c->outage_started_ns) {
        c->outage_started_ns = now;
        c->outages++;
    }
    if (now < c->next_attempt_ns) return 0;
    char err[256];
    if (rconn_reconnect(c->conn, err, sizeof err) == 0 && bred_load_script(c, err, sizeof err) == 0) {
        c->backoff_ms = 0;
        c->outage_ns += clk_mono_ns() - c->outage_started_ns;
        c->outage_started_ns = 0;
        return 1;
    }
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 10;
    if (c->backoff_ms > BRED_BACKOFF_MAX_MS) c->backoff_ms = BRED_BACKOFF_MAX_MS;
    c->next_attempt_ns = clk_mono_ns() + c->backoff_ms * 1000000;
    return 0;
}

/* A connection, waiting for one through the backoff for as long as the
 * outage under way is within opt.outage_wait_ms: a restart or a CLIENT
 * PAUSE that ends in time costs only the requests that were in flight.
 * 1 connected; 0 the budget is spent (then it tries once per backoff step
 * without waiting). */
static int bred_await(bred_client *c)
{
    int64_t budget_ns = c->owner->opt.outage_wait_ms * 1000000;
    for (;;) {
        if (bred_connected(c)) return 1;
        int64_t now = clk_mono_ns(), give_up = c->outage_started_ns + budget_ns;
        if (now >= give_up) return 0;
        int64_t until = c->next_attempt_ns < give_up ? c->next_attempt_ns : give_up;
        clk_sleep_ns(until - now);
    }
}

/* The config's values up to the last nonzero one (the scripts read absent values as 0). */
static int bred_config_count(const lim_config *cfg)
{
    int n = 0;
    for (int i = 0; i < LIM_MAX_CONFIG; i++)
        if (cfg->v[i] != 0) n = i + 1;
    return n;
}

static void bred_client_setup(bred_client *c, bred *r)
{
    const scn_limiter *l = r->l->base ? r->l->base : r->l;   /* a fleet calls its limiter's twin */
    c->args[2] = r->opt.ttl_ms;
    for (int i = 0; i < SCN_MAX_TIERS; i++) c->keys[i] = c->key[i];
    if (l->entry->kind != LIM_KIND_CHAIN) {
        int n = bred_config_count(&l->cfg);
        for (int i = 0; i < n; i++) c->args[3 + i] = l->cfg.v[i];
        c->argc = 3 + n;
        return;
    }
    c->args[3] = (int64_t)l->policy;
    c->args[4] = (int64_t)l->n_tiers;
    int at = 5;
    for (size_t t = 0; t < l->n_tiers; t++) {
        int n = bred_config_count(&l->tiers[t].cfg);
        c->args[at++] = n;
        for (int i = 0; i < n; i++) c->args[at++] = l->tiers[t].cfg.v[i];
    }
    c->argc = at;
}

/* Writes key `k` of keyspace id `key` into c->key[k]: the prefix, the
 * key's name (or "global") as the hash tag, and for a chain's tier ":<k>". */
static void bred_one_key(bred_client *c, int k, int global, uint32_t key, int tier)
{
    bred *r = c->owner;
    const char *name = global ? "global" : kspace_name(r->s->keys, key);
    size_t n = strlen(name);
    char *p = c->key[k];
    memcpy(p, r->prefix, r->plen);
    memcpy(p + r->plen, name, n);
    size_t len = r->plen + n;
    p[len++] = '}';
    if (tier) len += (size_t)snprintf(p + len, BRED_KEY_MAX - len, ":%d", k + 1);
    c->klen[k] = len;
}

/* Writes the Redis keys of keyspace id `key` into c->key[]; returns how many. */
static int bred_key(bred_client *c, uint32_t key)
{
    const scn_limiter *l = c->owner->l;
    if (l->entry->kind != LIM_KIND_CHAIN) {
        bred_one_key(c, 0, l->global, key, 0);
        return 1;
    }
    for (size_t t = 0; t < l->n_tiers; t++) bred_one_key(c, (int)t, l->tiers[t].global, key, 1);
    return (int)l->n_tiers;
}

static int bred_decision(bred *r, const rconn_reply *rep, lim_decision *d, int64_t *at_us)
{
    if (rep->is_error || rep->n < 4) return -1;
    *d = (lim_decision){ (int)rep->v[0], rep->v[1], rep->v[2], rep->v[3] };
    if (at_us) *at_us = rep->n > 4 ? rep->v[4] : 0;
    if (rep->n > 5)   /* a chain: which tiers refused */
        for (size_t t = 0; t < SCN_MAX_TIERS; t++)
            if (rep->v[5] >> t & 1) atomic_fetch_add(&r->tier_refused[t], 1);
    return 0;
}

/* The naive way: GET the state, decide here, SET it back (two round trips;
 * another client may write in between, which is the point). */
static int bred_client_side(bred_client *c, uint32_t key, int64_t now_us, int64_t cost, lim_decision *out)
{
    bred *r = c->owner;
    const scn_limiter *l = r->l;
    bred_key(c, key);
    size_t klen = c->klen[0];
    const char *get[] = { "GET", c->key[0] };
    size_t get_len[] = { 3, klen };
    rconn_reply rep;
    rconn_reset(c->conn);
    if (rconn_add_argv(c->conn, 2, get, get_len) != 0 || rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0 ||
        rep.is_error)
        return -1;
    _Alignas(8) unsigned char state[RCONN_MAX_BYTES] = { 0 };
    int is_new = rep.is_nil || rep.len != l->cfg.state_size;
    if (!is_new) memcpy(state, rep.bytes, rep.len);
    l->ops->decide(&l->cfg, state, is_new, now_us, cost, out);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)r->opt.ttl_ms);
    const char *set[] = { "SET", c->key[0], (const char *)state, "PX", ttl };
    size_t set_len[] = { 3, klen, l->cfg.state_size, 2, strlen(ttl) };
    rconn_reset(c->conn);
    if (rconn_add_argv(c->conn, 5, set, set_len) != 0 || rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0 ||
        rep.is_error)
        return -1;
    return 0;
}

int bred_client_decide(bred_client *c, uint32_t key, int64_t now_us, int64_t cost, lim_decision *out, int64_t *at_us)
{
    bred *r = c->owner;
    if (!bred_connected(c)) return -1;
    if (!r->source) {
        /* client-side decisions need the client's clock */
        if (now_us < 0) now_us = clk_wall_us();
        *at_us = now_us;
        return bred_client_side(c, key, now_us, cost, out);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        c->args[0] = now_us;
        c->args[1] = cost;
        rconn_reply rep;
        rconn_reset(c->conn);
        int n_keys = bred_key(c, key);
        if (rconn_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
            rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0)
            return -1;
        if (rep.is_error && strncmp(rep.error, "NOSCRIPT", 8) == 0) {
            char err[256];
            if (bred_load_script(c, err, sizeof err) != 0) return -1;
            continue;
        }
        return bred_decision(r, &rep, out, at_us);
    }
    return -1;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* rconn_scan's fn: MEMORY USAGE of up to 100 keys in all. */
static int bred_memory_sample(void *ctx, rconn *c, const redisReply *keys)
{
    bred *r = ctx;
    for (size_t i = 0; i < keys->elements && r->mem_sampled < 100; i++) {
        redisContext *rc = rconn_ctx(c);
        redisReply *rep = rc ? redisCommand(rc, "MEMORY USAGE %b SAMPLES 0", keys->element[i]->str,
                                            keys->element[i]->len) : NULL;
        if (rep && rep->type == REDIS_REPLY_INTEGER) { r->mem_bytes += rep->integer; r->mem_sampled++; }
        freeReplyObject(rep);
    }
    return 0;
}

long bred_count_keys(bred *r)
{
    char pattern[200];
    snprintf(pattern, sizeof pattern, "ratelab:%s-*", r->opt.run_id);
    return rconn_scan(r->main.conn, pattern, NULL, NULL, 0);
}

void bred_add_errors(bred *r, uint64_t n) { atomic_fetch_add(&r->errors, n); }

/* ---- the run_backend ------------------------------------------------------------------- */

/* A chain's script: prelude.lua, then sim/lua/chain.lua with each tier's
 * algorithm body put in at its --@tiers line (chain.lua says how). NULL
 * with a message when a tier has no Lua body or memory is short. */
static char *bred_chain_script(const scn_limiter *l, char *err, size_t errlen)
{
    const char *prelude = rscript_find("prelude"), *frame = rscript_find("chain");
    const char *mark = frame ? strstr(frame, "--@tiers\n") : NULL;
    const char *body[SCN_MAX_TIERS];
    size_t need = (prelude ? strlen(prelude) : 0) + (frame ? strlen(frame) : 0) + 1;
    for (size_t t = 0; t < l->n_tiers; t++) {
        char name[80];
        snprintf(name, sizeof name, "body/%s", l->tiers[t].ops->name);
        if (!(body[t] = rscript_find(name))) {
            snprintf(err, errlen, "%s: tier %s (%s) has no Lua twin: a chain runs on Redis as one script of its "
                                  "tiers' twins", l->name, l->tiers[t].name, l->tiers[t].ops->name);
            return NULL;
        }
        need += strlen(body[t]) + 64;
    }
    if (!prelude || !mark) {
        snprintf(err, errlen, "%s: the embedded chain script is missing", l->name);
        return NULL;
    }
    char *s = malloc(need);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory for its script", l->name);
        return NULL;
    }
    size_t used = (size_t)snprintf(s, need, "%s%.*s", prelude, (int)(mark - frame), frame);
    for (size_t t = 0; t < l->n_tiers; t++)
        used += (size_t)snprintf(s + used, need - used, "tiers[%zu] = function()\n%send\n", t + 1, body[t]);
    snprintf(s + used, need - used, "%s", mark + strlen("--@tiers\n"));
    return s;
}

/* ---- a fleet: the nodes decide here, the shared state lives in Redis ---- */

static void bred_round_trip(bred *r, const gen_request *reqs, const size_t *idx, size_t n, lim_decision *out,
                            int64_t *latency_ns, size_t *n_retry);
static void bred_unanswered(bred *r, lim_decision *d, const char *why);

/* central: the twin decides, as for the limiter alone (one call). */
static void bred_fleet_decide(void *ctx, int64_t t_us, int64_t cost, lim_decision *out)
{
    bred *r = ctx;
    gen_request q = { t_us, 0, (uint32_t)cost };
    size_t idx = 0, n_retry;
    int64_t latency;
    bred_round_trip(r, &q, &idx, 1, out, &latency, &n_retry);
    if (!n_retry) return;
    char msg[256];   /* the server lost its scripts: once more */
    if (bred_load_script(&r->main, msg, sizeof msg) == 0) bred_round_trip(r, &q, &idx, 1, out, &latency, &n_retry);
    if (n_retry) bred_unanswered(r, out, "NOSCRIPT twice");
}

int bred_client_push_pull(bred_client *c, int64_t at_us, int64_t cost, void *state, int *fresh)
{
    bred *r = c->owner;
    size_t size = r->l->base->cfg.state_size;
    if (!bred_await(c)) return atomic_fetch_add(&r->errors, 1), -1;
    bred_key(c, 0);
    rconn_reset(c->conn);
    c->args[0] = at_us;
    c->args[1] = -cost;
    const char *get[] = { "GET", c->key[0] };
    size_t lens[] = { 3, c->klen[0] };
    rconn_reply rep;
    int failed = (cost > 0 && rconn_add_evalsha(c->conn, c->sha, 1, c->keys, c->klen, c->args, c->argc) != 0) ||
                 rconn_add_argv(c->conn, 2, get, lens) != 0 || rconn_send(c->conn) != 0 ||
                 (cost > 0 && (rconn_recv(c->conn, &rep) != 0 || rep.is_error)) || rconn_recv(c->conn, &rep) != 0 ||
                 rep.is_error || (!rep.is_nil && rep.len != size);
    if (failed) {
        atomic_fetch_add(&r->errors, 1);
        return -1;
    }
    *fresh = rep.is_nil;
    memset(state, 0, size);
    for (size_t k = 0; !rep.is_nil && k < size / 8; k++) {
        uint64_t u = 0;   /* struct.pack '<d': little-endian */
        for (int b = 7; b >= 0; b--) u = u << 8 | rep.bytes[8 * k + (size_t)b];
        double d;
        memcpy(&d, &u, sizeof d);
        int64_t v = (int64_t)d;
        memcpy((unsigned char *)state + 8 * k, &v, sizeof v);
    }
    return 0;
}

/* local_sync in virtual time: the main connection's push and pull. */
static int bred_fleet_push_pull(void *ctx, int64_t at_us, int64_t cost, void *state, int *fresh)
{
    bred *r = ctx;
    return bred_client_push_pull(&r->main, at_us, cost, state, fresh);
}

static int64_t bred_fleet_level(void *ctx, int64_t now_us)
{
    bred *r = ctx;
    bred_client *c = &r->main;
    if (!bred_await(c)) return 0;
    c->args[0] = now_us;
    c->args[1] = 0;  /* cost 0: the script only reports the level */
    rconn_reset(c->conn);
    rconn_reply rep;
    int n_keys = bred_key(c, 0);
    if (rconn_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
        rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0 || rep.is_error || rep.n < 1)
        return 0;
    return rep.v[0];
}

/* After the script is loaded: a fleet's model, with its store here. */
static int bred_fleet_begin(bred *r, char *err, size_t errlen)
{
    flt_destroy(r->fleet);
    r->fleet = NULL;
    if (r->l->entry->kind != LIM_KIND_FLEET) return 0;
    flt_store store = { r, bred_fleet_decide, bred_fleet_push_pull, bred_fleet_level };
    return (r->fleet = flt_create(r->s, r->l, &store, err, errlen)) ? 0 : -1;
}

static int bred_begin(void *ctx, const scn_scenario *s, const scn_limiter *l, char *err, size_t errlen)
{
    bred *r = ctx;
    r->s = s;
    r->l = l;
    atomic_store(&r->errors, 0);
    r->last_error[0] = '\0';
    free(r->chain_source);
    r->chain_source = NULL;
    for (size_t t = 0; t < SCN_MAX_TIERS; t++) atomic_store(&r->tier_refused[t], 0);
    if (l->entry->kind == LIM_KIND_CHAIN) {
        if (!(r->chain_source = bred_chain_script(l, err, errlen))) return -1;
        r->source = r->chain_source;
    } else if (l->entry->kind == LIM_KIND_FLEET) {
        if (!(r->source = rscript_find(l->base->ops->name))) {
            snprintf(err, errlen, "%s: a fleet on Redis calls its limiter's twin, and %s has none", l->name,
                     l->base->ops->name);
            return -1;
        }
    } else if (!l->ops) {
        snprintf(err, errlen, "%s: a %s does not decide requests one by one", l->name, l->entry->name);
        return -1;
    } else {
        r->source = rscript_find(l->ops->name);
    }
    if (!r->source && l->ops && !l->ops->facts.client_side) {
        snprintf(err, errlen, "%s: %s has no Lua twin (algorithms/lua/%s.lua) and is not marked client_side in "
                              "the registry: it cannot run on Redis", l->name, l->ops->name, l->ops->name);
        return -1;
    }
    if (!r->source && l->cfg.state_size > RCONN_MAX_BYTES) {
        snprintf(err, errlen, "%s: %s has no Lua twin and its state (%zu bytes) is too large to keep client-side",
                 l->name, l->ops->name, l->cfg.state_size);
        return -1;
    }
    int n = snprintf(r->prefix, sizeof r->prefix, "ratelab:%s-%s:{", r->opt.run_id, l->name);
    r->plen = (size_t)n;
    r->main.outages = 0;
    r->main.outage_ns = 0;
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    /* A connection lost during setup is waited for like one lost mid-run. */
    for (int attempt = 0;; attempt++) {
        if (!bred_await(&r->main) || attempt == 100) {
            snprintf(err, errlen, "%s: Redis unreachable for %lld ms: %s", l->name,
                     (long long)r->opt.outage_wait_ms, rconn_error(r->main.conn));
            return -1;
        }
        long held = rconn_scan(r->main.conn, pattern, NULL, NULL, 1);
        if (held < 0 && !rconn_ctx(r->main.conn)) continue;
        if (held != 0) {
            snprintf(err, errlen, held < 0 ? "%s: cannot SCAN for %s: %s"
                                           : "%s: keys matching %s already exist; refusing to touch them (another "
                                             "run with this run id?)%s", l->name, pattern,
                     held < 0 ? rconn_error(r->main.conn) : "");
            return -1;
        }
        bred_client_setup(&r->main, r);
        if (bred_load_script(&r->main, err, errlen) == 0) return bred_fleet_begin(r, err, errlen);
        if (rconn_ctx(r->main.conn)) return -1;   /* refused, not lost */
    }
}

static void bred_policy(bred *r, lim_decision *d)
{
    atomic_fetch_add(&r->errors, 1);
    *d = (lim_decision){ r->opt.on_error_allow, 0, 0, 0 };
}

/* The policy for a request that got no decision, and why, for messages. */
static void bred_unanswered(bred *r, lim_decision *d, const char *why)
{
    snprintf(r->last_error, sizeof r->last_error, "%s", why);
    bred_policy(r, d);
}

const char *bred_last_error(const bred *r) { return r->last_error; }

/* Sends reqs[idx[0..n-1]] as one pipeline and reads the answers into out.
 * Indices refused with NOSCRIPT go to r->retry (count in *n_retry). */
static void bred_round_trip(bred *r, const gen_request *reqs, const size_t *idx, size_t n, lim_decision *out,
                            int64_t *latency_ns, size_t *n_retry)
{
    bred_client *c = &r->main;
    *n_retry = 0;
    if (!bred_await(c)) {
        for (size_t i = 0; i < n; i++) bred_unanswered(r, &out[idx[i]], rconn_error(c->conn));
        return;
    }
    rconn_reset(c->conn);
    for (size_t i = 0; i < n; i++) {
        const gen_request *q = &reqs[idx[i]];
        c->args[0] = q->t_us;
        c->args[1] = q->cost;
        int n_keys = bred_key(c, q->key);
        if (rconn_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0) {
            for (size_t k = 0; k < n; k++) bred_unanswered(r, &out[idx[k]], rconn_error(c->conn));
            return;
        }
    }
    int64_t sent = clk_mono_ns();
    if (rconn_send(c->conn) != 0) {
        for (size_t i = 0; i < n; i++) bred_unanswered(r, &out[idx[i]], rconn_error(c->conn));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rconn_reply rep;
        lim_decision *d = &out[idx[i]];
        if (rconn_recv(c->conn, &rep) != 0) {
            for (; i < n; i++) bred_unanswered(r, &out[idx[i]], rconn_error(c->conn));
            return;
        }
        latency_ns[idx[i]] = clk_mono_ns() - sent;
        if (rep.is_error && strncmp(rep.error, "NOSCRIPT", 8) == 0) r->retry[(*n_retry)++] = idx[i];
        else if (bred_decision(r, &rep, d, NULL) != 0)
            bred_unanswered(r, d, rep.is_error ? rep.error : "a reply that is not a decision");
    }
}

static int bred_decide(void *ctx, const gen_request *reqs, size_t n, lim_decision *out, int64_t *latency_ns,
                       char *err, size_t errlen)
{
    bred *r = ctx;
    if (r->fleet && !flt_central(r->fleet)) {   /* node by node: only local_sync's syncs call Redis */
        for (size_t i = 0; i < n; i++) {
            int64_t t0 = clk_mono_ns();
            flt_decide(r->fleet, &reqs[i], &out[i]);
            latency_ns[i] = clk_mono_ns() - t0;
        }
        return 0;
    }
    if (!r->source) {
        /* no twin: one request at a time, read-decide-write */
        for (size_t i = 0; i < n; i++) {
            int64_t t0 = clk_mono_ns(), at;
            latency_ns[i] = -1;
            if (bred_client_decide(&r->main, reqs[i].key, reqs[i].t_us, reqs[i].cost, &out[i], &at) != 0)
                bred_policy(r, &out[i]);
            else
                latency_ns[i] = clk_mono_ns() - t0;
        }
        return 0;
    }
    if (r->retry_cap < 2 * n) {
        size_t *bigger = realloc(r->retry, 2 * n * sizeof *bigger);
        if (!bigger) { snprintf(err, errlen, "out of memory"); return -1; }
        r->retry = bigger;
        size_t *asked = realloc(r->asked, n * sizeof *asked);
        if (asked) r->asked = asked;
        uint32_t *nodes = realloc(r->node_of, n * sizeof *nodes);
        if (nodes) r->node_of = nodes;
        if (!asked || !nodes) { snprintf(err, errlen, "out of memory"); return -1; }
        r->retry_cap = 2 * n;
    }
    size_t *idx = r->retry + n;   /* second half: the indices of this round */
    for (size_t i = 0; i < n; i++) latency_ns[i] = -1;   /* until answered */
    /* A central fleet: the nodes route, the shared limiter's decisions go
     * out together, the nodes count them (asked[]: those it decides). */
    size_t n_asked = n;
    if (r->fleet) {
        n_asked = 0;
        for (size_t i = 0; i < n; i++)
            if (flt_route(r->fleet, &reqs[i], &r->node_of[i], &out[i])) r->asked[n_asked++] = i;
    }
    for (size_t done = 0; done < n_asked;) {
        size_t chunk = n_asked - done < r->opt.pipeline ? n_asked - done : r->opt.pipeline;
        for (size_t i = 0; i < chunk; i++) idx[i] = r->fleet ? r->asked[done + i] : done + i;
        size_t n_retry;
        bred_round_trip(r, reqs, idx, chunk, out, latency_ns, &n_retry);
        if (n_retry) {
            /* The server lost its scripts (SCRIPT FLUSH, a restart): load
             * again and send the refused requests again, once, in order. */
            char msg[256];
            size_t again;
            if (bred_load_script(&r->main, msg, sizeof msg) == 0) {
                memcpy(idx, r->retry, n_retry * sizeof *idx);
                bred_round_trip(r, reqs, idx, n_retry, out, latency_ns, &again);
            } else {
                again = n_retry;
            }
            for (size_t i = 0; i < again; i++) bred_unanswered(r, &out[r->retry[i]], "NOSCRIPT twice");
        }
        done += chunk;
    }
    for (size_t i = 0; r->fleet && i < n; i++) flt_settle(r->fleet, r->node_of[i], &out[i]);
    return 0;
}

static int64_t bred_level(void *ctx, uint32_t key, int64_t now_us)
{
    bred *r = ctx;
    bred_client *c = &r->main;
    if (r->fleet) return flt_level(r->fleet, now_us);
    if (!bred_await(c)) return 0;
    if (!r->source) {
        /* read the state and ask the C algorithm */
        bred_key(c, key);
        const char *get[] = { "GET", c->key[0] };
        size_t lens[] = { 3, c->klen[0] };
        rconn_reply rep;
        rconn_reset(c->conn);
        if (rconn_add_argv(c->conn, 2, get, lens) != 0 || rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0)
            return 0;
        int known = !rep.is_error && !rep.is_nil && rep.len == r->l->cfg.state_size;
        _Alignas(8) unsigned char state[RCONN_MAX_BYTES];
        if (known) memcpy(state, rep.bytes, rep.len);
        return r->l->ops->level(&r->l->cfg, known ? state : NULL, now_us);
    }
    c->args[0] = now_us;
    c->args[1] = 0;  /* cost 0: the script only reports the level */
    rconn_reset(c->conn);
    rconn_reply rep;
    int n_keys = bred_key(c, key);
    if (rconn_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
        rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0 || rep.is_error || rep.n < 1)
        return 0;
    return rep.v[0];
}

static void bred_end(void *ctx, run_backend_report *sum, char *note, size_t notelen)
{
    size_t used = 0;
    if (notelen) note[0] = '\0';
    bred *r = ctx;
    sum->keys_seen = 0;
    sum->state_bytes = 0;
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    int deleted = 0;
    for (int attempt = 0; attempt < 100 && !deleted && bred_await(&r->main); attempt++) {
        r->mem_bytes = r->mem_sampled = 0;
        long keys = rconn_scan(r->main.conn, pattern, bred_memory_sample, r, 0);
        if (keys < 0 && rconn_ctx(r->main.conn)) break;   /* refused, not lost */
        if (keys < 0) continue;                           /* lost again: wait, within the budget */
        sum->keys_seen = (size_t)keys;
        sum->state_bytes =
            (size_t)((double)r->mem_bytes / (double)(r->mem_sampled ? r->mem_sampled : 1) * (double)keys);
        deleted = rconn_scan(r->main.conn, pattern, rconn_unlink_page, NULL, 0) >= 0;
    }
    sum->errors = atomic_load(&r->errors);
    for (size_t t = 0; t < SCN_MAX_TIERS; t++) sum->tier_refused[t] = atomic_load(&r->tier_refused[t]);
    memset(&sum->fleet, 0, sizeof sum->fleet);
    if (r->fleet) {   /* what the nodes did; the store's state is the keys above, the nodes' their own memory */
        if (flt_report_fill(r->fleet, &sum->fleet) != 0 && notelen)
            used = (size_t)snprintf(note, notelen, "%s: out of memory for the fleet's report per node", r->l->name);
        sum->state_bytes += flt_state_bytes(r->fleet);
        flt_destroy(r->fleet);
        r->fleet = NULL;
    }
    bred_client *c = &r->main;
    if (c->outages) {
        int64_t away = c->outage_ns + (c->outage_started_ns ? clk_mono_ns() - c->outage_started_ns : 0);
        int w = snprintf(note, notelen, "%s: Redis connection lost %llu time(s), %.3f s without it in all; %llu "
                                        "request(s) got no answer and were decided by on-error %s", r->l->name,
                         (unsigned long long)c->outages, (double)away / 1e9, (unsigned long long)sum->errors,
                         r->opt.on_error_allow ? "allow" : "deny");
        used = w > 0 ? (size_t)w : 0;
    }
    if (!deleted && used < notelen)
        snprintf(note + used, notelen - used, "%s%s: could not delete its keys (%s): %s; they expire after %lld ms",
                 used ? "; " : "", r->l->name, pattern, rconn_error(c->conn), (long long)r->opt.ttl_ms);
}

/* ---- lifetime ------------------------------------------------------------------------------ */

bred *bred_create(const rurl *url, const bred_options *opt, run_backend *out, char *err, size_t errlen)
{
    bred *r = calloc(1, sizeof *r);
    if (!r) { snprintf(err, errlen, "out of memory"); return NULL; }
    r->opt = *opt;
    if (r->opt.pipeline < 1) r->opt.pipeline = 1;
    r->url = *url;
    r->main.owner = r;
    r->main.conn = rconn_open(url, opt->timeout_ms, err, errlen);
    if (!r->main.conn) { free(r); return NULL; }
    size_t batch = r->opt.pipeline < 64 ? 64 : r->opt.pipeline;
    *out = (run_backend){ "redis", batch, r, bred_begin, bred_decide, bred_level, bred_end };
    return r;
}

void bred_destroy(bred *r)
{
    if (!r) return;
    rconn_close(r->main.conn);
    free(r->retry);
    free(r->asked);
    free(r->node_of);
    free(r->chain_source);
    flt_destroy(r->fleet);
    free(r);
}

/* ---- a fleet's gossip: PUBLISH and SUBSCRIBE on a channel of the run ---- */

struct bred_sub {
    rconn *conn;
};

size_t bred_name(const bred *r, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%.*s%s}", (int)r->plen, r->prefix, name);
    return n > 0 ? (size_t)n : 0;
}

static void bred_channel(const bred *r, const char *name, char *out, size_t len) { bred_name(r, name, out, len); }

int bred_client_command(bred_client *c, int argc, const char *const *argv, rconn_reply *rep)
{
    size_t lens[16];
    if (argc > 16 || !bred_connected(c)) return -1;
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    rconn_reset(c->conn);
    if (rconn_add_argv(c->conn, argc, argv, lens) != 0 || rconn_send(c->conn) != 0 || rconn_recv(c->conn, rep) != 0)
        return -1;
    return rep->is_error ? -1 : 0;
}

void bred_client_drop(bred_client *c) { rconn_disconnect(c->conn); }

const char *bred_script(const char *name) { return rscript_find(name); }

bred_sub *bred_subscribe(bred *r, const char *name, char *err, size_t errlen)
{
    bred_sub *sub = calloc(1, sizeof *sub);
    if (!sub) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (!(sub->conn = rconn_open(&r->url, r->opt.timeout_ms, err, errlen))) {
        free(sub);
        return NULL;
    }
    char ch[300];
    bred_channel(r, name, ch, sizeof ch);
    redisContext *ctx = rconn_ctx(sub->conn);
    redisReply *rep = ctx ? redisCommand(ctx, "SUBSCRIBE %s", ch) : NULL;
    int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3;
    freeReplyObject(rep);
    if (!ok) {
        snprintf(err, errlen, "SUBSCRIBE %s: %s", ch, rconn_error(sub->conn));
        bred_sub_close(sub);
        return NULL;
    }
    return sub;
}

int bred_sub_poll(bred_sub *sub, char *buf, size_t len)
{
    redisContext *ctx = rconn_ctx(sub->conn);
    if (!ctx) return -1;
    for (;;) {
        void *got = NULL;
        if (redisGetReplyFromReader(ctx, &got) != REDIS_OK) return -1;
        redisReply *rep = got;
        if (rep) {
            int message = rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
                          rep->element[0]->type == REDIS_REPLY_STRING && strcmp(rep->element[0]->str, "message") == 0 &&
                          rep->element[2]->type == REDIS_REPLY_STRING;
            if (message) snprintf(buf, len, "%s", rep->element[2]->str);
            freeReplyObject(rep);
            if (message) return 1;
            continue;
        }
        struct pollfd p = { ctx->fd, POLLIN, 0 };
        int ready = poll(&p, 1, 0);
        if (ready == 0) return 0;
        if (ready < 0 || redisBufferRead(ctx) != REDIS_OK) return -1;
    }
}

void bred_sub_close(bred_sub *sub)
{
    if (!sub) return;
    rconn_close(sub->conn);
    free(sub);
}

int bred_client_publish(bred_client *c, const char *name, const char *msg)
{
    char ch[300];
    bred_channel(c->owner, name, ch, sizeof ch);
    const char *argv[] = { "PUBLISH", ch, msg };
    size_t lens[] = { 7, strlen(ch), strlen(msg) };
    rconn_reply rep;
    if (!bred_connected(c)) return -1;
    rconn_reset(c->conn);
    if (rconn_add_argv(c->conn, 3, argv, lens) != 0 || rconn_send(c->conn) != 0 || rconn_recv(c->conn, &rep) != 0 ||
        rep.is_error)
        return -1;
    return 0;
}

bred_client *bred_client_open(bred *r, char *err, size_t errlen)
{
    bred_client *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    c->owner = r;
    c->conn = rconn_open(&r->url, r->opt.timeout_ms, err, errlen);
    if (!c->conn || bred_load_script(c, err, errlen) != 0) {
        bred_client_close(c);
        return NULL;
    }
    bred_client_setup(c, r);
    return c;
}

void bred_client_close(bred_client *c)
{
    if (!c) return;
    rconn_close(c->conn);
    free(c);
}
