/* backend_redis.c -- see backend_redis.h. */
#define _POSIX_C_SOURCE 200809L
#include "backend_redis.h"
#include "redis_bounded.h"
#include "fleet.h"

#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "cluster_faults.h"
#include "redis_cluster.h"
#include "redis_conn.h"
#include "redis_scripts.h"

/* now, cost, ttl and a config; a chain's: policy, tiers, and per tier a count and a config */
#define BRED_ARGS (5 + SCN_MAX_TIERS * (1 + LIM_MAX_CONFIG))
#define BRED_KEY_MAX (KSPACE_MAX_NAME + 200)

/* One connection deciding for the pass's limiter. */
struct bred_client {
    bred *owner;
    rclu *conn;               /* one server, or the masters of a cluster */
    char sha[41];
    char key[SCN_MAX_TIERS][BRED_KEY_MAX];   /* the request's keys: one, or one per tier of a chain */
    size_t klen[SCN_MAX_TIERS];
    const char *keys[SCN_MAX_TIERS];
    int64_t args[BRED_ARGS];
    int argc;                 /* now, cost, ttl and the config up to its last nonzero value */
    bred_client *next;        /* the concurrent clients open, for the report per node */
};

struct bred {
    bred_options opt;
    rurl url;
    bred_client main;         /* virtual mode, levels, setup and cleanup */
    const scn_scenario *s;
    const scn_limiter *l;
    const char *source;       /* NULL: no twin, decided client-side */
    char *chain_source;       /* a chain's script, assembled at begin (owned) */
    int chain_global;         /* the chain has a global tier: all its keys take its slot */
    _Atomic uint64_t tier_refused[SCN_MAX_TIERS];
    char prefix[160];
    size_t plen;
    _Atomic uint64_t errors;  /* concurrent clients add to it */
    size_t *retry;            /* indices refused with NOSCRIPT, one batch */
    size_t retry_cap;
    int64_t mem_bytes, mem_sampled;   /* MEMORY USAGE over a sample of keys */
    char last_error[200];     /* why the last request got no decision (virtual mode) */
    flt_model *fleet;         /* a fleet: its nodes here, its shared state in Redis */
    bred_client *clients;     /* concurrent clients open (realtime), under clients_lock */
    pthread_mutex_t clients_lock;
    size_t *asked;            /* a central fleet, one batch: the requests the shared limiter decides */
    uint32_t *node_of;        /* and each request's node */
};

/* ---- one connection ------------------------------------------------------------ */

