/*
 * drive.h -- which driver runs a scenario entry on a backend: a rate
 * limiter through the virtual runner (runner.h) or realtime mode
 * (realtime.h); a queue through its model in virtual time (queue_run.h)
 * or as real Redis lists with consumer processes (redis_queue_run.h). The
 * one place that tells the kinds of entry apart; every driver records
 * through pass.h.
 */
#ifndef RATELAB_DRIVE_H
#define RATELAB_DRIVE_H

#include <stddef.h>

#include "backend_redis.h"
#include "realtime.h"
#include "redis_queue_run.h"
#include "runner.h"

typedef struct {
    const run_backend *backend;
    bred *redis;                  /* the backend's handle when it is Redis, else NULL */
    const rt_options *realtime;   /* realtime mode (Redis only), or NULL: virtual time */
    const rqr_options *queue;     /* how a queue entry runs on Redis (url, server, run id) */
} drv_target;

/* 1 when entry l decides request by request (a rate limiter or a chain:
 * it has a decision log); 0 for a queue, which accepts and delivers later. */
int drv_decides(const scn_limiter *l);

/* Runs entry l of s (every request of g, rewound) on target t into *out.
 * 0, or -1 with a message. */
int drv_run(const scn_scenario *s, gen *g, const scn_limiter *l, const drv_target *t, const run_options *opt,
            run_result *out, char *err, size_t errlen);

#endif
