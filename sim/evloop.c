/* evloop.c -- see evloop.h. */
#include "evloop.h"

#include <stdlib.h>
#include <string.h>

#define EVL_SLOT_MASK ((1ULL << EVL_SLOT_BITS) - 1)
#define EVL_SEQ_MASK ((1ULL << EVL_SEQ_BITS) - 1)
#define EVL_ARITY 4
#define EVL_NONE UINT32_MAX

static inline int evl_before(const evl_node *a, const evl_node *b)
{
    return a->t_us < b->t_us || (a->t_us == b->t_us && a->order < b->order);
}

static inline int64_t evl_bucket(int64_t t_us) { return t_us >> EVL_BUCKET_SHIFT; }

/* ---- a 4-ary heap of nodes ---- */

/* Puts e at hole i and moves it up while it comes before its parent. */
static void evl_heap_rise(evl_node *h, size_t i, evl_node e)
{
    while (i > 0) {
        size_t parent = (i - 1) / EVL_ARITY;
        if (!evl_before(&e, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static void evl_heap_push(evl_node *h, size_t *n, evl_node e) { evl_heap_rise(h, (*n)++, e); }

static evl_node evl_heap_pop(evl_node *h, size_t *n)
{
    evl_node top = h[0], last = h[--*n];
    if (!*n) return top;
    /* the hole sinks by the least child to the bottom; the last node rises from there */
    size_t i = 0;
    for (;;) {
        size_t first = EVL_ARITY * i + 1;
        if (first >= *n) break;
        size_t end = first + EVL_ARITY < *n ? first + EVL_ARITY : *n, least = first;
        for (size_t c = first + 1; c < end; c++)
            if (evl_before(&h[c], &h[least])) least = c;
        h[i] = h[least];
        i = least;
    }
    evl_heap_rise(h, i, last);
    return top;
}

/* ---- the queue ---- */

int evl_init(evl *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    q->head = malloc(EVL_BUCKETS * sizeof *q->head);
    q->occupied = calloc(EVL_BUCKETS / 64, sizeof *q->occupied);
    if (!q->head || !q->occupied) return -1;
    for (size_t b = 0; b < EVL_BUCKETS; b++) q->head[b] = EVL_NONE;
    return evl_reserve(q, cap ? cap : 1);
}

void evl_free(evl *q)
{
    free(q->near);
    free(q->far);
    free(q->bucketed);
    free(q->next);
    free(q->slots);
    free(q->free_slots);
    free(q->head);
    free(q->occupied);
    memset(q, 0, sizeof *q);
}

#define EVL_GROW(ptr, cap) do {                                  \
        void *bigger = realloc((ptr), (cap) * sizeof *(ptr));    \
        if (!bigger) return -1;                                  \
        (ptr) = bigger;                                          \
    } while (0)

int evl_reserve(evl *q, size_t more)
{
    if (q->cap - q->n >= more) return 0;
    size_t cap = q->cap ? q->cap : 1;
    while (cap - q->n < more) cap *= 2;
    if (cap > EVL_SLOT_MASK + 1) return -1;
    EVL_GROW(q->near, cap);
    EVL_GROW(q->far, cap);
    EVL_GROW(q->bucketed, cap);
    EVL_GROW(q->next, cap);
    EVL_GROW(q->slots, cap);
    EVL_GROW(q->free_slots, cap);
    for (size_t s = cap; s-- > q->cap;) q->free_slots[q->n_free++] = (uint32_t)s;
    q->cap = cap;
    return 0;
}

/* Files node e where its time says: the near heap, the ring, or the far heap. */
static void evl_file(evl *q, evl_node e)
{
    int64_t b = evl_bucket(e.t_us);
    if (b <= q->current) {
        evl_heap_push(q->near, &q->n_near, e);
    } else if (b - q->current < EVL_BUCKETS) {
        uint32_t slot = (uint32_t)(e.order & EVL_SLOT_MASK);
        size_t i = (size_t)(b & (EVL_BUCKETS - 1));
        q->bucketed[slot] = e;
        q->next[slot] = q->head[i];
        q->head[i] = slot;
        q->occupied[i / 64] |= 1ULL << (i % 64);
        q->n_ring++;
    } else {
        evl_heap_push(q->far, &q->n_far, e);
    }
}

_Static_assert(EVL_RETRY < 4, "an event's kind takes the top two bits of its order");

int evl_push(evl *q, int64_t t_us, evl_kind kind, const gen_request *req, const evl_sender *from)
{
    if (q->n == q->cap || q->scheduled > EVL_SEQ_MASK) return -1;
    uint32_t slot = q->free_slots[--q->n_free];
    if (req) q->slots[slot].req = *req;
    if (from) q->slots[slot].from = *from;
    q->n++;
    evl_file(q, (evl_node){ t_us, (uint64_t)kind << 62 | (q->scheduled++ & EVL_SEQ_MASK) << EVL_SLOT_BITS | slot });
    return 0;
}

/* The ring's first occupied bucket after `current`, as a bucket number. */
static int64_t evl_next_occupied(const evl *q)
{
    size_t start = (size_t)((q->current + 1) & (EVL_BUCKETS - 1));
    for (size_t k = 0; k <= EVL_BUCKETS / 64; k++) {
        size_t i = (start / 64 + k) % (EVL_BUCKETS / 64);
        uint64_t w = q->occupied[i];
        if (k == 0) w &= ~0ULL << (start % 64);
        if (k == EVL_BUCKETS / 64) w &= (start % 64) ? ~(~0ULL << (start % 64)) : 0;
        if (w) {
            size_t bucket = i * 64 + (size_t)__builtin_ctzll(w);
            size_t ahead = (bucket - start + EVL_BUCKETS) % EVL_BUCKETS;
            return q->current + 1 + (int64_t)ahead;
        }
    }
    return INT64_MAX;
}

/* Makes the near heap hold the next event, when there is one: moves
 * `current` to the next bucket with events and heaps that bucket, and what
 * of the far heap is due by its end. */
static void evl_settle(evl *q)
{
    while (!q->n_near && (q->n_ring || q->n_far)) {
        int64_t ring = q->n_ring ? evl_next_occupied(q) : INT64_MAX;
        int64_t far = q->n_far ? evl_bucket(q->far[0].t_us) : INT64_MAX;
        q->current = ring < far ? ring : far;
        if (ring == q->current) {
            size_t i = (size_t)(q->current & (EVL_BUCKETS - 1));
            for (uint32_t s = q->head[i]; s != EVL_NONE; s = q->next[s]) {
                evl_heap_push(q->near, &q->n_near, q->bucketed[s]);
                q->n_ring--;
            }
            q->head[i] = EVL_NONE;
            q->occupied[i / 64] &= ~(1ULL << (i % 64));
        }
        while (q->n_far && evl_bucket(q->far[0].t_us) <= q->current)
            evl_heap_push(q->near, &q->n_near, evl_heap_pop(q->far, &q->n_far));
    }
}

int evl_next(evl *q, int64_t *t_us, evl_kind *kind)
{
    evl_settle(q);
    if (!q->n_near) return 0;
    *t_us = q->near[0].t_us;
    *kind = (evl_kind)(q->near[0].order >> 62);
    return 1;
}

void evl_pop(evl *q, evl_event *out)
{
    evl_settle(q);
    if (!q->n_near) return;
    evl_node top = evl_heap_pop(q->near, &q->n_near);
    uint32_t slot = (uint32_t)(top.order & EVL_SLOT_MASK);
    if (out) {
        const evl_payload *p = &q->slots[slot];
        *out = (evl_event){ top.t_us, (evl_kind)(top.order >> 62), top.order >> EVL_SLOT_BITS & EVL_SEQ_MASK, p->req,
                            p->from };
    }
    q->free_slots[q->n_free++] = slot;
    q->n--;
}
