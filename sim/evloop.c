/* evloop.c -- see evloop.h. */
#include "evloop.h"

#include <stdlib.h>

static int evl_before(const evl_event *a, const evl_event *b)
{
    if (a->t_us != b->t_us) return a->t_us < b->t_us;
    if (a->kind != b->kind) return a->kind < b->kind;
    return a->seq < b->seq;
}

int evl_init(evl *q, size_t cap)
{
    *q = (evl){ .heap = malloc((cap ? cap : 1) * sizeof *q->heap), .cap = cap ? cap : 1 };
    return q->heap ? 0 : -1;
}

void evl_free(evl *q)
{
    free(q->heap);
    *q = (evl){ 0 };
}

int evl_reserve(evl *q, size_t more)
{
    if (q->cap - q->n >= more) return 0;
    size_t cap = q->cap;
    while (cap - q->n < more) cap *= 2;
    evl_event *bigger = realloc(q->heap, cap * sizeof *bigger);
    if (!bigger) return -1;
    q->heap = bigger;
    q->cap = cap;
    return 0;
}

int evl_push(evl *q, int64_t t_us, evl_kind kind, const gen_request *req, const evl_sender *from)
{
    if (q->n == q->cap) return -1;
    evl_event e = { .t_us = t_us, .kind = kind, .seq = q->scheduled++ };
    if (req) e.req = *req;
    if (from) e.from = *from;
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!evl_before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

void evl_pop(evl *q, evl_event *out)
{
    if (!q->n) return;
    if (out) *out = q->heap[0];
    evl_event last = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->n) break;
        if (child + 1 < q->n && evl_before(&q->heap[child + 1], &q->heap[child])) child++;
        if (!evl_before(&q->heap[child], &last)) break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (q->n) q->heap[i] = last;
}
