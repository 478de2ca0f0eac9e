/* The oracle on hand-made decision streams: each promise catches one
 * request too many and passes a legal stream; on thousands of random
 * streams the exact limiters break nothing and match the reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sim/oracle.h"
#include "../sim/rng.h"
#include "support.h"

#define S 1000000LL

static scn_limiter limiter(const char *algo, const char *params)
{
    scn_limiter l;
    memset(&l, 0, sizeof l);
    tsup_limiter t = tsup_make(algo, params);   /* checks the parameters */
    tsup_free(&t);
    l.ops = lim_find(algo);
    l.entry = &l.ops->entry;
    lim_default_values(l.entry, l.values);
    char buf[128], why[300];
    snprintf(buf, sizeof buf, "%s", params);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        int i = lim_param_index(l.entry, tok);
        cr_assert_eq(lim_param_parse(&l.entry->params[i], eq + 1, &l.values[i], &l.rates[i], why, sizeof why), 0, "%s",
                     why);
    }
    snprintf(l.name, sizeof l.name, "%s", algo);
    return l;
}

typedef struct {
    int64_t t_us;
    uint32_t key, cost;
    int allowed;
    int64_t delay_us;
} event;

static orc_report check(const char *algo, const char *params, const event *e, size_t n)
{
    scn_limiter l = limiter(algo, params);
    orc_check *c = orc_check_create(&l, 4);
    cr_assert(c);
    for (size_t i = 0; i < n; i++) {
        lim_decision d = { e[i].allowed, 0, 0, e[i].delay_us };
        orc_check_add(c, e[i].key, e[i].t_us, e[i].cost, &d);
    }
    orc_report r;
    orc_check_report(c, &r);
    orc_check_destroy(c);
    return r;
}

Test(oracle, a_burst_one_over_the_bucket_is_caught_and_named)
{
    event five[6] = { { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 },
                      { 500000, 0, 1, 1, 0 } };
    orc_report r = check("token_bucket", "rate=1 capacity=5", five, 5);
    cr_assert_eq(r.violations, 0, "5 at once fit a bucket of 5");
    cr_assert_eq(r.wrongly_allowed, 0);
    r = check("token_bucket", "rate=1 capacity=5", five, 6);
    cr_assert_eq(r.violations, 1, "the sixth, half a second later, is half a request too many");
    cr_assert_float_eq(r.worst_excess, 0.5, 1e-9);
    cr_assert(r.worst_from_us == 0 && r.worst_to_us == 500000, "the pair: %lld .. %lld", (long long)r.worst_from_us,
              (long long)r.worst_to_us);
    cr_assert_eq(r.wrongly_allowed, 1, "the greedy reference would have refused it");
    cr_assert_eq(r.over_admitted, 1, "the whole-run bound, floor(5 + 0.5), catches it too");
    five[5].t_us = S;
    cr_assert_eq(check("gcra", "rate=1 burst=5", five, 6).violations, 0, "one second later one more fits");
}

Test(oracle, a_meter_passes_capacity_plus_one_and_not_one_more)
{
    event e[5] = { { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 } };
    cr_assert_eq(check("leaky_bucket", "rate=1 capacity=3 mode=meter", e, 4).violations, 0);
    orc_report r = check("leaky_bucket", "rate=1 capacity=3 mode=meter", e, 5);
    cr_assert_eq(r.violations, 1);
    cr_assert_float_eq(r.worst_excess, 1.0, 1e-9);
}

