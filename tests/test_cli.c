#define _POSIX_C_SOURCE 200809L
/* The ratelab program end to end: exit codes, nothing written on bad
 * input, atomic replacement, and byte-identical results for a seed. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../algorithms/limiter.h"
#include "../sim/cli.h"
#include "../sim/utf8.h"
#include "support.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The CSV with every column whose header starts with "wall_" removed. */
static char *without_wall_columns(const char *csv)
{
    char *out = malloc(strlen(csv) + 1), *o = out;
    int drop[64] = { 0 };
    int line = 0;
    for (const char *p = csv; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        int col = 0, first = 1;
        for (const char *f = p; f <= p + len;) {
            const char *comma = memchr(f, ',', (size_t)(p + len - f));
            const char *end = comma ? comma : p + len;
            if (line == 0 && col < 64) drop[col] = strncmp(f, "wall_", 5) == 0;
            if (col >= 64 || !drop[col]) {
                if (!first) *o++ = ',';
                memcpy(o, f, (size_t)(end - f));
                o += end - f;
                first = 0;
            }
            col++;
            if (!comma) break;
            f = comma + 1;
        }
        *o++ = '\n';
        line++;
        p += len + (eol ? 1 : 0);
    }
    *o = '\0';
    return out;
}

/* Runs scenarios/<name>.json into <fresh temp dir>/<name>; *dir gets the
 * temp dir (to remove), out the results directory. */
static void run_into(const char *name, char **dir, char *out, size_t outlen)
{
    char file[128], err[2048];
    *dir = tsup_tempdir();
    snprintf(file, sizeof file, "scenarios/%s.json", name);
    snprintf(out, outlen, "%s/%s", *dir, name);
    const char *argv[] = { "run", file, "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s: %s", name, err);
}

Test(cli, bad_input_exits_2_and_writes_nothing)
{
    char *dir = tsup_tempdir(), out[512], err[2048];
    snprintf(out, sizeof out, "%s/results/neg", dir);
    const char *argv[] = { "run", "tests/fixtures/bad/negative_rate.json", "--out", out, NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 2);
    cr_assert(strstr(err, "tests/fixtures/bad/negative_rate.json: limiters[2].rate: must be > 0, got -1"), "%s", err);
    char parent[512];
    snprintf(parent, sizeof parent, "%s/results", dir);
    cr_assert_not(exists(parent), "nothing written, not even the parent directory");
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, usage_errors_exit_2)
{
    char err[2048];
    const char *none[] = { NULL };
    cr_assert_eq(tsup_run(none, err, sizeof err), 2);
    const char *unknown[] = { "frobnicate", NULL };
    cr_assert_eq(tsup_run(unknown, err, sizeof err), 2);
    cr_assert(strstr(err, "unknown command 'frobnicate'"));
    const char *opt[] = { "run", "scenarios/burst.json", "--bogus", NULL };
    cr_assert_eq(tsup_run(opt, err, sizeof err), 2);
    const char *sample[] = { "run", "scenarios/burst.json", "--latency-sample", "3", NULL };
    cr_assert_eq(tsup_run(sample, err, sizeof err), 2);
    cr_assert(strstr(err, "not a power of two"));
    const char *missing[] = { "run", "scenarios/no_such.json", NULL };
    cr_assert_eq(tsup_run(missing, err, sizeof err), 2);
    cr_assert(strstr(err, "scenarios/no_such.json: cannot read scenario: No such file or directory"), "%s", err);
}

/* Hostile values that were accepted: each refused before anything starts
 * (no server, no file in the filesystem's root). */
