/* redis_cluster.c -- see redis_cluster.h. */
#define _POSIX_C_SOURCE 200809L
#include "redis_cluster.h"
#include "redis_bounded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "interrupt.h"

#define RCLU_MAX_ROUNDS 16
#define RCLU_BACKOFF_MAX_MS 1000
#define RCLU_REFRESH_EVERY_NS (50 * 1000000LL)
#define RCLU_NOT_QUEUED ((size_t)-1)   /* a node's queue entry for ASKING's own +OK */

typedef struct {
    char host[64];
    int port;
    rconn *conn;               /* NULL until first needed */
    int master;
    int64_t backoff_ms, next_attempt_ns;
    uint64_t calls;
    hist *latency;
    size_t *queue;             /* the replies expected, in order: command indices */
    size_t n_queue;
} rclu_node;

typedef struct {
    size_t off, len;           /* its bytes in the arena */
    int slot;                  /* -1: no key */
    int node;
    int asking;                /* send ASKING first (this round only) */
    int wait;                  /* requeued after TRYAGAIN/CLUSTERDOWN */
} rclu_cmd;

struct rclu {
    rurl seed;
    int cluster, timeout_ms;
    int64_t retry_wait_ns;
    int (*on_connect)(void *ctx, rconn *conn, char *err, size_t errlen);
    void *hook_ctx;
    rclu_node nodes[RCLU_MAX_NODES];
    int n_nodes;
    int16_t slot_node[RCLU_SLOTS];     /* -1: no owner known */
    int map_stale;
    int64_t last_refresh_ns;
    rconn_buf arena;
    rclu_cmd *cmds;
    rclu_answer *answers;
    size_t *pending, *requeue;
    size_t n_cmds, cap;
    rclu_counts counts;
    int64_t window_started_ns;         /* 0: every command answered lately */
    char error[256];
};

/* ---- slots ----------------------------------------------------------------- */

uint16_t rclu_crc16(const char *s, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)s[i] << 8);
        for (int b = 0; b < 8; b++) crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned rclu_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t start = (size_t)(open - key) + 1;
        const char *close = memchr(key + start, '}', len - start);
        if (close && close > key + start) return rclu_crc16(key + start, (size_t)(close - key - start)) & 16383u;
    }
    return rclu_crc16(key, len) & 16383u;
}

/* ---- nodes ------------------------------------------------------------------ */

static int rclu_node_index(rclu *c, const char *host, int port)
{
    for (int i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].port == port && strcmp(c->nodes[i].host, host) == 0) return i;
    if (c->n_nodes == RCLU_MAX_NODES) return -1;
    rclu_node *n = &c->nodes[c->n_nodes];
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    if (!(n->latency = malloc(sizeof *n->latency))) return -1;
    hist_init(n->latency);
    if (c->cap && !(n->queue = malloc(2 * c->cap * sizeof *n->queue))) {
        free(n->latency);
        return -1;
    }
    return c->n_nodes++;
}

/* A connection to node n, made now if the backoff allows. 1 connected. */
static int rclu_node_connect(rclu *c, rclu_node *n)
{
    if (n->conn && rconn_ctx(n->conn)) return 1;
    int64_t now = clk_mono_ns();
    if (now < n->next_attempt_ns) return 0;
    char err[256];
    int ok;
    if (n->conn) {
        ok = rconn_reconnect(n->conn, err, sizeof err) == 0;
    } else {
        rurl u = c->seed;
        snprintf(u.host, sizeof u.host, "%s", n->host);
        u.port = n->port;
        n->conn = rconn_open(&u, c->timeout_ms, err, sizeof err);
        if (n->conn) rconn_set_patience(n->conn, c->retry_wait_ns);
        ok = n->conn != NULL;
    }
    if (ok && c->on_connect && c->on_connect(c->hook_ctx, n->conn, err, sizeof err) != 0) {
        ok = 0;
        rconn_disconnect(n->conn);
    }
    if (ok) {
        n->backoff_ms = 0;
        return 1;
    }
    snprintf(c->error, sizeof c->error, "%s", err);
    n->backoff_ms = n->backoff_ms ? n->backoff_ms * 2 : 10;
    if (n->backoff_ms > RCLU_BACKOFF_MAX_MS) n->backoff_ms = RCLU_BACKOFF_MAX_MS;
    n->next_attempt_ns = clk_mono_ns() + n->backoff_ms * 1000000;
    return 0;
}