Test(oracle, one_request_too_many_at_a_window_edge_is_caught)
{
    event edge[7] = { { S - 3, 0, 1, 1, 0 }, { S - 2, 0, 1, 1, 0 }, { S - 1, 0, 1, 1, 0 }, { S, 0, 1, 1, 0 },
                      { S + 1, 0, 1, 1, 0 }, { S + 2, 0, 1, 1, 0 }, { S + 3, 0, 1, 1, 0 } };
    orc_report r = check("fixed_window", "limit=3 window_ms=1000", edge, 6);
    cr_assert_eq(r.violations, 0, "3 before the edge and 3 after: a fixed window's promise holds");
    cr_assert_eq(r.max_window_cost, 6, "but 6 pass within 6 us: twice the limit in a sliding window");
    cr_assert_eq(r.wrongly_allowed, 3, "the exact log would have refused the 3 after the edge");
    r = check("fixed_window", "limit=3 window_ms=1000", edge, 7);
    cr_assert_eq(r.violations, 1, "a fourth in the second window");
    cr_assert(r.worst_from_us == S && r.worst_to_us == S + 3, "the window and the request");
    cr_assert_eq(check("sliding_window_log", "limit=3 window_ms=1000", edge, 3).violations, 0);
    r = check("sliding_window_log", "limit=3 window_ms=1000", edge, 4);
    cr_assert_eq(r.violations, 1, "4 within (t - 1 s, t]");
    cr_assert(r.worst_from_us == S - 3 && r.worst_to_us == S);
    event later[4] = { { 0, 0, 1, 1, 0 }, { 1, 0, 1, 1, 0 }, { 2, 0, 1, 1, 0 }, { S, 0, 1, 1, 0 } };
    cr_assert_eq(check("sliding_window_log", "limit=3 window_ms=1000", later, 4).violations, 0,
                 "at t = 1 s the request at 0 has left the window");
}

Test(oracle, a_queue_departure_too_early_or_too_late_is_caught)
{
    /* rate 10/s: departures 100 ms apart; capacity 5: at most 500 ms of waiting */
    event ok[3] = { { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 100000 }, { 0, 0, 1, 1, 200000 } };
    cr_assert_eq(check("leaky_bucket", "rate=10 capacity=5", ok, 3).violations, 0);
    event early[3] = { { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 100000 }, { 0, 0, 1, 1, 150000 } };
    orc_report r = check("leaky_bucket", "rate=10 capacity=5", early, 3);
    cr_assert_eq(r.violations, 1, "released 50 ms after the one before");
    cr_assert(r.worst_from_us == 100000 && r.worst_to_us == 150000);
    event out_of_order[2] = { { 0, 0, 1, 1, 300000 }, { 10000, 0, 1, 1, 0 } };
    cr_assert_eq(check("leaky_bucket", "rate=10 capacity=5", out_of_order, 2).violations, 1, "FIFO broken");
    event too_long[1] = { { 0, 0, 1, 1, 600000 } };
    cr_assert_eq(check("leaky_bucket", "rate=10 capacity=5", too_long, 1).violations, 1, "waited past capacity/rate");
}

Test(oracle, a_lost_request_is_a_violation)
{
    event e[3] = { { 0, 0, 1, 1, 0 }, { 1, 0, 1, 0, 0 }, { 2, 0, 1, 1, 0 } };
    orc_report r = check("token_bucket", "rate=1 capacity=5", e, 3);
    cr_assert_eq(orc_conservation(&r, 3, 2, 1), 0, "what the metrics counted is what was decided");
    cr_assert_eq(orc_conservation(&r, 4, 2, 1), 2, "one request offered but never decided");
    cr_assert_eq(r.violations, 2);
}

/* ---- property: exact limiters on random streams ---------------------------------- */

/* An exact limiter's own decisions: the oracle must find no violation and
 * no over-admission in them; the report, for further checks. */
static orc_report expect_no_alarm(const orc_check *chk, const char *algo, const char *params, uint64_t seed)
{
    orc_report rep;
    orc_check_report(chk, &rep);
    cr_assert_eq(rep.violations, 0, "%s %s seed %llu: %llu violations, worst %.3f between %lld and %lld", algo, params,
                 (unsigned long long)seed, (unsigned long long)rep.violations, rep.worst_excess,
                 (long long)rep.worst_from_us, (long long)rep.worst_to_us);
    cr_assert_eq(rep.over_admitted, 0, "%s %s seed %llu: %lld over-admitted", algo, params, (unsigned long long)seed,
                 (long long)rep.over_admitted);
    return rep;
}

