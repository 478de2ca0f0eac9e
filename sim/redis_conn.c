/* redis_conn.c -- see redis_conn.h. */
#define _POSIX_C_SOURCE 200809L
#include "redis_conn.h"
#include "redis_bounded.h"

#include "clock.h"
#include "interrupt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


struct rconn {
    rurl url;
    int timeout_ms;
    redisContext *ctx;
    redisReader *reader;          /* ours, with the callbacks below */
    rconn_reply scratch;
    rconn_buf out;
    size_t fed;                   /* bytes read since the last whole reply */
    int64_t patience_ns;          /* how long a slow reply is waited for on this connection (0: timeout_ms) */
    char error[256];
};

/* ---- reply callbacks: write into one fixed reply, never allocate ------- */

static void *rconn_cb_string(const redisReadTask *t, char *s, size_t len)
{
    rconn_reply *r = t->privdata;
    if (t->type == REDIS_REPLY_ERROR && !r->is_error) {
        r->is_error = 1;
        size_t n = len < sizeof r->error - 1 ? len : sizeof r->error - 1;
        memcpy(r->error, s, n);
        r->error[n] = '\0';
    } else if (t->type == REDIS_REPLY_STRING) {
        r->len = len;
        if (len <= sizeof r->bytes) memcpy(r->bytes, s, len);
    }
    return r;
}

/* hiredis 1.x counts elements in a size_t and adds RESP3's doubles and
 * booleans (never sent to a RESP2 connection, but the table must be whole) */
#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
typedef size_t rconn_elements;
#else
typedef int rconn_elements;
#endif

static void *rconn_cb_array(const redisReadTask *t, rconn_elements elements)
{
    (void)elements;
    return t->privdata;
}

static void *rconn_cb_integer(const redisReadTask *t, long long value)
{
    rconn_reply *r = t->privdata;
    if (r->n < RCONN_MAX_INTS) r->v[r->n++] = value;
    return r;
}

static void *rconn_cb_nil(const redisReadTask *t)
{
    rconn_reply *r = t->privdata;
    r->is_nil = 1;
    return r;
}

static void rconn_cb_free(void *obj)
{
    (void)obj;
}

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
static void *rconn_cb_double(const redisReadTask *t, double value, char *text, size_t len)
{
    (void)value, (void)text, (void)len;
    return t->privdata;
}

static void *rconn_cb_bool(const redisReadTask *t, int value)
{
    (void)value;
    return t->privdata;
}
#endif

static redisReplyObjectFunctions rconn_callbacks = {
    .createString = rconn_cb_string,
    .createArray = rconn_cb_array,
    .createInteger = rconn_cb_integer,
    .createNil = rconn_cb_nil,
    .freeObject = rconn_cb_free,
#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
    .createDouble = rconn_cb_double,
    .createBool = rconn_cb_bool,
#endif
};

/* ---- connecting --------------------------------------------------------- */

static int rconn_command_ok(rconn *c, redisReply *r, const char *what, char *err, size_t errlen)
{
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%s failed: %s", what, r ? r->str : c->ctx->errstr);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

static int rconn_recv_capped(rconn *c, rconn_reply *out);

/* PING through ratelab's own reader, so that a peer which is no Redis
 * (HTTP, garbage, silence, an endless reply) or one that wants a password
 * is named as such at connect time rather than failing a later command. */
static int rconn_ping(rconn *c, const char *where, char *err, size_t errlen)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    rconn_reply rep;
    if (send(c->ctx->fd, ping, sizeof ping - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof ping - 1) ||
        rconn_recv_capped(c, &rep) != 0) {
        snprintf(err, errlen, "%s does not answer PING like a Redis server: %s", where, c->error);
        return -1;
    }
    if (rep.is_error && strncmp(rep.error, "NOAUTH", 6) == 0) {
        snprintf(err, errlen, "%s wants a password (NOAUTH)%s", where,
                 c->url.password[0] ? "" : ": give it in the URL, redis://[user]:PASSWORD@host:port");
        return -1;
    }
    if (rep.is_error) {
        snprintf(err, errlen, "%s answered PING with an error: %s", where, rep.error);
        return -1;
    }
    return 0;
}

