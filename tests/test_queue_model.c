/* The reliable queue's memory model against cases worked by hand: batch
 * drain per interval, retry then dead letter, a full queue rejecting or
 * blocking, and conservation with random failures. */
#include <criterion/criterion.h>
#include <math.h>

#include "../sim/queue_model.h"

static const scn_downstream fixed_10ms = { .present = 1, .capacity_rps = 1e6, .concurrency = 1,
                                           .dist = SCN_SERVICE_FIXED, .mean_ms = 10 };

static qm *model(uint32_t batch, int64_t interval_ms, uint32_t attempts, uint64_t max_queue, int block,
                 double failure_prob, size_t ticks)
{
    qm_config c = { batch, interval_ms * 1000, attempts, max_queue, block };
    qm *m = qm_create(&c, &fixed_10ms, failure_prob, 7, 100000, 50000, ticks);
    cr_assert(m);
    return m;
}

/* 10 messages at t = 0, 3 per run every 100 ms, 10 ms each: runs at 0,
 * 100, 200 and 300 ms take 3, 3, 3 and 1; successes at 10, 110, 210 and
 * 310 ms. */
Test(queue_model, drains_a_batch_per_interval)
{
    qm *m = model(3, 100, 3, 0, 0, 0, 10);
    for (int i = 0; i < 10; i++) cr_assert_eq(qm_arrive(m, 0), 0);
    qm_report r;
    qm_finish(m, &r);
    cr_assert_eq(r.produced, 10);
    cr_assert_eq(r.succeeded, 10);
    cr_assert_eq(r.deliveries, 10);
    cr_assert_eq(r.retries + r.dead_lettered + r.rejected + r.duplicates, 0);
    cr_assert_eq(r.lost, 0);
    cr_assert_eq(r.drained_at_us, 310000);
    cr_assert_eq(r.e2e_max_us, 310000, "the last message waited three intervals plus its service");
    cr_assert_eq(r.max_queue_len, 10);
    cr_assert_eq(r.max_processing, 3);
    cr_assert_eq(r.peak_delivered_rps, 10, "all ten within the first second");
    const qm_tick *s = qm_series(m);
    /* ticks of 50 ms, each sampled at its end, before that instant's events */
    uint64_t queued[] = { 7, 7, 4, 4, 1, 1, 0, 0, 0, 0 };
    uint64_t delivered[] = { 3, 0, 3, 0, 3, 0, 1, 0, 0, 0 };
    uint64_t succeeded[] = { 3, 0, 3, 0, 3, 0, 1, 0, 0, 0 };
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(s[k].queued, queued[k], "tick %d queued", k);
        cr_assert_eq(s[k].delivered, delivered[k], "tick %d delivered", k);
        cr_assert_eq(s[k].succeeded, succeeded[k], "tick %d succeeded", k);
        cr_assert_eq(s[k].processing, 0, "tick %d: each delivery is done 10 ms after its run", k);
    }
    cr_assert_eq(s[0].arrived, 10);
    qm_destroy(m);
}

/* A poison message (every delivery fails), 3 attempts, one per 100 ms:
 * delivered at 0, 100 and 200 ms, failing at 10 and 110 (requeued) and at
 * 210 ms, the third delivery, into the dead letters. */
Test(queue_model, retries_then_dead_letters_after_exactly_max_attempts)
{
    qm *m = model(1, 100, 3, 0, 0, 1.0, 10);
    cr_assert_eq(qm_arrive(m, 0), 0);
    qm_report r;
    qm_finish(m, &r);
    cr_assert_eq(r.deliveries, 3);
    cr_assert_eq(r.retries, 2);
    cr_assert_eq(r.dead_lettered, 1);
    cr_assert_eq(r.succeeded, 0);
    cr_assert_eq(r.lost, 0);
    cr_assert_eq(r.drained_at_us, 210000);
    const qm_tick *s = qm_series(m);
    cr_assert_eq(s[4].dead_lettered, 1, "in the tick of 200-250 ms");
    cr_assert_eq(s[1].queued, 1, "requeued at 10 ms, waiting at 100 ms");
    qm_destroy(m);
}

/* max_queue 5 and 10 arrivals at t = 0 before the first run: five are
 * rejected; the run at 0 takes three of the five. */
Test(queue_model, a_full_queue_rejects)
{
    qm *m = model(3, 100, 1, 5, 0, 0, 10);
    for (int i = 0; i < 10; i++) qm_arrive(m, 0);
    qm_report r;
    qm_finish(m, &r);
    cr_assert_eq(r.rejected, 5);
    cr_assert_eq(r.succeeded, 5);
    cr_assert_eq(r.lost, 0);
    cr_assert_eq(r.drained_at_us, 110000, "runs at 0 and 100 ms");
    cr_assert_eq(qm_series(m)[0].rejected, 5);
    qm_destroy(m);
}

/* The same with `block`: producers wait in line. The run at 0 takes m0-m2
 * and lets m5-m7 in; at 100 it takes m3-m5 and lets m8 and m9 in (they
 * waited 100 ms for room); at 200 m6-m8; at 300 m9, done at 310 ms. */