Test(oracle, exact_limiters_break_nothing_on_thousands_of_random_streams, .timeout = 120)
{
    static const struct { const char *algo, *params; } cases[] = {
        { "token_bucket", "rate=3 capacity=4" },          { "token_bucket", "rate=0.5 capacity=2" },
        { "gcra", "rate=7 burst=3" },                     { "gcra", "rate=1000 burst=50" },
        { "leaky_bucket", "rate=5 capacity=3 mode=meter" }, { "leaky_bucket", "rate=5 capacity=3" },
        { "leaky_bucket", "rate=3 capacity=0" },          { "sliding_window_log", "limit=4 window_ms=250" },
        { "fixed_window", "limit=4 window_ms=250" },
    };
    uint64_t streams = 0, decisions = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scn_limiter l = limiter(cases[c].algo, cases[c].params);
        tsup_limiter alg[3];
        for (uint64_t seed = 1; seed <= 300; seed++, streams++) {
            for (int k = 0; k < 3; k++) alg[k] = tsup_make(cases[c].algo, cases[c].params);
            orc_check *chk = orc_check_create(&l, 3);
            rng r;
            rng_seed(&r, seed, c);
            int64_t t = (int64_t)rng_below(&r, 1000000);
            for (int i = 0; i < 200; i++, decisions++) {
                uint64_t gap = rng_below(&r, 100);
                t += gap < 50 ? 0 : gap < 95 ? (int64_t)rng_below(&r, 200000) : (int64_t)rng_below(&r, 5000000000LL);
                uint32_t key = (uint32_t)rng_below(&r, 3), cost = rng_below(&r, 5) == 0 ? 2 + (uint32_t)rng_below(&r, 3) : 1;
                lim_decision d = tsup_at(&alg[key], t, cost);
                orc_check_add(chk, key, t, cost, &d);
            }
            orc_report rep = expect_no_alarm(chk, cases[c].algo, cases[c].params, seed);
            if (strcmp(cases[c].algo, "fixed_window") != 0 && rep.wrongly_allowed >= 0)
                cr_assert(rep.wrongly_allowed == 0 && rep.wrongly_blocked == 0,
                          "%s %s seed %llu: decided otherwise than the reference (%lld allowed, %lld blocked)",
                          cases[c].algo, cases[c].params, (unsigned long long)seed, (long long)rep.wrongly_allowed,
                          (long long)rep.wrongly_blocked);
            orc_check_destroy(chk);
            for (int k = 0; k < 3; k++) tsup_free(&alg[k]);
        }
    }
    cr_log_info("%llu random streams, %llu decisions", (unsigned long long)streams, (unsigned long long)decisions);
}

Test(oracle, a_leaky_bucket_whose_first_request_costs_more_than_one_is_not_over_admitted)
{
    /* the first request of a key passes whatever its cost (excess starts
     * at 0), then capacity more back-to-back: 5 + 3 in all */
    static const event meter[] = { { 0, 0, 5, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 } };
    orc_report r = check("leaky_bucket", "rate=1 capacity=3 mode=meter", meter, 4);
    cr_assert_eq(r.violations, 0);
    cr_assert_eq(r.over_admitted, 0, "capacity + the first's cost, not capacity + 1: %lld", (long long)r.over_admitted);
    /* and one more is over */
    static const event over[] = { { 0, 0, 5, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 },
                                  { 0, 0, 1, 1, 0 } };
    r = check("leaky_bucket", "rate=1 capacity=3 mode=meter", over, 5);
    cr_assert_eq(r.over_admitted, 1);
}