/* SCRIPT LOAD of the pass's script on one connection (the same SHA on every node). */
static int bred_load_on(bred_client *c, rconn *conn, char *err, size_t errlen)
{
    bred *r = c->owner;
    if (!r->source) return 0;
    redisContext *ctx = rconn_ctx(conn);
    redisReply *rep = ctx ? rbnd_command(ctx, "SCRIPT LOAD %s", r->source) : NULL;
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

/* rclu's hook: every connection made, first or again, has the script. */
static int bred_on_connect(void *ctx, rconn *conn, char *err, size_t errlen)
{
    return bred_load_on(ctx, conn, err, errlen);
}

/* SCRIPT LOAD on every master (a pass begins, or a server lost its scripts). */
static int bred_load_script(bred_client *c, char *err, size_t errlen)
{
    if (!c->owner->source) return 0;
    int n = rclu_master_count(c->conn);
    for (int i = 0; i < n; i++) {
        rconn *conn = rclu_master(c->conn, i);
        if (!conn) {
            snprintf(err, errlen, "%s: SCRIPT LOAD failed: not connected (%s)", c->owner->l->name,
                     rclu_error(c->conn));
            return -1;
        }
        if (bred_load_on(c, conn, err, errlen) != 0) return -1;
    }
    return 0;
}

/* Every server the commands need is connected, if that can be had now
 * without waiting past the backoff. */
static int bred_connected(bred_client *c) { return rclu_ready(c->conn); }

/* A connection, waiting for one through the backoff for as long as the
 * outage under way is within opt.outage_wait_ms: a restart, a CLIENT
 * PAUSE or a failover that ends in time costs only the requests that were
 * in flight. 1 connected; 0 the budget is spent (then it tries once per
 * backoff step without waiting). */
static int bred_await(bred_client *c) { return rclu_await(c->conn, c->owner->opt.outage_wait_ms * 1000000); }

static rclu *bred_open_conn(bred *r, bred_client *c, int64_t retry_wait_ms, char *err, size_t errlen)
{
    return rclu_open(&r->url, r->opt.cluster, r->opt.timeout_ms, retry_wait_ms, bred_on_connect, c, err, errlen);
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
 * key's name (or "global") as the hash tag, and for a chain's tier ":<k>".
 * A chain that mixes a global tier with per-key ones decides in one
 * script, so on a cluster all its keys must share a slot: they all take
 * the global tag, the key's name after it ({global}:<name>:<k>), and one
 * master carries the whole chain. */
static void bred_one_key(bred_client *c, int k, int global, uint32_t key, int tier)
{
    bred *r = c->owner;
    const char *name = global ? "global" : kspace_name(r->s->keys, key);
    size_t n = strlen(name);
    char *p = c->key[k];
    memcpy(p, r->prefix, r->plen);
    size_t len = r->plen;
    if (tier && r->chain_global && !global) {
        memcpy(p + len, "global}:", 8);
        len += 8;
        memcpy(p + len, name, n);
        len += n;
    } else {
        memcpy(p + len, name, n);
        len += n;
        p[len++] = '}';
    }
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

/* Sends c's batch; the answer of command i, or NULL when it got none. */
static const rconn_reply *bred_reply(bred_client *c, size_t i)
{
    const rclu_answer *a = rclu_exchange(c->conn);
    return a && a[i].answered ? &a[i].rep : NULL;
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
    const rconn_reply *rep;
    rclu_reset(c->conn);
    if (rclu_add_argv(c->conn, 1, 2, get, get_len) != 0 || !(rep = bred_reply(c, 0)) || rep->is_error) return -1;
    _Alignas(8) unsigned char state[RCONN_MAX_BYTES] = { 0 };
    int is_new = rep->is_nil || rep->len != l->cfg.state_size;
    if (!is_new) memcpy(state, rep->bytes, rep->len);
    l->ops->decide(&l->cfg, state, is_new, now_us, cost, out);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)r->opt.ttl_ms);
    const char *set[] = { "SET", c->key[0], (const char *)state, "PX", ttl };
    size_t set_len[] = { 3, klen, l->cfg.state_size, 2, strlen(ttl) };
    rclu_reset(c->conn);
    if (rclu_add_argv(c->conn, 1, 5, set, set_len) != 0 || !(rep = bred_reply(c, 0)) || rep->is_error) return -1;
    return 0;
}

int bred_client_decide(bred_client *c, uint32_t key, int64_t now_us, int64_t cost, lim_decision *out, int64_t *at_us)
{
    bred *r = c->owner;
    if (r->opt.faults && now_us >= 0) cfault_tick(r->opt.faults, now_us);
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
        const rconn_reply *rep;
        rclu_reset(c->conn);
        int n_keys = bred_key(c, key);
        if (rclu_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
            !(rep = bred_reply(c, 0)))
            return -1;
        if (rep->is_error && strncmp(rep->error, "NOSCRIPT", 8) == 0) {
            char err[256];
            if (bred_load_script(c, err, sizeof err) != 0) return -1;
            continue;
        }
        return bred_decision(r, rep, out, at_us);
    }
    return -1;
}

