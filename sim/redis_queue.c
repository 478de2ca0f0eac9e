/* redis_queue.c -- see redis_queue.h. */
#define _GNU_SOURCE
#include "redis_queue.h"
#include "redis_bounded.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../algorithms/queue.h"
#include "durations.h"
#include "redis_cluster.h"
#include "redis_conn.h"
#include "clock.h"
#include "redis_scripts.h"
#include "rng.h"

enum { RQ_PRODUCE, RQ_TAKE, RQ_ACK, RQ_FAIL, RQ_REAP, RQ_LEVELS, RQ_N_SCRIPTS };
static const char *const rq_script_names[RQ_N_SCRIPTS] = { "queue_produce", "queue_take", "queue_ack",
                                                          "queue_fail",    "queue_reap", "queue_levels" };

#define RQ_KEY_MAX 260
#define RQ_MSG_MAX 2048   /* a message's JSON: a key of 256 bytes escaped, and the numbers */

struct rq {
    rq_setup s;
    rconn *conn;
    const char *source[RQ_N_SCRIPTS];
    char sha[RQ_N_SCRIPTS][41];
    uint64_t errors;
    char key_ready[RQ_KEY_MAX], key_consumers[RQ_KEY_MAX], key_dead[RQ_KEY_MAX], key_stats[RQ_KEY_MAX];
    char key_done[RQ_KEY_MAX], key_e2e[RQ_KEY_MAX];
    char key_balances[RQ_KEY_MAX], key_effects[RQ_KEY_MAX];   /* the effect ledger */
    char proc[RQ_KEY_MAX], lease[RQ_KEY_MAX];   /* a consumer's own */
    char refusal[160];                          /* the last error reply to a produce */
    uint64_t unreplicated;                      /* writes WAIT saw reach fewer replicas than asked */
};

int64_t rq_now_us(void) { return clk_wall_us(); }

static void rq_sleep_us(int64_t us) { clk_sleep_ns(us * 1000); }

static void rq_keys(rq *q)
{
    const char *p = q->s.prefix;
    snprintf(q->key_ready, RQ_KEY_MAX, "%sready", p);
    snprintf(q->key_consumers, RQ_KEY_MAX, "%sconsumers", p);
    snprintf(q->key_dead, RQ_KEY_MAX, "%sdead", p);
    snprintf(q->key_stats, RQ_KEY_MAX, "%sstats", p);
    snprintf(q->key_done, RQ_KEY_MAX, "%sdone", p);
    snprintf(q->key_e2e, RQ_KEY_MAX, "%se2e", p);
    snprintf(q->key_balances, RQ_KEY_MAX, "%sbalances", p);
    snprintf(q->key_effects, RQ_KEY_MAX, "%seffects", p);
}

/* SCRIPT LOAD of every script on the current connection (after a restart
 * the server's script cache is empty: EVAL below loads them again). */
static int rq_load_scripts(rq *q)
{
    redisContext *c = rconn_ctx(q->conn);
    for (int i = 0; i < RQ_N_SCRIPTS; i++) {
        redisReply *r = c ? rbnd_command(c, "SCRIPT LOAD %s", q->source[i]) : NULL;
        int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
        if (ok) memcpy(q->sha[i], r->str, 41);
        if (r) freeReplyObject(r);
        if (!ok) return -1;
    }
    return 0;
}

static rq *rq_new(const rq_setup *s, char *err, size_t errlen)
{
    rq *q = calloc(1, sizeof *q);
    if (!q) { snprintf(err, errlen, "out of memory"); return NULL; }
    q->s = *s;
    rq_keys(q);
    for (int i = 0; i < RQ_N_SCRIPTS; i++) {
        q->source[i] = rscript_find(rq_script_names[i]);
        if (!q->source[i]) {
            snprintf(err, errlen, "script %s is not embedded", rq_script_names[i]);
            free(q);
            return NULL;
        }
    }
    return q;
}

/* A connection to where the queue lives: the server, or the master that
 * owns its slot now. NULL with a message. */
static rconn *rq_connect(const rq_setup *s, char *err, size_t errlen)
{
    if (!s->cluster) return rconn_open(&s->url, s->timeout_ms, err, errlen);
    rurl owner;
    size_t tag = strcspn(s->prefix, "{");
    if (rclu_locate(s->seeds, (size_t)s->n_seeds, s->timeout_ms, s->prefix + tag, strlen(s->prefix + tag), &owner,
                    err, errlen) != 0)
        return NULL;
    return rconn_open(&owner, s->timeout_ms, err, errlen);
}

