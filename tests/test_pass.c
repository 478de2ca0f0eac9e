/* The event loop's tie order and the recorder's bookkeeping, by hand. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/evloop.h"
#include "../sim/pass.h"
#include "../sim/redis_server.h"
#include "support.h"

Test(evloop, events_leave_by_time_then_kind_then_scheduling_order)
{
    evl q;
    cr_assert_eq(evl_init(&q, 8), 0);
    gen_request a = { 500, 1, 1 }, b = { 500, 2, 1 }, c = { 100, 3, 1 };
    cr_assert_eq(evl_push(&q, a.t_us, EVL_ARRIVAL, &a, NULL), 0);
    cr_assert_eq(evl_push(&q, 500, EVL_TICK_END, NULL, NULL), 0);
    cr_assert_eq(evl_push(&q, b.t_us, EVL_ARRIVAL, &b, NULL), 0);
    cr_assert_eq(evl_push(&q, c.t_us, EVL_ARRIVAL, &c, NULL), 0);
    cr_assert_eq(evl_push(&q, INT64_MAX, EVL_TICK_END, NULL, NULL), 0);
    evl_event e;
    evl_pop(&q, &e);
    cr_assert(e.kind == EVL_ARRIVAL && e.req.key == 3, "the earliest first");
    evl_pop(&q, &e);
    cr_assert(e.kind == EVL_TICK_END && e.t_us == 500, "a tick's end before an arrival at the same time");
    evl_pop(&q, &e);
    cr_assert_eq(e.req.key, 1, "then arrivals in the order they were scheduled");
    evl_pop(&q, &e);
    cr_assert_eq(e.req.key, 2);
    evl_pop(&q, &e);
    cr_assert_eq(e.t_us, INT64_MAX);
    int64_t t;
    evl_kind k;
    cr_assert_eq(evl_next(&q, &t, &k), 0);
    evl_free(&q);
}

Test(evloop, a_full_queue_refuses_until_room_is_reserved_between_batches)
{
    evl q;
    cr_assert_eq(evl_init(&q, 2), 0);
    cr_assert_eq(evl_push(&q, 1, EVL_ARRIVAL, NULL, NULL), 0);
    cr_assert_eq(evl_push(&q, 2, EVL_ARRIVAL, NULL, NULL), 0);
    cr_assert_eq(evl_push(&q, 3, EVL_ARRIVAL, NULL, NULL), -1);
    cr_assert_eq(q.cap, 2);
    cr_assert_eq(evl_reserve(&q, 3), 0, "room is made between batches");
    cr_assert_eq(evl_push(&q, 3, EVL_ARRIVAL, NULL, NULL), 0);
    evl_free(&q);
}

Test(evloop, a_thousand_random_events_leave_sorted)
{
    evl q;
    cr_assert_eq(evl_init(&q, 1000), 0);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 1000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        gen_request r = { (int64_t)(x % 50), (uint32_t)i, 1 };
        cr_assert_eq(evl_push(&q, r.t_us, (evl_kind)(x >> 40 & 1), &r, NULL), 0);
    }
    evl_event prev, e;
    evl_pop(&q, &prev);
    for (int i = 1; i < 1000; i++) {
        evl_pop(&q, &e);
        int ordered = prev.t_us < e.t_us || (prev.t_us == e.t_us && (prev.kind < e.kind ||
                                                                    (prev.kind == e.kind && prev.seq < e.seq)));
        cr_assert(ordered, "event %d out of order", i);
        prev = e;
    }
    evl_free(&q);
}

/* A scenario of one token bucket (rate 10/s, capacity 2) over 2 s of
 * 1 s ticks, the recorder fed by hand. */
static void two_second_scenario(scn_scenario *s)
{
    const char *path = "tests/fixtures/good/downstream_fast.json";
    const char *sets[] = { "token_bucket.rate=10", "token_bucket.capacity=2" };
    scn_options opt = { sets, 2, NULL };
    char err[512];
    cr_assert_eq(scn_load(path, &opt, s, err, sizeof err), 0, "%s", err);
}