/* ---- the slot map ------------------------------------------------------------- */

/* CLUSTER SLOTS from node n into a new map. 0, or -1. */
static int rclu_read_map(rclu *c, rclu_node *from, int16_t *map, int *is_master)
{
    redisContext *ctx = from->conn ? rconn_ctx(from->conn) : NULL;
    redisReply *rep = ctx ? rbnd_command(ctx, "CLUSTER SLOTS") : NULL;
    if (!rep && ctx) snprintf(c->error, sizeof c->error, "%s", ctx->errstr);
    int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0;
    for (int i = 0; i < RCLU_SLOTS; i++) map[i] = -1;
    for (size_t r = 0; ok && r < rep->elements; r++) {
        const redisReply *range = rep->element[r];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 || range->element[2]->type != REDIS_REPLY_ARRAY ||
            range->element[2]->elements < 2) { ok = 0; break; }
        const redisReply *who = range->element[2];
        /* an empty or "?" host: the address the question went to */
        const char *host = who->element[0]->type == REDIS_REPLY_STRING && who->element[0]->len > 0 &&
                                   strcmp(who->element[0]->str, "?") != 0 ? who->element[0]->str : from->host;
        int node = rclu_node_index(c, host, (int)who->element[1]->integer);
        long long lo = range->element[0]->integer, hi = range->element[1]->integer;
        if (node < 0 || lo < 0 || hi >= RCLU_SLOTS || lo > hi) { ok = 0; break; }
        is_master[node] = 1;
        for (long long s = lo; s <= hi; s++) map[s] = (int16_t)node;
    }
    freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* Reads the map from the first node that answers: masters first, then
 * every other node known. 0, or -1 (the old map stays). */
static int rclu_refresh(rclu *c)
{
    if (!c->cluster) { c->map_stale = 0; return 0; }
    int64_t now = clk_mono_ns();
    if (c->last_refresh_ns && now - c->last_refresh_ns < RCLU_REFRESH_EVERY_NS) return -1;
    c->last_refresh_ns = now;
    int16_t *map = malloc(sizeof c->slot_node);
    if (!map) return -1;
    int ok = 0;
    for (int pass = 0; pass < 2 && !ok; pass++) {
        for (int i = 0; i < c->n_nodes && !ok; i++) {
            rclu_node *n = &c->nodes[i];
            if (n->master != (pass == 0) || !rclu_node_connect(c, n)) continue;
            int is_master[RCLU_MAX_NODES] = { 0 };
            if (rclu_read_map(c, n, map, is_master) != 0) continue;
            memcpy(c->slot_node, map, sizeof c->slot_node);
            for (int k = 0; k < c->n_nodes; k++) c->nodes[k].master = is_master[k];
            ok = 1;
        }
    }
    free(map);
    if (!ok) return -1;
    c->map_stale = 0;
    c->counts.refreshes++;
    return 0;
}

int rclu_locate(const rurl *seeds, size_t n, int timeout_ms, const char *key, size_t len, rurl *out, char *err,
                size_t errlen)
{
    return rclu_locate_slot(seeds, n, timeout_ms, rclu_key_slot(key, len), out, err, errlen);
}