static int rconn_connect(rconn *c, char *err, size_t errlen)
{
    struct timeval tv = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };
    c->ctx = c->url.is_unix ? redisConnectUnixWithTimeout(c->url.host, tv)
                            : redisConnectWithTimeout(c->url.host, c->url.port, tv);
    char where[300];
    rurl_describe(&c->url, where, sizeof where);
    if (!c->ctx || c->ctx->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", where, c->ctx ? c->ctx->errstr : "out of memory");
        if (c->ctx) redisFree(c->ctx);
        c->ctx = NULL;
        return -1;
    }
    redisSetTimeout(c->ctx, tv);
    if (c->reader) redisReaderFree(c->reader);
    c->reader = redisReaderCreateWithFunctions(&rconn_callbacks);
    if (!c->reader) { snprintf(err, errlen, "out of memory"); goto fail; }
    c->reader->privdata = &c->scratch;
    memset(&c->scratch, 0, sizeof c->scratch);
    c->fed = 0;
    if (c->url.password[0]) {
        redisReply *r = c->url.user[0] ? rbnd_command(c->ctx, "AUTH %s %s", c->url.user, c->url.password)
                                       : rbnd_command(c->ctx, "AUTH %s", c->url.password);
        char what[80];   /* a refused password: say which setting gave it, never what it is */
        snprintf(what, sizeof what, "AUTH with the %s of %s", c->url.user[0] ? "user and password" : "password",
                 c->url.source ? c->url.source : "the URL");
        if (rconn_command_ok(c, r, what, err, errlen) != 0) goto fail;
    }
    if (c->url.db > 0 && rconn_command_ok(c, rbnd_command(c->ctx, "SELECT %d", c->url.db), "SELECT", err, errlen) != 0)
        goto fail;
    if (rconn_ping(c, where, err, errlen) != 0) goto fail;
    return 0;
fail:
    redisFree(c->ctx);
    c->ctx = NULL;
    return -1;
}

rconn *rconn_open(const rurl *u, int timeout_ms, char *err, size_t errlen)
{
    rconn *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    c->url = *u;
    c->timeout_ms = timeout_ms;
    if (rconn_buf_reserve(&c->out, 4096) != 0 || rconn_connect(c, err, errlen) != 0) {
        rconn_close(c);
        return NULL;
    }
    return c;
}

void rconn_set_patience(rconn *c, int64_t patience_ns) { c->patience_ns = patience_ns; }

void rconn_close(rconn *c)
{
    if (!c) return;
    if (c->ctx) redisFree(c->ctx);
    if (c->reader) redisReaderFree(c->reader);
    rconn_buf_free(&c->out);
    free(c);
}

void rconn_disconnect(rconn *c)
{
    if (c->ctx) redisFree(c->ctx);
    c->ctx = NULL;
    snprintf(c->error, sizeof c->error, "disconnected on purpose");
}

int rconn_reconnect(rconn *c, char *err, size_t errlen)
{
    if (c->ctx) { redisFree(c->ctx); c->ctx = NULL; }
    return rconn_connect(c, err, errlen);
}