Test(pass, a_request_counted_but_never_judged_is_a_conservation_violation)
{
    scn_scenario s;
    two_second_scenario(&s);
    char err[256];
    for (int lose = 0; lose < 2; lose++) {
        run_result r;
        FILE *log = tmpfile();
        cr_assert(log);
        pass *p = pass_open(&s, &s.limiters[0], "memory", log, &r, err, sizeof err);
        cr_assert(p, "%s", err);
        lim_decision yes = { 1, 0, 0, 0 }, no = { 0, 0, LIM_RETRY_NEVER, 0 };
        gen_request q1 = { 1000, 0, 1 }, q2 = { 2000, 0, 1 }, q3 = { 3000, 0, 1 };
        pass_decided(p, &q1, &yes);
        pass_decided(p, &q2, &yes);
        pass_count(p, &q3, &no);
        if (!lose) pass_unanswered(p, &q3, 3500, &no);   /* the connection failed: counted, not judged */
        /* the decision log has the request the policy decided, as a virtual pass's does */
        char text[512];
        rewind(log);
        size_t got = fread(text, 1, sizeof text - 1, log);
        text[got] = '\0';
        fclose(log);
        if (!lose) cr_assert(strstr(text, "\n3500,"), "the unanswered request is logged at its time: %s", text);
        else cr_assert_null(strstr(text, "\n3500,"), "%s", text);
        while (pass_ticks_left(p)) pass_close_tick(p, 0);
        pass_finish(p, 0.001, 1, &(run_backend_report){ .keys_seen = 1 });
        cr_assert_eq(r.summary.offered, 3);
        cr_assert_eq(r.summary.admitted, 2);
        cr_assert_eq(r.oracle.offered, lose ? 2 : 3);
        cr_assert_eq(r.oracle.violations, lose ? 2 : 0, "lost %d: %llu violations", lose,
                     (unsigned long long)r.oracle.violations);
        run_result_free(&r);
    }
    scn_free(&s);
}

Test(pass, with_client_clocks_the_pairwise_check_is_unknown_but_a_lost_request_still_counts)
{
    scn_scenario s;
    two_second_scenario(&s);
    char err[256];
    for (int lose = 0; lose < 2; lose++) {
        run_result r;
        pass *p = pass_open(&s, &s.limiters[0], "redis", NULL, &r, err, sizeof err);
        cr_assert(p, "%s", err);
        lim_decision yes = { 1, 0, 0, 0 };
        for (int i = 0; i < 5; i++) {   /* 5 in 1 ms: over the capacity of 2 */
            gen_request q = { 1000 + i, 0, 1 };
            pass_count(p, &q, &yes);
            if (!(lose && i == 4)) pass_judge(p, &q, q.t_us, &yes);
        }
        while (pass_ticks_left(p)) pass_close_tick(p, 0);
        pass_finish(p, 0.001, 0, &(run_backend_report){ .keys_seen = 1 });
        cr_assert_eq(r.oracle.violations, lose ? 2 : (uint64_t)-1);
        cr_assert_gt(r.summary.over_admitted, 0, "the whole-run bound stays exact");
        run_result_free(&r);
    }
    scn_free(&s);
}

/* Realtime mode feeds the same recorder as virtual mode: the downstream
 * columns and the conservation check are there. */
