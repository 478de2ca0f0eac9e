/* runner.c -- see runner.h. */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients.h"
#include "downstream.h"
#include "evloop.h"
#include "pass.h"

#define RUN_MAX_BATCH 1024

/* One pass's loop: its events, its clients' state. */
typedef struct {
    const scn_scenario *s;
    gen *g;
    evl events;
    uint64_t intents;            /* arrivals scheduled so far: the next one's number */
    size_t retries_pending;
    cli_budget *budgets;         /* one per client class */
    int waits;                   /* some class waits for its calls' answers (retry_on timeout) */
} run_loop;

/* The next arrival from the generator, scheduled as a new intent; 0 when
 * the generator has no more. */
static int run_schedule_next(run_loop *r)
{
    gen_request next;
    if (!gen_next(r->g, &next)) return 0;
    evl_sender from = { .intent = r->intents, .first_us = next.t_us, .attempt = 1,
                        .client_class = cli_class_of(&r->s->clients, r->s->seed, r->intents) };
    r->intents++;
    evl_push(&r->events, next.t_us, EVL_ARRIVAL, &next, &from);   /* cannot fail: one arrival is pending at a time */
    return 1;
}

/* The end of the tick being recorded, scheduled; the last tick takes every
 * later arrival, so its end comes after them all. */
static void run_schedule_tick_end(const pass *p, evl *q)
{
    if (pass_ticks_left(p) == 0) return;
    evl_push(q, pass_ticks_left(p) == 1 ? INT64_MAX : pass_tick_end_us(p), EVL_TICK_END, NULL, NULL);
}

/* pass.h's name for how an intent ended (clients.h cli_outcome). */
static pass_outcome run_ending(cli_outcome o)
{
    switch (o) {
    case CLI_SUCCEEDED: return PASS_SUCCEEDED;
    case CLI_BUDGET_REFUSED: return PASS_BUDGET_REFUSED;
    case CLI_UNFINISHED: return PASS_UNFINISHED;
    case CLI_FAILED: return PASS_FAILED;
    default: return PASS_ABANDONED;
    }
}

/* The client of `from` comes back at `at` (room was reserved). */
static void run_schedule_retry(run_loop *r, pass *p, const gen_request *q, const evl_sender *from, int64_t at,
                               int64_t backoff)
{
    gen_request again = { at, q->key, q->cost };
    evl_sender next = *from;
    next.attempt++;
    next.prev_backoff_us = backoff;
    evl_push(&r->events, at, EVL_RETRY, &again, &next);
    pass_pending(p, ++r->retries_pending);
}

/* Attempt q of `from`, admitted, ended at end_us (DSM_LATER: not by its
 * deadline): a success, or a timeout its client notices at its deadline. */
static void run_after_call(run_loop *r, pass *p, const gen_request *q, const evl_sender *from, const cli_draws *draws,
                           int64_t end_us)
{
    int64_t timeout = r->s->downstream.timeout_us, deadline = q->t_us + timeout;
    if (end_us != DSM_LATER && end_us - q->t_us <= timeout) {
        pass_intent_ended(p, PASS_SUCCEEDED, from->first_us, q->t_us, from->attempt);
        return;
    }
    pass_timed_out_attempt(p);
    int64_t at, backoff;
    const cli_class *k = &r->s->clients.c[from->client_class];
    cli_outcome o = cli_after_timeout(k, &r->budgets[from->client_class], r->s->duration_us, from->attempt,
                                      from->first_us, draws, deadline, &at, &backoff);
    if (o != CLI_COMES_BACK) pass_intent_ended(p, run_ending(o), from->first_us, deadline, from->attempt);
    else run_schedule_retry(r, p, q, from, at, backoff);
}

/* A client's deadline for an admitted call the limiter delayed: the call
 * has been released by now, so the downstream knows when it ends. */
static void run_deadline(run_loop *r, pass *p, const evl_event *e)
{
    const cli_class *k = &r->s->clients.c[e->from.client_class];
    cli_draws draws;
    cli_draw(k, r->s->seed, e->from.intent, e->from.attempt, e->from.prev_backoff_us, &draws);
    run_after_call(r, p, &e->req, &e->from, &draws, pass_call_end(p, e->from.call, e->t_us));
}

/* Records the decision d of request q sent by `from`; then the intent
 * ends, or its client comes back (a retry event), or waits for the call's
 * answer (a deadline event). Room for one event was reserved. */
