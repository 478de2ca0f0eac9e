/*
 * backend_redis.h -- every limiter as its atomic Lua twin on a Redis server.
 *
 * Scripts are loaded with SCRIPT LOAD and called with EVALSHA (NOSCRIPT:
 * loaded again and the refused requests sent again). Keys are
 * ratelab:<run-id>-<limiter>:{<key>}, all with a TTL; a limiter refuses to
 * start when its prefix already holds keys, and deletes its keys (SCAN +
 * UNLINK) when it ends. Requests are pipelined; the script decides from
 * the virtual time in ARGV, so decisions equal the memory backend's.
 *
 * A lost connection is reconnected with exponential backoff (at most one
 * attempt per 1 s while the server stays away); requests that got no
 * answer are counted as errors and decided by the on-error policy.
 */
#ifndef RATELAB_BACKEND_REDIS_H
#define RATELAB_BACKEND_REDIS_H

#include <stddef.h>

#include "redis_url.h"
#include "runner.h"

typedef struct {
    const char *run_id;      /* [A-Za-z0-9_-]+, part of every key */
    size_t pipeline;         /* requests per round trip, >= 1 */
    int on_error_allow;      /* 1: fail open, 0: fail closed */
    int timeout_ms;          /* connect and command timeout */
    int64_t ttl_ms;          /* TTL set on every key */
} bred_options;

typedef struct bred bred;

/* Connects to `url`. NULL with a message when the server cannot be reached
 * (the caller exits 3). */
bred *bred_create(const rurl *url, const bred_options *opt, run_backend *out, char *err, size_t errlen);
void bred_destroy(bred *r);

/* Keys under ratelab:<run_id>-, counted with SCAN (for tests and checks). */
long bred_count_keys(bred *r);

#endif
