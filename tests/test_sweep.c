/* Sweeps: grid specs good and bad, a point equal to a plain run, the same
 * CSV on any number of workers, and results kept across bench runs. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sim/sweep.h"
#include "support.h"

static scn_scenario burst;

static void load(void)
{
    char err[512];
    cr_assert_eq(scn_load("scenarios/burst.json", NULL, &burst, err, sizeof err), 0, "%s", err);
}

static void unload(void) { scn_free(&burst); }

TestSuite(sweep, .init = load, .fini = unload);

Test(sweep, ranges_and_lists_form_a_grid_first_slowest)
{
    swp_grid g;
    char err[512];
    const scn_limiter *tb = &burst.limiters[0];
    cr_assert_eq(swp_parse("rate=100:500:100 capacity=50,100,200,400", tb, &g, err, sizeof err), 0, "%s", err);
    cr_assert_eq(g.n_points, 20);
    double v[LIM_MAX_PARAMS];
    swp_point(&g, tb, 0, v);
    cr_assert(v[0] == 100 && v[1] == 50);
    swp_point(&g, tb, 1, v);
    cr_assert(v[0] == 100 && v[1] == 100, "the last parameter varies fastest");
    swp_point(&g, tb, 19, v);
    cr_assert(v[0] == 500 && v[1] == 400);
    swp_free(&g);
    cr_assert_eq(swp_parse("  rate=0.5:2:0.5  ", tb, &g, err, sizeof err), 0, "%s", err);
    cr_assert_eq(g.n_points, 4, "0.5, 1, 1.5, 2");
    swp_point(&g, tb, 0, v);
    cr_assert(v[1] == 400, "capacity stays the limiter's own");
    swp_free(&g);
}

Test(sweep, bad_specs_are_refused_with_the_part_named)
{
    struct { const char *spec, *message; } cases[] = {
        { "rate", "sweep 'rate': expected name=from:to:step, name=v1,v2,... or name=value" },
        { "capcity=1,2", "sweep 'capcity=1,2': token_bucket has no numeric parameter 'capcity' (sweepable: rate, capacity, initial)" },
        { "rate=1:5", "sweep 'rate=1:5': a range is from:to:step with three numbers" },
        { "rate=5:1:1", "sweep 'rate=5:1:1': a range needs step > 0 and from <= to" },
        { "rate=1:5:0", "a range needs step > 0" },
        { "rate=1,x,3", "sweep 'rate=1,x,3': 'x' is not a number" },
        { "capacity=0,10", "sweep 'capacity=0,10': capacity = 0 is outside token_bucket's range (1 to 4e+06, whole numbers)" },
        { "capacity=1.5", "capacity = 1.5 is outside" },
        { "rate=1 rate=2", "sweep 'rate=2': rate is swept twice" },
        { "rate=1:1000000:1", "more than 100000" },
        { "", "sweep: no parameters given" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swp_grid g;
        char err[512] = "";
        cr_assert_eq(swp_parse(cases[i].spec, &burst.limiters[0], &g, err, sizeof err), -1, "'%s' accepted", cases[i].spec);
        cr_assert(strstr(err, cases[i].message), "'%s':\n  got      %s\n  expected %s", cases[i].spec, err, cases[i].message);
    }
}

/* A field of a CSV line by column name, as a number. */
static double field(const char *csv, int line, const char *column)
{
    const char *header_end = strchr(csv, '\n');
    int col = 0;
    for (const char *p = csv; p < header_end; p = strchr(p, ',') ? strchr(p, ',') + 1 : header_end, col++) {
        size_t n = strcspn(p, ",\n");
        if (strlen(column) == n && strncmp(p, column, n) == 0) break;
    }
    const char *row = csv;
    for (int i = 0; i < line; i++) row = strchr(row, '\n') + 1;
    for (int i = 0; i < col; i++) row = strchr(row, ',') + 1;
    return strtod(row, NULL);
}