static void run_after_decision(run_loop *r, pass *p, const gen_request *q, evl_sender *from,
                               const cli_draws *draws, const lim_decision *d)
{
    const cli_config *cc = &r->s->clients;
    if (!cc->n) {
        pass_arrivals_decided(p, q, d, 1);
        return;
    }
    const cli_class *k = &cc->c[from->client_class];
    double failure_prob = r->s->downstream.present ? r->s->downstream.failure_prob : 0;
    int waits = k->retry_on_timeout && d->allowed &&
                !cli_failed(r->s->seed, from->intent, from->attempt, failure_prob);
    int64_t end = DSM_LATER;
    if (!waits || d->delay_us > r->s->downstream.timeout_us) pass_decided(p, q, d);   /* a delay past it times out */
    else end = pass_decided_watched(p, q, d, &from->call);
    if (from->attempt == 1) {
        pass_intent(p, q->t_us);
        if (k->has_budget) cli_budget_intent(&r->budgets[from->client_class], q->t_us);
    }
    if (waits) {
        if (end == DSM_LATER && d->delay_us <= r->s->downstream.timeout_us)
            evl_push(&r->events, q->t_us + r->s->downstream.timeout_us, EVL_DEADLINE, q, from);
        else
            run_after_call(r, p, q, from, draws, end);
        return;
    }
    int failed;
    int64_t at, backoff;
    cli_outcome o = cli_after(k, &r->budgets[from->client_class], r->s->seed, failure_prob, r->s->duration_us,
                              from->intent, from->attempt, from->first_us, draws, q->t_us, d, &failed, &at, &backoff);
    if (failed) pass_failed_attempt(p);
    if (o != CLI_COMES_BACK) {
        pass_intent_ended(p, run_ending(o), from->first_us, q->t_us, from->attempt);
        return;
    }
    run_schedule_retry(r, p, q, from, at, backoff);
}

/* What one batch needs, allocated once per pass. */
typedef struct {
    gen_request *reqs;
    evl_sender *from;
    cli_draws *draws;
    lim_decision *dec;
    int64_t *latency;
    size_t batch;
} run_buffers;

/* Every 4096 decisions: the progress hook, and the stop hook's answer
 * (-1 with a message: interrupted). */
static int run_progress(const run_options *opt, const scn_scenario *s, const scn_limiter *l, uint64_t *decided,
                        size_t n, int64_t last_us, char *err, size_t errlen)
{
    uint64_t before = *decided;
    *decided += n;
    if (before >> 12 == *decided >> 12) return 0;
    if (opt->progress) opt->progress(opt->progress_ctx, (double)last_us / (double)s->duration_us);
    if (opt->stop && opt->stop(opt->progress_ctx)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        return -1;
    }
    return 0;
}

/* A scenario without clients: nothing but arrivals, in time order, and
 * tick ends, so no event queue. The generator fills a batch's worth ahead
 * straight into the buffer the backend reads (gen_fill: a batch of draws
 * keeps its state in registers); a batch is what of it falls before the
 * tick's end (an arrival at a tick's end belongs to the next tick, as in
 * evloop.h), so the batches, and every decision, are those of generating
 * one arrival at a time. */
static int run_open_loop(run_loop *r, pass *p, const scn_limiter *l, const run_backend *b, run_buffers *x,
                         uint32_t level_key, const run_options *opt, char *err, size_t errlen)
{
    gen_request *q = x->reqs;
    size_t have = 0, at = 0;   /* q[at..have): generated, not yet decided */
    int ended = 0;
    uint64_t decided = 0;
    for (;;) {
        if (!ended && have - at < x->batch) {
            memmove(q, q + at, (have - at) * sizeof *q);
            have -= at;
            at = 0;
            size_t got = gen_fill(r->g, q + have, x->batch - have);
            ended = got < x->batch - have;
            have += got;
        }
        int64_t tick_end = pass_ticks_left(p) <= 1 ? INT64_MAX : pass_tick_end_us(p);
        size_t n = 0;
        while (n < x->batch && at + n < have && q[at + n].t_us < tick_end) n++;
        if (n == 0) {
            if (pass_ticks_left(p) == 0) return 0;   /* and no arrival is left */
            pass_close_tick(p, b->level(b->ctx, level_key, pass_tick_end_us(p)));
            continue;
        }
        const gen_request *batch = q + at;
        pass_prefetch(p, batch, n);
        if (b->decide(b->ctx, batch, n, x->dec, x->latency, err, errlen) != 0) return -1;
        pass_prefetch_rings(p, batch, n);
        pass_arrivals_decided(p, batch, x->dec, n);
        for (size_t i = 0; i < n; i++)
            if (x->latency[i] >= 0) pass_latency(p, x->latency[i]);
        at += n;
        if (run_progress(opt, r->s, l, &decided, n, batch[n - 1].t_us, err, errlen) != 0) return -1;
    }
}

/* A scenario with clients: arrivals, retries, deadlines and tick ends
 * through the event queue. */