int rclu_locate_slot(const rurl *seeds, size_t n, int timeout_ms, unsigned slot, rurl *out, char *err, size_t errlen)
{
    snprintf(err, errlen, "no node of the cluster answered");
    for (size_t i = 0; i < n; i++) {
        char why[256];
        rconn *c = rconn_open(&seeds[i], timeout_ms, why, sizeof why);
        redisContext *ctx = c ? rconn_ctx(c) : NULL;
        redisReply *rep = ctx ? rbnd_command(ctx, "CLUSTER SLOTS") : NULL;
        int found = 0;
        for (size_t r = 0; rep && rep->type == REDIS_REPLY_ARRAY && r < rep->elements && !found; r++) {
            const redisReply *range = rep->element[r];
            if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 || range->element[2]->type != REDIS_REPLY_ARRAY ||
                range->element[2]->elements < 2 || (long long)slot < range->element[0]->integer ||
                (long long)slot > range->element[1]->integer)
                continue;
            const redisReply *who = range->element[2];
            *out = seeds[i];
            if (who->element[0]->type == REDIS_REPLY_STRING && who->element[0]->len > 0 &&
                strcmp(who->element[0]->str, "?") != 0)
                snprintf(out->host, sizeof out->host, "%s", who->element[0]->str);
            out->port = (int)who->element[1]->integer;
            found = 1;
        }
        if (!found && c) snprintf(err, errlen, "no master owns slot %u of the cluster", slot);
        freeReplyObject(rep);
        rconn_close(c);
        if (found) return 0;
    }
    return -1;
}

/* ---- opening ------------------------------------------------------------------- */

rclu *rclu_open(const rurl *seed, int cluster, int timeout_ms, int64_t retry_wait_ms,
                int (*on_connect)(void *ctx, rconn *conn, char *err, size_t errlen), void *ctx, char *err,
                size_t errlen)
{
    if (cluster && (seed->is_unix || seed->db > 0)) {
        snprintf(err, errlen, "a Redis Cluster is reached over TCP and has only database 0");
        return NULL;
    }
    rclu *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    c->seed = *seed;
    c->cluster = cluster;
    c->timeout_ms = timeout_ms;
    c->retry_wait_ns = retry_wait_ms * 1000000;
    c->on_connect = on_connect;
    c->hook_ctx = ctx;
    for (int i = 0; i < RCLU_SLOTS; i++) c->slot_node[i] = 0;
    int first = rclu_node_index(c, seed->host, seed->port);
    if (first < 0) { snprintf(err, errlen, "out of memory"); rclu_close(c); return NULL; }
    rclu_node *n = &c->nodes[first];
    rurl u = *seed;
    if (!(n->conn = rconn_open(&u, timeout_ms, err, errlen))) { rclu_close(c); return NULL; }
    rconn_set_patience(n->conn, c->retry_wait_ns);
    n->master = 1;
    if (!cluster) {
        if (on_connect && on_connect(ctx, n->conn, err, errlen) != 0) { rclu_close(c); return NULL; }
        return c;
    }
    redisContext *rc = rconn_ctx(n->conn);
    redisReply *info = rc ? rbnd_command(rc, "CLUSTER INFO") : NULL;
    int is_cluster = info && info->type == REDIS_REPLY_STRING;
    int state_ok = is_cluster && strstr(info->str, "cluster_state:ok") != NULL;
    freeReplyObject(info);
    char where[300];
    rurl_describe(seed, where, sizeof where);
    if (!info && rc) {   /* no answer at all: say why (a timeout, a reply beyond the bound...) */
        snprintf(err, errlen, "%s did not answer CLUSTER INFO: %s", where, rc->errstr);
        rclu_close(c);
        return NULL;
    }
    if (!is_cluster || !state_ok) {
        snprintf(err, errlen, is_cluster ? "the Redis Cluster at %s is not in state ok (CLUSTER INFO)"
                                         : "%s is not a Redis Cluster node (CLUSTER INFO refused): use redis:// for "
                                           "a standalone server", where);
        rclu_close(c);
        return NULL;
    }
    c->error[0] = '\0';
    if (rclu_refresh(c) != 0) {
        snprintf(err, errlen, "cannot read the slot map of the Redis Cluster at %s (CLUSTER SLOTS)%s%s", where,
                 c->error[0] ? ": " : "", c->error);
        rclu_close(c);
        return NULL;
    }
    for (int s = 0; s < RCLU_SLOTS; s++)
        if (c->slot_node[s] < 0) {
            snprintf(err, errlen, "the Redis Cluster at %s does not cover slot %d: no master owns it", where, s);
            rclu_close(c);
            return NULL;
        }
    for (int i = 0; i < c->n_nodes; i++) {
        rclu_node *m = &c->nodes[i];
        if (!m->master) continue;
        if (!rclu_node_connect(c, m)) {
            snprintf(err, errlen, "cannot connect to the master %s:%d of the Redis Cluster at %s: %s", m->host, m->port,
                     where, c->error);
            rclu_close(c);
            return NULL;
        }
        /* the seed was connected before the hook could run on it */
        if (i == first && on_connect && on_connect(ctx, m->conn, err, errlen) != 0) { rclu_close(c); return NULL; }
    }
    return c;
}