rq *rq_open(const rq_setup *s, char *err, size_t errlen)
{
    rq *q = rq_new(s, err, errlen);
    if (!q) return NULL;
    q->conn = rq_connect(s, err, errlen);
    if (!q->conn || rq_load_scripts(q) != 0) {
        if (q->conn) snprintf(err, errlen, "SCRIPT LOAD of the queue's scripts failed");
        rq_close(q);
        return NULL;
    }
    return q;
}

void rq_close(rq *q)
{
    if (!q) return;
    rconn_close(q->conn);
    free(q);
}

int rq_recover(rq *q)
{
    char err[256];
    if (q->s.cluster) {
        /* found again: a failover or a reshard may have moved the slot */
        rconn *moved = rq_connect(&q->s, err, sizeof err);
        if (!moved) return -1;
        rconn_close(q->conn);
        q->conn = moved;
    } else if (rconn_reconnect(q->conn, err, sizeof err) != 0) {
        return -1;
    }
    return rq_load_scripts(q) == 0 ? 0 : -1;
}

uint64_t rq_unreplicated(const rq *q) { return q->unreplicated; }

uint64_t rq_errors(const rq *q) { return q->errors; }

/* Runs script `which`: EVALSHA, or EVAL when the server lost its script
 * cache (a restart). NULL when the connection failed (counted). */
static redisReply *rq_call(rq *q, int which, int nkeys, const char *const *keys, int nargs, const char *const *args)
{
    const char *argv[16];
    size_t lens[16];
    char nk[8];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int argc = 0;
    argv[argc++] = "EVALSHA";
    argv[argc++] = q->sha[which];
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++) argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++) argv[argc++] = args[i];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = rconn_ctx(q->conn);
        redisReply *r = c ? rbnd_command_argv(c, argc, argv, lens) : NULL;
        if (r && r->type == REDIS_REPLY_ERROR && q->s.cluster &&
            (strncmp(r->str, "MOVED", 5) == 0 || strncmp(r->str, "ASK", 3) == 0 ||
             strncmp(r->str, "CLUSTERDOWN", 11) == 0 || strncmp(r->str, "TRYAGAIN", 8) == 0 ||
             strncmp(r->str, "READONLY", 8) == 0)) {
            /* not the slot's master (any more): no answer; rq_recover finds it again */
            freeReplyObject(r);
            rconn_disconnect(q->conn);
            r = NULL;
        }
        if (!r) {
            q->errors++;
            return NULL;
        }
        if (q->s.wait_replicas > 0 && which != RQ_LEVELS && r->type != REDIS_REPLY_ERROR) {
            /* the write is acknowledged to the caller only once replicas have it */
            redisReply *w = rbnd_command(c, "WAIT %d %d", q->s.wait_replicas, q->s.timeout_ms);
            if (!w) {
                freeReplyObject(r);
                q->errors++;
                return NULL;
            }
            if (w->type != REDIS_REPLY_INTEGER || w->integer < q->s.wait_replicas) q->unreplicated++;
            freeReplyObject(w);
        }
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && attempt == 0) {
            freeReplyObject(r);
            argv[0] = "EVAL";
            argv[1] = q->source[which];
            lens[0] = 4;
            lens[1] = strlen(q->source[which]);
            continue;
        }
        return r;
    }
    return NULL;
}

int rq_produce(rq *q, uint64_t id, const char *key, uint32_t cost, int64_t enqueued_us)
{
    /* a key is at most KSPACE_MAX_NAME bytes, each escaped to at most 6 */
    char msg[RQ_MSG_MAX], max[24];
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "cost", cost);
    cJSON_AddNumberToObject(o, "enqueued_us", (double)enqueued_us);
    cJSON_AddNumberToObject(o, "attempts", 0);
    int ok = cJSON_PrintPreallocated(o, msg, sizeof msg, 0);
    cJSON_Delete(o);
    if (!ok) return -1;
    snprintf(max, sizeof max, "%" PRIu64, q->s.q.max_queue);
    const char *keys[] = { q->key_ready }, *args[] = { msg, max };
    redisReply *r = rq_call(q, RQ_PRODUCE, 1, keys, 2, args);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -2;
    if (rc == -2)   /* an answer, not a lost connection: OOM at maxmemory, a READONLY replica... */
        snprintf(q->refusal, sizeof q->refusal, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "a reply of another type");
    freeReplyObject(r);
    return rc;
}

