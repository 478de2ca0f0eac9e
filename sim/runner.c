/* runner.c -- see runner.h. */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evloop.h"
#include "pass.h"

#define RUN_MAX_BATCH 1024

/* The next arrival from the generator, scheduled; 0 when it has no more. */
static int run_schedule_next(gen *g, evl *q)
{
    gen_request next;
    if (!gen_next(g, &next)) return 0;
    evl_push(q, next.t_us, EVL_ARRIVAL, &next);   /* cannot fail: one arrival is pending at a time */
    return 1;
}

/* The end of the tick being recorded, scheduled; the last tick takes every
 * later arrival, so its end comes after them all. */
static void run_schedule_tick_end(const pass *p, evl *q)
{
    if (pass_ticks_left(p) == 0) return;
    evl_push(q, pass_ticks_left(p) == 1 ? INT64_MAX : pass_tick_end_us(p), EVL_TICK_END, NULL);
}

int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_backend *b,
                const run_options *opt, run_result *out, char *err, size_t errlen)
{
    size_t batch = b->batch < 1 ? 1 : b->batch > RUN_MAX_BATCH ? RUN_MAX_BATCH : b->batch;
    /* Everything that can fail comes before begin(), so that once a backend
     * has begun, end() always runs (it deletes Redis keys, frees state). */
    gen_request *reqs = malloc(batch * sizeof *reqs);
    lim_decision *dec = malloc(batch * sizeof *dec);
    int64_t *latency = malloc(batch * sizeof *latency);
    evl events = { 0 };
    int queue_ok = evl_init(&events, 4) == 0;   /* one arrival, one tick end */
    pass *p = pass_open(s, l, b->name, opt->log, out, err, errlen);
    if (!reqs || !dec || !latency || !queue_ok || !p) {
        if (p) snprintf(err, errlen, "%s: out of memory for a batch of %zu requests", l->name, batch);
        goto fail;
    }
    if (b->begin(b->ctx, s, l, err, errlen) != 0) goto fail;
    uint32_t level_key = l->global ? 0 : s->level_key;

    gen_rewind(g);
    run_schedule_next(g, &events);
    run_schedule_tick_end(p, &events);
    int rc = 0;
    uint64_t decided = 0;
    int64_t started = clk_mono_ns();
    for (const evl_event *e; rc == 0 && (e = evl_peek(&events));) {
        if (e->kind == EVL_TICK_END) {
            evl_pop(&events, NULL);
            pass_close_tick(p, b->level(b->ctx, level_key, pass_tick_end_us(p)));
            run_schedule_tick_end(p, &events);
            continue;
        }
        /* Consecutive arrivals go to the backend together (a Redis
         * pipeline); a batch never straddles a tick's end. */
        size_t n = 0;
        while (n < batch && (e = evl_peek(&events)) && e->kind == EVL_ARRIVAL) {
            reqs[n++] = e->req;
            evl_pop(&events, NULL);
            run_schedule_next(g, &events);
        }
        if (b->decide(b->ctx, reqs, n, dec, latency, err, errlen) != 0) { rc = -1; break; }
        for (size_t i = 0; i < n; i++) {
            pass_decided(p, &reqs[i], &dec[i]);
            if (latency[i] >= 0) pass_latency(p, latency[i]);
        }
        uint64_t before = decided;
        decided += n;
        if (before >> 12 != decided >> 12) {
            if (opt->progress) opt->progress(opt->progress_ctx, (double)reqs[n - 1].t_us / (double)s->duration_us);
            if (opt->stop && opt->stop(opt->progress_ctx)) {
                snprintf(err, errlen, "%s: interrupted", l->name);
                rc = -1;
            }
        }
    }
    if (rc == 0 && gen_stopped(g)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        rc = -1;
    }
    int64_t ended = clk_mono_ns();
    run_backend_report said;
    b->end(b->ctx, &said, out->note, sizeof out->note);
    if (rc == 0) {
        pass_finish(p, (double)(ended - started) / 1e9, 1, &said);
    } else {
        pass_abort(p);
    }
    evl_free(&events);
    free(reqs);
    free(dec);
    free(latency);
    return rc;
fail:
    pass_abort(p);
    evl_free(&events);
    free(reqs);
    free(dec);
    free(latency);
    return -1;
}