void rclu_close(rclu *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_nodes; i++) {
        rconn_close(c->nodes[i].conn);
        free(c->nodes[i].latency);
        free(c->nodes[i].queue);
    }
    rconn_buf_free(&c->arena);
    free(c->cmds);
    free(c->answers);
    free(c->pending);
    free(c->requeue);
    free(c);
}

int rclu_is_cluster(const rclu *c) { return c->cluster; }

/* ---- the batch -------------------------------------------------------------------- */

void rclu_reset(rclu *c)
{
    c->arena.len = 0;
    c->n_cmds = 0;
}

static int rclu_grow(rclu *c)
{
    if (c->n_cmds < c->cap) return 0;
    size_t cap = c->cap ? 2 * c->cap : 64;
    rclu_cmd *cmds = realloc(c->cmds, cap * sizeof *cmds);
    if (cmds) c->cmds = cmds;
    rclu_answer *answers = realloc(c->answers, cap * sizeof *answers);
    if (answers) c->answers = answers;
    size_t *pending = realloc(c->pending, cap * sizeof *pending);
    if (pending) c->pending = pending;
    size_t *requeue = realloc(c->requeue, cap * sizeof *requeue);
    if (requeue) c->requeue = requeue;
    if (!cmds || !answers || !pending || !requeue) goto oom;
    for (int i = 0; i < c->n_nodes; i++) {
        /* a command and its ASKING at most */
        size_t *q = realloc(c->nodes[i].queue, 2 * cap * sizeof *q);
        if (!q) goto oom;
        c->nodes[i].queue = q;
    }
    c->cap = cap;
    return 0;
oom:
    snprintf(c->error, sizeof c->error, "out of memory for the batch");
    return -1;
}

static int rclu_push(rclu *c, size_t before, int slot)
{
    rclu_cmd *cmd = &c->cmds[c->n_cmds++];
    *cmd = (rclu_cmd){ before, c->arena.len - before, slot, 0, 0, 0 };
    return 0;
}

int rclu_add_evalsha(rclu *c, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                     const int64_t *argv, int argc)
{
    if (rclu_grow(c) != 0) return -1;
    int slot = n_keys > 0 ? (int)rclu_key_slot(keys[0], klens[0]) : -1;
    for (int k = 1; c->cluster && k < n_keys; k++)
        if ((int)rclu_key_slot(keys[k], klens[k]) != slot) {
            snprintf(c->error, sizeof c->error, "CROSSSLOT: keys %.*s and %.*s are in different slots", (int)klens[0],
                     keys[0], (int)klens[k], keys[k]);
            return -1;
        }
    size_t before = c->arena.len;
    if (rconn_buf_evalsha(&c->arena, sha, n_keys, keys, klens, argv, argc) != 0) {
        snprintf(c->error, sizeof c->error, "out of memory for the batch");
        return -1;
    }
    return rclu_push(c, before, slot);
}

int rclu_add_argv(rclu *c, int key_arg, int argc, const char *const *argv, const size_t *lens)
{
    if (rclu_grow(c) != 0) return -1;
    size_t before = c->arena.len;
    if (rconn_buf_argv(&c->arena, argc, argv, lens) != 0) {
        snprintf(c->error, sizeof c->error, "out of memory for the batch");
        return -1;
    }
    return rclu_push(c, before, key_arg >= 0 && key_arg < argc ? (int)rclu_key_slot(argv[key_arg], lens[key_arg]) : -1);
}