const char *rq_refusal(const rq *q) { return q->refusal; }

long rq_processing_len(rq *q, uint32_t index, uint32_t incarnation)
{
    char key[RQ_KEY_MAX + 32];
    snprintf(key, sizeof key, "%sprocessing:c%u.%u", q->s.prefix, index, incarnation);
    redisContext *c = rconn_ctx(q->conn);
    redisReply *r = c ? rbnd_command(c, "LLEN %s", key) : NULL;
    long n = r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
    if (r) freeReplyObject(r);
    return n;
}

int rq_push_raw(rq *q, const char *raw)
{
    redisContext *c = rconn_ctx(q->conn);
    redisReply *r = c ? rbnd_command(c, "LPUSH %s %s", q->key_ready, raw) : NULL;
    int rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (r) freeReplyObject(r);
    return rc;
}

int rq_reap(rq *q, uint64_t *returned, uint64_t *dead)
{
    char vis[24], maxa[24];
    snprintf(vis, sizeof vis, "%" PRId64, q->s.visibility_us);
    snprintf(maxa, sizeof maxa, "%u", q->s.q.max_attempts);
    const char *keys[] = { q->key_consumers, q->key_ready, q->key_dead, q->key_stats };
    const char *args[] = { q->s.prefix, vis, maxa };
    redisReply *r = rq_call(q, RQ_REAP, 4, keys, 3, args);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    if (ok) {
        *returned = (uint64_t)r->element[0]->integer;
        *dead = (uint64_t)r->element[1]->integer;
    }
    if (r) freeReplyObject(r);
    return ok ? 0 : -1;
}

