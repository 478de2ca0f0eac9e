/* Regression on accuracy: a copy of a limiter broken by one at the window
 * edge is caught by the oracle and by the golden comparison; the golden
 * tooling reports drift precisely and rewrites on request. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/backend_memory.h"
#include "../sim/golden.h"
#include "../sim/output.h"
#include "../sim/runner.h"
#include "support.h"

/* fixed_window whose comparison is off by one: count + cost <= limit + 1.
 * Its declared parameters stay those of the scenario. */
static void broken_decide(const lim_config *cfg, void *state, int is_new, int64_t now_us, int64_t cost,
                          lim_decision *out)
{
    lim_config one_more = *cfg;
    one_more.v[0] += 1;
    lim_find("fixed_window")->decide(&one_more, state, is_new, now_us, cost, out);
}

static char *run_burst(scn_scenario *s, run_result *results, size_t *n, int break_fixed_window)
{
    char err[512];
    cr_assert_eq(scn_load("scenarios/burst.json", NULL, s, err, sizeof err), 0, "%s", err);
    static lim_ops broken;
    for (size_t i = 0; i < s->n_limiters; i++) {
        if (break_fixed_window && strcmp(s->limiters[i].entry->name, "fixed_window") == 0) {
            broken = *s->limiters[i].ops;
            broken.decide = broken_decide;
            s->limiters[i].ops = &broken;
            s->limiters[i].entry = &broken.entry;
            s->limiters[i].cfg.ops = &broken;
        }
    }
    gen *g = gen_create(s);
    run_backend mem;
    bmem *m = bmem_create(16, &mem);
    run_options ro = { NULL, NULL, NULL, NULL };
    for (size_t i = 0; i < s->n_limiters; i++)
        cr_assert_eq(run_limiter(s, g, &s->limiters[i], &mem, &ro, &results[i], err, sizeof err), 0, "%s", err);
    *n = s->n_limiters;
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/burst", dir);
    out_context ctx = { "memory", NULL, NULL, "virtual", "test", 16, 0, NULL };
    cr_assert_eq(out_write_run(out, s, results, *n, &ctx, err, sizeof err), 0, "%s", err);
    bmem_destroy(m);
    gen_destroy(g);
    return dir;
}

static const run_result *by_name(const run_result *r, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].limiter->name, name) == 0) return &r[i];
    cr_assert_fail("no limiter %s", name);
    return NULL;
}

static int compare(const char *dir, char *report, size_t len)
{
    char summary[600], err[512];
    snprintf(summary, sizeof summary, "%s/burst/summary.csv", dir);
    FILE *f = fmemopen(report, len, "w");
    int problems = gold_compare(summary, "tests/golden/burst.csv", f, err, sizeof err);
    fclose(f);
    cr_assert_geq(problems, 0, "%s", err);
    return problems;
}

Test(regress, a_limiter_off_by_one_at_the_window_edge_fails_the_oracle_and_the_golden)
{
    scn_scenario s;
    run_result r[8];
    size_t n;
    char report[16384];
    char *good = run_burst(&s, r, &n, 0);
    for (size_t i = 0; i < n; i++) cr_assert_eq(r[i].oracle.violations, 0, "%s", r[i].limiter->name);
    cr_assert_eq(compare(good, report, sizeof report), 0, "the intact limiters match the golden:\n%s", report);
    for (size_t i = 0; i < n; i++) run_result_free(&r[i]);
    scn_free(&s);

    char *bad = run_burst(&s, r, &n, 1);
    const run_result *fw = by_name(r, n, "fixed_window");
    cr_assert_gt(fw->oracle.violations, 0, "the oracle catches one request too many per window");
    cr_assert_float_eq(fw->oracle.worst_excess, 1.0, 1e-9);
    cr_assert_eq(by_name(r, n, "sliding_log")->oracle.violations, 0, "the sliding log is untouched");
    cr_assert_gt(compare(bad, report, sizeof report), 0);
    cr_assert(strstr(report, "fixed_window (memory): VIOLATION"), "%s", report);
    cr_assert(strstr(report, "tests/golden/burst.csv: fixed_window (memory): admitted: expected 6436, got "), "%s", report);
    cr_assert_null(strstr(report, "sliding_log (memory):"), "no drift reported for the intact limiter:\n%s", report);
    for (size_t i = 0; i < n; i++) run_result_free(&r[i]);
    scn_free(&s);
    tsup_rmtree(good);
    tsup_rmtree(bad);
    free(good);
    free(bad);
}

Test(regress, update_writes_a_golden_and_says_what_changed)
{
    char *dir = tsup_tempdir(), out[512], summary[600], golden[600], err[4096];
    snprintf(out, sizeof out, "%s/steady", dir);
    const char *argv[] = { "run", "scenarios/steady.json", "--only", "gcra", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(summary, sizeof summary, "%s/summary.csv", out);
    snprintf(golden, sizeof golden, "%s/golden.csv", dir);
    const char *update[] = { "compare", summary, golden, "--update", NULL };
    cr_assert_eq(tsup_run(update, err, sizeof err), 0, "%s", err);
    const char *check[] = { "compare", summary, golden, NULL };
    cr_assert_eq(tsup_run(check, err, sizeof err), 0, "a run matches the golden it wrote: %s", err);
    char *text = tsup_slurp(golden);
    cr_assert(text && strstr(text, "limiter,backend,metric,expected,tolerance\ngcra,memory,offered,59635,0\n"), "%s", text);
    free(text);
    /* a changed run: --update names the change before accepting it */
    const char *other[] = { "run", "scenarios/steady.json", "--only", "gcra", "--set", "gcra.burst=3", "--out", out,
                            "--quiet", NULL };
    cr_assert_eq(tsup_run(other, err, sizeof err), 0, "%s", err);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s compare %s %s --update 1>&2", getenv("RATELAB_BIN") ? getenv("RATELAB_BIN") : "./ratelab",
             summary, golden);
    const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
    cr_assert_eq(tsup_exec(sh, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(err, "gcra (memory): admitted: expected 59635, got "), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

Test(regress, a_malformed_golden_is_a_clear_error)
{
    char *dir = tsup_tempdir(), path[600], err[1024];
    snprintf(path, sizeof path, "%s/g.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("limiter,backend,metric,expected,tolerance\ngcra,memory,admitted\n", f);
    fclose(f);
    const char *argv[] = { "compare", "tests/fixtures/good/poisson_1000.json", path, NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 2);
    const char *argv2[] = { "compare", path, path, NULL };
    cr_assert_eq(tsup_run(argv2, err, sizeof err), 2);
    cr_assert(strstr(err, "g.csv:2: 3 columns where the header has 5"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}