Test(oracle, exact_limiters_with_random_costs_raise_no_false_alarm, .timeout = 300)
{
    /* Streams that fill each limiter: back-to-back runs of random costs
     * (the first request of a key among them), then gaps. Every exact
     * limiter's own decisions must give no violation and no
     * over-admission: anything else is the oracle's error. */
    static const struct { const char *algo, *params; uint32_t max_cost; } cases[] = {
        { "token_bucket", "rate=3 capacity=8", 8 },          { "token_bucket", "rate=0.5 capacity=5", 5 },
        { "gcra", "rate=7 burst=6", 6 },                     { "gcra", "rate=1000 burst=40", 40 },
        { "leaky_bucket", "rate=5 capacity=4 mode=meter", 9 }, { "leaky_bucket", "rate=0.5 capacity=2 mode=meter", 6 },
        { "leaky_bucket", "rate=5 capacity=6", 4 },          { "leaky_bucket", "rate=3 capacity=0", 3 },
        { "sliding_window_log", "limit=9 window_ms=250", 9 }, { "fixed_window", "limit=9 window_ms=250", 9 },
    };   /* naive_token_bucket refills by whole seconds: it does break the bound, by design */
    uint64_t decisions = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scn_limiter l = limiter(cases[c].algo, cases[c].params);
        for (uint64_t seed = 1; seed <= 200; seed++) {
            tsup_limiter alg[3];
            for (int k = 0; k < 3; k++) alg[k] = tsup_make(cases[c].algo, cases[c].params);
            orc_check *chk = orc_check_create(&l, 3);
            rng r;
            rng_seed(&r, seed, 100 + c);
            int64_t t = (int64_t)rng_below(&r, 3000000);
            for (int i = 0; i < 400; i++, decisions++) {
                uint64_t gap = rng_below(&r, 100);
                t += gap < 70 ? 0 : gap < 97 ? (int64_t)rng_below(&r, 300000) : (int64_t)rng_below(&r, 4000000);
                uint32_t key = (uint32_t)rng_below(&r, 3);
                uint32_t cost = 1 + (uint32_t)rng_below(&r, cases[c].max_cost);
                lim_decision d = tsup_at(&alg[key], t, cost);
                orc_check_add(chk, key, t, cost, &d);
            }
            expect_no_alarm(chk, cases[c].algo, cases[c].params, seed);
            orc_check_destroy(chk);
            for (int k = 0; k < 3; k++) tsup_free(&alg[k]);
        }
    }
    cr_log_info("%llu decisions with random costs", (unsigned long long)decisions);
}

/* ---- ratelab check on saved decision logs ---------------------------------------------- */

static int check_log(const char *name, char *out, size_t len)
{
    char cmd[512];
    const char *bin = getenv("RATELAB_BIN");
    snprintf(cmd, sizeof cmd, "%s check tests/fixtures/logs/%s 1>&2", bin ? bin : "./ratelab", name);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return tsup_exec(argv, out, len);
}

Test(oracle, check_catches_hand_made_violating_logs_and_passes_a_legal_one)
{
    char out[2048];
    cr_assert_eq(check_log("bucket_legal.csv", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "api: 6 decisions, 5 admitted, 0 violations"), "%s", out);
    cr_assert_eq(check_log("bucket_one_over.csv", out, sizeof out), 1);
    cr_assert(strstr(out, "1 violations (worst: key alice, 0.500 over between t=0.000000 s and t=0.500000 s)"), "%s", out);
    cr_assert_eq(check_log("window_edge.csv", out, sizeof out), 1);
    cr_assert(strstr(out, "worst: key k, 1.000 over between t=0.999999 s and t=1.000001 s"), "%s", out);
    cr_assert_eq(check_log("queue_early.csv", out, sizeof out), 1);
    cr_assert(strstr(out, "worst: key global, 0.500 over between t=0.100000 s and t=0.150000 s"), "%s", out);
    cr_assert_eq(check_log("malformed.csv", out, sizeof out), 2);
    cr_assert(strstr(out, "malformed.csv:6: expected t_us (|t| < 2^53),key,cost (1 to 4000000)"), "%s", out);
    cr_assert_eq(check_log("bucket_legal_v2.csv", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "api: 6 decisions, 5 admitted, 0 violations"), "v2 reads as v1 does: %s", out);
    cr_assert_eq(check_log("malformed_v2.csv", out, sizeof out), 2);
    cr_assert(strstr(out, "malformed_v2.csv:6: expected t_us (|t| < 2^53),key,cost (1 to 4000000),allowed (0 or 1),"
                          "delay_us (0 to 2^53),remaining (an integer),retry_after_us"), "%s", out);
}

