/* downstream.c -- see downstream.h. */
#include "downstream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


#define DSM_NO_TICKET UINT32_MAX

typedef struct {
    int64_t release_us, delay_us;
    uint32_t ticket;                  /* a watched call's, or DSM_NO_TICKET */
} dsm_pending;

struct dsm {
    scn_downstream d;
    int64_t duration_us;
    dur_dist service;
    int64_t *free_at;                 /* min-heap: when each server is next free */
    dsm_pending *pending;             /* min-heap by release */
    size_t n_pending, max_pending;
    uint64_t served, completed, out_of_order;
    hist *wait, *e2e;
    int64_t *call_end;                /* per ticket: its call's end, DSM_LATER until served */
    uint32_t *free_tickets;
    size_t n_tickets, n_free_tickets; /* tickets made, and given back */
};

dsm *dsm_create(const scn_downstream *d, uint64_t seed, int64_t duration_us, size_t max_pending)
{
    dsm *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->d = *d;
    m->duration_us = duration_us;
    m->max_pending = max_pending < 1 ? 1 : max_pending;
    m->free_at = calloc(d->concurrency, sizeof *m->free_at);
    m->pending = malloc(m->max_pending * sizeof *m->pending);
    m->wait = malloc(sizeof(hist));
    m->e2e = malloc(sizeof(hist));
    if (!m->free_at || !m->pending || !m->wait || !m->e2e) { dsm_destroy(m); return NULL; }
    hist_init(m->wait);
    hist_init(m->e2e);
    dur_init(&m->service, d->dist, d->mean_ms, d->p99_ms, seed, 4);
    return m;
}

void dsm_destroy(dsm *m)
{
    if (!m) return;
    free(m->free_at);
    free(m->pending);
    free(m->wait);
    free(m->e2e);
    free(m->call_end);
    free(m->free_tickets);
    free(m);
}

static void dsm_swap64(int64_t *a, int64_t *b) { int64_t t = *a; *a = *b; *b = t; }

/* The earliest-free server takes the request (FIFO by release); returns
 * when it ends, counted from its decision. */
static int64_t dsm_serve(dsm *m, int64_t release_us, int64_t delay_us)
{
    int64_t *h = m->free_at;
    size_t n = m->d.concurrency;
    int64_t start = h[0] > release_us ? h[0] : release_us;
    int64_t service = dur_draw(&m->service);
    int64_t finish = start + service;
    h[0] = finish;   /* that server is busy until then: sift it down */
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        if (l < n && h[l] < h[least]) least = l;
        if (r < n && h[r] < h[least]) least = r;
        if (least == i) break;
        dsm_swap64(&h[i], &h[least]);
        i = least;
    }
    hist_record(m->wait, start - release_us);
    hist_record(m->e2e, delay_us + (start - release_us) + service);
    m->served++;
    if (finish <= m->duration_us) m->completed++;
    return finish;
}

static void dsm_serve_pending(dsm *m, dsm_pending p)
{
    int64_t end = dsm_serve(m, p.release_us, p.delay_us);
    if (p.ticket != DSM_NO_TICKET) m->call_end[p.ticket] = end;
}

static void dsm_push(dsm *m, dsm_pending p)
{
    size_t i = m->n_pending++;
    m->pending[i] = p;
    while (i > 0 && m->pending[(i - 1) / 2].release_us > m->pending[i].release_us) {
        dsm_pending t = m->pending[i];
        m->pending[i] = m->pending[(i - 1) / 2];
        m->pending[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static dsm_pending dsm_pop(dsm *m)
{
    dsm_pending top = m->pending[0];
    size_t n = --m->n_pending;
    m->pending[0] = m->pending[n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        if (l < n && m->pending[l].release_us < m->pending[least].release_us) least = l;
        if (r < n && m->pending[r].release_us < m->pending[least].release_us) least = r;
        if (least == i) break;
        dsm_pending t = m->pending[i];
        m->pending[i] = m->pending[least];
        m->pending[least] = t;
        i = least;
    }
    return top;
}

/* Serves every release due by t_us. */
static void dsm_advance(dsm *m, int64_t t_us)
{
    while (m->n_pending && m->pending[0].release_us <= t_us) dsm_serve_pending(m, dsm_pop(m));
}

static int64_t dsm_take(dsm *m, int64_t t_us, int64_t delay_us, uint32_t ticket)
{
    dsm_advance(m, t_us);
    if (delay_us <= 0) return dsm_serve(m, t_us, 0);
    if (m->n_pending == m->max_pending) {   /* full: serve the earliest now, a little out of order */
        dsm_serve_pending(m, dsm_pop(m));
        m->out_of_order++;
    }
    if (ticket != DSM_NO_TICKET) m->call_end[ticket] = DSM_LATER;
    dsm_push(m, (dsm_pending){ t_us + delay_us, delay_us, ticket });
    return DSM_LATER;
}

void dsm_admit(dsm *m, int64_t t_us, int64_t delay_us) { dsm_take(m, t_us, delay_us, DSM_NO_TICKET); }

int dsm_reserve_calls(dsm *m, size_t more)
{
    size_t waiting = m->n_tickets - m->n_free_tickets;
    if (waiting + more <= m->n_tickets) return 0;
    size_t cap = m->n_tickets ? m->n_tickets : 64;
    while (cap < waiting + more) cap *= 2;
    if (cap > DSM_NO_TICKET) return -1;
    int64_t *ends = realloc(m->call_end, cap * sizeof *ends);
    if (!ends) return -1;
    m->call_end = ends;
    uint32_t *free_list = realloc(m->free_tickets, cap * sizeof *free_list);
    if (!free_list) return -1;
    m->free_tickets = free_list;
    for (size_t t = cap; t-- > m->n_tickets;) m->free_tickets[m->n_free_tickets++] = (uint32_t)t;
    m->n_tickets = cap;
    return 0;
}

int64_t dsm_admit_watched(dsm *m, int64_t t_us, int64_t delay_us, uint32_t *ticket)
{
    if (delay_us <= 0) return dsm_take(m, t_us, 0, DSM_NO_TICKET);
    *ticket = m->free_tickets[--m->n_free_tickets];   /* room was reserved */
    return dsm_take(m, t_us, delay_us, *ticket);
}

int64_t dsm_call_end(dsm *m, uint32_t ticket, int64_t now_us)
{
    dsm_advance(m, now_us);
    int64_t end = m->call_end[ticket];
    if (end != DSM_LATER) m->free_tickets[m->n_free_tickets++] = ticket;
    return end;
}

void dsm_finish(dsm *m, dsm_report *r)
{
    while (m->n_pending) dsm_serve_pending(m, dsm_pop(m));
    memset(r, 0, sizeof *r);
    r->served = m->served;
    r->completed = m->completed;
    r->out_of_order = m->out_of_order;
    r->wait_p50_us = hist_quantile(m->wait, 0.5);
    r->wait_p99_us = hist_quantile(m->wait, 0.99);
    r->wait_max_us = m->wait->total ? m->wait->max : 0;
    r->e2e_p50_us = hist_quantile(m->e2e, 0.5);
    r->e2e_p99_us = hist_quantile(m->e2e, 0.99);
    r->e2e_p999_us = hist_quantile(m->e2e, 0.999);
    r->e2e_max_us = m->e2e->total ? m->e2e->max : 0;
}

uint64_t dsm_overload_seconds(const scn_downstream *d, const uint64_t *released_per_second, size_t seconds)
{
    uint64_t over = 0;
    for (size_t i = 0; i < seconds; i++) over += (double)released_per_second[i] > d->capacity_rps;
    return over;
}