/* ---- the exchange ------------------------------------------------------------------ */

static void rclu_fail(rclu *c, size_t i, const char *why)
{
    rclu_answer *a = &c->answers[i];
    a->answered = 0;
    a->rep.is_error = 1;
    size_t n = strnlen(why, sizeof a->rep.error - 1);   /* cut to fit */
    memcpy(a->rep.error, why, n);
    a->rep.error[n] = '\0';
    c->counts.unanswered++;
}

/* A command of no key goes to the first master connected, or the first. */
static int rclu_any_master(rclu *c)
{
    int first = -1;
    for (int i = 0; i < c->n_nodes; i++) {
        if (!c->nodes[i].master) continue;
        if (first < 0) first = i;
        if (c->nodes[i].conn && rconn_ctx(c->nodes[i].conn)) return i;
    }
    return first < 0 ? 0 : first;
}

/* Parses "MOVED 3999 127.0.0.1:6381" (or ASK); the target's node index, or -1. */
static int rclu_redirect_target(rclu *c, const rclu_node *from, const char *error, int *slot)
{
    const char *p = strchr(error, ' ');
    if (!p) return -1;
    char *end;
    long s = strtol(p + 1, &end, 10);
    if (*end != ' ' || s < 0 || s >= RCLU_SLOTS) return -1;
    const char *colon = strrchr(end + 1, ':');
    if (!colon) return -1;
    char host[64];
    size_t hl = (size_t)(colon - (end + 1));
    if (hl >= sizeof host) return -1;
    memcpy(host, end + 1, hl);
    host[hl] = '\0';
    int port = atoi(colon + 1);
    if (port <= 0) return -1;
    *slot = (int)s;
    return rclu_node_index(c, hl ? host : from->host, port);
}

static int rclu_cmp_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void rclu_window(rclu *c, int failed)
{
    int64_t now = clk_mono_ns();
    if (failed && !c->window_started_ns) {
        c->window_started_ns = now;
        c->counts.windows++;
    } else if (!failed && c->window_started_ns) {
        int64_t span = now - c->window_started_ns;
        c->counts.window_ns_total += span;
        if (span > c->counts.window_ns_longest) c->counts.window_ns_longest = span;
        c->window_started_ns = 0;
    }
}

/* One round over pending[0..np-1]: returns how many were put back in
 * c->requeue, *waits set when one of them asked for a backoff. */
