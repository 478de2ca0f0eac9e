/* backend_redis.c -- see backend_redis.h. */
#define _POSIX_C_SOURCE 200809L
#include "backend_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_conn.h"
#include "redis_scripts.h"

#define BRED_ARGS 9          /* now, cost, ttl, v[0..5] */
#define BRED_BACKOFF_MAX_MS 1000

struct bred {
    bred_options opt;
    rurl url;
    rconn *conn;
    const scn_scenario *s;
    const scn_limiter *l;
    const char *source;
    char sha[41];
    char prefix[160];
    size_t plen;
    char key[KSPACE_MAX_NAME + 200];
    int64_t args[BRED_ARGS];
    uint64_t errors;
    int64_t backoff_ms, next_attempt_ns;
    size_t *retry;            /* indices refused with NOSCRIPT, one batch */
    size_t retry_cap;
    int64_t mem_bytes, mem_sampled;   /* MEMORY USAGE over a sample of keys */
};

static int64_t bred_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SCRIPT LOAD of the limiter's twin into r->sha. */
static int bred_load_script(bred *r, char *err, size_t errlen)
{
    redisContext *c = rconn_ctx(r->conn);
    redisReply *rep = c ? redisCommand(c, "SCRIPT LOAD %s", r->source) : NULL;
    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        snprintf(err, errlen, "%s: SCRIPT LOAD failed: %s", r->l->name,
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : c ? c->errstr : "not connected");
        freeReplyObject(rep);
        return -1;
    }
    memcpy(r->sha, rep->str, 40);
    r->sha[40] = '\0';
    freeReplyObject(rep);
    return 0;
}

/* Calls fn on every batch of keys under `pattern` (SCAN); returns keys seen or -1. */
static long bred_scan(bred *r, const char *pattern, int (*fn)(bred *, redisReply *), int stop_at_first)
{
    redisContext *c = rconn_ctx(r->conn);
    if (!c) return -1;
    char cursor[32] = "0";
    long seen = 0;
    do {
        redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) { freeReplyObject(rep); return -1; }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        redisReply *keys = rep->element[1];
        seen += (long)keys->elements;
        if (fn && keys->elements && fn(r, keys) != 0) { freeReplyObject(rep); return -1; }
        freeReplyObject(rep);
        if (stop_at_first && seen) break;
    } while (strcmp(cursor, "0") != 0);
    return seen;
}

static int bred_unlink(bred *r, redisReply *keys)
{
    const char **argv = malloc((keys->elements + 1) * sizeof *argv);
    size_t *lens = malloc((keys->elements + 1) * sizeof *lens);
    if (!argv || !lens) { free(argv); free(lens); return -1; }
    argv[0] = "UNLINK";
    lens[0] = 6;
    for (size_t i = 0; i < keys->elements; i++) {
        argv[i + 1] = keys->element[i]->str;
        lens[i + 1] = keys->element[i]->len;
    }
    redisReply *rep = redisCommandArgv(rconn_ctx(r->conn), (int)keys->elements + 1, argv, lens);
    int ok = rep && rep->type == REDIS_REPLY_INTEGER;
    freeReplyObject(rep);
    free(argv);
    free(lens);
    return ok ? 0 : -1;
}

long bred_count_keys(bred *r)
{
    char pattern[200];
    snprintf(pattern, sizeof pattern, "ratelab:%s-*", r->opt.run_id);
    return bred_scan(r, pattern, NULL, 0);
}

static int bred_begin(void *ctx, const scn_scenario *s, const scn_limiter *l, char *err, size_t errlen)
{
    bred *r = ctx;
    r->s = s;
    r->l = l;
    r->errors = 0;
    r->source = rscript_find(l->ops->name);
    if (!r->source) {
        snprintf(err, errlen, "%s: %s has no Redis script (algorithms/lua/%s.lua)", l->name, l->ops->name, l->ops->name);
        return -1;
    }
    int n = snprintf(r->prefix, sizeof r->prefix, "ratelab:%s-%s:{", r->opt.run_id, l->name);
    r->plen = (size_t)n;
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    long held = bred_scan(r, pattern, NULL, 1);
    if (held != 0) {
        snprintf(err, errlen, held < 0 ? "%s: cannot SCAN for %s: connection failed"
                                       : "%s: keys matching %s already exist; refusing to touch them (another run "
                                         "with this run id?)", l->name, pattern);
        return -1;
    }
    if (bred_load_script(r, err, errlen) != 0) return -1;
    for (int i = 0; i < LIM_MAX_CONFIG; i++) r->args[3 + i] = l->cfg.v[i];
    r->args[2] = r->opt.ttl_ms;
    return 0;
}

