/* queue_model.c -- see queue_model.h. */
#include "queue_model.h"

#include <stdlib.h>
#include <string.h>

#include "durations.h"
#include "hist.h"
#include "rng.h"

typedef struct {
    int64_t arrival_us;
    uint32_t attempts;
} qm_message;

typedef struct {
    int64_t done_us;
    uint32_t id;
    uint32_t failed;
} qm_flight;

/* A FIFO of message ids; every message is in at most one ring at a time,
 * so a capacity of max_messages never overflows. */
typedef struct {
    uint32_t *id;
    size_t head, len, cap;
} qm_ring;

struct qm {
    qm_config c;
    double failure_prob;
    dur_dist service;
    rng fail;
    qm_message *msg;
    size_t n_msg, max_msg;
    qm_ring queue, blocked;
    qm_flight *flight;               /* min-heap by done_us, then delivery order */
    size_t n_flight;
    int64_t next_run_us;
    hist *e2e, *e2e_tick;
    uint64_t *second_delivered;      /* per whole second of the series */
    size_t n_seconds;
    qm_tick *series, after_the_end;
    size_t ticks;
    int64_t tick_us, next_tick_end_us;
    size_t tick;
    qm_report r;
    int64_t offered_second, delivered_second;
    uint64_t offered_in_second, delivered_in_second;
};

static int qm_ring_init(qm_ring *q, size_t cap)
{
    q->id = malloc((cap ? cap : 1) * sizeof *q->id);
    q->head = q->len = 0;
    q->cap = cap ? cap : 1;
    return q->id ? 0 : -1;
}

static void qm_ring_push(qm_ring *q, uint32_t id)
{
    q->id[(q->head + q->len++) % q->cap] = id;
}

static uint32_t qm_ring_pop(qm_ring *q)
{
    uint32_t id = q->id[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return id;
}

qm *qm_create(const qm_config *c, const scn_downstream *d, double failure_prob, uint64_t seed,
              size_t max_messages, int64_t tick_us, size_t ticks)
{
    if (c->batch < 1 || c->interval_us < 1 || c->max_attempts < 1 || max_messages > UINT32_MAX || tick_us < 1)
        return NULL;
    qm *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->c = *c;
    m->failure_prob = failure_prob;
    dur_init(&m->service, d->dist, d->mean_ms, d->p99_ms, seed, 5);
    rng_seed(&m->fail, seed, 6);
    m->max_msg = max_messages;
    m->msg = malloc((max_messages ? max_messages : 1) * sizeof *m->msg);
    m->flight = malloc((max_messages ? max_messages : 1) * sizeof *m->flight);
    m->e2e = malloc(sizeof *m->e2e);
    m->e2e_tick = malloc(sizeof *m->e2e_tick);
    m->series = calloc(ticks ? ticks : 1, sizeof *m->series);
    m->n_seconds = (size_t)((int64_t)ticks * tick_us / 1000000) + 1;
    m->second_delivered = calloc(m->n_seconds, sizeof *m->second_delivered);
    if (!m->msg || !m->flight || !m->e2e || !m->e2e_tick || !m->series || !m->second_delivered || qm_ring_init(&m->queue, max_messages) != 0 ||
        qm_ring_init(&m->blocked, max_messages) != 0) {
        qm_destroy(m);
        return NULL;
    }
    hist_init(m->e2e);
    hist_init(m->e2e_tick);
    m->ticks = ticks;
    m->tick_us = tick_us;
    m->next_tick_end_us = tick_us;
    m->offered_second = m->delivered_second = -1;
    return m;
}

void qm_destroy(qm *m)
{
    if (!m) return;
    free(m->msg);
    free(m->flight);
    free(m->e2e);
    free(m->e2e_tick);
    free(m->second_delivered);
    free(m->series);
    free(m->queue.id);
    free(m->blocked.id);
    free(m);
}

/* ---- in-flight deliveries: a binary heap ---------------------------------------------- */

static int qm_before(const qm_flight *a, const qm_flight *b)
{
    return a->done_us < b->done_us || (a->done_us == b->done_us && a->id < b->id);
}

static void qm_flight_push(qm *m, qm_flight f)
{
    size_t i = m->n_flight++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!qm_before(&f, &m->flight[parent])) break;
        m->flight[i] = m->flight[parent];
        i = parent;
    }
    m->flight[i] = f;
}

static qm_flight qm_flight_pop(qm *m)
{
    qm_flight top = m->flight[0], last = m->flight[--m->n_flight];
    size_t i = 0, n = m->n_flight;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && qm_before(&m->flight[child + 1], &m->flight[child])) child++;
        if (!qm_before(&m->flight[child], &last)) break;
        m->flight[i] = m->flight[child];
        i = child;
    }
    if (n) m->flight[i] = last;
    return top;
}

/* ---- events --------------------------------------------------------------------------- */

/* The tick now being counted; after the last one, a scratch tick nobody reads. */
static qm_tick *qm_current(qm *m)
{
    return m->tick < m->ticks ? &m->series[m->tick] : &m->after_the_end;
}

/* Closes every tick that ends at or before t_us with the state as it is. */
static void qm_sample_to(qm *m, int64_t t_us)
{
    while (m->tick < m->ticks && m->next_tick_end_us <= t_us) {
        qm_tick *k = &m->series[m->tick];
        k->queued = m->queue.len;
        k->processing = m->n_flight;
        k->blocked = m->blocked.len;
        k->e2e_p50_us = hist_quantile(m->e2e_tick, 0.50);
        k->e2e_p99_us = hist_quantile(m->e2e_tick, 0.99);
        k->e2e_max_us = m->e2e_tick->total ? m->e2e_tick->max : 0;
        hist_reset(m->e2e_tick);
        m->tick++;
        m->next_tick_end_us += m->tick_us;
    }
}

