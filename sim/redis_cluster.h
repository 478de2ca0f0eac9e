/*
 * redis_cluster.h -- commands routed to the masters of a Redis Cluster by
 * key slot, or all to one standalone server: the layer between the Redis
 * backend and its connections (Debian 12 packages no C cluster client).
 *
 * Routing follows the Redis Cluster specification
 * (https://redis.io/docs/reference/cluster-spec/): a key's slot is
 * CRC16-XMODEM of its hash tag (the text between the first '{' and the
 * next '}', when not empty) or of the whole key, mod 16384; the slot map
 * comes from CLUSTER SLOTS. A batch of commands becomes one pipeline per
 * master; the answers come back in the order the commands were added.
 *
 *   MOVED slot host:port    the slot's owner is updated at once, the map
 *                           refreshed before the next round, the command
 *                           sent again to the new owner
 *   ASK slot host:port      sent again to that node, after ASKING, once
 *   TRYAGAIN, CLUSTERDOWN   sent again after a backoff (1 ms doubling to
 *                           100 ms) while within the retry wait
 *   a lost connection       the command has no answer; the map is
 *                           refreshed (a failover may have moved its slots)
 *
 * Commands resent keep their order among themselves, so the commands of
 * one key execute in the order they were added: a node redirects every
 * command of a key after the first it redirects (the slot is gone, or the
 * key already migrated and cannot be created again on the source). One
 * exception is named, not hidden: a cluster whose state flips between
 * fail and ok within one pipeline may run a later command of a key before
 * an earlier one it refused with CLUSTERDOWN.
 *
 * Nothing is allocated per command once the buffers have grown to a batch.
 */
#ifndef RATELAB_REDIS_CLUSTER_H
#define RATELAB_REDIS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "redis_conn.h"
#include "redis_url.h"

#define RCLU_SLOTS 16384
#define RCLU_MAX_NODES 64
#define RCLU_ANY_KEY (-1)   /* rclu_add_argv: a command of no key (any master answers) */

/* CRC16-XMODEM (polynomial 0x1021, initial 0) of s[0..n-1]. */
uint16_t rclu_crc16(const char *s, size_t n);

/* The slot of a key, hash tags honoured: equals CLUSTER KEYSLOT. */
unsigned rclu_key_slot(const char *key, size_t len);

/* One command's answer. */
typedef struct {
    int answered;          /* 0: no answer (lost connection, redirected or refused too long); rep.error says why */
    int node;              /* the node that answered */
    int64_t latency_ns;    /* from the batch's first send to this reply */
    rconn_reply rep;
} rclu_answer;

/* What routing did, over the connection's life. */
typedef struct {
    uint64_t moved, ask, tryagain, clusterdown, refreshes, unanswered;
    uint64_t windows;            /* spans in which commands went unanswered, and how long they lasted */
    int64_t window_ns_total, window_ns_longest;
} rclu_counts;

/* One node as the report shows it. */
typedef struct {
    char addr[80];               /* host:port */
    int master;                  /* in the slot map now */
    unsigned slots;              /* slots it owns now */
    uint64_t calls;              /* commands it answered */
    const hist *latency_ns;      /* their latency */
} rclu_node_info;

typedef struct rclu rclu;

/* Where the master that owns key's slot listens, as the first of
 * seeds[0..n-1] that answers CLUSTER SLOTS says (credentials kept from
 * it): for a client of one slot (a queue), which needs no routing. 0, or
 * -1 with a message. Allocates; not for the per-request path. */
int rclu_locate(const rurl *seeds, size_t n, int timeout_ms, const char *key, size_t len, rurl *out, char *err,
                size_t errlen);

/* The same for a slot. */
int rclu_locate_slot(const rurl *seeds, size_t n, int timeout_ms, unsigned slot, rurl *out, char *err, size_t errlen);

/* Connects to `seed`: with cluster, reads the slot map from it and
 * connects to every master; otherwise one standalone server. on_connect
 * (may be NULL) runs on every connection made, first or again (SCRIPT
 * LOAD): nonzero fails that connection. retry_wait_ms bounds how long
 * TRYAGAIN and CLUSTERDOWN are retried within one exchange. NULL with a
 * message when the server (or no master) can be reached. */
rclu *rclu_open(const rurl *seed, int cluster, int timeout_ms, int64_t retry_wait_ms,
                int (*on_connect)(void *ctx, rconn *conn, char *err, size_t errlen), void *ctx, char *err,
                size_t errlen);
void rclu_close(rclu *c);

/* 1 when the servers are a cluster. */
int rclu_is_cluster(const rclu *c);

/* Forgets the batch. */
void rclu_reset(rclu *c);

/* Adds EVALSHA to the batch, routed by keys[0]; every key must hash to
 * its slot (else -1, CROSSSLOT named in rclu_error). 0, or -1. */
int rclu_add_evalsha(rclu *c, const char *sha, int n_keys, const char *const *keys, const size_t *klens,
                     const int64_t *argv, int argc);

/* Adds a command routed by argv[key_arg] (RCLU_ANY_KEY: none). 0, or -1. */
int rclu_add_argv(rclu *c, int key_arg, int argc, const char *const *argv, const size_t *lens);

/* Sends the batch and reads every answer, following redirects. The
 * answers, in the order added, valid until the next reset; NULL only when
 * memory ran out. */
const rclu_answer *rclu_exchange(rclu *c);

/* Connects every master of the map not connected (each node tries again
 * after a backoff of 10 ms doubling to 1 s) and refreshes a stale map.
 * 1 when every master is connected. */
int rclu_ready(rclu *c);

/* rclu_ready, waited for while the span of failures under way (or one
 * starting now) is younger than budget_ns. 1 ready, 0 the budget is spent. */
int rclu_await(rclu *c, int64_t budget_ns);

/* The masters of the map now: their count, and master i's connection
 * (NULL while not connected) for setup commands. */
int rclu_master_count(const rclu *c);
rconn *rclu_master(rclu *c, int i);

/* Every node ever routed to (masters and former masters). */
int rclu_node_count(const rclu *c);
void rclu_node_info_of(const rclu *c, int node, rclu_node_info *out);

/* The index among rclu_node_count of master i. */
int rclu_master_node(const rclu *c, int i);

/* Counters, and the failure span under way counted as ended now. */
void rclu_counts_of(const rclu *c, rclu_counts *out);

/* Starts counting afresh (calls, latency, counters): a new pass. */
void rclu_clear_counts(rclu *c);

/* Closes every connection on purpose (a partition); the next use reconnects. */
void rclu_disconnect(rclu *c);

/* The last failure, for messages. */
const char *rclu_error(const rclu *c);

#endif
