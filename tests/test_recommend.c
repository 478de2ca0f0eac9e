/* The recommendation: target parsing, the best point on a constructed grid,
 * the closest point when none meets the targets, and the Pareto fronts. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/recommend.h"
#include "support.h"

static rec_point point(const char *limiter, size_t i, double drop, double peak, double p99, double overload,
                       long long violations)
{
    rec_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.limiter, sizeof p.limiter, "%s", limiter);
    snprintf(p.algorithm, sizeof p.algorithm, "token_bucket");
    snprintf(p.params, sizeof p.params, "rate=%zu", i * 100);
    p.point = i;
    p.metric[TGT_DROP_PCT] = drop;
    p.metric[TGT_ADMIT_PCT] = 100 - drop;
    p.metric[TGT_PEAK_RPS] = peak;
    p.metric[TGT_OVERLOAD_S] = overload;
    p.metric[TGT_DELAY_P99_MS] = 0;
    p.metric[TGT_E2E_P99_MS] = p99;
    p.violations = violations;
    return p;
}

/* What rec_print writes, as one string (free it). */
static char *printed(const tgt_targets *t, const rec_point *p, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    rec_print(f, t, p, n);
    fclose(f);
    return buf;
}

Test(recommend, targets_parse_with_every_operator)
{
    tgt_targets t;
    char err[256];
    cr_assert_eq(tgt_parse("overload_s=0 drop_pct<=5  p99_ms<200 admit_pct>=90 peak_rps>10 e2e_p99_ms==3", 1, &t, err,
                           sizeof err), 0, "%s", err);
    cr_assert_eq(t.n, 6);
    cr_assert(t.term[0].metric == TGT_OVERLOAD_S && t.term[0].op == TGT_EQ && t.term[0].value == 0);
    cr_assert(t.term[1].metric == TGT_DROP_PCT && t.term[1].op == TGT_LE && t.term[1].value == 5);
    cr_assert(t.term[2].metric == TGT_E2E_P99_MS && t.term[2].op == TGT_LT, "p99_ms is end to end with a downstream");
    cr_assert(t.term[3].op == TGT_GE && t.term[4].op == TGT_GT && t.term[5].op == TGT_EQ);
    cr_assert_str_eq(t.term[2].text, "p99_ms<200");
    cr_assert_eq(tgt_parse("p99_ms<=200", 0, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.term[0].metric, TGT_DELAY_P99_MS, "without a downstream p99_ms is the limiter's delay");
    cr_assert_eq(tgt_parse("", 0, &t, err, sizeof err), 0);
    cr_assert_eq(t.n, 0, "no targets is allowed");
}

Test(recommend, bad_targets_name_the_term)
{
    struct { const char *spec; int downstream; const char *message; } cases[] = {
        { "drop_pct", 1, "target 'drop_pct': expected metric op value, e.g. drop_pct<=5 (op: = <= < >= >)" },
        { "<=5", 1, "target '<=5': expected metric op value" },
        { "drops<=5", 1, "target 'drops<=5': unknown metric 'drops'" },
        { "drop_pct<=five", 1, "target 'drop_pct<=five': 'five' is not a number" },
        { "drop_pct<=", 1, "target 'drop_pct<=': '' is not a number" },
        { "drop_pct=>5", 1, "target 'drop_pct=>5': '>5' is not a number" },
        { "overload_s=0", 0, "target 'overload_s=0': overload_s needs a \"downstream\" in the scenario" },
        { "e2e_p99_ms<=9", 0, "e2e_p99_ms needs a \"downstream\"" },
        { "drop_pct<=nan", 1, "'nan' is not a number" },
        { "a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9", 1, "unknown metric 'a'" },
        { "drop_pct<1 drop_pct<2 drop_pct<3 drop_pct<4 drop_pct<5 drop_pct<6 drop_pct<7 drop_pct<8 drop_pct<9", 1,
          "target 'drop_pct<9': at most 8 targets" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tgt_targets t;
        char err[256] = "";
        cr_assert_eq(tgt_parse(cases[i].spec, cases[i].downstream, &t, err, sizeof err), -1, "'%s' accepted",
                     cases[i].spec);
        cr_assert(strstr(err, cases[i].message), "'%s': got \"%s\"", cases[i].spec, err);
    }
}

/* A grid built so that exactly one point is the right answer: fewer drops
 * are on offer only from points that break a target or the limiter's
 * promise, and a tie on drops is broken by p99. */
Test(recommend, picks_the_known_best_point_of_a_constructed_grid)
{
    tgt_targets t;
    char err[256];
    cr_assert_eq(tgt_parse("overload_s=0 drop_pct<=5 p99_ms<=200", 1, &t, err, sizeof err), 0, "%s", err);
    rec_point p[] = {
        point("tb", 1, 9.0, 4000, 50, 0, 0),     /* too many drops */
        point("tb", 2, 4.0, 5000, 150, 0, 0),    /* meets: 4 % */
        point("tb", 3, 3.0, 5500, 180, 0, 0),    /* meets: 3 %, p99 180 */
        point("tb", 4, 3.0, 5600, 120, 0, 0),    /* meets: 3 %, p99 120: the best */
        point("tb", 5, 1.0, 7000, 90, 4, 0),     /* fewer drops, but overloads the downstream */
        point("tb", 6, 2.0, 5500, 250, 0, 0),    /* fewer drops, p99 too high */
        point("tb", 7, 0.5, 5000, 60, 0, 12),    /* looks best, but broke its promise */
        point("lq", 1, 6.0, 5000, 300, 0, 0),    /* the other limiter meets nothing */
        point("lq", 2, 5.5, 5000, 190, 0, 0),    /* ... and this is its closest: one miss by 0.5 */
        point("lq", 3, 2.0, 9000, 900, 9, 0),    /* two misses: overload and p99 */
    };
    size_t n = sizeof p / sizeof p[0];
    rec_evaluate(&t, p, n);
    int meets[] = { 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 };
    for (size_t i = 0; i < n; i++) cr_assert_eq(p[i].meets, meets[i], "point %zu", i);
    cr_assert_eq(p[0].missed, 1);
    cr_assert_eq(p[9].missed, 2);
    cr_assert_eq(rec_best(&t, p, n, "tb"), 3, "fewest drops, then the lower p99");
    cr_assert_eq(rec_best(&t, p, n, "lq"), 8, "the closest: one target missed, by the least");
    cr_assert_eq(rec_best(&t, p, n, NULL), 3);
    cr_assert_eq(rec_best(&t, p, n, "none"), n);
    char *text = printed(&t, p, n);
    cr_assert(strstr(text, "targets: overload_s=0 drop_pct<=5 p99_ms<=200 (p99 is end to end"), "%s", text);
    cr_assert(strstr(text, "tb (token_bucket): rate=400 -- meets all 3 targets with the fewest drops (3.00% dropped, "
                           "peak 5600 rps, p99 120.0 ms, overload 0 s); 3 of 7 points meet them"), "%s", text);
    cr_assert(strstr(text, "lq (token_bucket): no point meets the targets; closest is rate=200, which misses "
                           "drop_pct<=5 by 0.5 (drop_pct = 5.5) [0 of 3 points meet them]"), "%s", text);
    cr_assert(strstr(text, "best overall: tb rate=400\n"), "%s", text);
    free(text);
}

Test(recommend, none_meeting_names_each_missed_target_and_by_how_much)
{
    tgt_targets t;
    char err[256];
    cr_assert_eq(tgt_parse("drop_pct<=5 peak_rps<=1000 admit_pct>=99", 0, &t, err, sizeof err), 0, "%s", err);
    rec_point p[] = { point("w", 1, 20, 1500, 0, NAN, 0), point("w", 2, 8, 1200, 0, NAN, 0) };
    rec_evaluate(&t, p, 2);
    cr_assert_eq(rec_best(&t, p, 2, "w"), 1);
    char *text = printed(&t, p, 2);
    cr_assert(strstr(text, "closest is rate=200, which misses drop_pct<=5 by 3 (drop_pct = 8) and peak_rps<=1000 by "
                           "200 (peak_rps = 1200) and admit_pct>=99 by 7 (admit_pct = 92)"), "%s", text);
    cr_assert(strstr(text, "best overall: none meets the targets"), "%s", text);
    free(text);
}

Test(recommend, strict_and_equal_targets_on_their_bound)
{
    tgt_term lt = { TGT_DROP_PCT, TGT_LT, 5, "drop_pct<5" }, eq = { TGT_OVERLOAD_S, TGT_EQ, 0, "overload_s=0" };
    cr_assert(!rec_term_met(&lt, 5));
    cr_assert(rec_term_met(&lt, 4.99));
    cr_assert(rec_miss(&lt, 5) == 0 && rec_miss(&lt, 7) == 2);
    cr_assert(rec_term_met(&eq, 0) && !rec_term_met(&eq, 1) && rec_miss(&eq, 3) == 3);
    cr_assert(!rec_term_met(&eq, NAN) && isinf(rec_miss(&eq, NAN)), "not measured never meets");
}

Test(recommend, pareto_fronts_over_all_limiters)
{
    tgt_targets t;
    char err[64];
    cr_assert_eq(tgt_parse("", 1, &t, err, sizeof err), 0);
    rec_point p[] = {
        point("a", 1, 10, 1000, 50, 0, 0),   /* load front: least peak */
        point("a", 2, 5, 2000, 80, 0, 0),    /* load front */
        point("a", 3, 5, 2500, 40, 0, 0),    /* beaten on load by a2; delay front (5 %, 40 ms) */
        point("b", 1, 1, 4000, 30, 0, 0),    /* both fronts */
        point("b", 2, 1, 4000, 30, 0, 0),    /* equal to b1: neither beats the other, both stay */
        point("b", 3, 0, 500, 10, 0, 3),     /* would beat everything, but violates: on no front */
        point("b", 4, 20, 3000, 100, 0, 0),  /* beaten on both */
    };
    size_t n = sizeof p / sizeof p[0];
    rec_evaluate(&t, p, n);
    int load[] = { 1, 1, 0, 1, 1, 0, 0 }, delay[] = { 0, 0, 0, 1, 1, 0, 0 };
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(p[i].front_load, load[i], "load front, point %zu", i);
        cr_assert_eq(p[i].front_delay, delay[i], "delay front, point %zu", i);
    }
    char *text = printed(&t, p, n);
    cr_assert(strstr(text, "targets: none given"), "%s", text);
    cr_assert(strstr(text, "a (token_bucket): no targets; 2 of 3 points on the drops-vs-peak front"), "%s", text);
    cr_assert(!strstr(text, "best overall"), "no targets, no best: %s", text);
    free(text);
}

Test(recommend, crafted_sweep_csvs_are_refused_with_their_line)
{
    char *dir = tsup_tempdir(), path[600];
    snprintf(path, sizeof path, "%s/x.csv", dir);
    const char *head = "limiter,algorithm,point,rate,offered,drop_pct,admit_pct,peak_admitted_rps,overload_s,"
                       "delay_p99_us,e2e_p99_us,violations\n";
    char longer[700];
    memset(longer, '9', 600);
    longer[600] = '\0';
    struct { const char *row, *message; } cases[] = {
        { "tb,token_bucket,-1,10,100,5,95,10,,0,,0\n", "x.csv:2: a metric is not a number" },
        { "tb,token_bucket,1e300,10,100,5,95,10,,0,,0\n", "x.csv:2: a metric is not a number" },
        { "tb,token_bucket,1,10,100,5,95,10,,0,,1e300\n", "x.csv:2: a metric is not a number" },
        { NULL, "x.csv:2: the parameters take more than" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fputs(head, f);
        if (cases[i].row) fputs(cases[i].row, f);
        else fprintf(f, "tb,token_bucket,1,%s,100,5,95,10,,0,,0\n", longer);
        fclose(f);
        rec_point *p = NULL;
        size_t n = 0, cap = 0;
        char err[512] = "";
        cr_assert_eq(rec_read_sweep(path, &p, &n, &cap, err, sizeof err), -1, "case %zu accepted", i);
        cr_assert(strstr(err, cases[i].message), "case %zu: %s", i, err);
        free(p);
    }
    tsup_rmtree(dir);
    free(dir);
}
