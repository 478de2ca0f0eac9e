/*
 * redis_conn.h -- one connection to Redis, with a pipeline that allocates
 * nothing per request.
 *
 * Setup and teardown (AUTH, SELECT, SCRIPT LOAD, SCAN...) use hiredis's
 * blocking API through rconn_ctx(). The per-request path formats RESP
 * commands by hand into a buffer that grows only until it fits a batch,
 * writes it to the socket, and parses replies with hiredis's protocol
 * reader set up with reply callbacks that fill one fixed rconn_reply
 * instead of allocating reply objects. Every socket operation has the
 * timeout given at open.
 */
#ifndef RATELAB_REDIS_CONN_H
#define RATELAB_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_url.h"

#define RCONN_MAX_INTS 8

/* One reply as the pipeline sees it: up to 8 integers (a script's array or
 * a lone integer), or an error. */
#define RCONN_MAX_BYTES 512

typedef struct {
    int is_error;
    int is_nil;                   /* a nil reply (GET of a missing key) */
    int n;                        /* integers received */
    int64_t v[RCONN_MAX_INTS];
    char error[160];              /* error text, cut to fit */
    size_t len;                   /* a bulk string's length; > RCONN_MAX_BYTES: not kept */
    unsigned char bytes[RCONN_MAX_BYTES];
} rconn_reply;

typedef struct rconn rconn;

/* A buffer of RESP commands, grown only until it fits (a batch). */
typedef struct {
    char *p;
    size_t len, cap;
} rconn_buf;

/* Makes room for `more` bytes after len. 0, or -1 (memory). */
int rconn_buf_reserve(rconn_buf *b, size_t more);
void rconn_buf_free(rconn_buf *b);

/* Appends EVALSHA sha n_keys keys... argv... (integers) to b. 0 or -1 (memory). */
int rconn_buf_evalsha(rconn_buf *b, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                      const int64_t *argv, int argc);

/* Appends a command of binary-safe arguments to b. 0 or -1 (memory). */
int rconn_buf_argv(rconn_buf *b, int argc, const char *const *argv, const size_t *lens);

/* Connects to `u` with `timeout_ms` on connect and on every command, then
 * AUTH and SELECT as the URL says. NULL with a message on failure. */
rconn *rconn_open(const rurl *u, int timeout_ms, char *err, size_t errlen);
void rconn_close(rconn *c);

/* How long rconn_recv waits for a reply that runs late, reading again on
 * the same connection each time the timeout passes (0, the default: one
 * timeout, then the connection counts as lost). A virtual pass waits up to
 * its outage budget: a slow server on a busy machine is not an outage,
 * and a request it may have executed is never decided by the on-error
 * policy because of it. SIGINT and SIGTERM end the wait. */
void rconn_set_patience(rconn *c, int64_t patience_ns);

/* Closes the connection, keeping the handle: the next use sees it lost
 * and reconnects (a partition made on purpose). */
void rconn_disconnect(rconn *c);

/* A fresh connection to the same server (AUTH, SELECT again); 0 or -1. */
int rconn_reconnect(rconn *c, char *err, size_t errlen);

/* The hiredis context, for setup commands; NULL while disconnected (a
 * context left in error by a failed command counts as disconnected). */
redisContext *rconn_ctx(rconn *c);

/* Empties the pipeline buffer. */
void rconn_reset(rconn *c);

/* Appends EVALSHA sha n_keys keys[0..n_keys-1] argv[0..argc-1] to the
 * pipeline. 0, or -1 when the buffer cannot grow (memory). */
int rconn_add_evalsha(rconn *c, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                      const int64_t *argv, int argc);

/* Appends a command of binary-safe arguments; 0 or -1 as above. */
int rconn_add_argv(rconn *c, int argc, const char *const *argv, const size_t *lens);

/* Appends commands already encoded (rconn_buf) to the pipeline; 0 or -1 as above. */
int rconn_add_raw(rconn *c, const char *bytes, size_t len);

/* Writes the whole pipeline. 0, or -1 when the connection failed (it is
 * then closed; rconn_reconnect makes a new one). */
int rconn_send(rconn *c);

/* Reads the next reply. 0, or -1 on a lost connection or timeout. */
int rconn_recv(rconn *c, rconn_reply *out);

/* Walks every key matching `pattern` with SCAN (1000 a page), calling
 * fn(ctx, c, keys) on each nonempty page (fn NULL: only counting); a
 * nonzero return from fn ends the walk as failed. With stop_at_first it
 * stops after the first page that holds keys. The keys seen, or -1 when
 * the server failed (or fn did). */
long rconn_scan(rconn *c, const char *pattern, int (*fn)(void *ctx, rconn *c, const redisReply *keys), void *ctx,
                int stop_at_first);

/* An fn for rconn_scan: UNLINKs the page's keys, one by one (pipelined). 0, or -1. */
int rconn_unlink_page(void *ctx, rconn *c, const redisReply *keys);

/* The last I/O error, for messages. */
const char *rconn_error(const rconn *c);

#endif
