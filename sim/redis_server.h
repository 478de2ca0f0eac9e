/*
 * redis_server.h -- a private redis-server for one run or one test: a free
 * 127.0.0.1 port, a temporary directory, no persistence unless asked, and
 * stopped (directory removed) when done. The server is told to die with
 * the process that started it (PR_SET_PDEATHSIG), so an interrupted run
 * leaves no server behind.
 */
#ifndef RATELAB_REDIS_SERVER_H
#define RATELAB_REDIS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    int bus_port;             /* a cluster node's bus port (--cluster-port), else 0 */
    char dir[256];
    char extra[512];          /* extra config arguments, kept for restarts */
} rsrv;

/* Starts redis-server ($RATELAB_REDIS_SERVER, default from PATH) and waits
 * until it answers PING (at most 10 s). `extra` holds further
 * "--name value" arguments separated by spaces, or NULL. Returns 0, or -1
 * with a message. */
int rsrv_start(rsrv *s, const char *extra, char *err, size_t errlen);

/* Kills the server with SIGKILL (fault injection); the directory stays. */
void rsrv_kill(rsrv *s);

/* Starts it again on the same port and directory after rsrv_kill. */
int rsrv_restart(rsrv *s, char *err, size_t errlen);

/* Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its
 * directory. Safe to call twice. */
void rsrv_stop(rsrv *s);

/* A private Redis Cluster: masters x (1 + replicas) servers started with
 * rsrv_start and --cluster-enabled, joined by `redis-cli --cluster create`
 * ($RATELAB_REDIS_CLI, default from PATH; it needs 3 masters or more).
 * Each node's bus port is a free port of its own, not port + 10000. */
#define RSRV_CLUSTER_MAX 32
#define RSRV_CLUSTER_NODE_TIMEOUT_MS 2000

typedef struct {
    rsrv node[RSRV_CLUSTER_MAX];
    int n, masters, replicas;
} rsrv_cluster;

/* Parses "MxR" (masters x replicas of each, e.g. 3x1). 0, or -1 with a message. */
int rsrv_cluster_parse(const char *spec, int *masters, int *replicas, char *err, size_t errlen);

/* Starts the servers, creates the cluster and waits (at most 60 s) until
 * every node reports cluster_state:ok and every replica is attached to its
 * master. 0, or -1 with a message (every server started is stopped). */
int rsrv_cluster_start(rsrv_cluster *c, int masters, int replicas, char *err, size_t errlen);

/* One look: 1 when every node says cluster_state:ok and every replica's
 * link to its master is up. */
int rsrv_cluster_is_ok(const rsrv_cluster *c);

/* Waits (at most `seconds`) until every node says cluster_state:ok and
 * every replica's link to its master is up. 0, or -1 with a message. */
int rsrv_cluster_wait_ok(const rsrv_cluster *c, int seconds, char *err, size_t errlen);

/* Stops every server of the cluster; safe to call twice. */
void rsrv_cluster_stop(rsrv_cluster *c);

#endif
