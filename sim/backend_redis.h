/*
 * backend_redis.h -- every limiter as its atomic Lua twin on a Redis server.
 *
 * Scripts are loaded with SCRIPT LOAD and called with EVALSHA (NOSCRIPT:
 * loaded again and the refused requests sent again). Keys are
 * ratelab:<run-id>-<limiter>:{<key>}, all with a TTL; a limiter refuses to
 * start when its prefix already holds keys, and deletes its keys (SCAN +
 * UNLINK) when it ends. In virtual mode requests are pipelined and the
 * script decides from the virtual time in ARGV, so decisions equal the
 * memory backend's.
 *
 * An algorithm without a Lua twin (naive_token_bucket) runs client-side,
 * the naive way: GET the state, decide in the client, SET it back.
 *
 * A lost connection is reconnected with exponential backoff (at most one
 * attempt per second while the server stays away); requests that got no
 * answer are counted as errors and decided by the on-error policy. In
 * virtual mode, and around every pass (the prefix check, the cleanup), an
 * outage is waited out for up to outage_wait_ms before that.
 */
#ifndef RATELAB_BACKEND_REDIS_H
#define RATELAB_BACKEND_REDIS_H

#include <stddef.h>

#include "redis_server.h"
#include "redis_url.h"
#include "backend.h"
#include "redis_conn.h"

typedef struct {
    const char *run_id;      /* [A-Za-z0-9_]+, part of every key */
    size_t pipeline;         /* requests per round trip, >= 1 */
    int on_error_allow;      /* 1: fail open, 0: fail closed */
    int timeout_ms;          /* connect and command timeout */
    int64_t ttl_ms;          /* TTL set on every key */
    int64_t outage_wait_ms;  /* virtual mode, setup and cleanup: how long one outage is waited
                              * out before requests are decided by the policy unanswered (0: never) */
    int cluster;             /* the URL is one node of a Redis Cluster (redis_cluster.h routes) */
    struct cfault *faults;   /* faults to make on the private cluster during each pass, or NULL */
} bred_options;

typedef struct bred bred;

/* Connects to `url`. NULL with a message when the server cannot be reached
 * (the caller exits 3). */
bred *bred_create(const rurl *url, const bred_options *opt, run_backend *out, char *err, size_t errlen);
void bred_destroy(bred *r);

/* Keys under ratelab:<run_id>-, counted with SCAN (for tests and checks). */
long bred_count_keys(bred *r);

/* Another connection deciding for the limiter of the pass under way
 * (between begin and end), for concurrent clients. */
typedef struct bred_client bred_client;

bred_client *bred_client_open(bred *r, char *err, size_t errlen);
void bred_client_close(bred_client *c);

/* A fleet's local_sync push and pull on c (fleet.h flt_store.push_pull):
 * the twin charges cost admitted elsewhere (the last of it at at_us; 0:
 * none) on the fleet's key, then GET reads the state back into state, the
 * twin's doubles being the C state's int64 fields. 0, or -1 (counted as
 * an error) when Redis did not answer. */
int bred_client_push_pull(bred_client *c, int64_t at_us, int64_t cost, void *state, int *fresh);

/* "<key prefix>global}:name": a key or channel of the pass, in the slot of
 * the pass's global key (a fleet's scripts take several keys). Its length. */
size_t bred_name(const bred *r, const char *name, char *out, size_t len);

/* One command (text arguments, at most 16) on c, its reply in *rep. 0, or
 * -1 when there was no connection, no answer or an error reply. */
int bred_client_command(bred_client *c, int argc, const char *const *argv, rconn_reply *rep);

/* Closes c's connection on purpose (a partition); its next use reconnects. */
void bred_client_drop(bred_client *c);

/* The text of script `name` (sim/lua/<name>.lua), or NULL. */
const char *bred_script(const char *name);

/* A subscription to the pass's channel `name` ("<key prefix>name}"), on
 * a connection of its own; NULL with a message. */
typedef struct bred_sub bred_sub;
bred_sub *bred_subscribe(bred *r, const char *name, char *err, size_t errlen);

/* The next message waiting, without waiting: 1 with its payload in buf,
 * 0 when none is there, -1 when the connection failed. */
int bred_sub_poll(bred_sub *sub, char *buf, size_t len);
void bred_sub_close(bred_sub *sub);

/* PUBLISH msg on the pass's channel `name` over c. 0, or -1. */
int bred_client_publish(bred_client *c, const char *name, const char *msg);

/* Decides one request at now_us (negative: the server's clock, TIME). On
 * success *at_us is the time the limiter decided at. Returns 0, or -1 when
 * Redis gave no decision (the caller counts it and applies its policy). */
int bred_client_decide(bred_client *c, uint32_t key, int64_t now_us, int64_t cost, lim_decision *out,
                       int64_t *at_us);

/* Decides n requests in one pipeline on c (one round trip; a client-side
 * limiter, which cannot pipeline, one after another): request i of key
 * keys[i] at now_us[i] (negative: the server's TIME) costing costs[i].
 * answered[i] says which got a decision (out[i], decided at at_us[i]);
 * returns how many did. */
int bred_client_decide_many(bred_client *c, size_t n, const uint32_t *keys, const int64_t *now_us,
                            const int64_t *costs, lim_decision *out, int64_t *at_us, unsigned char *answered);

/* Why the pass's last unanswered request got no decision ("read from
 * Redis: timed out", an error reply...), "" when every one was answered. */
const char *bred_last_error(const bred *r);

/* Adds `n` errors to the pass under way (counted by concurrent clients). */
void bred_add_errors(bred *r, uint64_t n);

#endif