Test(queue_model, a_full_queue_blocks_the_producer)
{
    qm *m = model(3, 100, 1, 5, 1, 0, 10);
    for (int i = 0; i < 10; i++) qm_arrive(m, 0);
    qm_report r;
    qm_finish(m, &r);
    cr_assert_eq(r.rejected, 0);
    cr_assert_eq(r.succeeded, 10);
    cr_assert_eq(r.lost, 0);
    cr_assert_eq(r.drained_at_us, 310000);
    cr_assert_eq(r.e2e_max_us, 310000);
    cr_assert_eq(r.block_max_us, 100000, "m8 and m9 waited for the run at 100 ms");
    cr_assert_eq(r.max_queue_len, 5);
    const qm_tick *s = qm_series(m);
    cr_assert_eq(s[0].blocked, 2);
    cr_assert_eq(s[0].queued, 5);
    cr_assert_eq(s[2].blocked, 0);
    qm_destroy(m);
}

/* Random failures: every message ends exactly once, each delivery ends in
 * success, a requeue or a dead letter, and with p = 0.5 and 3 attempts
 * about 1/8 of the messages die (binomial: 10000 messages, sd 33). */
Test(queue_model, conservation_under_random_failures)
{
    qm *m = model(50, 10, 3, 0, 0, 0.5, 100);
    for (int i = 0; i < 10000; i++) cr_assert_eq(qm_arrive(m, (int64_t)i * 100), 0);
    qm_report r;
    qm_finish(m, &r);
    cr_assert_eq(r.produced, 10000);
    cr_assert_eq(r.succeeded + r.dead_lettered, 10000);
    cr_assert_eq(r.deliveries, r.succeeded + r.dead_lettered + r.retries);
    cr_assert_eq(r.lost, 0);
    cr_assert_eq(r.still_queued, 0);
    cr_assert(fabs((double)r.dead_lettered - 1250) < 200, "dead letters %llu, expected about 1250",
              (unsigned long long)r.dead_lettered);
    cr_assert_eq(r.peak_offered_rps, 10000, "one arrival per 100 us");
    qm_destroy(m);
}

Test(queue_model, more_arrivals_than_planned_are_refused)
{
    qm_config c = { 1, 1000, 1, 0, 0 };
    qm *m = qm_create(&c, &fixed_10ms, 0, 1, 2, 1000, 1);
    cr_assert(m);
    cr_assert_eq(qm_arrive(m, 0), 0);
    cr_assert_eq(qm_arrive(m, 1), 0);
    cr_assert_eq(qm_arrive(m, 2), -1);
    qm_destroy(m);
    qm_config bad = { 0, 1000, 1, 0, 0 };
    cr_assert_null(qm_create(&bad, &fixed_10ms, 0, 1, 2, 1000, 1), "a batch of 0 never drains");
}

/* ---- the queue as a scenario entry (queue_run.h) --------------------------------------- */

#include "../sim/generator.h"
#include "../sim/queue_run.h"

/* chaos_small in virtual time: the burst of 1200/s is accepted whole and
 * delivered at the drain rate (60 per 100 ms), with the delay paid by the
 * messages that waited; every message is accounted for. */
Test(queue_run, a_queue_entry_shaves_the_peak_and_pays_in_delay)
{
    scn_scenario s;
    char err[512];
    cr_assert_eq(scn_load("tests/fixtures/chaos_small.json", &(scn_options){ 0 }, &s, err, sizeof err), 0, "%s", err);
    gen *g = gen_create(&s);
    run_result r;
    cr_assert_eq(qrun_memory(&s, g, &s.limiters[0], &r, err, sizeof err), 0, "%s", err);
    cr_assert(r.queue);
    const qm_report *q = &r.queue->report;
    cr_assert_eq(r.summary.offered, q->produced);
    cr_assert_eq(r.summary.admitted, r.summary.offered);   /* no max_queue: nothing refused */
    cr_assert_eq(r.summary.dropped, 0);
    cr_assert_gt(r.summary.peak_offered_rps, 1000);
    cr_assert_leq(r.summary.peak_admitted_rps, 600, "delivered %llu/s, above 60 per 100 ms",
                  (unsigned long long)r.summary.peak_admitted_rps);
    cr_assert_gt(r.summary.delay_p99_us, 500000, "the burst's backlog must wait");
    cr_assert_eq(q->lost, 0);
    cr_assert_eq(q->succeeded + q->dead_lettered, q->produced);
    cr_assert_eq(q->deliveries, q->succeeded + q->dead_lettered + q->retries);
    cr_assert_gt(q->retries, 0, "5%% of deliveries fail");
    cr_assert_eq(r.oracle.violations, 0);
    /* the level series is the queue's length: it rises in the burst and
     * is nearly drained by the end (60 per tick go, 20 per tick come) */
    uint64_t peak = 0;
    for (size_t t = 0; t < r.series.n_ticks; t++)
        if ((uint64_t)r.series.level[t] > peak) peak = (uint64_t)r.series.level[t];
    cr_assert_gt(peak, 300);
    cr_assert_lt((uint64_t)r.series.level[r.series.n_ticks - 1], peak / 10);
    for (size_t t = 0; t < r.series.n_ticks; t++) cr_assert_leq(r.series.released[t], 60);
    run_result_free(&r);
    gen_destroy(g);
    scn_free(&s);
}