Test(oracle, check_refuses_a_pipe_it_cannot_read_twice_never_saying_0_violations)
{
    char cmd[2400], out[2048];
    const char *bin = getenv("RATELAB_BIN");
    /* the log that has 1 violation as a file, given as a pipe */
    snprintf(cmd, sizeof cmd, "cat tests/fixtures/logs/bucket_one_over.csv | %s check /dev/stdin 1>&2",
             bin ? bin : "./ratelab");
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    cr_assert_eq(tsup_exec(argv, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "/dev/stdin: not a regular file (a pipe or a FIFO cannot be read twice)"), "%s", out);
    cr_assert_null(strstr(out, "0 violations"), "%s", out);
    /* a named FIFO, written by a writer that never ends on its own */
    char *dir = tsup_tempdir(), fifo[600];
    snprintf(fifo, sizeof fifo, "%s/log.fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(cmd, sizeof cmd, "(cat tests/fixtures/logs/bucket_one_over.csv; exec sleep 30) > %s & "
                              "%s check %s 1>&2; rc=$?; kill $! 2>/dev/null; exit $rc", fifo, bin ? bin : "./ratelab",
             fifo);
    cr_assert_eq(tsup_exec(argv, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "log.fifo: not a regular file"), "%s", out);
    tsup_rmtree(dir);
    free(dir);
}

/* Hourly windows (and daily: a window is at most a day) are checked
 * exactly: ages of 42 bits, not 31. */
Test(oracle, check_catches_an_hourly_window_over_its_limit)
{
    char out[2048];
    cr_assert_eq(check_log("window_hour_log.csv", out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "hourly: 4 decisions, 4 admitted, 3 violations (worst: key k, 2.000 over between t=0.000000 s "
                          "and t=3599.000000 s)"), "%s", out);
    cr_assert_eq(check_log("window_hour_fixed.csv", out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "2 violations (worst: key k, 2.000 over"), "%s", out);
    cr_assert(strstr(out, "vs the reference: 2 wrongly allowed"), "%s", out);
}

/* Window logs beyond the oracle's memory: the sliding log's promise is
 * "not checked" with the reason and exit 3, never 0 violations; the fixed
 * window's own promise needs no log and is still checked. */
Test(oracle, check_says_not_checked_and_why_where_the_window_logs_do_not_fit)
{
    char *dir = tsup_tempdir(), path[600], cmd[1400], out[4096];
    static const char *const algos[] = { "sliding_window_log", "fixed_window" };
    for (int a = 0; a < 2; a++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, algos[a]);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        /* 24 MB of log per key at limit 1000000: 30 keys pass the 512 MiB */
        fprintf(f, "# ratelab decisions v2\n# limiter big algorithm %s scope key backend memory\n"
                   "# params limit=1000000 window_ms=1000\nt_us,key,cost,allowed,delay_us,remaining,retry_after_us\n",
                algos[a]);
        for (int k = 0; k < 30; k++) fprintf(f, "%d,k%d,1,1,0,0,0\n", k, k);
        fprintf(f, "40,k0,1000000,1,0,0,0\n");   /* over its fixed window's limit */
        fclose(f);
        const char *bin = getenv("RATELAB_BIN");
        snprintf(cmd, sizeof cmd, "%s check %s 1>&2", bin ? bin : "./ratelab", path);
        const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        int rc = tsup_exec(argv, out, sizeof out);
        if (a == 0) {
            cr_assert_eq(rc, 3, "%s", out);
            cr_assert(strstr(out, "big: 31 decisions, 31 admitted, violations not checked (the exact window logs would "
                                  "take 687 MiB (30 keys x 3000002 entries) and the oracle may use 512 MiB)"), "%s", out);
            cr_assert_null(strstr(out, "0 violations"), "%s", out);
        } else {
            cr_assert_eq(rc, 1, "%s", out);
            cr_assert(strstr(out, "1 violations (worst: key k0, 1.000 over"), "%s", out);
            cr_assert(strstr(out, "no exact reference (the exact window logs would take"), "%s", out);
        }
    }
    tsup_rmtree(dir);
    free(dir);
}