int rq_levels_get(rq *q, rq_levels *out)
{
    const char *keys[] = { q->key_ready, q->key_consumers, q->key_dead, q->key_stats }, *args[] = { q->s.prefix };
    redisReply *r = rq_call(q, RQ_LEVELS, 4, keys, 1, args);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 8;
    if (ok) {
        uint64_t v[8];
        for (int i = 0; i < 8; i++) v[i] = (uint64_t)r->element[i]->integer;
        *out = (rq_levels){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
    }
    if (r) freeReplyObject(r);
    return ok ? 0 : -1;
}

/* Counts every key under the prefix, one SCAN page at a time, and with
 * `unlink` UNLINKs each page. The count, or -1. */
static long rq_scan(rq *q, int unlink)
{
    char pattern[RQ_KEY_MAX + 1];
    snprintf(pattern, sizeof pattern, "%s*", q->s.prefix);
    return rconn_scan(q->conn, pattern, unlink ? rconn_unlink_page : NULL, NULL, 0);
}

long rq_count_keys(rq *q) { return rq_scan(q, 0); }

int rq_delete(rq *q) { return rq_scan(q, 1) < 0 ? -1 : 0; }

/* ---- durability ----------------------------------------------------------------------- */

static int rq_config_get(redisContext *c, const char *name, char *out, size_t len)
{
    redisReply *r = rbnd_command(c, "CONFIG GET %s", name);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING;
    if (ok) snprintf(out, len, "%s", r->element[1]->str);
    if (r) freeReplyObject(r);
    return ok ? 0 : -1;
}

int rq_durability_get(rq *q)
{
    redisContext *c = rconn_ctx(q->conn);
    char aof[16], fsync[16];
    if (!c || rq_config_get(c, "appendonly", aof, sizeof aof) != 0 ||
        rq_config_get(c, "appendfsync", fsync, sizeof fsync) != 0)
        return -1;
    if (strcmp(aof, "yes") != 0) return QUEUE_DURABLE_NONE;
    return strcmp(fsync, "always") == 0 ? QUEUE_DURABLE_ALWAYS : QUEUE_DURABLE_EVERYSEC;
}

int rq_durability_set(rq *q, int durability, char *err, size_t errlen)
{
    redisContext *c = rconn_ctx(q->conn);
    if (!c) { snprintf(err, errlen, "not connected"); return -1; }
    const char *aof = durability == QUEUE_DURABLE_NONE ? "no" : "yes";
    const char *fsync = durability == QUEUE_DURABLE_ALWAYS ? "always" : "everysec";
    redisReply *r = rbnd_command(c, "CONFIG SET appendfsync %s", fsync);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
    r = ok ? rbnd_command(c, "CONFIG SET appendonly %s", aof) : NULL;
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok) {
        snprintf(err, errlen, "CONFIG SET appendonly %s / appendfsync %s refused: %s", aof, fsync,
                 r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
        if (r) freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    /* enabling the AOF starts a rewrite; the queue starts once it is done */
    for (int i = 0; i < 3000; i++) {
        r = rbnd_command(c, "INFO persistence");
        int busy = !r || r->type != REDIS_REPLY_STRING || strstr(r->str, "aof_rewrite_in_progress:1") ||
                   strstr(r->str, "aof_rewrite_scheduled:1");
        if (r) freeReplyObject(r);
        if (!busy) return 0;
        rq_sleep_us(10000);
    }
    snprintf(err, errlen, "the AOF rewrite did not finish within 30 s");
    return -1;
}

/* ---- the consumer --------------------------------------------------------------------- */

typedef struct {
    const char *raw;             /* in the take reply */
    cJSON *msg;                  /* NULL: could not be read */
    char why[160];
    int64_t done_us;             /* realtime µs its downstream call ends */
    int failed;
} rq_item;

/* Waits until realtime `until_us`; 1 when stop_fd says stop first. */
static int rq_wait(int stop_fd, int64_t until_us)
{
    for (;;) {
        int64_t left = until_us - rq_now_us();
        if (left <= 0) return 0;
        struct pollfd p = { stop_fd, POLLIN, 0 };
        int ms = (int)(left / 1000) + 1;
        int n = poll(&p, 1, ms > 1000 ? 1000 : ms);
        if (n > 0) return 1;
        if (getppid() == 1) return 1;
    }
}

/* A script call that must happen (ack, fail): retried through reconnects
 * for up to 30 s; after that the message stays leased and the reaper
 * gives it back. */
static redisReply *rq_call_hard(rq *q, int which, int nkeys, const char *const *keys, int nargs,
                                const char *const *args)
{
    for (int attempt = 0; attempt < 300; attempt++) {
        redisReply *r = rq_call(q, which, nkeys, keys, nargs, args);
        if (r && r->type != REDIS_REPLY_ERROR) return r;
        if (r) freeReplyObject(r);
        rq_sleep_us(100000);
        rq_recover(q);
    }
    return NULL;
}

static void rq_read(rq_item *it)
{
    it->msg = cJSON_Parse(it->raw);
    const cJSON *id = it->msg ? cJSON_GetObjectItemCaseSensitive(it->msg, "id") : NULL;
    const cJSON *at = it->msg ? cJSON_GetObjectItemCaseSensitive(it->msg, "attempts") : NULL;
    const cJSON *enq = it->msg ? cJSON_GetObjectItemCaseSensitive(it->msg, "enqueued_us") : NULL;
    if (!it->msg) {
        const char *where = cJSON_GetErrorPtr();
        long at_byte = where && where >= it->raw && where <= it->raw + strlen(it->raw) ? (long)(where - it->raw) : -1;
        snprintf(it->why, sizeof it->why, "malformed JSON: cannot parse near byte %ld", at_byte);
    } else if (!cJSON_IsNumber(id) || id->valuedouble < 0 || !cJSON_IsNumber(at) || !cJSON_IsNumber(enq)) {
        snprintf(it->why, sizeof it->why, "malformed message: needs numbers id, attempts and enqueued_us");
        cJSON_Delete(it->msg);
        it->msg = NULL;
    }
}

static void rq_finish_item(rq *q, rq_item *it)
{
    const char *keys_fail[] = { q->proc, q->lease, q->key_ready, q->key_dead, q->key_stats };
    if (!it->msg) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reason", it->why);
        cJSON_AddStringToObject(d, "raw", it->raw);
        char *text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (!text) return;
        const char *args[] = { it->raw, text, "1" };
        redisReply *r = rq_call_hard(q, RQ_FAIL, 5, keys_fail, 3, args);
        if (r) freeReplyObject(r);
        free(text);
        return;
    }
    double id = cJSON_GetObjectItemCaseSensitive(it->msg, "id")->valuedouble;
    double attempts = cJSON_GetObjectItemCaseSensitive(it->msg, "attempts")->valuedouble + 1;
    if (!it->failed) {
        char idbuf[32], e2e[64];
        double enq = cJSON_GetObjectItemCaseSensitive(it->msg, "enqueued_us")->valuedouble;
        int64_t done_rel = it->done_us - q->s.t0_us;
        snprintf(idbuf, sizeof idbuf, "%.0f", id);
        snprintf(e2e, sizeof e2e, "%" PRId64 ",%" PRId64, done_rel - (int64_t)enq, done_rel);
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(it->msg, "key");
        const cJSON *cost = cJSON_GetObjectItemCaseSensitive(it->msg, "cost");
        char costbuf[32];
        snprintf(costbuf, sizeof costbuf, "%.0f", cJSON_IsNumber(cost) ? cost->valuedouble : 0);
        const char *keys[] = { q->proc, q->lease, q->key_done, q->key_e2e, q->key_stats, q->key_balances,
                               q->key_effects };
        const char *args[] = { it->raw, idbuf, e2e, cJSON_IsString(key) ? key->valuestring : "", costbuf };
        redisReply *r = rq_call_hard(q, RQ_ACK, 7, keys, 5, args);
        if (r) freeReplyObject(r);
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "downstream failed on attempt %.0f (simulated, failure_prob %g)", attempts,
             q->s.failure_prob);
    cJSON_ReplaceItemInObjectCaseSensitive(it->msg, "attempts", cJSON_CreateNumber(attempts));
    cJSON_DeleteItemFromObjectCaseSensitive(it->msg, "last_error");
    cJSON_AddStringToObject(it->msg, "last_error", why);
    char *text = cJSON_PrintUnformatted(it->msg);
    if (!text) return;
    const char *args[] = { it->raw, text, attempts >= q->s.q.max_attempts ? "1" : "0" };
    redisReply *r = rq_call_hard(q, RQ_FAIL, 5, keys_fail, 3, args);
    if (r) freeReplyObject(r);
    free(text);
}

long rq_take_ack(rq *q, const char *cid, uint32_t n)
{
    char n_s[16], t0[24];
    snprintf(n_s, sizeof n_s, "%u", n);
    snprintf(t0, sizeof t0, "%" PRId64, q->s.t0_us);
    snprintf(q->proc, RQ_KEY_MAX, "%sprocessing:%s", q->s.prefix, cid);
    snprintf(q->lease, RQ_KEY_MAX, "%slease:%s", q->s.prefix, cid);
    const char *keys[] = { q->key_ready, q->proc, q->lease, q->key_consumers, q->key_stats };
    const char *args[] = { n_s, cid, t0 };
    redisReply *r = rq_call(q, RQ_TAKE, 5, keys, 3, args);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return -1;
    }
    long done = 0;
    for (size_t i = 0; i < r->elements; i++) {
        rq_item it = { .raw = r->element[i]->str, .done_us = rq_now_us() };
        rq_read(&it);
        rq_finish_item(q, &it);
        cJSON_Delete(it.msg);
        done++;
    }
    freeReplyObject(r);
    return done;
}

