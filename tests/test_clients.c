/* Clients who come back: backoff, jitter, Retry-After, giving up, the
 * budget (clients.h), and the retries of whole runs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/backend_memory.h"
#include "../sim/clients.h"
#include "../sim/redis_server.h"
#include "../sim/runner.h"
#include "support.h"

static const lim_decision refused = { 0, 0, 0, 0 };

/* cli_next after the draws of that attempt, as the runner does. */
static cli_verdict next_of(const cli_class *k, uint64_t seed, uint64_t intent, uint32_t attempt, int64_t first_us,
                           int64_t now_us, int64_t prev_backoff_us, const lim_decision *d, int64_t *at_us,
                           int64_t *backoff_us)
{
    cli_draws dr;
    cli_draw(k, seed, intent, attempt, prev_backoff_us, &dr);
    return cli_next(k, &dr, attempt, first_us, now_us, d, at_us, backoff_us);
}

static cli_class class_of(cli_backoff b, cli_jitter j, int64_t base_us, int64_t cap_us, uint32_t attempts)
{
    cli_class k;
    memset(&k, 0, sizeof k);
    snprintf(k.name, sizeof k.name, "k");
    k.weight = 1;
    k.max_attempts = attempts;
    k.backoff = b;
    k.jitter = j;
    k.base_us = base_us;
    k.cap_us = cap_us;
    return k;
}

Test(clients, constant_and_exponential_backoff_without_jitter_by_hand)
{
    cli_class c = class_of(CLI_BACKOFF_CONSTANT, CLI_JITTER_NONE, 200000, 0, 10);
    int64_t at, backoff;
    for (uint32_t a = 1; a < 10; a++) {
        cr_assert_eq(next_of(&c, 1, 7, a, 0, 1000000, 0, &refused, &at, &backoff), CLI_RETRY);
        cr_assert_eq(at, 1200000, "attempt %u: constant 200 ms", a);
    }
    cr_assert_eq(next_of(&c, 1, 7, 10, 0, 1000000, 0, &refused, &at, &backoff), CLI_GIVE_UP, "max_attempts 10");

    cli_class e = class_of(CLI_BACKOFF_EXPONENTIAL, CLI_JITTER_NONE, 100000, 1000000, 20);
    const int64_t expect[] = { 100000, 200000, 400000, 800000, 1000000, 1000000 };
    for (uint32_t a = 1; a <= 6; a++) {
        cr_assert_eq(next_of(&e, 1, 7, a, 0, 5000000, 0, &refused, &at, &backoff), CLI_RETRY);
        cr_assert_eq(at - 5000000, expect[a - 1], "retry %u waits %lld", a, (long long)(at - 5000000));
    }
}

Test(clients, jittered_waits_stay_inside_their_bounds)
{
    cli_class full = class_of(CLI_BACKOFF_EXPONENTIAL, CLI_JITTER_FULL, 100000, 10000000, 20);
    cli_class equal = class_of(CLI_BACKOFF_EXPONENTIAL, CLI_JITTER_EQUAL, 100000, 10000000, 20);
    cli_class dec = class_of(CLI_BACKOFF_DECORRELATED, CLI_JITTER_NONE, 100000, 3000000, 20);
    int64_t at, backoff, prev = 0;
    double sum_full = 0;
    for (uint64_t intent = 0; intent < 20000; intent++) {
        uint32_t a = 1 + (uint32_t)(intent % 4);
        int64_t x = 100000LL << (a - 1);
        cr_assert_eq(next_of(&full, 9, intent, a, 0, 0, 0, &refused, &at, &backoff), CLI_RETRY);
        cr_assert(at >= 0 && at <= x, "full jitter: %lld outside [0, %lld]", (long long)at, (long long)x);
        if (a == 1) sum_full += (double)at;
        cr_assert_eq(next_of(&equal, 9, intent, a, 0, 0, 0, &refused, &at, &backoff), CLI_RETRY);
        cr_assert(at >= x - x / 2 && at <= x, "equal jitter: %lld outside [%lld, %lld]", (long long)at,
                  (long long)(x - x / 2), (long long)x);
        cr_assert_eq(next_of(&dec, 9, intent, a, 0, 0, prev, &refused, &at, &backoff), CLI_RETRY);
        int64_t hi = (prev > 0 ? prev : 100000) * 3;
        cr_assert(at >= 100000 && at <= (hi < 3000000 ? hi : 3000000), "decorrelated: %lld", (long long)at);
        prev = a == 4 ? 0 : backoff;
    }
    double mean = sum_full / 5000;
    cr_assert(mean > 45000 && mean < 55000, "full jitter on 100 ms averages 50 ms, got %.0f us", mean);
}

