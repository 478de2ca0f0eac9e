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
 * Pushing never allocates (a full heap refuses): a driver sizes the heap
 * once, or grows it with evl_reserve between batches, never per event.
 */
#ifndef RATELAB_EVLOOP_H
#define RATELAB_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"

typedef enum {
    EVL_TICK_END = 0,   /* the tick being recorded ends: its level is read */
    EVL_ARRIVAL,        /* a first attempt reaches the limiter (an intent) */
    EVL_RETRY,          /* a client comes back after a refusal (clients.h) */
} evl_kind;

/* Who sent a request and how often already (clients.h). */
typedef struct {
    uint64_t intent;            /* the arrival it retries, 0-based */
    int64_t first_us;           /* when the intent first arrived */
    int64_t prev_backoff_us;    /* the backoff before this attempt (decorrelated needs it) */
    uint32_t attempt;           /* 1: the first */
    uint32_t client_class;
} evl_sender;

typedef struct {
    int64_t t_us;
    evl_kind kind;
    uint64_t seq;       /* scheduling order */
    gen_request req;    /* ARRIVAL, RETRY: the request (its t_us is the event's) */
    evl_sender from;    /* ARRIVAL, RETRY: who sent it */
} evl_event;

typedef struct {
    evl_event *heap;
    size_t n, cap;
    uint64_t scheduled;
} evl;

/* An empty queue for up to cap events. 0, or -1 when memory is short. */
int evl_init(evl *q, size_t cap);
void evl_free(evl *q);

/* Schedules an event of `kind` at t_us (req, from: its request and sender,
 * or NULL). 0, or -1 when the queue is full. */
int evl_push(evl *q, int64_t t_us, evl_kind kind, const gen_request *req, const evl_sender *from);

/* Makes room for `more` events beyond those queued (doubling). 0, or -1
 * when memory is short. */
int evl_reserve(evl *q, size_t more);

/* The next event to handle, or NULL when none is left; it stays queued. */
static inline const evl_event *evl_peek(const evl *q) { return q->n ? &q->heap[0] : NULL; }

/* Removes the next event (evl_peek's), copied to *out when out is not NULL. */
void evl_pop(evl *q, evl_event *out);

#endif
