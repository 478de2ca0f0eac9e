/*
 * queue.h -- the `queue` strategy's parameters as lim_config.v holds them.
 *
 * A queue is not a per-request decision: every request is accepted (or
 * refused when the queue is full) and delivered later by consumers that
 * take `batch` messages every `interval`. sim/queue_model.h simulates it,
 * sim/redis_queue.h runs it on Redis lists; this file only turns the
 * scenario's parameters into integers, like every algorithm's configure().
 */
#ifndef RATELAB_QUEUE_H
#define RATELAB_QUEUE_H

enum {
    QUEUE_V_BATCH,           /* messages per consumer run, all consumers together */
    QUEUE_V_INTERVAL_US,     /* between consumer runs */
    QUEUE_V_MAX_ATTEMPTS,    /* deliveries before a dead letter */
    QUEUE_V_VISIBILITY_US,   /* a delivery older than this is returned by the reaper */
    QUEUE_V_MAX_QUEUE,       /* waiting messages at most; 0: no bound */
    QUEUE_V_BLOCK,           /* 1: a full queue makes the producer wait; 0: rejects */
    QUEUE_V_DURABILITY,      /* QUEUE_DURABLE_* (Redis only) */
    QUEUE_V_CONSUMERS        /* consumer processes sharing the batch (Redis only) */
};

typedef enum { QUEUE_DURABLE_NONE, QUEUE_DURABLE_EVERYSEC, QUEUE_DURABLE_ALWAYS } queue_durability;

/* "none", "everysec" or "always". */
const char *queue_durability_name(int d);

#endif