static int rq_by_done(const void *a, const void *b)
{
    const rq_item *x = a, *y = b;
    return (x->done_us > y->done_us) - (x->done_us < y->done_us);
}

static void rq_consumer_main(const rq_setup *s, uint32_t index, uint32_t incarnation, uint32_t share, int stop_fd)
{
    char err[256], cid[32], share_s[16], t0[24];
    snprintf(cid, sizeof cid, "c%u.%u", index, incarnation);
    snprintf(share_s, sizeof share_s, "%u", share);
    snprintf(t0, sizeof t0, "%" PRId64, s->t0_us);
    rq *q = rq_new(s, err, sizeof err);
    if (!q) _exit(1);
    snprintf(q->proc, RQ_KEY_MAX, "%sprocessing:%s", s->prefix, cid);
    snprintf(q->lease, RQ_KEY_MAX, "%slease:%s", s->prefix, cid);
    while (!(q->conn = rq_connect(s, err, sizeof err)) || rq_load_scripts(q) != 0) {
        rconn_close(q->conn);
        q->conn = NULL;
        if (rq_wait(stop_fd, rq_now_us() + 100000)) _exit(0);
    }
    dur_dist service;
    rng fail;
    uint64_t stream = 1000 + (uint64_t)index * 1000 + incarnation;
    dur_init(&service, s->down.dist, s->down.mean_ms, s->down.p99_ms, s->seed, stream);
    rng_seed(&fail, s->seed, stream + 500);
    rq_item *items = calloc(share, sizeof *items);
    if (!items) _exit(1);
    int64_t interval = s->q.interval_us, now = rq_now_us();
    int64_t next = now <= s->t0_us ? s->t0_us : s->t0_us + ((now - s->t0_us + interval - 1) / interval) * interval;
    const char *keys[] = { q->key_ready, q->proc, q->lease, q->key_consumers, q->key_stats };
    const char *args[] = { share_s, cid, t0 };
    while (!rq_wait(stop_fd, next)) {
        redisReply *r = rq_call(q, RQ_TAKE, 5, keys, 3, args);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            /* taken or not, whatever moved is leased: the reaper has it */
            if (r) freeReplyObject(r);
            else rq_recover(q);
        } else {
            size_t n = r->elements < share ? r->elements : share;
            int64_t taken_at = rq_now_us();
            for (size_t i = 0; i < n; i++) {
                rq_item *it = &items[i];
                *it = (rq_item){ .raw = r->element[i]->str };
                rq_read(it);
                it->done_us = taken_at + (it->msg ? dur_draw(&service) : 0);
                it->failed = it->msg && s->failure_prob > 0 && rng_uniform(&fail) < s->failure_prob;
            }
            /* the batch's calls run side by side; each ends after its own service time */
            qsort(items, n, sizeof *items, rq_by_done);
            for (size_t i = 0; i < n; i++) {
                rq_sleep_us(items[i].done_us - rq_now_us());
                rq_finish_item(q, &items[i]);
                cJSON_Delete(items[i].msg);
            }
            freeReplyObject(r);
        }
        next += interval;
        now = rq_now_us();
        if (now > next) next += ((now - next) / interval + 1) * interval;   /* a late run skips, never bunches */
    }
    free(items);
    rq_close(q);
    _exit(0);
}