static int run_events(run_loop *r, pass *p, const scn_limiter *l, const run_backend *b, run_buffers *x,
                      uint32_t level_key, const run_options *opt, char *err, size_t errlen)
{
    const scn_scenario *s = r->s;
    const cli_config *cc = &s->clients;
    run_schedule_next(r);
    run_schedule_tick_end(p, &r->events);
    uint64_t decided = 0;
    int64_t t_next;
    evl_kind kind;
    while (evl_next(&r->events, &t_next, &kind)) {
        if (kind == EVL_TICK_END) {
            evl_pop(&r->events, NULL);
            pass_close_tick(p, b->level(b->ctx, level_key, pass_tick_end_us(p)));
            run_schedule_tick_end(p, &r->events);
            continue;
        }
        if (kind == EVL_DEADLINE) {
            evl_event e;
            evl_pop(&r->events, &e);
            run_deadline(r, p, &e);
            continue;
        }
        /* Consecutive requests go to the backend together (a Redis
         * pipeline): never across a tick's end or a client's deadline
         * (which needs every earlier request decided), never past the
         * earliest return of a client the batch may refuse, so that no
         * retry is decided out of its time. */
        size_t n = 0;
        int64_t horizon = INT64_MAX;
        while (n < x->batch && evl_next(&r->events, &t_next, &kind) && kind != EVL_TICK_END &&
               kind != EVL_DEADLINE && t_next <= horizon) {
            evl_event e;
            evl_pop(&r->events, &e);
            const cli_class *k = &cc->c[e.from.client_class];
            if (k->retry_on_timeout && e.t_us + s->downstream.timeout_us - 1 < horizon)
                horizon = e.t_us + s->downstream.timeout_us - 1;   /* its deadline comes after the batch */
            if (e.from.attempt < k->max_attempts) {
                cli_draw(k, s->seed, e.from.intent, e.from.attempt, e.from.prev_backoff_us, &x->draws[n]);
                int64_t back = cli_earliest_return_us(k, e.from.attempt, &x->draws[n]);
                if (e.t_us + back < horizon) horizon = e.t_us + back;
            }
            x->reqs[n] = e.req;
            x->from[n] = e.from;
            if (e.kind == EVL_ARRIVAL) run_schedule_next(r);
            else r->retries_pending--;
            n++;
        }
        if (evl_reserve(&r->events, n) != 0 ||   /* a retry or a deadline per request at most */
            (r->waits && pass_reserve_calls(p, n) != 0)) {
            snprintf(err, errlen, "%s: out of memory for %zu pending retries", l->name, r->events.n + n);
            return -1;
        }
        pass_prefetch(p, x->reqs, n);
        if (b->decide(b->ctx, x->reqs, n, x->dec, x->latency, err, errlen) != 0) return -1;
        pass_prefetch_rings(p, x->reqs, n);
        for (size_t i = 0; i < n; i++) {
            run_after_decision(r, p, &x->reqs[i], &x->from[i], &x->draws[i], &x->dec[i]);
            if (x->latency[i] >= 0) pass_latency(p, x->latency[i]);
        }
        if (run_progress(opt, s, l, &decided, n, x->reqs[n - 1].t_us, err, errlen) != 0) return -1;
    }
    return 0;
}

int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_backend *b,
                const run_options *opt, run_result *out, char *err, size_t errlen)
{
    size_t batch = b->batch < 1 ? 1 : b->batch > RUN_MAX_BATCH ? RUN_MAX_BATCH : b->batch;
    const cli_config *cc = &s->clients;
    /* Everything that can fail comes before begin(), so that once a backend
     * has begun, end() always runs (it deletes Redis keys, frees state). */
    run_buffers x = {
        .reqs = malloc(batch * sizeof *x.reqs),
        .from = malloc(batch * sizeof *x.from),
        .draws = malloc(batch * sizeof *x.draws),
        .dec = malloc(batch * sizeof *x.dec),
        .latency = malloc(batch * sizeof *x.latency),
        .batch = batch,
    };
    run_loop r = { .s = s, .g = g, .budgets = cc->n ? malloc(cc->n * sizeof *r.budgets) : NULL };
    int rc = -1;
    int queue_ok = !cc->n || evl_init(&r.events, 64) == 0;
    pass *p = pass_open(s, l, b->name, opt->log, out, err, errlen);
    if (!x.reqs || !x.from || !x.draws || !x.dec || !x.latency || !queue_ok || (cc->n && !r.budgets) || !p) {
        if (p) snprintf(err, errlen, "%s: out of memory for a batch of %zu requests", l->name, batch);
        goto fail;
    }
    for (size_t i = 0; i < cc->n; i++) {
        cli_budget_init(&r.budgets[i], cc->c[i].budget_window_s);
        r.waits |= cc->c[i].retry_on_timeout;
    }
    if (b->begin(b->ctx, s, l, err, errlen) != 0) goto fail;
    uint32_t level_key = l->global ? 0 : s->level_key;

    gen_rewind(g);
    int64_t started = clk_mono_ns(), cpu_started = clk_thread_ns();
    rc = cc->n ? run_events(&r, p, l, b, &x, level_key, opt, err, errlen)
               : run_open_loop(&r, p, l, b, &x, level_key, opt, err, errlen);
    if (rc == 0 && gen_stopped(g)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        rc = -1;
    }
    int64_t ended = clk_mono_ns(), cpu_ended = clk_thread_ns();
    run_backend_report said;
    b->end(b->ctx, &said, out->note, sizeof out->note);
    if (rc == 0) {
        pass_finish(p, (double)(ended - started) / 1e9, 1, &said);
        out->summary.cpu_s = (double)(cpu_ended - cpu_started) / 1e9;
    } else pass_abort(p);
    p = NULL;
fail:
    pass_abort(p);   /* NULL once finished */
    evl_free(&r.events);   /* zeroed when never set up */
    free(r.budgets);
    free(x.reqs);
    free(x.from);
    free(x.draws);
    free(x.dec);
    free(x.latency);
    return rc;
}