Test(pass, realtime_reports_the_downstream_and_conservation_like_virtual, .timeout = 120)
{
    rsrv server = { 0 };
    char err[4096];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    char *dir = tsup_tempdir(), url[64], virt[600], real[600];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    snprintf(virt, sizeof virt, "%s/virtual", dir);
    snprintf(real, sizeof real, "%s/realtime", dir);
    const char *v[] = { "run", "tests/fixtures/good/downstream_fast.json", "--out", virt, "--quiet", NULL };
    cr_assert_eq(tsup_run(v, err, sizeof err), 0, "%s", err);
    const char *rt[] = { "run", "tests/fixtures/good/downstream_fast.json", "--mode", "realtime", "--clients", "2",
                         "--clock", "server", "--redis-url", url, "--out", real, "--quiet", NULL };
    cr_assert_eq(tsup_run(rt, err, sizeof err), 0, "%s", err);
    rsrv_stop(&server);
    const char *cols[] = { "offered", "admitted", "violations", "downstream_completed", "e2e_p50_us", "e2e_p99_us",
                           "downstream_overload_s" };
    char *text[2] = { NULL, NULL };
    for (int k = 0; k < 2; k++) {
        char path[700];
        snprintf(path, sizeof path, "%s/summary.csv", k ? real : virt);
        text[k] = tsup_slurp(path);
        cr_assert(text[k], "no %s", path);
    }
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        char value[2][32];
        for (int k = 0; k < 2; k++) {
            char *header = text[k], *row = strchr(text[k], '\n') + 1;
            int idx = -1, i = 0;
            for (char *f = header; f < row; i++) {
                size_t len = strcspn(f, ",\n");
                if (len == strlen(cols[c]) && strncmp(f, cols[c], len) == 0) idx = i;
                f += len + 1;
            }
            cr_assert_geq(idx, 0, "no column %s", cols[c]);
            char *f = row;
            for (i = 0; i < idx; i++) f += strcspn(f, ",\n") + 1;
            snprintf(value[k], sizeof value[k], "%.*s", (int)strcspn(f, ",\n"), f);
        }
        cr_assert_neq(strcmp(value[1], "-1"), 0, "realtime leaves %s out", cols[c]);
        cr_assert_str_eq(value[0], value[1], "%s: virtual %s, realtime %s", cols[c], value[0], value[1]);
    }
    free(text[0]);
    free(text[1]);
    tsup_rmtree(dir);
    free(dir);
}

/* The calendar queue against a plain sorted list: events pushed while
 * others leave, at times from the same microsecond to beyond the ring's
 * 4.2 s, come out in exactly (time, kind, scheduling) order. */
typedef struct { int64_t t; int kind; uint64_t seq; } ref_event;

static int ref_before(const ref_event *a, const ref_event *b)
{
    if (a->t != b->t) return a->t < b->t;
    if (a->kind != b->kind) return a->kind < b->kind;
    return a->seq < b->seq;
}

Test(evloop, interleaved_pushes_and_pops_match_a_sorted_reference)
{
    enum { N = 20000 };
    evl q;
    cr_assert_eq(evl_init(&q, 4), 0);
    ref_event *ref = malloc(N * sizeof *ref);
    size_t n_ref = 0;
    uint64_t x = 0x9e3779b97f4a7c15ULL, seq = 0, pushed = 0, popped = 0;
    int64_t now = 0;
    while (popped < N) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int push = pushed < N && (n_ref == 0 || x % 3 != 0);
        if (push) {
            int64_t ahead = (x >> 8) % 4 == 0 ? 0 : (x >> 8) % 4 == 1 ? (int64_t)(x >> 20) % 1000
                            : (x >> 8) % 4 == 2 ? (int64_t)(x >> 20) % 3000000 : (int64_t)(x >> 20) % 20000000;
            int kind = (int)(x >> 50) % 3;
            gen_request r = { now + ahead, (uint32_t)seq, 1 };
            cr_assert_eq(evl_reserve(&q, 1), 0);
            cr_assert_eq(evl_push(&q, r.t_us, (evl_kind)kind, &r, NULL), 0);
            ref[n_ref++] = (ref_event){ now + ahead, kind, seq++ };
            pushed++;
        } else {
            size_t best = 0;
            for (size_t i = 1; i < n_ref; i++)
                if (ref_before(&ref[i], &ref[best])) best = i;
            evl_event e;
            int64_t t;
            evl_kind k;
            cr_assert(evl_next(&q, &t, &k));
            evl_pop(&q, &e);
            cr_assert(e.t_us == ref[best].t && (int)e.kind == ref[best].kind && e.seq == ref[best].seq,
                      "pop %llu: got (%lld, %d, %llu), expected (%lld, %d, %llu)", (unsigned long long)popped,
                      (long long)e.t_us, (int)e.kind, (unsigned long long)e.seq, (long long)ref[best].t,
                      ref[best].kind, (unsigned long long)ref[best].seq);
            cr_assert_eq(e.req.key, (uint32_t)e.seq, "the event's payload comes with it");
            now = e.t_us;
            ref[best] = ref[--n_ref];
            popped++;
        }
    }
    free(ref);
    evl_free(&q);
}