Test(clients, honor_retry_after_waits_exactly_the_limiters_answer_and_never_means_give_up)
{
    cli_class k = class_of(CLI_BACKOFF_EXPONENTIAL, CLI_JITTER_NONE, 100000, 1000000, 5);
    k.honor_retry_after = 1;
    lim_decision later = { 0, 0, 37123, 0 }, never = { 0, 0, LIM_RETRY_NEVER, 0 };
    int64_t at, backoff;
    cr_assert_eq(next_of(&k, 1, 3, 1, 0, 500, 0, &later, &at, &backoff), CLI_RETRY);
    cr_assert_eq(at, 500 + 37123);
    cr_assert_eq(next_of(&k, 1, 3, 1, 0, 500, 0, &never, &at, &backoff), CLI_GIVE_UP);
    k.honor_retry_after = 0;
    cr_assert_eq(next_of(&k, 1, 3, 1, 0, 500, 0, &later, &at, &backoff), CLI_RETRY);
    cr_assert_eq(at, 500 + 100000, "without it the backoff rules");
}

Test(clients, abandon_after_s_counts_from_the_first_attempt)
{
    cli_class k = class_of(CLI_BACKOFF_CONSTANT, CLI_JITTER_NONE, 400000, 0, 100);
    k.abandon_after_us = 1000000;
    int64_t at, backoff;
    cr_assert_eq(next_of(&k, 1, 0, 2, 0, 600000, 0, &refused, &at, &backoff), CLI_RETRY, "1.0 s: still in time");
    cr_assert_eq(next_of(&k, 1, 0, 3, 0, 600001, 0, &refused, &at, &backoff), CLI_GIVE_UP, "1.000001 s: too late");
}

Test(clients, the_budget_caps_retries_at_its_ratio)
{
    cli_class k = class_of(CLI_BACKOFF_CONSTANT, CLI_JITTER_NONE, 1000, 0, 100);
    k.has_budget = 1;
    k.budget_ratio_nano = 200000000;   /* 0.2 */
    k.budget_window_s = 10;
    cli_budget b;
    cli_budget_init(&b, 10);
    uint64_t allowed = 0;
    for (int64_t i = 0; i < 1000; i++) {   /* 100 intents per second, each refused 3 times */
        int64_t t = i * 10000;
        cli_budget_intent(&b, t);
        for (int r = 0; r < 3; r++) allowed += (uint64_t)cli_budget_take(&b, &k, t);
    }
    cr_assert_eq(allowed, 200, "20%% of 1000 first attempts, got %llu", (unsigned long long)allowed);
    /* the window slides: 10 s later the old intents no longer pay for retries */
    cr_assert_eq(cli_budget_take(&b, &k, 25000000), 0);
    k.budget_min_nano = 1000000000;   /* 1/s */
    cr_assert_eq(cli_budget_take(&b, &k, 25000000), 1, "min_per_s x window_s always");
}

/* 0.29 x 100 first attempts is 29 retries exactly: in doubles it was
 * 28.999999999999996, and the 29th retry was refused. */
Test(clients, the_budget_ratio_is_exact_as_written)
{
    cli_class k = class_of(CLI_BACKOFF_CONSTANT, CLI_JITTER_NONE, 1000, 0, 100);
    k.has_budget = 1;
    k.budget_ratio_nano = 290000000;
    k.budget_window_s = 10;
    cli_budget b;
    cli_budget_init(&b, 10);
    for (int i = 0; i < 100; i++) cli_budget_intent(&b, 0);
    int allowed = 0;
    for (int r = 0; r < 40; r++) allowed += cli_budget_take(&b, &k, 0);
    cr_assert_eq(allowed, 29);
}

Test(clients, classes_are_drawn_by_weight)
{
    cli_config c;
    memset(&c, 0, sizeof c);
    c.n = 3;
    c.c[0].weight = 70;
    c.c[1].weight = 20;
    c.c[2].weight = 10;
    c.total_weight = 100;
    uint64_t count[3] = { 0, 0, 0 };
    for (uint64_t i = 0; i < 100000; i++) count[cli_class_of(&c, 42, i)]++;
    cr_assert(count[0] > 69000 && count[0] < 71000, "%llu", (unsigned long long)count[0]);
    cr_assert(count[1] > 19300 && count[1] < 20700, "%llu", (unsigned long long)count[1]);
    cr_assert(count[2] > 9500 && count[2] < 10500, "%llu", (unsigned long long)count[2]);
}

