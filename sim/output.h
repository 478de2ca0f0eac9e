/*
 * output.h -- writes a run's results: summary.csv, timeseries.csv and
 * run.json, into a temporary directory beside the target that then replaces
 * the target in one atomic exchange. A failed run leaves the old results.
 *
 * Columns measured on the wall clock start with "wall_"; everything else is
 * a function of the scenario and seed, byte for byte.
 */
#ifndef RATELAB_OUTPUT_H
#define RATELAB_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"
#include "scenario.h"
#include "verdict.h"

typedef struct {
    const char *backend;             /* "memory", "redis" or "memory,redis" */
    const char *redis;               /* where Redis ran ("private 127.0.0.1:port", a URL host), or NULL */
    const char *run_id;              /* the Redis key prefix's run id, or NULL */
    const char *mode;                /* "virtual", or a description of the realtime run */
    const char *command;             /* the command line, for run.json */
    unsigned latency_sample_every;
    double clock_overhead_ns;        /* one clock read, measured at start */
    const vrd_verdict *verdict;      /* for summary.json, or NULL */
} out_context;

/* The CPU's model name from /proc/cpuinfo, "unknown" without it. */
void out_cpu_model(char *buf, size_t len);

/* Writes every file for `results` into a temporary directory and moves it
 * to `dir` (with FS_RESULTS_MARKER in it). `dir` must pass
 * fs_results_target: an existing directory that ratelab did not write is
 * never replaced. Returns 0, or -1 with a message (nothing is left
 * half-written, nothing of the user's removed). */
int out_write_run(const char *dir, const scn_scenario *s, const run_result *results, size_t n,
                  const out_context *ctx, char *err, size_t errlen);

/* The results directory: `given`, or results/<scenario>[/<sub>]. */
void out_results_dir(char *buf, size_t len, const char *given, const char *scenario, const char *sub);

/* Puts FS_RESULTS_MARKER into the existing directory dir (a sweep's, and
 * the results directory it lives in), so that a later run may replace
 * what ratelab wrote there. 0, or -1 with the path and errno's text. */
int out_mark_results(const char *dir, char *err, size_t errlen);

/* Writes the summary rows' CSV to f. */
void out_summary_csv(FILE *f, const run_result *results, size_t n);

/* Writes the per-tick CSV to f: rows grouped by limiter and backend, ticks in order. */
void out_timeseries_csv(FILE *f, const run_result *results, size_t n);

/* Writes accuracy.csv to f: per approximate limiter (fixed_window,
 * sliding_window_counter) and backend, its error against the exact sliding
 * log on the same stream, and Cloudflare's published figure as a reference. */
void out_accuracy_csv(FILE *f, const run_result *results, size_t n);

/* Prints one line per limiter whose oracle found violations: limiter, key,
 * the two request times, the excess. */
void out_print_violations(FILE *f, const scn_scenario *s, const run_result *results, size_t n);

/* Prints the human summary table. */
void out_print_table(FILE *f, const scn_scenario *s, const run_result *results, size_t n);


typedef struct {
    const char *limiter, *algorithm, *grid;
    size_t points;
    double seconds;
} out_sweep;

/* Writes a sweep's run.json to `path`, atomically: the scenario, the
 * targets, every limiter's grid, and how it was produced. 0, or -1 with a
 * message. */
int out_write_sweep_run(const char *path, const scn_scenario *s, const char *command, const char *targets,
                        unsigned jobs, const out_sweep *sweeps, size_t n, char *err, size_t errlen);

/* 1 when some result is a fleet's (fleet_nodes.csv is written). */
int out_any_fleet(const run_result *r, size_t n);

#endif
