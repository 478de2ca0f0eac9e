/*
 * fleet.h -- many gateway nodes in front of one global limit: a
 * scenario's "fleets" (scenarios/README.md). A balancer picks the node of
 * each request; a strategy says how the nodes share the limit:
 *
 *   central     the shared limiter in the store decides every request:
 *               one store call each, a link round trip added to its
 *               latency (the decision itself is taken at its arrival);
 *   local       node i decides alone with its share of the limit: the
 *               parameters the registry names as split (lim_facts) scaled
 *               by split[i] / sum(split), whole amounts rounded down to
 *               at least the parameter's minimum;
 *   local_sync  node i decides on its own replica of the whole limit;
 *               every sync_ms (node i offset by i/N of it) it pushes the
 *               cost it admitted since its last push, which the store
 *               takes whatever its state, as of the last of those
 *               admissions (lim_ops.consume: Kong's and APISIX's INCRBY
 *               of a delta, into the window it was counted in), and
 *               pulls the store's state,
 *               which reaches it a link delay later and becomes its
 *               replica, with what it admitted meanwhile taken again.
 *               A sync starts no sooner than the previous one's reply.
 *
 * Faults: a cut node (cuts) sends and receives nothing; a coordinator
 * that stops (controller, lease) answers nothing. A node that needs what
 * it cannot reach -- central's store while cut, a lease run out, a share
 * older than stale_ms -- decides by on_cut: fail_open, fail_closed, or
 * local (its even share in a bucket kept for it). A cut local_sync node
 * decides on its replica, its delta pushed once it is back.
 *
 * The link delay is each message's, one way, drawn from link_ms. The
 * sync messages are events of a small queue of the fleet's own, drained
 * up to each decision's time: the order the event loop would give them.
 *
 * Pure model: no clock, no I/O; the state of every node and of the store
 * is allocated at creation.
 */
#ifndef RATELAB_FLEET_H
#define RATELAB_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"
#include "scenario.h"

/* The entry kind of a scenario's fleets. */
extern const lim_entry fleet_entry;

/* "central", "local", "local_sync"; NULL-ended (scn_fleet_strategy order). */
extern const char *const flt_strategy_names[];

/* "round_robin", "random", "key_hash", "weighted"; NULL-ended. */
extern const char *const flt_balance_names[];

/* What one fleet pass did, per node and in all. */
typedef struct {
    uint32_t nodes;
    uint64_t *offered, *admitted;   /* per node (owned; flt_report_free) */
    double *share;                  /* per node: its share of the rate at the end (lease, controller, gossip), else NULL */
    uint64_t store_calls;           /* messages to the store: a decision, a push, a pull */
    uint64_t syncs;                 /* local_sync: pulls that reached their node */
    uint64_t fallbacks;             /* decisions a node took by on_cut (cut off, lease lapsed, share stale) */
    uint64_t lost_messages;         /* messages a cut node or a stopped coordinator never sent or received */
    int64_t added_p50_us, added_p99_us, added_max_us;   /* link time a decision waited for */
} flt_report;

/* The balancer: which node takes request n (the fleet's n-th, 0-based)
 * of key `key`. A draw of its own of the seed for random and weighted. */
typedef struct {
    const scn_fleet *f;
    uint64_t seed;
    const uint64_t *hashes;    /* the keyspace's, for key_hash */
    double *cum;               /* weighted: cumulative weights (owned) */
} flt_balancer;

/* 0, or -1 when memory is short. */
int flt_balancer_init(flt_balancer *b, const scn_fleet *f, const scn_scenario *s);
void flt_balancer_free(flt_balancer *b);
uint32_t flt_balance(const flt_balancer *b, uint64_t n, uint32_t key);

/* A node's share of the rate (lease, controller, gossip), enforced by a
 * token bucket of its own: rate and burst times the share, in doubles. */
typedef struct {
    double rate_us, burst;     /* per microsecond; requests */
    double tokens;
    int64_t at_us;             /* tokens as of then */
} flt_share;

/* Refilled up to t_us. */
void flt_share_refill(flt_share *b, int64_t t_us);

/* `fraction` of f's rate and burst from t_us on (tokens capped to the new burst). */
void flt_share_set(flt_share *b, const scn_fleet *f, int64_t t_us, double fraction);

