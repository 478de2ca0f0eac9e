/* index.html in a real browser: Debian's chromium, headless, loads the page
 * from disk with no network; its DOM after the load event says how many
 * images loaded (the page's own script counts them) and holds the tables.
 * chromium is installed by `make deps`: a missing one fails, never skips. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define rendered tsup_rendered
#define attr tsup_dom_attr

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static size_t pngs(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".png") == 0;
    }
    closedir(d);
    return n;
}

static void bench_into(const char *dir)
{
    char err[4096];
    const char *run[] = { "run", "scenarios/burst.json", "--out", dir, NULL };
    cr_assert_eq(tsup_run(run, err, sizeof err), 0, "%s", err);
    const char *plot[] = { "/bin/sh", "scripts/plot.sh", dir, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    const char *report[] = { "report", dir, NULL };
    cr_assert_eq(tsup_run(report, err, sizeof err), 0, "%s", err);
}

Test(report, bench_page_loads_every_plot_and_lists_every_limiter, .timeout = 240)
{
    char *dir = tsup_tempdir(), path[800];
    bench_into(dir);
    snprintf(path, sizeof path, "%s/plots", dir);
    size_t plots = pngs(path);
    cr_assert_geq(plots, 6, "plot.sh drew %zu PNGs", plots);
    char *dom = rendered(dir);
    cr_assert_eq(attr(dom, "data-images"), (int)plots, "every PNG of plots/ is on the page");
    cr_assert_eq(attr(dom, "data-images-loaded"), (int)plots, "and every one loads");
    cr_assert_eq(attr(dom, "data-errors"), 0, "no script error");
    cr_assert_gt(attr(dom, "data-charts"), 0, "interactive charts");
    cr_assert_eq(attr(dom, "data-charts-drawn"), attr(dom, "data-charts"), "every chart drawn");
    cr_assert(strstr(dom, "class=\"u-over\""), "by uPlot, inlined");
    /* the verdict comes first, then the chart that answers the question */
    char *verdict = strstr(dom, "<section class=\"verdict\""), *chart = strstr(dom, "data-chart=\"main\"");
    cr_assert(verdict && chart && verdict < chart && chart < strstr(dom, "<table id=\"summary\""));
    cr_assert(strstr(verdict, "Best: <b>leaky_meter</b>"), "burst's targets pick the meter");
    /* a row per limiter of the scenario (one backend: exactly one each) */
    const char *limiters[] = { "token_bucket", "gcra", "leaky_queue", "leaky_meter", "fixed_window", "sliding_log",
                               "sliding_counter" };
    char *summary = strstr(dom, "<table id=\"summary\"");
    cr_assert(summary, "a summary table");
    char *end = strstr(summary, "</table>");
    cr_assert(end);
    *end = '\0';
    cr_assert_eq(count(summary, "<tr class=\"row\""), 7, "one row per limiter");
    for (size_t i = 0; i < 7; i++) {
        char row[120];
        snprintf(row, sizeof row, "data-limiter=\"%s\"", limiters[i]);
        cr_assert_eq(count(summary, row), 1, "%s has its row", limiters[i]);
    }
    cr_assert(strstr(summary, "oracle violations"), "the accuracy columns are in the table");
    *end = '<';
    cr_assert(strstr(dom, "<table id=\"accuracy\""), "the approximate limiters' accuracy table");
    cr_assert(strstr(dom, "ratelab run scenarios/burst.json --out"), "how it was produced: the command");
    cr_assert(strstr(dom, "<dt>seed</dt><dd>42</dd>"), "and the seed");
    /* uPlot's licence names its home page in a comment; no link or resource may point away */
    cr_assert(!strstr(dom, "href=\"http") && !strstr(dom, "src=\"http") && !strstr(dom, "url(http"),
              "no link leaves the directory");
    free(dom);
    tsup_rmtree(dir);
    free(dir);
}

/* The check above is not vacuous: a plot that cannot load is counted and
 * shown as missing. */
