/*
 * redis_queue_run.h -- a queue entry's pass on a real Redis: the scenario's
 * requests produced in real time (the scenario's clock is the wall clock),
 * consumer processes draining them, a reaper, and at the end every message
 * id accounted for (redis_queue.h). With faults asked for, it also kills
 * consumers with SIGKILL and kills and restarts the private redis-server
 * at random times, and survives both: the producer sends a message again
 * until it is acknowledged, consumers reconnect, the reaper returns what a
 * dead consumer held.
 *
 * The pass is bounded in time: the scenario's duration, then the drain,
 * which ends when nothing is waiting or in processing, or after
 * drain_limit_s (what is left is reported as still queued, never hidden).
 */
#ifndef RATELAB_REDIS_QUEUE_RUN_H
#define RATELAB_REDIS_QUEUE_RUN_H

#include <stdio.h>

#include "generator.h"
#include "redis_server.h"
#include "redis_url.h"
#include "runner.h"

typedef struct {
    rurl url;
    int timeout_ms;
    const char *run_id;          /* part of every key */
    rsrv *server;                /* the private server (faults and durability need it), or NULL */
    int cluster;                 /* url is a node of a Redis Cluster: the queue lives on its slot's master */
    rsrv_cluster *private_cluster;   /* the private cluster (its masters' kills need it), or NULL */
    int wait_replicas;           /* a cluster: WAIT for that many replicas after every write (0: none) */
    uint32_t consumer_kills;     /* kill -9 of a random consumer, at random times */
    uint32_t server_restarts;    /* kill -9 and restart of the server (needs `server`); on the private
                                  * cluster, kill -9 of the queue's master, started again once its
                                  * replica has taken over (it rejoins as a replica) */
    uint64_t fault_seed;
    double drain_limit_s;        /* after the scenario; 0: 60 s */
    int measure_durability;      /* also time produce+take+ack with and without the AOF */
    FILE *events;                /* a line per fault, or NULL */
    int (*stop)(void *);         /* polled between steps: nonzero ends the pass as interrupted */
    void *stop_ctx;
} rqr_options;

/* A queue's durability on a cluster, as results name it: replicas that
 * may miss the last writes when their master dies, or every write
 * acknowledged only once a replica has it. */
#define RQR_DURABILITY_ASYNC "replicated asynchronously"
#define RQR_DURABILITY_WAIT "replicated, WAIT after every write"

/* Runs queue entry `l` of `s` on Redis. 0, or -1 with a message (a fault
 * the run cannot survive, such as a server gone for more than 30 s). */
int rqr_run(const rqr_options *o, const scn_scenario *s, gen *g, const scn_limiter *l, run_result *out, char *err,
            size_t errlen);

/* The "--appendonly yes --appendfsync ..." arguments of a private server
 * for durability d (queue.h); "" for none. */
const char *rqr_server_args(int durability);

#endif
