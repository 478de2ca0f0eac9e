/* The downstream model on hand-computed cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../sim/backend_memory.h"
#include "../sim/downstream.h"
#include "../sim/runner.h"
#include "support.h"

static run_result run(const char *path, const char *const *sets, size_t n_sets)
{
    static scn_scenario s;   /* the result points into it */
    return tsup_run_memory(path, sets, n_sets, 0, &s);
}

/* One server, 20 ms per request, a request every 10 ms: request k arrives
 * at 10k ms, starts at 10 + 20(k - 1) ms and so waits 10k - 10 ms. The
 * 100th would arrive at 1 s exactly, the phase's end: 99 arrive (before
 * the uniform arrivals were exact, each came 1 us early and the 100th got
 * in). The last waits 980 ms and ends at 2000 ms: all 99 finish. */
Test(downstream, one_server_twice_too_slow_queues_linearly)
{
    run_result r = run("tests/fixtures/good/downstream.json", NULL, 0);
    cr_assert(r.has_downstream);
    cr_assert_eq(r.summary.admitted, 99);
    cr_assert_eq(r.downstream.served, 99);
    cr_assert_eq(r.downstream.completed, 99);
    cr_assert_eq(r.downstream.wait_max_us, 980000);
    cr_assert_eq(r.downstream.e2e_max_us, 1000000);
    cr_assert_leq(fabs((double)r.downstream.wait_p50_us - 490000) / 490000, 1.0 / 128, "median wait %lld",
                  (long long)r.downstream.wait_p50_us);
    cr_assert_eq(r.overload_s, 1, "100 released in the first second, capacity 50");
    run_result_free(&r);
}

/* 5 ms of service for a request every 10 ms: nobody waits (99 arrive:
 * the 100th would at the phase's end). */
Test(downstream, a_server_fast_enough_never_queues)
{
    run_result r = run("tests/fixtures/good/downstream_fast.json", NULL, 0);
    cr_assert_eq(r.downstream.wait_max_us, 0);
    cr_assert_eq(r.downstream.e2e_p99_us, 5000);
    cr_assert_eq(r.downstream.completed, 99);
    run_result_free(&r);
}

Test(downstream, a_lognormal_service_has_the_p99_it_was_given)
{
    scn_downstream d = { 1, 1e9, 100000, SCN_SERVICE_LOGNORMAL, 8, 40, 0, 0 };
    dsm *m = dsm_create(&d, 7, INT64_MAX, 16);
    for (int i = 0; i < 200000; i++) dsm_admit(m, (int64_t)i * 1000, 0);
    dsm_report r;
    dsm_finish(m, &r);
    dsm_destroy(m);
    cr_assert_eq(r.wait_max_us, 0, "enough servers: no waiting");
    cr_assert_leq(fabs((double)r.e2e_p99_us - 40000) / 40000, 0.05, "p99 %lld us", (long long)r.e2e_p99_us);
}

Test(downstream, overload_seconds_count_whole_seconds_above_capacity)
{
    scn_downstream d = { 1, 100, 1, SCN_SERVICE_FIXED, 1, 0, 0, 0 };
    uint64_t per_second[5] = { 50, 100, 101, 500, 0 };
    cr_assert_eq(dsm_overload_seconds(&d, per_second, 5), 2);
}

/* A call waited for gets its end back: at once when it is served at once,
 * else once the loop has reached its release. One server, 100 ms each:
 * A (t 0, delayed 50 ms) is released after B (t 10 ms, not delayed), so
 * B runs 10-110 ms and A 110-210 ms; C, released at 320 ms, is not known
 * at 310 ms and ends at 420 ms. */
Test(downstream, a_watched_call_learns_when_it_ends)
{
    scn_downstream d = { .present = 1, .capacity_rps = 100, .concurrency = 1, .dist = SCN_SERVICE_FIXED,
                         .mean_ms = 100, .timeout_us = 1000000 };
    dsm *m = dsm_create(&d, 1, INT64_MAX, 16);
    cr_assert(m);
    cr_assert_eq(dsm_reserve_calls(m, 2), 0);
    uint32_t a, c;
    cr_assert_eq(dsm_admit_watched(m, 0, 50000, &a), DSM_LATER);
    uint32_t unused;
    cr_assert_eq(dsm_admit_watched(m, 10000, 0, &unused), 110000, "B is served at once");
    cr_assert_eq(dsm_call_end(m, a, 60000), 210000, "A waits for B");
    cr_assert_eq(dsm_admit_watched(m, 300000, 20000, &c), DSM_LATER);
    cr_assert_eq(dsm_call_end(m, c, 310000), DSM_LATER, "not released yet");
    cr_assert_eq(dsm_call_end(m, c, 320000), 420000);
    /* tickets come back: many more calls than the room reserved, two at a time */
    for (int i = 0; i < 1000; i++) {
        int64_t t = 1000000 + (int64_t)i * 200000;
        cr_assert_eq(dsm_admit_watched(m, t, 1000, &c), DSM_LATER);
        cr_assert_eq(dsm_call_end(m, c, t + 1000), t + 101000);
    }
    dsm_report r;
    dsm_finish(m, &r);
    cr_assert_eq(r.served, 1003);
    dsm_destroy(m);
}