pid_t rq_consumer_spawn(const rq_setup *s, uint32_t index, uint32_t incarnation, uint32_t share, int stop_fd)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    signal(SIGINT, SIG_IGN);
    rq_consumer_main(s, index, incarnation, share, stop_fd);
    _exit(0);
}

/* ---- reconciliation ------------------------------------------------------------------- */

enum { RQ_SEEN_SUCCEEDED = 1, RQ_SEEN_DEAD = 2, RQ_SEEN_QUEUED = 4 };

static redisReply *rq_cmd_reply(rq *q, const char *fmt, const char *key)
{
    redisContext *c = rconn_ctx(q->conn);
    redisReply *r = c ? rbnd_command(c, fmt, key) : NULL;
    if (r && r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Marks the id of every message of list `key` with `flag`; unreadable ones are counted. */
static int rq_mark_list(rq *q, const char *key, uint8_t *seen, uint64_t produced, uint8_t flag, uint64_t *unreadable)
{
    redisReply *r = rq_cmd_reply(q, "LRANGE %s 0 -1", key);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return -1;
    }
    for (size_t i = 0; i < r->elements; i++) {
        cJSON *m = cJSON_Parse(r->element[i]->str);
        const cJSON *id = m ? cJSON_GetObjectItemCaseSensitive(m, "id") : NULL;
        if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < (double)produced)
            seen[(uint64_t)id->valuedouble] |= flag;
        else if (unreadable)
            (*unreadable)++;
        cJSON_Delete(m);
    }
    freeReplyObject(r);
    return 0;
}

typedef struct {
    int64_t tick;
    int64_t e2e_us;
} rq_sample;

static int rq_by_tick(const void *a, const void *b)
{
    const rq_sample *x = a, *y = b;
    return (x->tick > y->tick) - (x->tick < y->tick);
}

int rq_succeeded_ids(rq *q, uint64_t produced, uint8_t *succeeded)
{
    memset(succeeded, 0, produced);
    redisReply *done = rq_cmd_reply(q, "HGETALL %s", q->key_done);
    if (!done || done->type != REDIS_REPLY_ARRAY) {
        if (done) freeReplyObject(done);
        return -1;
    }
    for (size_t i = 0; i + 1 < done->elements; i += 2) {
        uint64_t id = strtoull(done->element[i]->str, NULL, 10);
        if (id < produced) succeeded[id] = 1;
    }
    freeReplyObject(done);
    return 0;
}