Test(oracle, check_holds_hostile_logs_to_the_schema_with_file_and_line)
{
    static const struct { const char *file, *message; } cases[] = {
        { "hostile_window_zero.csv", "hostile_window_zero.csv:3: params: window_ms: must be > 0, got 0" },
        { "hostile_rate_zero.csv", "hostile_rate_zero.csv:3: params: rate: must be > 0, got 0" },
        { "hostile_capacity_huge.csv", "hostile_capacity_huge.csv:3: params: capacity: must be <= 4000000, got 1e+30" },
        { "hostile_missing_rate.csv", "hostile_missing_rate.csv:3: params: rate: required" },
        { "hostile_rate_nan.csv", "hostile_rate_nan.csv:3: params: rate: 'nan' is not a rate" },
        { "hostile_delay_overflow.csv", "hostile_delay_overflow.csv:5: expected t_us (|t| < 2^53)" },
        { "hostile_queue.csv", "hostile_queue.csv:2: queue is not a rate limiter" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[2048];
        cr_assert_eq(check_log(cases[i].file, out, sizeof out), 2, "%s: %s", cases[i].file, out);
        cr_assert(strstr(out, cases[i].message), "%s: %s", cases[i].file, out);
        cr_assert_null(strstr(out, "violations"), "nothing judged: %s", out);
    }
}

Test(oracle, a_run_logs_its_decisions_and_check_agrees_with_the_summary, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[512], logs[512], err[4096];
    snprintf(out, sizeof out, "%s/burst", dir);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    const char *argv[] = { "run", "scenarios/burst.json", "--backend", "memory,redis", "--log-decisions", logs,
                           "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    char cmd[1024];
    const char *bin = getenv("RATELAB_BIN");
    snprintf(cmd, sizeof cmd, "%s check %s/*.csv 1>&2", bin ? bin : "./ratelab", logs);
    const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
    char report[16384];
    cr_assert_eq(tsup_exec(sh, report, sizeof report), 0, "%s", report);
    cr_assert(strstr(report, "token_bucket.redis.csv: token_bucket: 13720 decisions, 7233 admitted, 0 violations"), "%s",
              report);
    cr_assert(strstr(report, "sliding_counter.memory.csv: sliding_counter: 13720 decisions, 6432 admitted, 0 violations, "
                             "vs the reference: 507 wrongly allowed, 510 wrongly blocked"), "%s", report);
    /* a log says what the limiter said: remaining and Retry-After, the same on both backends */
    char path[700];
    for (int b = 0; b < 2; b++) {
        snprintf(path, sizeof path, "%s/token_bucket.%s.csv", logs, b ? "redis" : "memory");
        char *log = tsup_slurp(path);
        cr_assert(log && strstr(log, "# ratelab decisions v2\n"), "%s", path);
        cr_assert(strstr(log, "\nt_us,key,cost,allowed,delay_us,remaining,retry_after_us\n"), "%s", path);
        cr_assert(strstr(log, "\n21,api:1,1,1,0,399,0\n"), "the first request leaves 399 of 400: %s", path);
        /* the first refusal of the burst at 20 s: the bucket is empty and refills one token per 5 ms */
        cr_assert(strstr(log, "\n20213759,api:1,1,0,0,0,39\n"), "a refusal's Retry-After: %s", path);
        free(log);
    }
    tsup_rmtree(dir);
    free(dir);
}