Test(sweep, a_point_equals_a_plain_run_and_workers_do_not_change_the_csv, .timeout = 120)
{
    char *dir = tsup_tempdir(), one[600], two[600], run[600], err[4096];
    snprintf(one, sizeof one, "%s/one", dir);
    snprintf(two, sizeof two, "%s/two", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    const char *s1[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "rate=150,250 burst=100:300:100",
                         "--jobs", "1", "--out", one, "--quiet", NULL };
    const char *s2[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "rate=150,250 burst=100:300:100",
                         "--jobs", "2", "--out", two, "--quiet", NULL };
    cr_assert_eq(tsup_run(s1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tsup_run(s2, err, sizeof err), 0, "%s", err);
    char p1[700], p2[700];
    snprintf(p1, sizeof p1, "%s/gcra.csv", one);
    snprintf(p2, sizeof p2, "%s/gcra.csv", two);
    char *a = tsup_slurp(p1), *b = tsup_slurp(p2);
    cr_assert(a && b);
    cr_assert_str_eq(a, b, "the same CSV on 1 and 2 workers");
    /* point 5 is rate=250 burst=200 */
    cr_assert_eq(field(a, 5, "rate"), 250);
    cr_assert_eq(field(a, 5, "burst"), 200);
    const char *plain[] = { "run", "scenarios/burst.json", "--only", "gcra", "--set", "gcra.rate=250", "--set",
                            "gcra.burst=200", "--out", run, "--quiet", NULL };
    cr_assert_eq(tsup_run(plain, err, sizeof err), 0, "%s", err);
    char ps[700];
    snprintf(ps, sizeof ps, "%s/summary.csv", run);
    char *summary = tsup_slurp(ps);
    const char *metrics[] = { "offered", "admitted", "dropped", "delayed", "peak_admitted_rps", "delay_p99_us",
                              "violations", "wrongly_allowed" };
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        cr_assert_eq(field(a, 5, metrics[i]), field(summary, 1, metrics[i]), "%s differs from the plain run", metrics[i]);
    free(a), free(b), free(summary);
    tsup_rmtree(dir);
    free(dir);
}

Test(sweep, all_uses_each_limiters_own_grid_and_bench_keeps_the_sweep, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[600], sweep[700], err[4096];
    snprintf(out, sizeof out, "%s/promotion_ramp", dir);
    snprintf(sweep, sizeof sweep, "%s/sweep", out);
    const char *s[] = { "sweep", "scenarios/promotion_ramp.json", "--algo", "all", "--out", sweep, "--quiet", "--plots",
                        NULL };
    cr_assert_eq(tsup_run(s, err, sizeof err), 0, "%s", err);
    /* the page the sweep wrote itself: it loads, with its recommendation first */
    char *dom = tsup_rendered(out);
    cr_assert_eq(tsup_dom_attr(dom, "data-errors"), 0);
    char *rec = strstr(dom, "id=\"sweep-verdict\"");
    cr_assert(rec && rec < strstr(dom, "The grid, drawn"), "the recommendation leads");
    free(dom);
    tsup_screenshots(out, "promotion_ramp-sweep");
    const char *files[] = { "global_token_bucket.csv", "global_gcra.csv", "global_leaky_queue.csv",
                            "global_sliding_counter.csv" };
    struct stat st;
    for (size_t i = 0; i < 4; i++) {
        char p[800];
        snprintf(p, sizeof p, "%s/%s", sweep, files[i]);
        cr_assert_eq(stat(p, &st), 0, "%s missing", p);
    }
    const char *bench[] = { "run", "scenarios/promotion_ramp.json", "--only", "global_gcra", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(bench, err, sizeof err), 0, "%s", err);
    char p[800];
    snprintf(p, sizeof p, "%s/global_gcra.csv", sweep);
    cr_assert_eq(stat(p, &st), 0, "a bench run replaced the directory but kept its sweeps");
    const char *none[] = { "sweep", "scenarios/burst.json", "--algo", "all", "--out", sweep, NULL };
    cr_assert_eq(tsup_run(none, err, sizeof err), 2);
    cr_assert(strstr(err, "no limiter in scenarios/burst.json has a \"sweep\" grid"), "%s", err);
    const char *bad[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "burst=0:10:5", NULL };
    cr_assert_eq(tsup_run(bad, err, sizeof err), 2);
    cr_assert(strstr(err, "scenarios/burst.json: limiters[1] (gcra): sweep 'burst=0:10:5': burst = 0 is outside"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

Test(sweep, heatmaps_over_two_parameters_lines_over_one, .timeout = 120)
{
    char *dir = tsup_tempdir(), err[4096], path[800];
    const char *two[] = { "sweep", "scenarios/burst.json", "--algo", "token_bucket", "--params",
                          "rate=100:300:100 capacity=200,400", "--out", dir, "--quiet", NULL };
    cr_assert_eq(tsup_run(two, err, sizeof err), 0, "%s", err);
    const char *one[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "burst=100,200,400", "--out",
                          dir, "--quiet", NULL };
    cr_assert_eq(tsup_run(one, err, sizeof err), 0, "%s", err);
    const char *plot[] = { "/bin/sh", "scripts/sweep_plot.sh", dir, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    const char *names[] = { "token_bucket_drop_pct", "token_bucket_peak_admitted_rps", "gcra_drop_pct",
                            "gcra_peak_admitted_rps" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/plots/%s.png", dir, names[i]);
        cr_assert(tsup_is_png(path), "%s is not a PNG", path);
    }
    /* policers add no delay: a p99-delay map would be one colour on a made-up scale, so a sentence replaces it */
    const char *flat[] = { "token_bucket", "gcra" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/plots/%s_delay_p99_us.png", dir, flat[i]);
        cr_assert(!tsup_is_png(path), "%s drawn although constant", path);
        snprintf(path, sizeof path, "%s/plots/%s_delay_p99_us.txt", dir, flat[i]);
        char *note = tsup_slurp(path), want[120];
        snprintf(want, sizeof want, "%s: delay p99 (ms) is 0 at every point of the grid: not drawn.\n", flat[i]);
        cr_assert(note && strcmp(note, want) == 0, "%s: %s", path, note ? note : "missing");
        free(note);
    }
    snprintf(path, sizeof path, "%s/plots/token_bucket_drop_pct.svg", dir);
    char *svg = tsup_slurp(path);
    cr_assert(svg && strstr(svg, "capacity") && strstr(svg, "rate"), "a heatmap over rate and capacity");
    free(svg);
    tsup_rmtree(dir);
    free(dir);
}

Test(sweep, judges_every_limiter_swept_into_the_directory, .timeout = 120)
{
    char *dir = tsup_tempdir(), err[4096], path[800];
    const char *tb[] = { "sweep", "scenarios/burst.json", "--algo", "token_bucket", "--params", "rate=100,200",
                         "--target", "drop_pct<=55", "--out", dir, "--quiet", NULL };
    cr_assert_eq(tsup_run(tb, err, sizeof err), 0, "%s", err);
    const char *gc[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "burst=100,400", "--target",
                         "drop_pct<=55", "--out", dir, "--quiet", NULL };
    cr_assert_eq(tsup_run(gc, err, sizeof err), 0, "%s", err);
    /* _points.csv holds both limiters' points: the earlier sweep's too */
    snprintf(path, sizeof path, "%s/_points.csv", dir);
    char *points = tsup_slurp(path);
    cr_assert(points);
    cr_assert(strstr(points, "limiter,algorithm,point,params,drop_pct,admit_pct,peak_rps,overload_s,delay_p99_ms,"
                             "e2e_p99_ms,p99_ms,violations,meets,missed,front_load,front_delay,best\n"), "%s", points);
    cr_assert(strstr(points, "\ntoken_bucket,token_bucket,1,rate=100,") && strstr(points, "\ngcra,gcra,2,burst=400,"),
              "%s", points);
    free(points);
    snprintf(path, sizeof path, "%s/recommendation.txt", dir);
    char *rec = tsup_slurp(path);
    cr_assert(rec && strstr(rec, "targets: drop_pct<=55 (p99 is the limiter's own delay)\n"), "%s", rec);
    cr_assert(strstr(rec, "\ntoken_bucket (token_bucket): rate=200 -- meets all 1 targets"), "%s", rec);
    cr_assert(strstr(rec, "\ngcra (gcra): burst=400 -- meets all 1 targets"), "%s", rec);
    free(rec);
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *run = tsup_slurp(path);
    cr_assert(run && strstr(run, "\"targets\":\t\"drop_pct<=55\"") && strstr(run, "\"grid\":\t\"burst=100,400\"") &&
              strstr(run, "--target 'drop_pct<=55'") && strstr(run, "\"seed\":\t42"),
              "the grid, and a command that can be pasted into a shell: %s", run);
    free(run);
    snprintf(path, sizeof path, "%s/_traffic.csv", dir);
    char *traffic = tsup_slurp(path);
    cr_assert(traffic && strncmp(traffic, "t_s,offered\n0.000,", 18) == 0, "%s", traffic);
    free(traffic);
    /* a bad target: nothing runs */
    const char *bad[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "burst=100", "--target",
                          "overload_s=0", "--out", dir, NULL };
    cr_assert_eq(tsup_run(bad, err, sizeof err), 2);
    cr_assert(strstr(err, "ratelab: --target: target 'overload_s=0': overload_s needs a \"downstream\" in the scenario"),
              "%s", err);
    tsup_rmtree(dir);
    free(dir);
}