typedef struct {
    const char *key;
    uint64_t logged;
} rq_logged;

static int rq_by_key(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int rq_effects_check(rq *q, const rq_expected *exp, size_t n, rq_effects *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    redisReply *log = rq_cmd_reply(q, "HGETALL %s", q->key_effects);
    redisReply *bal = rq_cmd_reply(q, "HGETALL %s", q->key_balances);
    redisReply *stats = rq_cmd_reply(q, "HGET %s effects_suppressed", q->key_stats);
    rq_logged *sums = NULL;
    int rc = -1;
    if (!log || !bal || !stats || log->type != REDIS_REPLY_ARRAY || bal->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "reading the effect ledger back failed: the server did not answer");
        goto out;
    }
    out->applied = log->elements / 2;
    out->suppressed = stats->type == REDIS_REPLY_STRING ? strtoull(stats->str, NULL, 10) : 0;
    /* the log's sum per key: entries are "cost,key" */
    sums = calloc(log->elements / 2 + 1, sizeof *sums);
    if (!sums) { snprintf(err, errlen, "out of memory"); goto out; }
    size_t n_sums = 0;
    for (size_t i = 1; i < log->elements; i += 2) {
        const char *entry = log->element[i]->str, *comma = strchr(entry, ',');
        if (!comma) continue;
        sums[n_sums++] = (rq_logged){ comma + 1, strtoull(entry, NULL, 10) };
    }
    qsort(sums, n_sums, sizeof *sums, rq_by_key);
    size_t m = 0;   /* merged: one entry per key */
    for (size_t i = 0; i < n_sums; i++) {
        if (m > 0 && strcmp(sums[m - 1].key, sums[i].key) == 0) sums[m - 1].logged += sums[i].logged;
        else sums[m++] = sums[i];
    }
    /* every balance against its log: the log is the truth, so compensate */
    for (size_t i = 0; i + 1 < bal->elements; i += 2) {
        const char *key = bal->element[i]->str;
        uint64_t balance = strtoull(bal->element[i + 1]->str, NULL, 10);
        out->balance_total += balance;
        const char *probe = key;
        rq_logged *l = bsearch(&probe, sums, m, sizeof *sums, rq_by_key);
        uint64_t logged = l ? l->logged : 0;
        if (balance != logged) {
            out->compensated++;
            redisContext *c = rconn_ctx(q->conn);
            redisReply *r = c ? rbnd_command(c, "HSET %s %s %llu", q->key_balances, key, (unsigned long long)logged)
                              : NULL;
            if (r) freeReplyObject(r);
        }
    }
    /* every key's logged effects against what the producer expects */
    size_t i = 0, j = 0;
    while (i < m || j < n) {
        int c = i >= m ? 1 : j >= n ? -1 : strcmp(sums[i].key, exp[j].key);
        uint64_t logged = c <= 0 ? sums[i].logged : 0, expected = c >= 0 ? exp[j].expected : 0;
        const char *key = c <= 0 ? sums[i].key : exp[j].key;
        if (logged != expected && out->wrong++ == 0)
            snprintf(out->first_wrong, sizeof out->first_wrong, "%.100s: logged %llu, expected %llu", key,
                     (unsigned long long)logged, (unsigned long long)expected);
        out->expected_total += expected;
        if (c <= 0) i++;
        if (c >= 0) j++;
    }
    rc = 0;
out:
    free(sums);
    if (log) freeReplyObject(log);
    if (bal) freeReplyObject(bal);
    if (stats) freeReplyObject(stats);
    return rc;
}

