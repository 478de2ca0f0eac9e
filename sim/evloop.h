/*
 * evloop.h -- the virtual-time event loop's queue: a binary min-heap of
 * timed events, so that handling an event may schedule later ones
 * (arrivals from the generator today; retries, downstream completions and
 * timers are new kinds of the same).
 *
 * Tie order, which makes a run deterministic: events leave by time, then
 * by kind in the order of evl_kind (a tick's end at T comes before an
 * arrival at T, which belongs to the next tick, as it always has), then
 * in the order they were scheduled.
 *
 * The heap is allocated once with the capacity its driver needs; pushing
 * never allocates (a full heap refuses).
 */
#ifndef RATELAB_EVLOOP_H
#define RATELAB_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"

typedef enum {
    EVL_TICK_END = 0,   /* the tick being recorded ends: its level is read */
    EVL_ARRIVAL,        /* a request reaches the limiter */
} evl_kind;

typedef struct {
    int64_t t_us;
    evl_kind kind;
    uint64_t seq;       /* scheduling order */
    gen_request req;    /* EVL_ARRIVAL: the request */
} evl_event;

typedef struct {
    evl_event *heap;
    size_t n, cap;
    uint64_t scheduled;
} evl;

/* An empty queue for up to cap events. 0, or -1 when memory is short. */
int evl_init(evl *q, size_t cap);
void evl_free(evl *q);

/* Schedules an event of `kind` at t_us (req: its request, or NULL). 0, or
 * -1 when the queue is full. */
int evl_push(evl *q, int64_t t_us, evl_kind kind, const gen_request *req);

/* The next event to handle, or NULL when none is left; it stays queued. */
static inline const evl_event *evl_peek(const evl *q) { return q->n ? &q->heap[0] : NULL; }

/* Removes the next event (evl_peek's), copied to *out when out is not NULL. */
void evl_pop(evl *q, evl_event *out);

#endif