Test(clients, without_clients_amplification_is_exactly_one)
{
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/flash_burst.json", NULL, 0, 0, &s);
    cr_assert_eq(r.clients.intents, r.summary.offered);
    cr_assert_eq(r.clients.succeeded, r.summary.admitted);
    cr_assert_eq(r.clients.abandoned, r.summary.dropped);
    cr_assert_eq(r.clients.tts_max_us, 0);
    run_result_free(&r);
    scn_free(&s);
}

Test(clients, every_intent_ends_once_and_a_retrying_run_is_deterministic)
{
    scn_scenario s;
    run_result a = tsup_run_memory("tests/fixtures/good/retry_sale.json", NULL, 0, 0, &s);
    const run_client_stats *c = &a.clients;
    cr_assert_gt(c->intents, 1000);
    cr_assert_eq(c->succeeded + c->abandoned + c->budget_refused + c->unfinished, c->intents);
    cr_assert_gt(a.summary.offered, c->intents, "refused clients came back");
    cr_assert_gt(c->budget_refused, 0, "the budgeted class ran out");
    cr_assert_eq(a.oracle.violations, 0);
    cr_assert_eq(c->success_attempts >= c->succeeded, 1);
    scn_scenario s2;
    run_result b = tsup_run_memory("tests/fixtures/good/retry_sale.json", NULL, 0, 0, &s2);
    cr_assert_eq(b.summary.offered, a.summary.offered);
    cr_assert_eq(b.summary.admitted, a.summary.admitted);
    cr_assert_eq(b.clients.abandoned, a.clients.abandoned);
    cr_assert_eq(b.clients.tts_p99_us, a.clients.tts_p99_us);
    for (size_t t = 0; t < a.series.n_ticks; t++) {
        cr_assert_eq(a.series.offered[t], b.series.offered[t]);
        cr_assert_eq(a.series.intents[t], b.series.intents[t]);
    }
    run_result_free(&a);
    run_result_free(&b);
    scn_free(&s);
    scn_free(&s2);
}

/* Half the intents cost more than the bucket holds: the limiter answers
 * "never" (retry_after -1). Clients who listen give those up at once;
 * the others spend all their attempts on them. */
Test(clients, clients_who_honor_retry_after_give_up_on_never_at_once)
{
    scn_scenario s1, s2;
    run_result honor = tsup_run_memory("tests/fixtures/good/retry_after.json", NULL, 0, 0, &s1);
    run_result blind = tsup_run_memory("tests/fixtures/good/retry_blind.json", NULL, 0, 0, &s2);
    cr_assert_lt(honor.summary.offered, blind.summary.offered, "honor %llu attempts, blind %llu",
                 (unsigned long long)honor.summary.offered, (unsigned long long)blind.summary.offered);
    cr_assert_geq(honor.clients.succeeded, blind.clients.succeeded);
    run_result_free(&honor);
    run_result_free(&blind);
    scn_free(&s1);
    scn_free(&s2);
}

/* A retry is one more request: on Redis in virtual mode every decision,
 * retries included, equals memory's, and so does every client figure. */