int rq_reconcile(rq *q, uint64_t produced, const uint8_t *rejected, rq_tally *t, hist *e2e, qm_tick *ticks,
                 size_t n_ticks, int64_t tick_us, uint64_t *second_delivered, size_t n_seconds, char *err,
                 size_t errlen)
{
    memset(t, 0, sizeof *t);
    uint8_t *seen = calloc(produced ? produced : 1, 1);
    rq_sample *samples = NULL;
    size_t n_samples = 0;
    redisReply *done = NULL, *times = NULL, *consumers = NULL, *stats = NULL;
    int rc = -1;
    if (!seen) { snprintf(err, errlen, "out of memory for %" PRIu64 " ids", produced); goto out; }
    done = rq_cmd_reply(q, "HGETALL %s", q->key_done);
    times = rq_cmd_reply(q, "HGETALL %s", q->key_e2e);
    consumers = rq_cmd_reply(q, "SMEMBERS %s", q->key_consumers);
    stats = rq_cmd_reply(q, "HGETALL %s", q->key_stats);
    if (!done || !times || !consumers || !stats) {
        snprintf(err, errlen, "reading the queue back failed: the server did not answer");
        goto out;
    }
    for (size_t i = 0; i + 1 < done->elements; i += 2) {
        uint64_t id = strtoull(done->element[i]->str, NULL, 10);
        long long n = strtoll(done->element[i + 1]->str, NULL, 10);
        if (id >= produced) continue;
        seen[id] |= RQ_SEEN_SUCCEEDED;
        if (n > 1) t->duplicates += (uint64_t)(n - 1);
    }
    if (rq_mark_list(q, q->key_dead, seen, produced, RQ_SEEN_DEAD, &t->dead_unreadable) != 0 ||
        rq_mark_list(q, q->key_ready, seen, produced, RQ_SEEN_QUEUED, NULL) != 0) {
        snprintf(err, errlen, "reading the queue's lists back failed");
        goto out;
    }
    for (size_t i = 0; i < consumers->elements; i++) {
        char key[RQ_KEY_MAX];
        snprintf(key, sizeof key, "%sprocessing:%s", q->s.prefix, consumers->element[i]->str);
        if (rq_mark_list(q, key, seen, produced, RQ_SEEN_QUEUED, NULL) != 0) {
            snprintf(err, errlen, "reading %s back failed", key);
            goto out;
        }
    }
    for (uint64_t id = 0; id < produced; id++) {
        uint8_t f = seen[id];
        if (rejected && rejected[id]) t->rejected++;
        else if (f & RQ_SEEN_SUCCEEDED) t->succeeded++;
        else if (f & RQ_SEEN_DEAD) t->dead_lettered++;
        else if (f & RQ_SEEN_QUEUED) t->still_queued++;
        else if (t->lost++ == 0) t->first_lost_id = id;
    }
    samples = malloc((times->elements / 2 + 1) * sizeof *samples);
    if (!samples) { snprintf(err, errlen, "out of memory"); goto out; }
    for (size_t i = 0; i + 1 < times->elements; i += 2) {
        long long e, d;
        if (sscanf(times->element[i + 1]->str, "%lld,%lld", &e, &d) != 2) continue;
        if (e2e) hist_record(e2e, e < 0 ? 0 : e);
        samples[n_samples++] = (rq_sample){ d < 0 ? 0 : d / tick_us, e < 0 ? 0 : e };
    }
    if (ticks) {
        hist *h = malloc(sizeof *h);
        if (!h) { snprintf(err, errlen, "out of memory"); goto out; }
        qsort(samples, n_samples, sizeof *samples, rq_by_tick);
        for (size_t i = 0; i < n_samples;) {
            size_t j = i;
            hist_init(h);
            while (j < n_samples && samples[j].tick == samples[i].tick) hist_record(h, samples[j++].e2e_us);
            if ((size_t)samples[i].tick < n_ticks) {
                qm_tick *k = &ticks[samples[i].tick];
                k->e2e_p50_us = hist_quantile(h, 0.50);
                k->e2e_p99_us = hist_quantile(h, 0.99);
                k->e2e_max_us = h->max;
            }
            i = j;
        }
        free(h);
    }
    if (second_delivered) {
        for (size_t i = 0; i + 1 < stats->elements; i += 2) {
            const char *f = stats->element[i]->str;
            if (strncmp(f, "s:", 2) != 0) continue;
            unsigned long long sec = strtoull(f + 2, NULL, 10);
            if (sec < n_seconds) second_delivered[sec] = strtoull(stats->element[i + 1]->str, NULL, 10);
        }
    }
    rc = 0;
out:
    if (done) freeReplyObject(done);
    if (times) freeReplyObject(times);
    if (consumers) freeReplyObject(consumers);
    if (stats) freeReplyObject(stats);
    free(samples);
    free(seen);
    return rc;
}