static size_t rclu_round(rclu *c, size_t np, int64_t first_sent, int64_t retry_until, int *waits)
{
    static const char asking[] = "*1\r\n$6\r\nASKING\r\n";
    size_t nr = 0;
    *waits = 0;
    for (int k = 0; k < c->n_nodes; k++) {
        c->nodes[k].n_queue = 0;
        if (c->nodes[k].conn) rconn_reset(c->nodes[k].conn);
    }
    for (size_t k = 0; k < np; k++) {
        size_t i = c->pending[k];
        rclu_cmd *cmd = &c->cmds[i];
        if (!cmd->asking) {
            int owner = cmd->slot >= 0 ? c->slot_node[cmd->slot] : rclu_any_master(c);
            cmd->node = owner >= 0 ? owner : 0;
        }
        rclu_node *n = &c->nodes[cmd->node];
        if (!rclu_node_connect(c, n)) {
            char why[200];
            snprintf(why, sizeof why, "no connection to %s:%d", n->host, n->port);
            rclu_fail(c, i, why);
            c->map_stale = 1;
            continue;
        }
        if ((cmd->asking && rconn_add_raw(n->conn, asking, sizeof asking - 1) != 0) ||
            rconn_add_raw(n->conn, c->arena.p + cmd->off, cmd->len) != 0) {
            rclu_fail(c, i, "out of memory for the pipeline");
            continue;
        }
        if (cmd->asking) n->queue[n->n_queue++] = RCLU_NOT_QUEUED;
        n->queue[n->n_queue++] = i;
    }
    for (int k = 0; k < c->n_nodes; k++) {
        rclu_node *n = &c->nodes[k];
        if (!n->n_queue || rconn_send(n->conn) == 0) continue;
        for (size_t q = 0; q < n->n_queue; q++)
            if (n->queue[q] != RCLU_NOT_QUEUED) rclu_fail(c, n->queue[q], rconn_error(n->conn));
        n->n_queue = 0;
        c->map_stale = 1;
    }
    for (int k = 0; k < c->n_nodes; k++) {
        rclu_node *n = &c->nodes[k];
        for (size_t q = 0; q < n->n_queue; q++) {
            size_t i = n->queue[q];
            rconn_reply skip;
            rclu_answer *a = i == RCLU_NOT_QUEUED ? NULL : &c->answers[i];
            if (rconn_recv(n->conn, a ? &a->rep : &skip) != 0) {
                for (; q < n->n_queue; q++)
                    if (n->queue[q] != RCLU_NOT_QUEUED) rclu_fail(c, n->queue[q], rconn_error(n->conn));
                c->map_stale = 1;
                break;
            }
            if (!a) continue;
            rclu_cmd *cmd = &c->cmds[i];
            cmd->asking = 0;
            int64_t now = clk_mono_ns();
            const char *e = a->rep.error;
            if (a->rep.is_error && (strncmp(e, "MOVED ", 6) == 0 || strncmp(e, "ASK ", 4) == 0)) {
                int moved = e[0] == 'M', slot = 0;
                int target = rclu_redirect_target(c, n, e, &slot);
                if (target < 0) { rclu_fail(c, i, e); continue; }
                if (moved) {
                    c->counts.moved++;
                    c->slot_node[slot] = (int16_t)target;
                    c->nodes[target].master = 1;
                    c->map_stale = 1;
                } else {
                    c->counts.ask++;
                    cmd->node = target;
                    cmd->asking = 1;
                }
                c->requeue[nr++] = i;
            } else if (a->rep.is_error && (strncmp(e, "TRYAGAIN", 8) == 0 || strncmp(e, "CLUSTERDOWN", 11) == 0)) {
                if (e[0] == 'T') c->counts.tryagain++;
                else c->counts.clusterdown++;
                if (now >= retry_until) { rclu_fail(c, i, e); continue; }
                c->requeue[nr++] = i;
                *waits = 1;
                c->map_stale |= e[0] == 'C';
            } else {
                a->answered = 1;
                a->node = k;
                a->latency_ns = now - first_sent;
                n->calls++;
                hist_record(n->latency, a->latency_ns);
            }
        }
    }
    return nr;
}

const rclu_answer *rclu_exchange(rclu *c)
{
    size_t np = c->n_cmds;
    if (!np) return c->answers;
    uint64_t unanswered_before = c->counts.unanswered;
    for (size_t i = 0; i < np; i++) {
        c->pending[i] = i;
        c->answers[i].answered = 0;
        c->answers[i].node = -1;
        c->answers[i].latency_ns = -1;
    }
    int64_t first_sent = clk_mono_ns(), retry_until = first_sent + c->retry_wait_ns, backoff_ns = 1000000;
    /* Redirects are bounded by rounds (a MOVED loop means a broken map);
     * TRYAGAIN and CLUSTERDOWN by the retry wait alone, so a failover that
     * takes seconds is waited out, as --redis-wait-s promises. */
    for (int redirects = 0; np && redirects < RCLU_MAX_ROUNDS;) {
        if (c->map_stale) rclu_refresh(c);
        int waits;
        size_t nr = rclu_round(c, np, first_sent, retry_until, &waits);
        qsort(c->requeue, nr, sizeof *c->requeue, rclu_cmp_index);
        memcpy(c->pending, c->requeue, nr * sizeof *c->pending);
        np = nr;
        if (np && waits) {
            int64_t left = retry_until - clk_mono_ns();
            clk_sleep_ns(backoff_ns < left ? backoff_ns : left > 0 ? left : 0);
            if (backoff_ns < 100000000) backoff_ns *= 2;
        } else if (np) {
            redirects++;
        }
    }
    for (size_t k = 0; k < np; k++) rclu_fail(c, c->pending[k], "redirected too many times");
    rclu_window(c, c->counts.unanswered != unanswered_before);
    return c->answers;
}