Test(clients, retries_decide_the_same_on_redis_as_in_memory, .timeout = 180)
{
    char *dir = tsup_tempdir(), out[600], logs[600];
    tsup_run_both("tests/fixtures/good/retry_sale.json", dir, out, logs);
    size_t lines = tsup_same_decisions(logs, "token_bucket");
    cr_assert_gt(lines, 10000, "retries included: %zu decisions", lines);
    char summary[700];
    snprintf(summary, sizeof summary, "%s/summary.csv", out);
    char *csv = tsup_slurp(summary);
    cr_assert(csv);
    char *row[2] = { strstr(csv, "token_bucket,token_bucket,memory,"), strstr(csv, "token_bucket,token_bucket,redis,") };
    cr_assert(row[0] && row[1]);
    /* from intents on, the client columns: compare them field by field */
    const char *header_end = strchr(csv, '\n');
    size_t idx = 0;
    for (const char *f = csv; f < header_end && strncmp(f, "intents,", 8) != 0; f++) idx += *f == ',';
    char *field[2];
    for (int k = 0; k < 2; k++) {
        field[k] = row[k];
        for (size_t i = 0; i < idx; i++) field[k] = strchr(field[k], ',') + 1;
    }
    const char *names[] = { "intents", "amplification", "goodput_rps", "abandoned", "budget_refused", "unfinished",
                            "tts_p50_us", "tts_p99_us", "tts_max_us", "attempts_per_success", "recovery_s" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t la = strcspn(field[0], ",\n"), lb = strcspn(field[1], ",\n");
        cr_assert(la == lb && strncmp(field[0], field[1], la) == 0, "%s: memory %.*s, redis %.*s", names[i], (int)la,
                  field[0], (int)lb, field[1]);
        field[0] += la + 1;
        field[1] += lb + 1;
    }
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* The downstream fails 30% of calls: clients that retry failures come
 * back (about 1 + 0.3 + 0.09 attempts each, 2.7% failing all three), the
 * others end failed at 30%; every intent still ends once. */
Test(clients, failed_calls_come_back_for_clients_that_retry_them)
{
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/retry_failed.json", NULL, 0, 0, &s);
    const run_client_stats *c = &r.clients;
    double intents = (double)c->intents;
    cr_assert_eq(r.summary.admitted, r.summary.offered, "the limiter admits all");
    cr_assert_eq(c->succeeded + c->abandoned + c->budget_refused + c->unfinished + c->failed, c->intents);
    double expect_attempts = intents / 2 * 1.39 + intents / 2;
    cr_assert(fabs((double)r.summary.offered - expect_attempts) < 0.03 * expect_attempts, "%llu attempts, expected %.0f",
              (unsigned long long)r.summary.offered, expect_attempts);
    cr_assert(fabs((double)c->failed - 0.15 * intents) < 0.02 * intents, "%llu failed of %.0f",
              (unsigned long long)c->failed, intents);
    cr_assert(fabs((double)c->abandoned - 0.0135 * intents) < 0.006 * intents, "%llu abandoned after 3 failures",
              (unsigned long long)c->abandoned);
    cr_assert(fabs((double)c->failed_attempts - 0.3 * (double)r.summary.offered) < 0.02 * (double)r.summary.offered);
    cr_assert_eq(r.oracle.violations, 0);
    run_result_free(&r);
    scn_free(&s);
}

/* Realtime mode schedules retries on the wall clock, each client thread
 * its own: the same intents, close to virtual time's amplification, the
 * whole-run bound kept, and nothing lost (with client clocks the pairwise
 * check reads -1, which also says no request or intent went astray). */
Test(clients, realtime_clients_come_back_on_the_wall_clock, .timeout = 120)
{
    rsrv server = { 0 };
    char err[4096];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    char *dir = tsup_tempdir(), url[64], out[600];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    snprintf(out, sizeof out, "%s/rt", dir);
    const char *argv[] = { "run", "tests/fixtures/good/retry_sale.json", "--mode", "realtime", "--clients", "8",
                           "--speed", "4", "--redis-url", url, "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    rsrv_stop(&server);
    scn_scenario s;
    run_result v = tsup_run_memory("tests/fixtures/good/retry_sale.json", NULL, 0, 0, &s);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    /* header names -> the realtime row's values */
    char *row = strchr(csv, '\n') + 1;
    long long intents = -1, over = -2;
    int violations_empty = 0;
    double amplification = -1;
    const char *h = csv, *f = row;
    while (h < row - 1) {
        size_t hl = strcspn(h, ",\n"), fl = strcspn(f, ",\n");
        if (hl == 7 && strncmp(h, "intents", 7) == 0) intents = atoll(f);
        if (hl == 13 && strncmp(h, "amplification", 13) == 0) amplification = atof(f);
        if (hl == 10 && strncmp(h, "violations", 10) == 0) violations_empty = fl == 0;
        if (hl == 13 && strncmp(h, "over_admitted", 13) == 0) over = atoll(f);
        h += hl + 1;
        f += fl + 1;
    }
    cr_assert_eq(intents, (long long)v.clients.intents, "the same arrivals");
    double virt = (double)v.summary.offered / (double)v.clients.intents;
    cr_assert(fabs(amplification - virt) < 0.1 * virt, "realtime amplification %.3f, virtual %.3f", amplification, virt);
    /* realtime decisions have no order the oracle could replay: not checked, an empty field */
    cr_assert(violations_empty, "nothing lost, no intent ended twice, and violations not applicable");
    cr_assert_eq(over, 0);
    free(csv);
    run_result_free(&v);
    scn_free(&s);
    tsup_rmtree(dir);
    free(dir);
}

/* By hand (retry_timeout.json): request n arrives at 50n ms; the queue
 * releases it at 100n ms to one server of 50 ms, so it ends 50n + 50 ms
 * after its admission, past the clients' 1 s for n >= 20 (from n = 21 the
 * limiter's delay alone outlasts it). Without the queue nobody waits. */
Test(clients, a_call_that_outlasts_the_timeout_is_timed_out_by_hand)
{
    scn_scenario s, t;
    run_result q = tsup_run_memory("tests/fixtures/good/retry_timeout.json", NULL, 0, 0, &s);
    cr_assert_eq(q.summary.admitted, 40);
    cr_assert_eq(q.clients.timed_out_attempts, 20);
    cr_assert_eq(q.clients.abandoned, 20, "max_attempts 1: a timed-out client gives up");
    cr_assert_eq(q.clients.succeeded, 20);
    cr_assert_eq(q.downstream.served, 40, "the service still serves the calls it was left with");
    cr_assert_eq(q.downstream.e2e_max_us, 39 * 50000 + 50000);
    run_result o = tsup_run_memory("tests/fixtures/good/retry_timeout.json", NULL, 0, 1, &t);
    cr_assert_eq(o.clients.timed_out_attempts, 0);
    cr_assert_eq(o.clients.succeeded, 40);
    run_result_free(&q);
    run_result_free(&o);
    scn_free(&s);
    scn_free(&t);
}

/* Clients that come back after a timeout: every intent ends once, the
 * queue whose delay outlasts their patience multiplies its attempts, and
 * on Redis in virtual mode every decision and client figure is memory's. */
Test(clients, timeouts_come_back_and_decide_the_same_on_redis, .timeout = 180)
{
    for (size_t e = 0; e < 2; e++) {
        scn_scenario s;
        run_result r = tsup_run_memory("tests/fixtures/good/retry_timeout_sale.json", NULL, 0, e, &s);
        const run_client_stats *c = &r.clients;
        cr_assert_eq(c->succeeded + c->abandoned + c->budget_refused + c->unfinished + c->failed, c->intents,
                     "%s: every intent ends once", r.limiter->name);
        if (e == 1) {
            cr_assert_gt(c->timed_out_attempts, c->intents / 4, "the queue: %llu timeouts",
                         (unsigned long long)c->timed_out_attempts);
            cr_assert_gt(r.summary.offered, 2 * c->intents, "its clients come back");
        }
        cr_assert_eq(r.oracle.violations, 0);
        run_result_free(&r);
        scn_free(&s);
    }
    char *dir = tsup_tempdir(), out[600], logs[600];
    tsup_run_both("tests/fixtures/good/retry_timeout_sale.json", dir, out, logs);
    const char *names[] = { "bucket", "queue" };
    for (size_t i = 0; i < 2; i++) tsup_same_decisions(logs, names[i]);
    char summary[700];
    snprintf(summary, sizeof summary, "%s/summary.csv", out);
    char *csv = tsup_slurp(summary);
    cr_assert(csv);
    /* the client columns run from intents to the end of the row */
    size_t idx = 0;
    for (const char *f = csv; *f != '\n' && strncmp(f, "intents,", 8) != 0; f++) idx += *f == ',';
    for (size_t i = 0; i < 2; i++) {
        char want[2][80];
        snprintf(want[0], sizeof want[0], "\n%s,", names[i]);
        const char *row[2] = { strstr(csv, want[0]), NULL };
        cr_assert(row[0]);
        row[1] = strstr(row[0] + 1, want[0]);
        cr_assert(row[1], "%s: a row per backend", names[i]);
        for (int k = 0; k < 2; k++)   /* to the comma before intents */
            for (size_t f = 0; f < idx; f++) row[k] = strchr(row[k] + 1, ',');
        size_t la = strcspn(row[0], "\n"), lb = strcspn(row[1], "\n");
        cr_assert(la == lb && strncmp(row[0], row[1], la) == 0, "%s: memory %.*s, redis %.*s", names[i], (int)la,
                  row[0], (int)lb, row[1]);
    }
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* Realtime mode cannot give a call's answer back to its client: a
 * scenario that needs it is refused before anything runs. */
Test(clients, realtime_mode_refuses_clients_that_wait_for_answers)
{
    char *dir = tsup_tempdir(), out[600], err[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    const char *argv[] = { "run", "tests/fixtures/good/retry_timeout.json", "--mode", "realtime", "--backend", "redis",
                           "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "retry_timeout.json: clients[0].retry_on: \"timeout\" needs --mode virtual"), "%s", err);
    cr_assert(access(out, F_OK) != 0, "nothing written");
    tsup_rmtree(dir);
    free(dir);
}