redisContext *rconn_ctx(rconn *c)
{
    /* A blocking command that failed (a timeout, a reset) leaves hiredis's
     * context unusable: drop it, so the caller sees the loss and reconnects
     * instead of sending into a broken context. */
    if (c->ctx && c->ctx->err) {
        snprintf(c->error, sizeof c->error, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "connection failed");
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    return c->ctx;
}

const char *rconn_error(const rconn *c) { return c->error; }

long rconn_scan(rconn *c, const char *pattern, int (*fn)(void *ctx, rconn *c, const redisReply *keys), void *ctx,
                int stop_at_first)
{
    char cursor[32] = "0";
    long seen = 0;
    do {
        redisContext *ctx_r = rconn_ctx(c);
        redisReply *rep = ctx_r ? rbnd_command(ctx_r, "SCAN %s MATCH %s COUNT 1000", cursor, pattern) : NULL;
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            freeReplyObject(rep);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        seen += (long)keys->elements;
        if (fn && keys->elements && fn(ctx, c, keys) != 0) {
            freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
        if (stop_at_first && seen) break;
    } while (strcmp(cursor, "0") != 0);
    return seen;
}

int rconn_unlink_page(void *ctx, rconn *c, const redisReply *keys)
{
    (void)ctx;
    redisContext *r = rconn_ctx(c);
    if (!r) return -1;
    /* one key per UNLINK, pipelined: a page of a cluster node's SCAN spans
     * slots, and a command of keys in several slots is refused (CROSSSLOT) */
    for (size_t i = 0; i < keys->elements; i++)
        if (redisAppendCommand(r, "UNLINK %b", keys->element[i]->str, keys->element[i]->len) != REDIS_OK) return -1;
    int ok = 1;
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *rep = NULL;
        if (rbnd_get_reply(r, &rep) != REDIS_OK) return -1;
        ok &= rep && rep->type == REDIS_REPLY_INTEGER;
        freeReplyObject(rep);
    }
    return ok ? 0 : -1;
}

/* ---- the pipeline -------------------------------------------------------- */

void rconn_reset(rconn *c) { c->out.len = 0; }

int rconn_buf_reserve(rconn_buf *b, size_t more)
{
    if (b->len + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) cap *= 2;
    char *bigger = realloc(b->p, cap);
    if (!bigger) return -1;
    b->p = bigger;
    b->cap = cap;
    return 0;
}

void rconn_buf_free(rconn_buf *b)
{
    free(b->p);
    *b = (rconn_buf){ 0 };
}

static char *rconn_put_header(char *p, char kind, size_t n)
{
    char digits[24];
    int len = 0;
    do { digits[len++] = (char)('0' + n % 10); n /= 10; } while (n);
    *p++ = kind;
    while (len) *p++ = digits[--len];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static char *rconn_put_bulk(char *p, const char *s, size_t n)
{
    p = rconn_put_header(p, '$', n);
    memcpy(p, s, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static char *rconn_put_int(char *p, int64_t v)
{
    char digits[24];
    int len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { digits[len++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) digits[len++] = '-';
    char text[24];
    for (int i = 0; i < len; i++) text[i] = digits[len - 1 - i];
    return rconn_put_bulk(p, text, (size_t)len);
}

int rconn_buf_evalsha(rconn_buf *b, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                      const int64_t *argv, int argc)
{
    size_t need = 128 + (size_t)argc * 32;
    for (int k = 0; k < n_keys; k++) need += klens[k] + 32;
    if (rconn_buf_reserve(b, need) != 0) return -1;
    char *p = b->p + b->len;
    p = rconn_put_header(p, '*', (size_t)argc + 3 + (size_t)n_keys);
    p = rconn_put_bulk(p, "EVALSHA", 7);
    p = rconn_put_bulk(p, sha, 40);
    char count[16];
    int cl = snprintf(count, sizeof count, "%d", n_keys);
    p = rconn_put_bulk(p, count, (size_t)cl);
    for (int k = 0; k < n_keys; k++) p = rconn_put_bulk(p, keys[k], klens[k]);
    for (int i = 0; i < argc; i++) p = rconn_put_int(p, argv[i]);
    b->len = (size_t)(p - b->p);
    return 0;
}

int rconn_buf_argv(rconn_buf *b, int argc, const char *const *argv, const size_t *lens)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++) need += lens[i] + 32;
    if (rconn_buf_reserve(b, need) != 0) return -1;
    char *p = rconn_put_header(b->p + b->len, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) p = rconn_put_bulk(p, argv[i], lens[i]);
    b->len = (size_t)(p - b->p);
    return 0;
}

static int rconn_out_of_memory(rconn *c)
{
    snprintf(c->error, sizeof c->error, "out of memory for the pipeline");
    return -1;
}

int rconn_add_evalsha(rconn *c, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                      const int64_t *argv, int argc)
{
    return rconn_buf_evalsha(&c->out, sha, n_keys, keys, klens, argv, argc) == 0 ? 0 : rconn_out_of_memory(c);
}

int rconn_add_argv(rconn *c, int argc, const char *const *argv, const size_t *lens)
{
    return rconn_buf_argv(&c->out, argc, argv, lens) == 0 ? 0 : rconn_out_of_memory(c);
}

int rconn_add_raw(rconn *c, const char *bytes, size_t len)
{
    if (rconn_buf_reserve(&c->out, len) != 0) return rconn_out_of_memory(c);
    memcpy(c->out.p + c->out.len, bytes, len);
    c->out.len += len;
    return 0;
}

static void rconn_lost(rconn *c, const char *what)
{
    snprintf(c->error, sizeof c->error, "%s: %s", what,
             errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : errno ? strerror(errno) : "connection closed");
    if (c->ctx) { redisFree(c->ctx); c->ctx = NULL; }
}

int rconn_send(rconn *c)
{
    if (!c->ctx) { snprintf(c->error, sizeof c->error, "not connected"); return -1; }
    size_t done = 0;
    while (done < c->out.len) {
        /* MSG_NOSIGNAL: a peer that went away is an error to count, not a
         * SIGPIPE that kills the run */
        ssize_t n = send(c->ctx->fd, c->out.p + done, c->out.len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { rconn_lost(c, "write to Redis"); return -1; }
        done += (size_t)n;
    }
    return 0;
}

int rconn_recv(rconn *c, rconn_reply *out) { return rconn_recv_capped(c, out); }

/* A read timed out: 1 to read again on the same connection while the
 * patience lasts (counted from when this reply first ran late, a timeout
 * ago) and nobody asked to stop. A reply that is only slow may still
 * come; a reconnect would leave the requests sent undecidable. */
static int rconn_keep_waiting(rconn *c, int64_t *slow_since)
{
    int64_t now = clk_mono_ns();
    if (*slow_since == 0) *slow_since = now - (int64_t)c->timeout_ms * 1000000;
    return now - *slow_since < c->patience_ns && !intr_requested(NULL);
}

static int rconn_recv_capped(rconn *c, rconn_reply *out)
{
    if (!c->ctx) { snprintf(c->error, sizeof c->error, "not connected"); return -1; }
    int64_t slow_since = 0;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            snprintf(c->error, sizeof c->error, "not the Redis protocol (%s)", c->reader->errstr);
            if (c->ctx) { redisFree(c->ctx); c->ctx = NULL; }
            return -1;
        }
        if (reply) {
            *out = c->scratch;
            /* reset only between replies: one split across two reads has
             * part of its integers in scratch already */
            c->scratch.is_error = 0;
            c->scratch.is_nil = 0;
            c->scratch.n = 0;
            c->scratch.len = 0;
            c->fed = 0;
            return 0;
        }
        if (c->fed > RBND_MAX_REPLY) {
            /* hiredis keeps a reply whole until its last byte: a peer that
             * streams one without end would take all memory */
            snprintf(c->error, sizeof c->error, "a reply of more than %d MiB: not one ratelab asked for",
                     (int)(RBND_MAX_REPLY >> 20));
            redisFree(c->ctx);
            c->ctx = NULL;
            return -1;
        }
        char buf[16384];
        ssize_t n;
        do n = read(c->ctx->fd, buf, sizeof buf); while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && rconn_keep_waiting(c, &slow_since)) continue;
        if (n <= 0) { errno = n == 0 ? 0 : errno; rconn_lost(c, "read from Redis"); return -1; }
        c->fed += (size_t)n;
        if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
            snprintf(c->error, sizeof c->error, "not the Redis protocol (%s)", c->reader->errstr);
            if (c->ctx) { redisFree(c->ctx); c->ctx = NULL; }
            return -1;
        }
    }
}