/* Counts one event in its whole second; the busiest second so far in *peak. */
static void qm_per_second(int64_t t_us, int64_t *second, uint64_t *count, uint64_t *peak)
{
    int64_t s = t_us / 1000000;
    if (s != *second) {
        *second = s;
        *count = 0;
    }
    if (++*count > *peak) *peak = *count;
}

static void qm_enqueue(qm *m, uint32_t id)
{
    qm_ring_push(&m->queue, id);
    if (m->queue.len > m->r.max_queue_len) m->r.max_queue_len = m->queue.len;
}

static void qm_complete(qm *m, qm_flight f)
{
    qm_message *msg = &m->msg[f.id];
    qm_tick *k = qm_current(m);
    if (!f.failed) {
        m->r.succeeded++;
        k->succeeded++;
        hist_record(m->e2e, f.done_us - msg->arrival_us);
        hist_record(m->e2e_tick, f.done_us - msg->arrival_us);
    } else if (msg->attempts >= m->c.max_attempts) {
        m->r.dead_lettered++;
        k->dead_lettered++;
    } else {
        qm_enqueue(m, f.id);
    }
    if (f.done_us > m->r.drained_at_us) m->r.drained_at_us = f.done_us;
}

static void qm_run(qm *m, int64_t t_us)
{
    qm_tick *k = qm_current(m);
    for (uint32_t i = 0; i < m->c.batch && m->queue.len; i++) {
        uint32_t id = qm_ring_pop(&m->queue);
        qm_message *msg = &m->msg[id];
        if (msg->attempts++ > 0) m->r.retries++;
        m->r.deliveries++;
        k->delivered++;
        qm_per_second(t_us, &m->delivered_second, &m->delivered_in_second, &m->r.peak_delivered_rps);
        if ((size_t)(t_us / 1000000) < m->n_seconds) m->second_delivered[t_us / 1000000]++;
        int64_t service = dur_draw(&m->service);
        int failed = m->failure_prob > 0 && rng_uniform(&m->fail) < m->failure_prob;
        qm_flight_push(m, (qm_flight){ t_us + service, id, (uint32_t)failed });
    }
    if (m->n_flight > m->r.max_processing) m->r.max_processing = m->n_flight;
    /* room freed: producers waiting in line enqueue, first come first */
    while (m->blocked.len && m->queue.len < m->c.max_queue) {
        uint32_t id = qm_ring_pop(&m->blocked);
        int64_t waited = t_us - m->msg[id].arrival_us;
        if (waited > m->r.block_max_us) m->r.block_max_us = waited;
        qm_enqueue(m, id);
    }
    m->next_run_us += m->c.interval_us;
}

/* Every event strictly before t_us (completions before a run at the same µs). */
static void qm_advance(qm *m, int64_t t_us)
{
    for (;;) {
        int have_flight = m->n_flight > 0;
        int64_t next = m->next_run_us;
        if (have_flight && m->flight[0].done_us <= next) next = m->flight[0].done_us;
        if (next >= t_us) break;
        qm_sample_to(m, next);
        if (have_flight && m->flight[0].done_us <= m->next_run_us) qm_complete(m, qm_flight_pop(m));
        else qm_run(m, m->next_run_us);
    }
}

int qm_arrive(qm *m, int64_t t_us)
{
    if (m->n_msg == m->max_msg) return -1;
    qm_advance(m, t_us);
    qm_sample_to(m, t_us);
    uint32_t id = (uint32_t)m->n_msg++;
    m->msg[id] = (qm_message){ t_us, 0 };
    m->r.produced++;
    qm_tick *k = qm_current(m);
    k->arrived++;
    qm_per_second(t_us, &m->offered_second, &m->offered_in_second, &m->r.peak_offered_rps);
    if (m->c.max_queue && m->queue.len >= m->c.max_queue) {
        if (m->c.block) {
            qm_ring_push(&m->blocked, id);
        } else {
            m->r.rejected++;
            k->rejected++;
            return 1;
        }
        return 0;
    }
    qm_enqueue(m, id);
    return 0;
}

void qm_finish(qm *m, qm_report *r)
{
    /* the consumer runs on until nothing waits, is blocked or is in flight */
    while (m->queue.len || m->blocked.len || m->n_flight) {
        int64_t next = m->next_run_us;
        if (m->n_flight && m->flight[0].done_us < next) next = m->flight[0].done_us;
        qm_advance(m, next + 1);
    }
    qm_sample_to(m, INT64_MAX);
    m->r.still_queued = m->queue.len + m->blocked.len + m->n_flight;
    m->r.lost = (int64_t)m->r.produced - (int64_t)(m->r.rejected + m->r.succeeded + m->r.dead_lettered) -
                (int64_t)m->r.still_queued;
    m->r.e2e_p50_us = hist_quantile(m->e2e, 0.50);
    m->r.e2e_p99_us = hist_quantile(m->e2e, 0.99);
    m->r.e2e_p999_us = hist_quantile(m->e2e, 0.999);
    m->r.e2e_max_us = hist_quantile(m->e2e, 1.0);
    *r = m->r;
}

const qm_tick *qm_series(const qm *m) { return m->series; }

const uint64_t *qm_second_delivered(const qm *m, size_t *n_seconds)
{
    *n_seconds = m->n_seconds;
    return m->second_delivered;
}