/* A request of cost at t_us: admitted while tokens last; a refusal waits
 * for the tokens, or reshare_us when the share could never pass it. */
void flt_share_take(flt_share *b, int64_t t_us, int64_t cost, int64_t reshare_us, lim_decision *out);

typedef struct flt_model flt_model;

/* Where the shared state lives (central's limiter, local_sync's store):
 * the model's own memory, or a backend's (Redis: the limiter's twin). */
typedef struct {
    void *ctx;
    /* the shared limiter decides a request of cost at t_us */
    void (*decide)(void *ctx, int64_t t_us, int64_t cost, lim_decision *out);
    /* charges cost (admitted elsewhere, the last of it at at_us; 0: none)
     * and copies the state back into state (*fresh: it has none yet). 0,
     * or -1 when the store did not answer */
    int (*push_pull)(void *ctx, int64_t at_us, int64_t cost, void *state, int *fresh);
    /* the shared limiter's level at now_us */
    int64_t (*level)(void *ctx, int64_t now_us);
} flt_store;

/* The model of fleet f (f->fleet, f->base) over s, its shared state in
 * `store` (NULL: in the model's memory); NULL with a message when memory
 * is short. */
flt_model *flt_create(const scn_scenario *s, const scn_limiter *f, const flt_store *store, char *err, size_t errlen);
void flt_destroy(flt_model *m);

/* Decides request q, the fleet's next in decision order (its balancer
 * counts them): its node, the messages due by q->t_us, the decision. */
void flt_decide(flt_model *m, const gen_request *q, lim_decision *out);

/* flt_decide in two steps, so that a backend may send the shared
 * limiter's decisions together (a pipeline): flt_route picks q's node
 * (*node) and decides it there into *out, or returns 1 when the shared
 * limiter must decide it (central, not cut off); flt_settle counts the
 * decision at its node, in any order. Only central ever returns 1. */
int flt_route(flt_model *m, const gen_request *q, uint32_t *node, lim_decision *out);
void flt_settle(flt_model *m, uint32_t node, const lim_decision *d);

/* 1 for central: its decisions are the shared limiter's (flt_route). */
int flt_central(const flt_model *m);

/* The global limit's level at now_us: the store's (central, local_sync)
 * or the nodes' summed (local). */
int64_t flt_level(const flt_model *m, int64_t now_us);

/* Bytes of limiter state the nodes and the store hold. */
size_t flt_state_bytes(const flt_model *m);

/* What the pass did so far, into *r (its arrays allocated here). 0, or
 * -1 when memory is short. */
int flt_report_fill(const flt_model *m, flt_report *r);
void flt_report_free(flt_report *r);

/* The fields a sweep varies, as values[] of a fleet (fleet_entry.params). */
enum { FLT_NODES, FLT_SYNC_MS, FLT_INTERVAL_MS, FLT_LEASE_MS };
void flt_values(const scn_fleet *f, double *values);

/* When the smallest node's share of fleet l's burst is below one request
 * (a node that can then admit nothing, or -- local, whose share is raised
 * to the parameter's minimum -- more than its share), writes the arithmetic
 * into msg and returns 1; else 0. central and local_sync decide on the
 * whole limit: 0. */
int flt_share_below_one(const scn_limiter *l, char *msg, size_t len);

/* f's limiter per node (local: f->node_cfg, allocated; others: none). 0,
 * or -1 with the node whose share cannot be configured. */
int flt_configure_nodes(const scn_limiter *base, scn_fleet *f, char *err, size_t errlen);

/* Fleet l at the sweep point `values` (fleet_entry.params order) into
 * *out, with a fleet of its own (flt_point_free). 0, or -1 with why the
 * point cannot be: nodes varied under per-node weights, a timer its
 * strategy has not, a share that cannot be configured. */
int flt_point(const scn_limiter *l, const double *values, scn_limiter *out, char *err, size_t errlen);
void flt_point_free(scn_limiter *point);

/* Node i's share of the limit under f (split, or even): the parameters'
 * values and exact rates scaled, ready for lim_configure_checked. */
void flt_node_values(const scn_limiter *base, const scn_fleet *f, uint32_t i, double *values, lim_rate *rates);

#endif
