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
 * A pass schedules at most 2^36 events, at most 2^26 at once.
 */
#ifndef RATELAB_EVLOOP_H
#define RATELAB_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"

typedef enum {
    EVL_TICK_END = 0,   /* the tick being recorded ends: its level is read */
    EVL_ARRIVAL,        /* a first attempt reaches the limiter (an intent) */
    EVL_DEADLINE,       /* a client stops waiting for an admitted call (clients.h retry_on timeout) */
    EVL_RETRY,          /* a client comes back after a refusal (clients.h) */
} evl_kind;

/* Who sent a request and how often already (clients.h). */
typedef struct {
    uint64_t intent;            /* the arrival it retries, 0-based */
    int64_t first_us;           /* when the intent first arrived */
    int64_t prev_backoff_us;    /* the backoff before this attempt (decorrelated needs it) */
    uint32_t attempt;           /* 1: the first */
    uint32_t client_class;
    uint32_t call;              /* DEADLINE: the downstream's ticket for the call (downstream.h) */
} evl_sender;

/* An event as it leaves the queue. */
typedef struct {
    int64_t t_us;
    evl_kind kind;
    uint64_t seq;       /* scheduling order */
    gen_request req;    /* the request: for ARRIVAL and RETRY its t_us is the event's;
                         * for DEADLINE, the time it was admitted */
    evl_sender from;    /* who sent it */
} evl_event;

/* Events are ordered by 16-byte nodes; what an event carries waits in a
 * slot. Nodes due within the current 64 us bucket sit in a 4-ary heap;
 * later ones within 4.2 s hang on a ring of buckets (a calendar queue:
 * pushing there is O(1), and a bucket is heaped only when its time comes);
 * the rest wait in a second heap. Retries land a backoff ahead of now,
 * mostly within the ring, so a pass with many pending retries pays for a
 * small heap, not a large one. */
#define EVL_SLOT_BITS 26          /* at most 2^26 events queued at once */
#define EVL_SEQ_BITS 36           /* scheduling order, unique per pass */
#define EVL_BUCKET_SHIFT 6        /* a bucket spans 64 us */
#define EVL_BUCKETS 65536
typedef struct {
    int64_t t_us;
    uint64_t order;     /* kind << 62 | seq << 26 | slot: kind, then scheduling order */
} evl_node;

typedef struct {
    gen_request req;
    evl_sender from;
} evl_payload;

typedef struct {
    evl_node *near, *far;         /* heaps: due by the end of bucket `current`, and beyond the ring */
    size_t n_near, n_far;
    evl_node *bucketed;           /* per slot: the node of an event on the ring */
    uint32_t *next;               /* per slot: the next event of its bucket */
    uint32_t *head;               /* per bucket (EVL_BUCKETS): its first slot, or UINT32_MAX */
    uint64_t *occupied;           /* a bit per bucket: it holds events */
    size_t n_ring;
    int64_t current;              /* the bucket being drained: t_us >> EVL_BUCKET_SHIFT */
    evl_payload *slots;
    uint32_t *free_slots;
    size_t n, cap, n_free;        /* events queued, room for, slots free */
    uint64_t scheduled;
} evl;

/* Bytes one event of room takes (its slot, node, link and heap places). */
#define EVL_BYTES_PER_EVENT (sizeof(evl_payload) + 3 * sizeof(evl_node) + 2 * sizeof(uint32_t))
/* Bytes of the ring, whatever the events (264 KiB). */
#define EVL_RING_BYTES (EVL_BUCKETS * sizeof(uint32_t) + EVL_BUCKETS / 8)

/* An empty queue for up to cap events. 0, or -1 when memory is short. */
int evl_init(evl *q, size_t cap);
void evl_free(evl *q);

/* Schedules an event of `kind` at t_us, not before the last event taken
 * (req, from: its request and sender, or NULL). 0, or -1 when the queue is
 * full. */
int evl_push(evl *q, int64_t t_us, evl_kind kind, const gen_request *req, const evl_sender *from);

/* Makes room for `more` events beyond those queued (doubling). 0, or -1
 * when memory is short. */
int evl_reserve(evl *q, size_t more);

/* The time and kind of the next event to handle; 0 when none is left. */
int evl_next(evl *q, int64_t *t_us, evl_kind *kind);

/* Removes the next event, copied to *out when out is not NULL. */
void evl_pop(evl *q, evl_event *out);

#endif