/* Writes the key of keyspace id `key` into r->key; returns its length. */
static size_t bred_key(bred *r, uint32_t key)
{
    const char *name = r->l->global ? "global" : kspace_name(r->s->keys, key);
    size_t n = strlen(name);
    memcpy(r->key, r->prefix, r->plen);
    memcpy(r->key + r->plen, name, n);
    r->key[r->plen + n] = '}';
    return r->plen + n + 1;
}

static void bred_policy(bred *r, lim_decision *d)
{
    r->errors++;
    *d = (lim_decision){ r->opt.on_error_allow, 0, 0, 0 };
}

/* A connection, if one can be had now without waiting past the backoff. */
static int bred_connected(bred *r)
{
    if (rconn_ctx(r->conn)) return 1;
    int64_t now = bred_now_ns();
    if (now < r->next_attempt_ns) return 0;
    char err[256];
    if (rconn_reconnect(r->conn, err, sizeof err) == 0 && bred_load_script(r, err, sizeof err) == 0) {
        r->backoff_ms = 0;
        return 1;
    }
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 10;
    if (r->backoff_ms > BRED_BACKOFF_MAX_MS) r->backoff_ms = BRED_BACKOFF_MAX_MS;
    r->next_attempt_ns = bred_now_ns() + r->backoff_ms * 1000000;
    return 0;
}

/* Sends reqs[idx[0..n-1]] as one pipeline and reads the answers into out.
 * Indices refused with NOSCRIPT go to r->retry (count in *n_retry). */
