/*
 * main.c -- the ratelab command line. Parses arguments, loads the scenario,
 * runs each limiter, writes results. Exit status: 0 done, 1 a run-time
 * failure (memory, disk), 2 bad input or usage (nothing written).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "generator.h"
#include "output.h"
#include "perf.h"
#include "runner.h"
#include "scenario.h"

#define MAIN_MAX_SETS 64

static void main_usage(FILE *f)
{
    fputs("usage: ratelab run SCENARIO.json [--out DIR] [--only NAMES] [--set LIMITER.PARAM=VALUE]...\n"
          "                   [--latency-sample N] [--quiet]\n"
          "       ratelab list             algorithms and their parameters\n"
          "       ratelab perf [--quick]   decision and simulation speed per algorithm\n"
          "\n"
          "  --out DIR            results directory (default results/<scenario name>)\n"
          "  --only NAMES         comma-separated limiter names or algorithms to run\n"
          "  --set L.P=V          override parameter P of limiter (or algorithm) L\n"
          "  --latency-sample N   time one decision in N (a power of two; default 16)\n"
          "  --quiet              no table, no progress bar\n", f);
}

typedef struct {
    int enabled;
    int64_t started_ns, last_ns;
    size_t index, count;
    const char *name;
    int drawn;
} main_progress;

static void main_progress_draw(void *ctx, double done)
{
    main_progress *p = ctx;
    int64_t now = run_now_ns();
    if (!p->enabled || now - p->started_ns < 1000000000 || now - p->last_ns < 100000000) return;
    p->last_ns = now;
    double overall = ((double)p->index + fmin(fmax(done, 0), 1)) / (double)p->count;
    int filled = (int)(overall * 30);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%% %-24s (%zu/%zu)", filled, "##############################",
            30 - filled, "", overall * 100, p->name, p->index + 1, p->count);
    p->drawn = 1;
}

static void main_command_line(int argc, char **argv, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static double main_clock_overhead(void)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < 1000; i++) {
        int64_t a = run_now_ns(), b = run_now_ns();
        if (b - a < best) best = b - a;
    }
    return (double)best;
}

static int main_run(int argc, char **argv)
{
    const char *scenario = NULL, *out = NULL, *only = NULL;
    const char *sets[MAIN_MAX_SETS];
    size_t n_sets = 0;
    unsigned sample = 16;
    int quiet = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--out") == 0 && has_value) out = argv[++i];
        else if (strcmp(a, "--only") == 0 && has_value) only = argv[++i];
        else if (strcmp(a, "--set") == 0 && has_value) {
            if (n_sets == MAIN_MAX_SETS) { fprintf(stderr, "ratelab: at most %d --set\n", MAIN_MAX_SETS); return 2; }
            sets[n_sets++] = argv[++i];
        } else if (strcmp(a, "--latency-sample") == 0 && has_value) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1 << 20 || (v & (v - 1))) {
                fprintf(stderr, "ratelab: --latency-sample: '%s' is not a power of two from 1 to 1048576\n", argv[i]);
                return 2;
            }
            sample = (unsigned)v;
        } else if (strcmp(a, "--quiet") == 0) quiet = 1;
        else if (a[0] == '-') {
            fprintf(stderr, "ratelab: unknown option or missing value: %s\n", a);
            main_usage(stderr);
            return 2;
        } else if (!scenario) scenario = a;
        else { fprintf(stderr, "ratelab: one scenario at a time (got %s and %s)\n", scenario, a); return 2; }
    }
    if (!scenario) { main_usage(stderr); return 2; }

    char err[1024];
    scn_scenario s;
    scn_options opt = { sets, n_sets, only };
    if (scn_load(scenario, &opt, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return 2;
    }
    char outdir[4096];
    snprintf(outdir, sizeof outdir, "%s", out ? out : "results/");
    if (!out) snprintf(outdir, sizeof outdir, "results/%s", s.name);

    int rc = 0;
    gen *g = gen_create(&s);
    run_result *results = calloc(s.n_limiters, sizeof *results);
    if (!g || !results) {
        fprintf(stderr, "ratelab: out of memory for the generator\n");
        rc = 1;
        goto done;
    }
    main_progress progress = { .enabled = !quiet && isatty(STDERR_FILENO), .count = s.n_limiters };
    progress.started_ns = run_now_ns();
    run_options ropt = { sample, main_progress_draw, &progress };
    size_t ran = 0;
    for (; ran < s.n_limiters; ran++) {
        progress.index = ran;
        progress.name = s.limiters[ran].name;
        if (run_limiter(&s, g, &s.limiters[ran], &ropt, &results[ran], err, sizeof err) != 0) {
            fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", err);
            rc = 1;
            goto done;
        }
    }
    if (progress.drawn) fprintf(stderr, "\r%*s\r", 70, "");
    char command[2048];
    main_command_line(argc, argv, command, sizeof command);
    out_context ctx = { "memory", command, sample, main_clock_overhead() };
    if (out_write_run(outdir, &s, results, s.n_limiters, &ctx, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        rc = 1;
        goto done;
    }
    if (!quiet) {
        out_print_table(stdout, &s, results, s.n_limiters);
        printf("results: %s/{summary.csv,timeseries.csv,run.json}\n", outdir);
    }
done:
    for (size_t i = 0; results && i < s.n_limiters; i++) run_result_free(&results[i]);
    free(results);
    gen_destroy(g);
    scn_free(&s);
    return rc;
}

static int main_list(void)
{
    for (size_t i = 0; lim_registry[i]; i++) {
        const lim_ops *o = lim_registry[i];
        printf("%s: %s\n", o->name, o->summary);
        for (size_t k = 0; k < o->n_params; k++) {
            const lim_param_spec *p = &o->params[k];
            printf("  %-10s %s", p->name, p->doc);
            if (p->kind == LIM_PARAM_CHOICE) printf(" [default %s]", p->choices[(int)p->default_value]);
            else if (p->required) printf(" [required, %g..%g]", p->min, p->max);
            else if (!isnan(p->default_value)) printf(" [default %g]", p->default_value);
            printf("\n");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) { main_usage(stderr); return 2; }
    if (strcmp(argv[1], "run") == 0) return main_run(argc, argv);
    if (strcmp(argv[1], "list") == 0) return main_list();
    if (strcmp(argv[1], "perf") == 0) return perf_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) { main_usage(stdout); return 0; }
    fprintf(stderr, "ratelab: unknown command '%s'\n", argv[1]);
    main_usage(stderr);
    return 2;
}