int bred_client_decide_many(bred_client *c, size_t n, const uint32_t *keys, const int64_t *now_us,
                            const int64_t *costs, lim_decision *out, int64_t *at_us, unsigned char *answered)
{
    bred *r = c->owner;
    size_t got = 0;
    for (size_t i = 0; i < n; i++) answered[i] = 0;
    if (!r->source || n == 1) {   /* client-side: read-decide-write cannot pipeline */
        for (size_t i = 0; i < n; i++)
            if (bred_client_decide(c, keys[i], now_us[i], costs[i], &out[i], &at_us[i]) == 0) answered[i] = 1, got++;
        return (int)got;
    }
    if (r->opt.faults && now_us[0] >= 0) cfault_tick(r->opt.faults, now_us[0]);
    if (!bred_connected(c)) return 0;
    /* once more after NOSCRIPT (a server restarted or flushed): the
     * script is loaded again and the whole batch resent */
    for (int attempt = 0; attempt < 2; attempt++) {
        rclu_reset(c->conn);
        for (size_t i = 0; i < n; i++) {
            c->args[0] = now_us[i];
            c->args[1] = costs[i];
            int n_keys = bred_key(c, keys[i]);
            if (rclu_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0) return 0;
        }
        const rclu_answer *a = rclu_exchange(c->conn);
        if (!a) return 0;
        int noscript = 0;
        for (size_t i = 0; i < n; i++)
            if (a[i].answered && a[i].rep.is_error && strncmp(a[i].rep.error, "NOSCRIPT", 8) == 0) noscript = 1;
        if (noscript && attempt == 0) {
            char err[256];
            if (bred_load_script(c, err, sizeof err) != 0) return 0;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (a[i].answered && bred_decision(r, &a[i].rep, &out[i], &at_us[i]) == 0) answered[i] = 1, got++;
        return (int)got;
    }
    return 0;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* rconn_scan's fn: MEMORY USAGE of up to 100 keys in all. */
static int bred_memory_sample(void *ctx, rconn *c, const redisReply *keys)
{
    bred *r = ctx;
    for (size_t i = 0; i < keys->elements && r->mem_sampled < 100; i++) {
        redisContext *rc = rconn_ctx(c);
        redisReply *rep = rc ? rbnd_command(rc, "MEMORY USAGE %b SAMPLES 0", keys->element[i]->str,
                                            keys->element[i]->len) : NULL;
        if (rep && rep->type == REDIS_REPLY_INTEGER) { r->mem_bytes += rep->integer; r->mem_sampled++; }
        freeReplyObject(rep);
    }
    return 0;
}

/* rconn_scan on every master of c: the keys seen in all (per_node[k]
 * += node k's when given), or -1 when a master refused, -2 when one could
 * not be reached; *where names the master of a failure or of the first
 * keys found. */
static long bred_scan(bred_client *c, const char *pattern, int (*fn)(void *, rconn *, const redisReply *),
                      void *ctx, int stop_at_first, uint64_t *per_node, char *where, size_t wherelen)
{
    long seen = 0;
    int n = rclu_master_count(c->conn);
    for (int i = 0; i < n; i++) {
        rclu_node_info info;
        int node = rclu_master_node(c->conn, i);
        rclu_node_info_of(c->conn, node, &info);
        rconn *conn = rclu_master(c->conn, i);
        long got = conn ? rconn_scan(conn, pattern, fn, ctx, stop_at_first) : -1;
        if (got < 0 || (got > 0 && !seen)) snprintf(where, wherelen, "%s", info.addr);
        if (got < 0) return conn && rconn_ctx(conn) ? -1 : -2;
        seen += got;
        if (per_node && node < RUN_MAX_SHARDS) per_node[node] += (uint64_t)got;
        if (stop_at_first && seen) break;
    }
    return seen;
}

long bred_count_keys(bred *r)
{
    char pattern[200], where[100];
    snprintf(pattern, sizeof pattern, "ratelab:%s-*", r->opt.run_id);
    long n = bred_scan(&r->main, pattern, NULL, NULL, 0, NULL, where, sizeof where);
    return n < 0 ? -1 : n;
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
    rclu_reset(c->conn);
    c->args[0] = at_us;
    c->args[1] = -cost;
    const char *get[] = { "GET", c->key[0] };
    size_t lens[] = { 3, c->klen[0] };
    const rclu_answer *a = NULL;
    int pushed = cost > 0;
    int failed = (pushed && rclu_add_evalsha(c->conn, c->sha, 1, c->keys, c->klen, c->args, c->argc) != 0) ||
                 rclu_add_argv(c->conn, 1, 2, get, lens) != 0 || !(a = rclu_exchange(c->conn)) ||
                 (pushed && (!a[0].answered || a[0].rep.is_error));
    const rconn_reply *rep = a ? &a[pushed].rep : NULL;
    failed = failed || !a[pushed].answered || rep->is_error || (!rep->is_nil && rep->len != size);
    if (failed) {
        atomic_fetch_add(&r->errors, 1);
        return -1;
    }
    *fresh = rep->is_nil;
    memset(state, 0, size);
    for (size_t k = 0; !rep->is_nil && k < size / 8; k++) {
        uint64_t u = 0;   /* struct.pack '<d': little-endian */
        for (int b = 7; b >= 0; b--) u = u << 8 | rep->bytes[8 * k + (size_t)b];
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
    rclu_reset(c->conn);
    const rconn_reply *rep;
    int n_keys = bred_key(c, 0);
    if (rclu_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
        !(rep = bred_reply(c, 0)) || rep->is_error || rep->n < 1)
        return 0;
    return rep->v[0];
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
    r->chain_global = 0;
    if (l->entry->kind == LIM_KIND_CHAIN) {
        if (!(r->chain_source = bred_chain_script(l, err, errlen))) return -1;
        for (size_t t = 0; t < l->n_tiers; t++) r->chain_global |= l->tiers[t].global;
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
    rclu_clear_counts(r->main.conn);
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    /* A connection lost during setup is waited for like one lost mid-run. */
    for (int attempt = 0;; attempt++) {
        if (!bred_await(&r->main) || attempt == 100) {
            snprintf(err, errlen, "%s: Redis unreachable for %lld ms: %s", l->name,
                     (long long)r->opt.outage_wait_ms, rclu_error(r->main.conn));
            return -1;
        }
        char where[100] = "";
        long held = bred_scan(&r->main, pattern, NULL, NULL, 1, NULL, where, sizeof where);
        if (held == -2) continue;
        if (held != 0) {
            const char *on = rclu_is_cluster(r->main.conn) ? " on the master " : "";
            snprintf(err, errlen, held < 0 ? "%s: cannot SCAN for %s%s%s"
                                           : "%s: keys matching %s already exist%s%s; refusing to touch them (another "
                                             "run with this run id?)", l->name, pattern, on, on[0] ? where : "");
            return -1;
        }
        bred_client_setup(&r->main, r);
        if (r->opt.faults) {   /* the faults aim at the slot of the pass's first key */
            bred_key(&r->main, 0);
            cfault_begin(r->opt.faults, r->main.key[0], r->main.klen[0]);
        }
        if (bred_load_script(&r->main, err, errlen) == 0) return bred_fleet_begin(r, err, errlen);
        if (rclu_ready(r->main.conn)) return -1;   /* refused, not lost */
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
    if (r->opt.faults && n) cfault_tick(r->opt.faults, reqs[idx[0]].t_us);
    if (!bred_await(c)) {
        for (size_t i = 0; i < n; i++) bred_unanswered(r, &out[idx[i]], rclu_error(c->conn));
        return;
    }
    rclu_reset(c->conn);
    for (size_t i = 0; i < n; i++) {
        const gen_request *q = &reqs[idx[i]];
        c->args[0] = q->t_us;
        c->args[1] = q->cost;
        int n_keys = bred_key(c, q->key);
        if (rclu_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0) {
            for (size_t k = 0; k < n; k++) bred_unanswered(r, &out[idx[k]], rclu_error(c->conn));
            return;
        }
    }
    const rclu_answer *a = rclu_exchange(c->conn);
    for (size_t i = 0; i < n; i++) {
        lim_decision *d = &out[idx[i]];
        if (!a || !a[i].answered) {
            bred_unanswered(r, d, a ? a[i].rep.error : "out of memory for the batch");
            continue;
        }
        const rconn_reply *rep = &a[i].rep;
        latency_ns[idx[i]] = a[i].latency_ns;
        if (rep->is_error && strncmp(rep->error, "NOSCRIPT", 8) == 0) r->retry[(*n_retry)++] = idx[i];
        else if (bred_decision(r, rep, d, NULL) != 0)
            bred_unanswered(r, d, rep->is_error ? rep->error : "a reply that is not a decision");
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
        const rconn_reply *rep;
        rclu_reset(c->conn);
        if (rclu_add_argv(c->conn, 1, 2, get, lens) != 0 || !(rep = bred_reply(c, 0))) return 0;
        int known = !rep->is_error && !rep->is_nil && rep->len == r->l->cfg.state_size;
        _Alignas(8) unsigned char state[RCONN_MAX_BYTES];
        if (known) memcpy(state, rep->bytes, rep->len);
        return r->l->ops->level(&r->l->cfg, known ? state : NULL, now_us);
    }
    c->args[0] = now_us;
    c->args[1] = 0;  /* cost 0: the script only reports the level */
    rclu_reset(c->conn);
    const rconn_reply *rep;
    int n_keys = bred_key(c, key);
    if (rclu_add_evalsha(c->conn, c->sha, n_keys, c->keys, c->klen, c->args, c->argc) != 0 ||
        !(rep = bred_reply(c, 0)) || rep->is_error || rep->n < 1)
        return 0;
    return rep->v[0];
}

/* Adds what connection set `from` routed into the pass's table of nodes
 * (by address: the main connection and every concurrent client's). */
static void bred_fold_nodes(run_cluster_report *cl, hist **lat, const rclu *from)
{
    for (int k = 0; k < rclu_node_count(from); k++) {
        rclu_node_info info;
        rclu_node_info_of(from, k, &info);
        int at = 0;
        while (at < cl->n && strcmp(cl->shard[at].addr, info.addr) != 0) at++;
        if (at == RUN_MAX_SHARDS) continue;
        if (at == cl->n) {
            cl->n++;
            snprintf(cl->shard[at].addr, sizeof cl->shard[at].addr, "%s", info.addr);
            cl->shard[at].master = info.master;
            cl->shard[at].slots = info.slots;
        }
        cl->shard[at].calls += info.calls;
        if (lat[at]) hist_merge(lat[at], info.latency_ns);
    }
    rclu_counts n;
    rclu_counts_of(from, &n);
    cl->moved += n.moved;
    cl->ask += n.ask;
    cl->tryagain += n.tryagain;
    cl->clusterdown += n.clusterdown;
    cl->refreshes += n.refreshes;
    cl->windows += n.windows;
    cl->window_total_ns += n.window_ns_total;
    if (n.window_ns_longest > cl->window_longest_ns) cl->window_longest_ns = n.window_ns_longest;
}

/* The pass's cluster report: every node, its keys (keys_by_node, in the
 * main connection's node order), calls and latency. */
static void bred_cluster_report(bred *r, const uint64_t *keys_by_node, run_cluster_report *cl)
{
    memset(cl, 0, sizeof *cl);
    if (!rclu_is_cluster(r->main.conn)) return;
    hist *lat[RUN_MAX_SHARDS] = { 0 };
    for (int i = 0; i < RUN_MAX_SHARDS; i++)
        if ((lat[i] = malloc(sizeof *lat[i]))) hist_init(lat[i]);
    bred_fold_nodes(cl, lat, r->main.conn);
    pthread_mutex_lock(&r->clients_lock);
    for (bred_client *c = r->clients; c; c = c->next) bred_fold_nodes(cl, lat, c->conn);
    pthread_mutex_unlock(&r->clients_lock);
    for (int i = 0; i < cl->n; i++) {
        if (i < rclu_node_count(r->main.conn) && i < RUN_MAX_SHARDS) cl->shard[i].keys = keys_by_node[i];
        cl->shard[i].latency_p50_ns = lat[i] ? hist_quantile(lat[i], 0.50) : 0;
        cl->shard[i].latency_p99_ns = lat[i] ? hist_quantile(lat[i], 0.99) : 0;
    }
    for (int i = 0; i < RUN_MAX_SHARDS; i++) free(lat[i]);
}

static void bred_end(void *ctx, run_backend_report *sum, char *note, size_t notelen)
{
    size_t used = 0;
    if (notelen) note[0] = '\0';
    bred *r = ctx;
    sum->keys_seen = 0;
    sum->state_bytes = 0;
    /* a reshard under way ends, a killed master is back, before the keys are counted */
    run_cluster_fault faults[CFAULT_MAX];
    size_t n_faults = r->opt.faults ? cfault_end(r->opt.faults, faults) : 0;
    char pattern[200], where[100] = "";
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    int deleted = 0;
    uint64_t keys_by_node[RUN_MAX_SHARDS];
    for (int attempt = 0; attempt < 100 && !deleted && bred_await(&r->main); attempt++) {
        r->mem_bytes = r->mem_sampled = 0;
        memset(keys_by_node, 0, sizeof keys_by_node);
        long keys = bred_scan(&r->main, pattern, bred_memory_sample, r, 0, keys_by_node, where, sizeof where);
        if (keys == -1) break;   /* refused, not lost */
        if (keys < 0) continue;  /* lost again: wait, within the budget */
        sum->keys_seen = (size_t)keys;
        sum->state_bytes =
            (size_t)((double)r->mem_bytes / (double)(r->mem_sampled ? r->mem_sampled : 1) * (double)keys);
        deleted = bred_scan(&r->main, pattern, rconn_unlink_page, NULL, 0, NULL, where, sizeof where) >= 0;
    }
    if (!deleted) memset(keys_by_node, 0, sizeof keys_by_node);
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
    bred_cluster_report(r, keys_by_node, &sum->cluster);
    memcpy(sum->cluster.fault, faults, n_faults * sizeof *faults);
    sum->cluster.n_faults = n_faults;
    rclu_counts n;
    rclu_counts_of(r->main.conn, &n);
    if (n.windows && !rclu_is_cluster(r->main.conn)) {
        int w = snprintf(note, notelen, "%s: Redis connection lost %llu time(s), %.3f s without it in all; %llu "
                                        "request(s) got no answer and were decided by on-error %s", r->l->name,
                         (unsigned long long)n.windows, (double)n.window_ns_total / 1e9,
                         (unsigned long long)sum->errors, r->opt.on_error_allow ? "allow" : "deny");
        used = w > 0 ? (size_t)w : 0;
    } else if (sum->cluster.windows) {
        const run_cluster_report *cl = &sum->cluster;
        int w = snprintf(note, notelen, "%s: the cluster answered no call in %llu window(s), the longest %.3f s "
                                        "(%.3f s in all); %llu request(s) got no answer and were decided by on-error "
                                        "%s", r->l->name, (unsigned long long)cl->windows,
                         (double)cl->window_longest_ns / 1e9, (double)cl->window_total_ns / 1e9,
                         (unsigned long long)sum->errors, r->opt.on_error_allow ? "allow" : "deny");
        used = w > 0 ? (size_t)w : 0;
    }
    if (!deleted && used < notelen)
        snprintf(note + used, notelen - used, "%s%s: could not delete its keys (%s): %s; they expire after %lld ms",
                 used ? "; " : "", r->l->name, pattern, rclu_error(r->main.conn), (long long)r->opt.ttl_ms);
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
    pthread_mutex_init(&r->clients_lock, NULL);
    /* virtual mode waits a failover out like any outage */
    r->main.conn = bred_open_conn(r, &r->main, r->opt.outage_wait_ms, err, errlen);
    if (!r->main.conn) {
        pthread_mutex_destroy(&r->clients_lock);
        free(r);
        return NULL;
    }
    size_t batch = r->opt.pipeline < 64 ? 64 : r->opt.pipeline;
    *out = (run_backend){ r->opt.cluster ? "cluster" : "redis", batch, r, bred_begin, bred_decide, bred_level,
                          bred_end };
    return r;
}

void bred_destroy(bred *r)
{
    if (!r) return;
    rclu_close(r->main.conn);
    pthread_mutex_destroy(&r->clients_lock);
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
    /* with the fleet's shared key's tag: its scripts may take several */
    int n = snprintf(out, len, "%.*sglobal}:%s", (int)r->plen, r->prefix, name);
    return n > 0 ? (size_t)n : 0;
}

static void bred_channel(const bred *r, const char *name, char *out, size_t len) { bred_name(r, name, out, len); }

int bred_client_command(bred_client *c, int argc, const char *const *argv, rconn_reply *rep)
{
    size_t lens[16];
    if (argc < 2 || argc > 16 || !bred_connected(c)) return -1;
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    /* the key a command is routed by: EVAL's first key, else the first argument */
    int eval = strcasecmp(argv[0], "EVAL") == 0 || strcasecmp(argv[0], "EVALSHA") == 0;
    int key_arg = eval ? (argc > 3 && atoi(argv[2]) > 0 ? 3 : RCLU_ANY_KEY) : 1;
    rclu_reset(c->conn);
    const rconn_reply *got;
    if (rclu_add_argv(c->conn, key_arg, argc, argv, lens) != 0 || !(got = bred_reply(c, 0))) return -1;
    *rep = *got;
    return rep->is_error ? -1 : 0;
}

void bred_client_drop(bred_client *c) { rclu_disconnect(c->conn); }

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
    redisReply *rep = ctx ? rbnd_command(ctx, "SUBSCRIBE %s", ch) : NULL;
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
        long whole = rbnd_measure(ctx->reader->buf + ctx->reader->pos, ctx->reader->len - ctx->reader->pos,
                                  RBND_MAX_REPLY);
        if (whole < 0 || (whole > 0 && redisGetReplyFromReader(ctx, &got) != REDIS_OK)) return -1;
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
    const rconn_reply *rep;
    if (!bred_connected(c)) return -1;
    rclu_reset(c->conn);
    /* a cluster carries a PUBLISH to every node: any master will do */
    if (rclu_add_argv(c->conn, RCLU_ANY_KEY, 3, argv, lens) != 0 || !(rep = bred_reply(c, 0)) || rep->is_error)
        return -1;
    return 0;
}

bred_client *bred_client_open(bred *r, char *err, size_t errlen)
{
    bred_client *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    c->owner = r;
    /* realtime: a call the cluster refuses while it fails over is an
     * error now, as a gateway's would be */
    c->conn = bred_open_conn(r, c, 0, err, errlen);
    if (!c->conn) {
        free(c);
        return NULL;
    }
    bred_client_setup(c, r);
    pthread_mutex_lock(&r->clients_lock);
    c->next = r->clients;
    r->clients = c;
    pthread_mutex_unlock(&r->clients_lock);
    return c;
}

void bred_client_close(bred_client *c)
{
    if (!c) return;
    bred *r = c->owner;
    pthread_mutex_lock(&r->clients_lock);
    for (bred_client **at = &r->clients; *at; at = &(*at)->next)
        if (*at == c) { *at = c->next; break; }
    pthread_mutex_unlock(&r->clients_lock);
    rclu_close(c->conn);
    free(c);
}