Test(cli, backend_and_cluster_values_are_refused_exactly)
{
    static const struct { const char *opt, *value, *message; } cases[] = {
        { "--backend", "redis,", "--backend: 'redis,' is not a list of memory, redis and cluster" },
        { "--cluster", " 3x1", "CLUSTER ' 3x1': give masters x replicas" },
        { "--cluster", "+3x1", "CLUSTER '+3x1': give masters x replicas" },
        { "--cluster", "4611686018427387907x1", "give masters x replicas of each" },
        { "--cluster", "9223372036854775807x1", "give masters x replicas of each" },
        { "--cluster", "0x0", "give masters x replicas of each" },
        { "--cluster", "3x1", "--cluster sets the private Redis Cluster of --backend cluster" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[2048];
        const char *argv[] = { "run", "scenarios/steady.json", cases[i].opt, cases[i].value, "--out",
                               "/tmp/ratelab-refused-should-not-exist", NULL };
        cr_assert_eq(tsup_run(argv, err, sizeof err), 2, "%s %s: %s", cases[i].opt, cases[i].value, err);
        cr_assert(strstr(err, cases[i].message), "%s %s: %s", cases[i].opt, cases[i].value, err);
    }
    cr_assert_neq(access("/cluster-create.log", F_OK), 0);
}

Test(cli, a_run_writes_summary_timeseries_and_run_json)
{
    char *dir = tsup_tempdir(), out[512], path[600], err[2048];
    snprintf(out, sizeof out, "%s/burst", dir);
    const char *argv[] = { "run", "scenarios/burst.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    cr_assert_str_empty(err, "no progress bar when stderr is not a terminal: %s", err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *summary = tsup_slurp(path);
    cr_assert(summary);
    cr_assert(strncmp(summary, "limiter,algorithm,backend,", 26) == 0);
    cr_assert(strstr(summary, ",offered,admitted,dropped,"));
    int rows = 0;
    for (char *p = summary; (p = strchr(p, '\n')); p++) rows++;
    cr_assert_eq(rows, 1 + 7, "a header and a row per limiter");
    cr_assert(strstr(summary, "\nleaky_queue,leaky_bucket,memory,key,rate=200 capacity=400 mode=queue,"));
    free(summary);
    snprintf(path, sizeof path, "%s/run.json", out);
    char *run = tsup_slurp(path);
    cr_assert(run && strstr(run, "\"seed\":\t42") && strstr(run, "\"backend\":\t\"memory\""), "%s", run);
    free(run);
    snprintf(path, sizeof path, "%s/timeseries.csv", out);
    cr_assert(exists(path));
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, a_run_too_large_to_hold_or_write_is_refused_before_it_starts)
{
    char *dir = tsup_tempdir(), out[512], err[2048];
    snprintf(out, sizeof out, "%s/huge", dir);
    const char *argv[] = { "run", "tests/fixtures/huge_run.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "64 limiter pass(es) x 1000000 ticks would hold"), "%s", err);
    cr_assert(strstr(err, "above the budgets of 8 GiB and 4 GiB"), "%s", err);
    cr_assert_not(exists(out), "nothing written");
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, run_json_gives_the_largest_seed_back_exactly)
{
    char *dir = tsup_tempdir(), out[512], path[600], err[2048];
    snprintf(out, sizeof out, "%s/seed", dir);
    const char *argv[] = { "run", "tests/fixtures/good/largest_seed.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/run.json", out);
    char *run = tsup_slurp(path);
    cr_assert(run && strstr(run, "\"seed\":\t9007199254740991,"), "the seed digit for digit: %s", run);
    free(run);
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, same_seed_gives_identical_csv_but_for_wall_clock_columns)
{
    char *dir = tsup_tempdir(), a[512], b[512], err[2048];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    /* one worker against three: the passes run in another order, the files do not change */
    char la[600], lb[600];
    snprintf(la, sizeof la, "%s/logs_a", dir);
    snprintf(lb, sizeof lb, "%s/logs_b", dir);
    const char *run_a[] = { "run", "scenarios/danmaku_spike.json", "--out", a, "--quiet", "--jobs", "1",
                            "--log-decisions", la, NULL };
    const char *run_b[] = { "run", "scenarios/danmaku_spike.json", "--out", b, "--quiet", "--jobs", "3",
                            "--log-decisions", lb, NULL };
    cr_assert_eq(tsup_run(run_a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tsup_run(run_b, err, sizeof err), 0, "%s", err);
    const char *logs[] = { "user_token_bucket.memory.csv", "global_gcra.memory.csv", "global_sliding_counter.memory.csv" };
    for (int i = 0; i < 3; i++) {
        char pa[700], pb[700];
        snprintf(pa, sizeof pa, "%s/%s", la, logs[i]);
        snprintf(pb, sizeof pb, "%s/%s", lb, logs[i]);
        char *ta = tsup_slurp(pa), *tb = tsup_slurp(pb);
        cr_assert(ta && tb, "%s", pa);
        cr_assert_str_eq(ta, tb, "the decision log %s differs between 1 and 3 workers", logs[i]);
        free(ta), free(tb);
    }
    const char *files[] = { "summary.csv", "timeseries.csv", "accuracy.csv", "hgrm/global_leaky_queue.memory.delay_ms.hgrm" };
    for (int i = 0; i < 4; i++) {
        char pa[600], pb[600];
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        char *ta = tsup_slurp(pa), *tb = tsup_slurp(pb);
        cr_assert(ta && tb);
        char *ca = without_wall_columns(ta), *cb = without_wall_columns(tb);
        cr_assert(i >= 2 || strstr(ta, "wall_latency_p50_ns"), "the wall-clock columns are named as such");
        cr_assert_not(strstr(ca, "wall_"));
        cr_assert_str_eq(ca, cb, "%s differs between two runs of one seed", files[i]);
        free(ta), free(tb), free(ca), free(cb);
    }
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, a_failed_run_leaves_the_previous_results_and_no_temporaries)
{
    char *dir = tsup_tempdir(), out[512], path[600], err[2048];
    snprintf(out, sizeof out, "%s/steady", dir);
    const char *good[] = { "run", "scenarios/steady.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(good, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tsup_run(good, err, sizeof err), 0, "replacing existing results: %s", err);
    const char *bad[] = { "run", "scenarios/steady.json", "--out", out, "--set", "gcra.burst=0", NULL };
    cr_assert_eq(tsup_run(bad, err, sizeof err), 2);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *summary = tsup_slurp(path);
    cr_assert(summary && strstr(summary, "gcra,gcra,memory,key,rate=10 burst=20,"), "old results intact");
    free(summary);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.' || strlen(e->d_name) > 2;
    closedir(d);
    cr_assert_eq(entries, 1, "only the results directory, no temporary left beside it");
    tsup_rmtree(dir);
    free(dir);
}

/* Every shipped scenario runs to the end through the program. */
typedef struct { char name[32]; } shipped;

ParameterizedTestParameters(cli, every_shipped_scenario_runs)
{
    static shipped names[] = { { "steady" }, { "burst" }, { "promotion_ramp" }, { "danmaku_spike" },
                               { "nasa_replay" }, { "llm_tokens" } };
    return cr_make_param_array(shipped, names, sizeof names / sizeof names[0]);
}

ParameterizedTest(shipped *s, cli, every_shipped_scenario_runs)
{
    char *dir, out[512], path[600];
    run_into(s->name, &dir, out, sizeof out);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *summary = tsup_slurp(path);
    cr_assert(summary && strchr(summary, '\n')[1] != '\0', "%s: no rows", s->name);
    free(summary);
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, plots_are_drawn_as_png_and_svg)
{
    char *dir, out[512], path[600], err[4096];
    run_into("burst", &dir, out, sizeof out);
    const char *plot[] = { "/bin/sh", "scripts/plot.sh", out, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    const char *charts[] = { "offered_admitted", "panels", "dropped", "level", "delay", "latency", "accuracy" };
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        snprintf(path, sizeof path, "%s/plots/%s.png", out, charts[i]);
        cr_assert(tsup_is_png(path), "%s is not a PNG", path);
        snprintf(path, sizeof path, "%s/plots/%s.svg", out, charts[i]);
        char *svg = tsup_slurp(path);
        cr_assert(svg && strstr(svg, "<svg"), "%s is not an SVG", path);
        cr_assert(strstr(svg, "sliding_counter") || strstr(svg, "sliding_counter (memory)"),
                  "%s: limiter names appear with their underscores", path);
        free(svg);
    }
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, accuracy_csv_measures_the_approximations_beside_cloudflares_figure)
{
    char *dir, out[512], path[600];
    run_into("burst", &dir, out, sizeof out);
    snprintf(path, sizeof path, "%s/accuracy.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv, "no accuracy.csv");
    cr_assert(strstr(csv, "\nfixed_window,fixed_window,memory,200,1000,13720,332,2.4198,331,2.4125,4.8324,284,42.00,"),
              "fixed windows pass 284 in some second under a limit of 200:\n%s", csv);
    cr_assert(strstr(csv, "\nsliding_counter,sliding_window_counter,memory,200,1000,13720,507,"), "%s", csv);
    cr_assert(strstr(csv, "\ncloudflare_2017,sliding_window_counter,published,,,400000000,,,,,0.003,"), "%s", csv);
    cr_assert_null(strstr(csv, "\ntoken_bucket,"), "exact limiters have no error to report there");
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, without_gnuplot_one_line_and_exit_0)
{
    char *dir, out[512], path[600], err[2048];
    run_into("burst", &dir, out, sizeof out);
    setenv("RATELAB_GNUPLOT", "/nonexistent/gnuplot", 1);
    const char *plot[] = { "/bin/sh", "scripts/plot.sh", out, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0);
    cr_assert(strstr(err, "gnuplot not found") && strchr(err, '\n') == err + strlen(err) - 1, "one line: %s", err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    cr_assert(exists(path), "the CSVs stay");
    snprintf(path, sizeof path, "%s/plots", out);
    cr_assert_not(exists(path));
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, list_names_every_algorithm_and_its_parameters)
{
    char cmd[512], out[8192];
    const char *bin = getenv("RATELAB_BIN");
    snprintf(cmd, sizeof cmd, "%s list 1>&2", bin ? bin : "./ratelab");
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    cr_assert_eq(tsup_exec(argv, out, sizeof out), 0);
    for (size_t i = 0; lim_entries[i]; i++) {
        char line[80];
        snprintf(line, sizeof line, "%s: ", lim_entries[i]->name);
        cr_assert(strstr(out, line), "no %s in:\n%s", lim_entries[i]->name, out);
        for (size_t k = 0; k < lim_entries[i]->n_params; k++)
            cr_assert(strstr(out, lim_entries[i]->params[k].name));
    }
}

/* ---- a command line that helps --------------------------------------------------- */

Test(cli, every_command_has_help_that_exits_0)
{
    const char *commands[] = { "run", "sweep", "report", "check", "compare", "list", "chaos", "perf", "perf-redis",
                               "help" };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *argv[] = { commands[i], "--help", NULL };
        char *out, err[1024], want[64];
        cr_assert_eq(tsup_run_out(argv, &out, err, sizeof err), 0, "%s --help: %s", commands[i], err);
        snprintf(want, sizeof want, "usage: ratelab %s ", commands[i]);
        cr_assert(strncmp(out, want, strlen(want)) == 0, "%s --help printed:\n%s", commands[i], out);
        cr_assert(strstr(out, "--help"), "the options are listed: %s", out);
        free(out);
        const char *help[] = { "help", commands[i], NULL };
        cr_assert_eq(tsup_run_out(help, &out, err, sizeof err), 0, "help %s: %s", commands[i], err);
        cr_assert(strncmp(out, want, strlen(want)) == 0, "help %s printed:\n%s", commands[i], out);
        free(out);
    }
    const char *version[] = { "--version", NULL };
    char *out, err[1024];
    cr_assert_eq(tsup_run_out(version, &out, err, sizeof err), 0);
    cr_assert(strncmp(out, "ratelab ", 8) == 0 && strlen(out) > 9, "%s", out);
    free(out);
    const char *help[] = { "help", NULL };
    cr_assert_eq(tsup_run_out(help, &out, err, sizeof err), 0);
    cr_assert(strstr(out, "  run ") && strstr(out, "  perf-redis "), "%s", out);
    free(out);
}

Test(cli, typos_get_a_suggestion_and_exit_2)
{
    struct { const char *argv[6], *message; } cases[] = {
        { { "rnu", NULL }, "unknown command 'rnu'; did you mean 'run'?" },
        { { "swep", NULL }, "did you mean 'sweep'?" },
        { { "run", "burst", "--outt", "/tmp/x", NULL }, "unknown option '--outt'; did you mean '--out'?" },
        { { "run", "burst", "--backned", "redis", NULL }, "did you mean '--backend'?" },
        { { "run", "burst", "-out", "/tmp/x", NULL }, "unknown option '-out'; did you mean '--out'?" },
        { { "run", "burst", "--quiet=1", NULL }, "--quiet takes no value" },
        { { "run", "burst", "--out", NULL }, "--out needs a value (--out DIR)" },
        { { "run", NULL }, "missing argument: usage: ratelab run SCENARIO" },
        { { "run", "burst", "steady", NULL }, "unexpected argument 'steady'" },
        { { "run", "bursst", NULL }, "did you mean 'burst'? the shipped ones: burst, burst_queue," },
        { { "chaos", "burst_queue", "--kils", "2", NULL }, "did you mean '--kills'?" },
        { { "perf", "--quik", NULL }, "did you mean '--quick'?" },
        { { "run", "burst", "--fail-on", "speed", NULL }, "--fail-on: 'speed' is not a condition" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[4096];
        cr_assert_eq(tsup_run(cases[i].argv, err, sizeof err), 2, "%s %s: %s", cases[i].argv[0],
                     cases[i].argv[1] ? cases[i].argv[1] : "", err);
        cr_assert(strstr(err, cases[i].message), "%s: wanted '%s' in: %s", cases[i].argv[0], cases[i].message, err);
        cr_assert_eq(strchr(err, '\n'), strrchr(err, '\n'), "one message, not the whole usage: %s", err);
    }
}

Test(cli, a_scenario_by_its_name_and_options_with_equals)
{
    char *dir = tsup_tempdir(), out[512], opt[600], path[700], err[2048];
    snprintf(out, sizeof out, "%s/b", dir);
    snprintf(opt, sizeof opt, "--out=%s", out);
    const char *argv[] = { "run", "burst", opt, "--only=token_bucket", "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *summary = tsup_slurp(path);
    cr_assert(summary && strstr(summary, "\ntoken_bucket,token_bucket,memory,"), "%s", summary ? summary : "");
    cr_assert_null(strstr(summary, "\ngcra,"), "--only=token_bucket was read");
    free(summary);
    tsup_rmtree(dir);
    free(dir);
}

/* A results directory named like a shipped scenario (what --out steady
 * writes) does not hide the scenario: 'ratelab run steady' beside it runs
 * scenarios/steady.json, instead of "is a directory". */
Test(cli, a_directory_named_like_a_scenario_does_not_shadow_it)
{
    char *dir = tsup_tempdir(), path[600], args[700], err[4096];
    snprintf(path, sizeof path, "%s/steady", dir);
    cr_assert_eq(mkdir(path, 0777), 0);
    /* the scenarios/ of the working directory, wherever the binary is */
    snprintf(path, sizeof path, "%s/scenarios", dir);
    cr_assert_eq(mkdir(path, 0777), 0);
    char *text = tsup_slurp("scenarios/steady.json");
    snprintf(path, sizeof path, "%s/scenarios/steady.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert(text && f);
    fputs(text, f);
    fclose(f);
    free(text);
    snprintf(args, sizeof args, "run steady --only token_bucket --quiet --out '%s/o'", dir);
    cr_assert_eq(tsup_run_in(dir, args, err, sizeof err), 0, "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

/* Paths and a command line that are not UTF-8 (or cut inside a character)
 * reach run.json as valid UTF-8: a byte that begins no character is
 * U+FFFD. */
Test(cli, run_json_stays_utf8_whatever_the_paths_bytes)
{
    char *dir = tsup_tempdir(), out[600], path[700], err[2048];
    snprintf(out, sizeof out, "%s/r\xff\xfesults", dir);
    const char *argv[] = { "run", "scenarios/steady.json", "--only", "token_bucket", "--quiet", "--out", out, NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/run.json", out);
    char *json = tsup_slurp(path);
    cr_assert(json);
    cr_assert_eq(utf8_first_invalid(json, strlen(json)), -1, "run.json is valid UTF-8");
    cr_assert(strstr(json, "r\xef\xbf\xbd\xef\xbf\xbdsults"), "each stray byte is U+FFFD");
    free(json);
    /* a command line cut inside a character */
    char long_arg[2100];
    memset(long_arg, 'a', sizeof long_arg);
    for (size_t i = 2000; i + 2 < sizeof long_arg; i += 2) memcpy(long_arg + i, "\xc3\xa9", 2);   /* e-acute */
    long_arg[sizeof long_arg - 1] = '\0';
    char target[2200];
    snprintf(target, sizeof target, "--target=drop_pct<=100 %s", long_arg);
    const char *cut[] = { "run", "scenarios/steady.json", "--only", "token_bucket", "--quiet", "--out", out, target,
                          NULL };
    char cli[2048];   /* run.json's command: 2,047 bytes, cut inside an e-acute */
    int argc = (int)(sizeof cut / sizeof cut[0]) - 1;
    cli_command_line(argc, (char **)cut, cli, sizeof cli);
    cr_assert_neq(utf8_first_invalid(cli, strlen(cli)), -1, "the cut falls inside a character");
    char valid[4096];
    utf8_copy_valid(cli, valid, sizeof valid);
    cr_assert_eq(utf8_first_invalid(valid, strlen(valid)), -1);
    tsup_rmtree(dir);
    free(dir);
}

/* ---- the verdict ------------------------------------------------------------------- */

Test(cli, the_verdict_names_the_best_and_what_the_others_miss)
{
    char *dir = tsup_tempdir(), out[512], path[700], err[2048], *text;
    snprintf(out, sizeof out, "%s/b", dir);
    const char *argv[] = { "run", "burst", "--out", out, "--only", "token_bucket,leaky_queue,fixed_window", NULL };
    cr_assert_eq(tsup_run_out(argv, &text, err, sizeof err), 0, "%s", err);
    /* burst's targets: peak_rps<=600 delay_p99_ms<=500. The queue delays 2 s; the bucket drops least. */
    cr_assert(strncmp(text, "verdict: targets peak_rps<=600 delay_p99_ms<=500 (the scenario's; p99 is the limiter's "
                            "delay): 2 of 3 meet them\n", 106) == 0, "the verdict first:\n%s", text);
    cr_assert(strstr(text, "\n  best       token_bucket -- 47.28% dropped, peak 599/s admitted"), "%s", text);
    cr_assert(strstr(text, "\n  also meet fixed_window\n"), "%s", text);
    cr_assert(strstr(text, "\n  misses     leaky_queue: delay_p99_ms<=500 by 1500 (delay_p99_ms = 2000)\n"), "%s", text);
    cr_assert(strstr(text, "over bound") && strstr(text, "peak admitted/s"), "the table's oracle and peak columns");
    free(text);
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *json = tsup_slurp(path);
    cr_assert(json, "summary.json beside summary.csv");
    cr_assert(strstr(json, "\"best\":\t\"token_bucket\""), "%s", json);
    cr_assert(strstr(json, "\"standing\":\t\"misses\""), "%s", json);
    cr_assert(strstr(json, "\"target\":\t\"delay_p99_ms<=500\""), "%s", json);
    cr_assert(strstr(json, "\"limiter\":\t\"fixed_window\""), "%s", json);
    cr_assert(strstr(json, "\"admitted\":\t7233"), "the rows' numbers are numbers: %s", json);
    free(json);
    snprintf(path, sizeof path, "%s/run.json", out);
    char *run = tsup_slurp(path);
    cr_assert(run && strstr(run, "\"cpu_model\":") && strstr(run, "\"load_average\":"), "%s", run ? run : "");
    free(run);
    /* HdrHistogram percentile distributions of every pass's delays and decision times */
    snprintf(path, sizeof path, "%s/hgrm/leaky_queue.memory.delay_ms.hgrm", out);
    char *hgrm = tsup_slurp(path);
    cr_assert(hgrm && strncmp(hgrm, "       Value     Percentile TotalCount 1/(1-Percentile)\n", 56) == 0, "%s", path);
    cr_assert(strstr(hgrm, "\n    2000.000 1.000000000000       7235\n"), "the queue's 2 s wait, every admission: %s",
              hgrm);
    free(hgrm);
    snprintf(path, sizeof path, "%s/hgrm/token_bucket.memory.latency_us.hgrm", out);
    cr_assert(exists(path), "%s", path);

    /* --target replaces the scenario's */
    const char *strict[] = { "run", "burst", "--out", out, "--only", "token_bucket", "--target", "drop_pct<=10", NULL };
    cr_assert_eq(tsup_run_out(strict, &text, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(text, "verdict: targets drop_pct<=10 (--target;"), "%s", text);
    cr_assert(strstr(text, "\n  closest    token_bucket: drop_pct<=10 by 37.28"), "%s", text);
    free(text);
    tsup_rmtree(dir);
    free(dir);
}

Test(cli, fail_on_makes_a_missed_target_or_an_over_admission_exit_4)
{
    char *dir = tsup_tempdir(), out[512], err[2048], *text;
    snprintf(out, sizeof out, "%s/r", dir);
    /* the synced fleet admits 13 over its global bound, deterministically in memory */
    const char *over[] = { "run", "tests/fixtures/good/fleet_small.json", "--out", out, "--quiet", "--fail-on",
                           "over_admitted", NULL };
    cr_assert_eq(tsup_run(over, err, sizeof err), 4, "%s", err);
    cr_assert(strstr(err, "--fail-on: synced: over-admitted (exit 4)"), "%s", err);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    cr_assert(exists(path), "the results are written all the same");
    const char *kept[] = { "run", "tests/fixtures/good/fleet_small.json", "--out", out, "--quiet", "--fail-on",
                           "violations", NULL };
    cr_assert_eq(tsup_run(kept, err, sizeof err), 0, "no promise broken: %s", err);
    /* the verdict says it too */
    const char *shown[] = { "run", "tests/fixtures/good/fleet_small.json", "--out", out, NULL };
    cr_assert_eq(tsup_run_out(shown, &text, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(text, "  BROKE      synced: admitted 12 over its bound"), "%s", text);
    free(text);

    const char *missed[] = { "run", "burst", "--out", out, "--quiet", "--only", "leaky_queue", "--fail-on", "targets",
                             NULL };
    cr_assert_eq(tsup_run(missed, err, sizeof err), 4, "%s", err);
    cr_assert(strstr(err, "leaky_queue: missed a target"), "%s", err);
    const char *met[] = { "run", "burst", "--out", out, "--quiet", "--only", "gcra", "--fail-on", "targets,over_admitted",
                          NULL };
    cr_assert_eq(tsup_run(met, err, sizeof err), 0, "%s", err);
    const char *none[] = { "run", "tests/fixtures/good/fleet_small.json", "--out", out, "--fail-on", "targets", NULL };
    cr_assert_eq(tsup_run(none, err, sizeof err), 2, "no targets to fail on is a usage error");
    cr_assert(strstr(err, "has no \"targets\""), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}
