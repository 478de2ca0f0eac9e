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

#endif