static void bred_round_trip(bred *r, const gen_request *reqs, const size_t *idx, size_t n, lim_decision *out,
                            met_series *m, size_t *n_retry)
{
    *n_retry = 0;
    if (!bred_connected(r)) {
        for (size_t i = 0; i < n; i++) bred_policy(r, &out[idx[i]]);
        return;
    }
    rconn_reset(r->conn);
    for (size_t i = 0; i < n; i++) {
        const gen_request *q = &reqs[idx[i]];
        r->args[0] = q->t_us;
        r->args[1] = q->cost;
        if (rconn_add_evalsha(r->conn, r->sha, r->key, bred_key(r, q->key), r->args, BRED_ARGS) != 0) {
            for (size_t k = 0; k < n; k++) bred_policy(r, &out[idx[k]]);
            return;
        }
    }
    int64_t sent = bred_now_ns();
    if (rconn_send(r->conn) != 0) {
        for (size_t i = 0; i < n; i++) bred_policy(r, &out[idx[i]]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rconn_reply rep;
        lim_decision *d = &out[idx[i]];
        if (rconn_recv(r->conn, &rep) != 0) {
            for (; i < n; i++) bred_policy(r, &out[idx[i]]);
            return;
        }
        met_latency(m, bred_now_ns() - sent);
        if (rep.is_error && strncmp(rep.error, "NOSCRIPT", 8) == 0) r->retry[(*n_retry)++] = idx[i];
        else if (rep.is_error || rep.n != 4) bred_policy(r, d);
        else *d = (lim_decision){ (int)rep.v[0], rep.v[1], rep.v[2], rep.v[3] };
    }
}

static int bred_decide(void *ctx, const gen_request *reqs, size_t n, lim_decision *out, met_series *m,
                       char *err, size_t errlen)
{
    bred *r = ctx;
    if (r->retry_cap < 2 * n) {
        size_t *bigger = realloc(r->retry, 2 * n * sizeof *bigger);
        if (!bigger) { snprintf(err, errlen, "out of memory"); return -1; }
        r->retry = bigger;
        r->retry_cap = 2 * n;
    }
    size_t *idx = r->retry + n;   /* second half: the indices of this round */
    for (size_t done = 0; done < n;) {
        size_t chunk = n - done < r->opt.pipeline ? n - done : r->opt.pipeline;
        for (size_t i = 0; i < chunk; i++) idx[i] = done + i;
        size_t n_retry;
        bred_round_trip(r, reqs, idx, chunk, out, m, &n_retry);
        if (n_retry) {
            /* The server lost its scripts (SCRIPT FLUSH, a restart): load
             * again and send the refused requests again, once, in order. */
            char msg[256];
            size_t again;
            if (bred_load_script(r, msg, sizeof msg) == 0) {
                memcpy(idx, r->retry, n_retry * sizeof *idx);
                bred_round_trip(r, reqs, idx, n_retry, out, m, &again);
            } else {
                again = n_retry;
            }
            for (size_t i = 0; i < again; i++) bred_policy(r, &out[r->retry[i]]);
        }
        done += chunk;
    }
    return 0;
}

static int64_t bred_level(void *ctx, uint32_t key, int64_t now_us)
{
    bred *r = ctx;
    if (!bred_connected(r)) return 0;
    r->args[0] = now_us;
    r->args[1] = 0;  /* cost 0: the script only reports the level */
    rconn_reset(r->conn);
    rconn_reply rep;
    if (rconn_add_evalsha(r->conn, r->sha, r->key, bred_key(r, key), r->args, BRED_ARGS) != 0 ||
        rconn_send(r->conn) != 0 || rconn_recv(r->conn, &rep) != 0 || rep.is_error || rep.n != 1)
        return 0;
    return rep.v[0];
}

static int bred_memory_sample(bred *r, redisReply *keys)
{
    for (size_t i = 0; i < keys->elements && r->mem_sampled < 100; i++) {
        redisReply *rep = redisCommand(rconn_ctx(r->conn), "MEMORY USAGE %b SAMPLES 0", keys->element[i]->str,
                                       keys->element[i]->len);
        if (rep && rep->type == REDIS_REPLY_INTEGER) { r->mem_bytes += rep->integer; r->mem_sampled++; }
        freeReplyObject(rep);
    }
    return 0;
}

static void bred_end(void *ctx, met_summary *sum)
{
    bred *r = ctx;
    sum->errors = r->errors;
    sum->keys_seen = 0;
    sum->state_bytes = 0;
    if (!bred_connected(r)) {
        fprintf(stderr, "ratelab: %s: Redis unreachable at the end: its keys (%.*s*) expire after %lld ms\n",
                r->l->name, (int)r->plen - 1, r->prefix, (long long)r->opt.ttl_ms);
        return;
    }
    char pattern[200];
    snprintf(pattern, sizeof pattern, "%.*s*", (int)r->plen - 1, r->prefix);
    r->mem_bytes = r->mem_sampled = 0;
    long keys = bred_scan(r, pattern, bred_memory_sample, 0);
    if (keys > 0) {
        sum->keys_seen = (size_t)keys;
        sum->state_bytes = (size_t)((double)r->mem_bytes / (double)(r->mem_sampled ? r->mem_sampled : 1) * (double)keys);
    }
    if (bred_scan(r, pattern, bred_unlink, 0) < 0)
        fprintf(stderr, "ratelab: %s: could not delete its keys (%s); they expire after %lld ms\n", r->l->name,
                pattern, (long long)r->opt.ttl_ms);
}

bred *bred_create(const rurl *url, const bred_options *opt, run_backend *out, char *err, size_t errlen)
{
    bred *r = calloc(1, sizeof *r);
    if (!r) { snprintf(err, errlen, "out of memory"); return NULL; }
    r->opt = *opt;
    if (r->opt.pipeline < 1) r->opt.pipeline = 1;
    r->url = *url;
    r->conn = rconn_open(url, opt->timeout_ms, err, errlen);
    if (!r->conn) { free(r); return NULL; }
    size_t batch = r->opt.pipeline < 64 ? 64 : r->opt.pipeline;
    *out = (run_backend){ "redis", batch, r, bred_begin, bred_decide, bred_level, bred_end };
    return r;
}

void bred_destroy(bred *r)
{
    if (!r) return;
    rconn_close(r->conn);
    free(r->retry);
    free(r);
}