Test(report, a_missing_plot_is_caught, .timeout = 240)
{
    char *dir = tsup_tempdir(), path[800];
    bench_into(dir);
    snprintf(path, sizeof path, "%s/plots/delay.png", dir);
    cr_assert_eq(unlink(path), 0);
    char *dom = rendered(dir);
    cr_assert_eq(attr(dom, "data-images-loaded"), attr(dom, "data-images") - 1);
    cr_assert(strstr(dom, "figure missing: plots/delay.png"), "the page says which");
    free(dom);
    tsup_rmtree(dir);
    free(dir);
}

Test(report, sweep_page_has_the_recommendation_and_pareto_plots, .timeout = 240)
{
    char *dir = tsup_tempdir(), sweep[800], err[4096];
    snprintf(sweep, sizeof sweep, "%s/sweep", dir);
    const char *run[] = { "sweep", "scenarios/burst.json", "--algo", "token_bucket", "--params",
                          "rate=100:300:100 capacity=200,400", "--target", "drop_pct<=55 peak_rps<=500",
                          "--out", sweep, "--quiet", NULL };
    cr_assert_eq(tsup_run(run, err, sizeof err), 0, "%s", err);
    const char *run2[] = { "sweep", "scenarios/burst.json", "--algo", "gcra", "--params", "rate=200 burst=100,400",
                           "--target", "drop_pct<=55 peak_rps<=500", "--out", sweep, "--quiet", NULL };
    cr_assert_eq(tsup_run(run2, err, sizeof err), 0, "%s", err);
    const char *plot[] = { "/bin/sh", "scripts/sweep_plot.sh", sweep, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    const char *report[] = { "report", dir, NULL };
    cr_assert_eq(tsup_run(report, err, sizeof err), 0, "%s", err);
    char path[900];
    snprintf(path, sizeof path, "%s/plots", sweep);
    size_t plots = pngs(path);
    /* a policer adds no delay: its p99-delay map would be one colour, so a sentence says so instead */
    cr_assert_geq(plots, 6, "heatmaps, lines and the two Pareto plots: %zu", plots);
    snprintf(path, sizeof path, "%s/plots/token_bucket_delay_p99_us.txt", sweep);
    char *note = tsup_slurp(path);
    cr_assert(note && strstr(note, "token_bucket: delay p99 (ms) is 0 at every point of the grid: not drawn."), "%s",
              note ? note : path);
    free(note);
    char *dom = rendered(dir);
    cr_assert_eq(attr(dom, "data-images"), (int)plots);
    cr_assert_eq(attr(dom, "data-images-loaded"), (int)plots);
    cr_assert(strstr(dom, "src=\"sweep/plots/pareto_load.png\"") && strstr(dom, "src=\"sweep/plots/pareto_delay.png\""));
    cr_assert(strstr(dom, "<ul class=\"rec\" id=\"recommendation\">"), "the recommendation");
    cr_assert(strstr(dom, "token_bucket: delay p99 (ms) is 0 at every point of the grid: not drawn."),
              "the constant map's sentence is on the page");
    cr_assert(strstr(dom, "targets: drop_pct&lt;=55 peak_rps&lt;=500"), "with its targets");
    cr_assert(strstr(dom, "best overall:"), "and a best point");
    char *best = strstr(dom, "<table id=\"best\"");
    cr_assert(best);
    cr_assert(strstr(best, "token_bucket") && strstr(best, "gcra"), "a best point per limiter");
    cr_assert(strstr(dom, "<svg id=\"traffic\""), "the traffic shape, from sweep/_traffic.csv");
    free(dom);
    tsup_rmtree(dir);
    free(dir);
}

Test(report, a_directory_without_results_is_refused)
{
    char *dir = tsup_tempdir(), err[1024], path[800];
    const char *report[] = { "report", dir, NULL };
    cr_assert_eq(tsup_run(report, err, sizeof err), 2, "bad input exits 2: %s", err);
    cr_assert(strstr(err, "no results to report (neither run.json nor sweep/run.json)"), "%s", err);
    snprintf(path, sizeof path, "%s/index.html", dir);
    cr_assert_neq(access(path, F_OK), 0, "no partial page");
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{ not json", f);
    fclose(f);
    cr_assert_eq(tsup_run(report, err, sizeof err), 2);
    cr_assert(strstr(err, "run.json: not valid JSON"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

/* A sweep whose recommendation.txt is /dev/zero: the page is written, with
 * a note, in bounded time and memory, and no temporary file is left. */
Test(report, an_endless_recommendation_ends_as_a_note, .timeout = 120)
{
    char *dir = tsup_tempdir(), err[2048], out[600], path[800];
    snprintf(out, sizeof out, "%s/steady", dir);
    const char *sweep[] = { "sweep", "scenarios/steady.json", "--algo", "token_bucket", "--params", "rate=100,200",
                            "--quiet", "--out", NULL, NULL };
    char sub[700];
    snprintf(sub, sizeof sub, "%s/sweep", out);
    sweep[8] = sub;
    cr_assert_eq(tsup_run(sweep, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/recommendation.txt", sub);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(symlink("/dev/zero", path), 0);
    const char *report[] = { "report", out, NULL };
    cr_assert_eq(tsup_run(report, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/index.html", out);
    char *page = tsup_slurp(path);
    cr_assert(page && strstr(page, "sweep/recommendation.txt not shown: "), "the page says why");
    free(page);
    char cmd[900];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -v -x -e index.html -e sweep -e .ratelab-results", out);
    const char *ls[] = { "/bin/sh", "-c", cmd, NULL };
    cr_assert_neq(tsup_exec(ls, err, sizeof err), 0, "nothing else is left beside the page");
    tsup_rmtree(dir);
    free(dir);
}

/* ---- every shipped scenario's page, in the browser --------------------------------- */

typedef struct {
    char name[32];
    int screenshots;   /* keep screenshots at 1400 and 800 px */
} shipped_page;

ParameterizedTestParameters(report, every_shipped_scenario_renders_with_a_verdict_naming_every_limiter)
{
    static shipped_page pages[] = {
        { "burst", 1 },        { "burst_queue", 1 }, { "danmaku_chain", 0 }, { "danmaku_spike", 1 },
        { "flash_sale_retry", 0 }, { "fleet_flash", 0 }, { "llm_tokens", 0 }, { "nasa_replay", 0 },
        { "promotion_ramp", 0 }, { "steady", 0 },
    };
    return cr_make_param_array(shipped_page, pages, sizeof pages / sizeof pages[0]);
}

ParameterizedTest(shipped_page *p, report, every_shipped_scenario_renders_with_a_verdict_naming_every_limiter,
                  .timeout = 600)
{
    char *dir = tsup_tempdir(), out[600], err[4096];
    snprintf(out, sizeof out, "%s/%s", dir, p->name);
    const char *run[] = { "run", p->name, "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(run, err, sizeof err), 0, "%s: %s", p->name, err);
    char *dom = rendered(out);
    cr_assert_eq(attr(dom, "data-errors"), 0, "%s: a script error on the page", p->name);
    cr_assert_gt(attr(dom, "data-charts"), 1, "%s: the main chart and more", p->name);
    cr_assert_eq(attr(dom, "data-charts-drawn"), attr(dom, "data-charts"), "%s: a chart was not drawn", p->name);
    cr_assert_eq(attr(dom, "data-images-loaded"), attr(dom, "data-images"), "%s: a figure did not load", p->name);
    char *verdict = strstr(dom, "<section class=\"verdict\"");
    cr_assert(verdict, "%s: no verdict", p->name);
    char *verdict_end = strstr(verdict, "</section>");
    cr_assert(verdict_end);
    *verdict_end = '\0';
    /* every row of the summary (limiter on a backend) is named in the verdict */
    char path[700];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path), v[128];
    cr_assert(csv);
    size_t rows = 0;
    for (const char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) rows++;
    cr_assert_gt(rows, 0);
    for (size_t r = 0; r < rows; r++) {
        char want[200];
        snprintf(want, sizeof want, "<li data-limiter=\"%s\"", tsup_field(csv, r, "limiter", v, sizeof v));
        cr_assert(strstr(verdict, want), "%s: the verdict does not name %s", p->name, v);
    }
    cr_assert_eq(count(verdict, "<li data-limiter="), rows, "%s: one line per pass", p->name);
    free(csv);
    free(dom);
    if (p->screenshots) tsup_screenshots(out, p->name);
    tsup_rmtree(dir);
    free(dir);
}
