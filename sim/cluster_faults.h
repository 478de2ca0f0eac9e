/*
 * cluster_faults.h -- faults made on ratelab's private Redis Cluster
 * during a pass (--cluster-fault, repeatable), at a scenario time:
 *
 *   kill-master@T     kill -9 of the master that owns the pass's hot slot
 *                     (its first key's: the global key of a global
 *                     limiter); its replica takes over after the node
 *                     timeout. The killed server is started again when the
 *                     pass ends (it rejoins as a replica), so the next pass
 *                     meets a whole cluster.
 *   reshard@T:N       moves N slots, from the hot slot on, from its master
 *                     to the next one, live (the specification's
 *                     IMPORTING / MIGRATING / MIGRATE / SETSLOT NODE), on a
 *                     thread of its own while requests go on: they meet
 *                     ASK and MOVED. The slots stay where they went.
 *
 * The backend asks cfault_tick with each batch's (or request's) scenario
 * time; a fault lands at the first time at or past T. Faults need the
 * servers' PIDs: only the private cluster takes them.
 */
#ifndef RATELAB_CLUSTER_FAULTS_H
#define RATELAB_CLUSTER_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "redis_server.h"
#include "result.h"

#define CFAULT_MAX RUN_MAX_CLUSTER_FAULTS

typedef enum { CFAULT_KILL_MASTER, CFAULT_RESHARD } cfault_kind;

typedef struct {
    cfault_kind kind;
    int64_t at_us;           /* scenario time */
    unsigned slots;          /* reshard: how many */
} cfault_spec;

/* What one fault did in a pass: result.h's run_cluster_fault. */
typedef run_cluster_fault cfault_result;

/* Parses one --cluster-fault value into *out. 0, or -1 with a message. */
int cfault_parse(const char *text, cfault_spec *out, char *err, size_t errlen);

typedef struct cfault cfault;

/* Faults on cluster c (which must outlive it). NULL when out of memory. */
cfault *cfault_create(rsrv_cluster *c, const cfault_spec *specs, size_t n);
void cfault_destroy(cfault *f);

/* A pass begins: its hot key (the key whose slot the faults aim at). */
void cfault_begin(cfault *f, const char *hot_key, size_t len);

/* The pass has reached scenario time t_us (any thread): lands the faults
 * now due. Cheap when none is. */
void cfault_tick(cfault *f, int64_t t_us);

/* The pass ends: waits for a reshard under way, starts killed servers
 * again and waits for the cluster to be whole (cluster_state:ok, every
 * replica attached; 60 s at most). The pass's faults into out[] (at most
 * CFAULT_MAX); their count. */
size_t cfault_end(cfault *f, cfault_result *out);

#endif