int rclu_ready(rclu *c)
{
    if (c->map_stale) rclu_refresh(c);
    int all = 1;
    for (int i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].master && !rclu_node_connect(c, &c->nodes[i])) all = 0;
    if (!all) {
        c->map_stale = 1;
        rclu_window(c, 1);
    }
    return all;
}

/* how often a wait looks for SIGINT and SIGTERM */
#define RCLU_SIGNAL_POLL_NS 50000000

int rclu_await(rclu *c, int64_t budget_ns)
{
    for (;;) {
        if (rclu_ready(c)) return 1;
        int64_t now = clk_mono_ns(), give_up = c->window_started_ns + budget_ns;
        /* Ctrl-C or SIGTERM ends the wait: the pass then stops between batches */
        if (now >= give_up || intr_requested(NULL)) return 0;
        int64_t next = give_up;
        for (int i = 0; i < c->n_nodes; i++)
            if (c->nodes[i].master && c->nodes[i].next_attempt_ns > now && c->nodes[i].next_attempt_ns < next)
                next = c->nodes[i].next_attempt_ns;
        if (c->cluster && now + RCLU_REFRESH_EVERY_NS < next) next = now + RCLU_REFRESH_EVERY_NS;
        if (next - now > RCLU_SIGNAL_POLL_NS) next = now + RCLU_SIGNAL_POLL_NS;
        clk_sleep_ns(next - now);
    }
}

/* ---- what it did ------------------------------------------------------------------- */

int rclu_master_count(const rclu *c)
{
    int n = 0;
    for (int i = 0; i < c->n_nodes; i++) n += c->nodes[i].master;
    return n;
}

int rclu_master_node(const rclu *c, int i)
{
    for (int k = 0; k < c->n_nodes; k++)
        if (c->nodes[k].master && i-- == 0) return k;
    return -1;
}

rconn *rclu_master(rclu *c, int i)
{
    int k = rclu_master_node(c, i);
    if (k < 0) return NULL;
    rclu_node_connect(c, &c->nodes[k]);
    return c->nodes[k].conn && rconn_ctx(c->nodes[k].conn) ? c->nodes[k].conn : NULL;
}

int rclu_node_count(const rclu *c) { return c->n_nodes; }

void rclu_node_info_of(const rclu *c, int node, rclu_node_info *out)
{
    const rclu_node *n = &c->nodes[node];
    snprintf(out->addr, sizeof out->addr, "%s:%d", n->host, n->port);
    out->master = n->master;
    out->slots = 0;
    for (int s = 0; s < RCLU_SLOTS; s++) out->slots += c->slot_node[s] == node;
    out->calls = n->calls;
    out->latency_ns = n->latency;
}

void rclu_counts_of(const rclu *c, rclu_counts *out)
{
    *out = c->counts;
    if (c->window_started_ns) {
        int64_t span = clk_mono_ns() - c->window_started_ns;
        out->window_ns_total += span;
        if (span > out->window_ns_longest) out->window_ns_longest = span;
    }
}

void rclu_clear_counts(rclu *c)
{
    memset(&c->counts, 0, sizeof c->counts);
    c->window_started_ns = 0;
    for (int i = 0; i < c->n_nodes; i++) {
        c->nodes[i].calls = 0;
        hist_reset(c->nodes[i].latency);
    }
}

void rclu_disconnect(rclu *c)
{
    for (int i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].conn) rconn_disconnect(c->nodes[i].conn);
    snprintf(c->error, sizeof c->error, "disconnected on purpose");
}

const char *rclu_error(const rclu *c) { return c->error; }
