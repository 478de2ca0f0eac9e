/*
 * main.c -- the ratelab command line. Parses arguments, loads the scenario,
 * runs each limiter on each backend, writes results. Exit status: 0 done,
 * 1 a run-time failure (memory, disk), 2 bad input or usage (nothing
 * written), 3 Redis unreachable, 130 interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "clock.h"
#include "backend_memory.h"
#include "backend_redis.h"
#include "cluster_faults.h"
#include "cluster_output.h"
#include "decisions.h"
#include "drive.h"
#include "fleet.h"
#include "fsutil.h"
#include "generator.h"
#include "interrupt.h"
#include "golden.h"
#include "chaos.h"
#include "cli.h"
#include "output.h"
#include "queue_output.h"
#include "perf.h"
#include "plots.h"
#include "realtime.h"
#include "recommend.h"
#include "redis_server.h"
#include "report.h"
#include "redis_url.h"
#include "runner.h"
#include "scenario.h"
#include "sweep.h"
#include "verdict.h"

#define MAIN_MAX_SETS 64
#define MAIN_SERIES_BUDGET (8.0 * (1 << 30))   /* per-tick series kept until the results are written */
#define MAIN_OUTPUT_BUDGET (4.0 * (1 << 30))   /* timeseries.csv */
#define MAIN_BYTES_PER_ROW 90.0                /* a timeseries.csv row, about */

typedef struct {
    int enabled;
    int64_t started_ns, last_ns;
    size_t index, count;
    const char *name;
    int drawn;
    pthread_mutex_t lock;   /* worker threads draw it too */
} main_progress;

static void main_progress_draw_locked(main_progress *p, double done);

static void main_progress_draw(void *ctx, double done)
{
    main_progress *p = ctx;
    if (pthread_mutex_trylock(&p->lock) != 0) return;   /* another pass is drawing it: skip this frame */
    main_progress_draw_locked(p, done);
    pthread_mutex_unlock(&p->lock);
}

static void main_progress_draw_locked(main_progress *p, double done)
{
    int64_t now = clk_mono_ns();
    if (!p->enabled || now - p->started_ns < 1000000000 || now - p->last_ns < 100000000) return;
    p->last_ns = now;
    double overall = ((double)p->index + fmin(fmax(done, 0), 1)) / (double)p->count;
    int filled = (int)(overall * 30);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%% %-24s (%zu/%zu)", filled, "##############################",
            30 - filled, "", overall * 100, p->name, p->index + 1, p->count);
    p->drawn = 1;
}

/* What the memory backend's timer reads for nothing (backend_memory.c times with clk_cycles). */
static double main_clock_overhead(void) { return clk_cycles_floor_ns(clk_ns_per_cycle()); }

typedef struct {
    const char *scenario, *out, *only, *redis_url, *url_source, *run_id, *log_dir, *target;
    unsigned fail_on;
    char scenario_path[4096];
    const char *sets[MAIN_MAX_SETS];
    size_t n_sets;
    unsigned sample;
    int quiet, plots, use_memory, use_redis, use_cluster, on_error_allow, backend_given, timeout_given;
    const char *cluster_spec;
    cfault_spec faults[CFAULT_MAX];
    size_t n_faults;
    long pipeline, timeout_ms, outage_wait_s, jobs;
    int realtime, server_clock;
    long clients, in_flight;   /* in_flight 0: the default (RT_DEFAULT_IN_FLIGHT) */
    double speed, skew_ms;
} main_args;

enum {
    RO_OUT, RO_ONLY, RO_SET, RO_BACKEND, RO_REDIS_URL, RO_CLUSTER, RO_CLUSTER_FAULT, RO_PIPELINE, RO_ON_ERROR,
    RO_TIMEOUT, RO_WAIT, RO_RUN_ID, RO_MODE, RO_CLIENTS, RO_IN_FLIGHT, RO_SPEED, RO_CLOCK, RO_SKEW, RO_SAMPLE, RO_LOG, RO_QUIET,
    RO_TARGET, RO_FAIL_ON, RO_PLOTS, RO_JOBS,
};

static const cli_option main_run_options[] = {
    { "out", "DIR", RO_OUT, "results directory (default results/<scenario name>)" },
    { "only", "NAMES", RO_ONLY, "comma-separated limiter names or algorithms to run" },
    { "target", "SPEC", RO_TARGET, "what the verdict judges by, e.g. 'overload_s=0 drop_pct<=5 p99_ms<=200'\n"
                                   "(default: the scenario's \"targets\"; the terms of ratelab sweep)" },
    { "fail-on", "LIST", RO_FAIL_ON, "exit 4 when any pass meets one of these conditions, comma-separated:\n"
                                     "targets (misses a target), over_admitted (admitted above its bound),\n"
                                     "violations (broke its promise), errors (Redis calls that failed)" },
    { "set", "L.P=V", RO_SET, "override parameter P of limiter (or algorithm) L; repeatable" },
    { "backend", "B", RO_BACKEND, "memory (default), redis, cluster (a Redis Cluster), or several: memory,redis" },
    { "redis-url", "URL", RO_REDIS_URL, "redis://[user:password@]host[:port][/db][?timeout=T&db=N] or\n"
                                        "unix:///path[?db=N] for redis, redis+cluster://host[:port] (any node)\n"
                                        "for cluster; default $REDIS_URL, else a private redis-server (or\n"
                                        "cluster) on free ports" },
    { "cluster", "MxR", RO_CLUSTER, "the private cluster: M masters, R replicas of each (default 3x1)" },
    { "cluster-fault", "F", RO_CLUSTER_FAULT, "on the private cluster, in each pass (repeatable): kill-master@T (kill -9\n"
                                              "the hot slot's master at scenario second T) or reshard@T:N (move N slots)" },
    { "pipeline", "N", RO_PIPELINE, "requests per Redis round trip (default 64)" },
    { "on-error", "P", RO_ON_ERROR, "when Redis fails a request: allow (fail open) or deny (default)" },
    { "redis-timeout-ms", "N", RO_TIMEOUT, "connect and command timeout (default the URL's ?timeout=, else 2000)" },
    { "redis-wait-s", "N", RO_WAIT, "virtual mode: wait out a lost connection this long before deciding by\n"
                                    "--on-error (default 30; 0: never wait)" },
    { "run-id", "ID", RO_RUN_ID, "the run's key prefix ratelab:ID-<limiter>:{key} (default random)" },
    { "mode", "M", RO_MODE, "virtual (default: as fast as possible, on scenario time) or realtime\n"
                            "(Redis only: paced on the wall clock by concurrent clients)" },
    { "clients", "N", RO_CLIENTS, "realtime: client threads, one connection each (default 1)" },
    { "in-flight", "N", RO_IN_FLIGHT, "realtime: most requests a client thread sends in one round trip, all\n"
                                      "those due by then (pipelined; default 16; 1: one at a time)" },
    { "speed", "X", RO_SPEED, "realtime: scenario seconds per wall second (default 1)" },
    { "clock", "C", RO_CLOCK, "realtime: decide at the client's clock (default) or the server's TIME" },
    { "skew-ms", "S", RO_SKEW, "realtime: client clocks spread over [-S, +S] ms" },
    { "latency-sample", "N", RO_SAMPLE, "memory: time one decision in N (a power of two; default 16)" },
    { "log-decisions", "DIR", RO_LOG, "write every decision to DIR/<limiter>.<backend>.csv (ratelab check reads it)" },
    { "jobs", "N", RO_JOBS, "run the in-memory passes on N worker threads (default: the cores); the files are the\n"
                            "same for any N (Redis passes run one after another)" },
    { "plots", NULL, RO_PLOTS, "also draw the gnuplot PNG and SVG figures into DIR/plots (make bench does)" },
    { "quiet", NULL, RO_QUIET, "no verdict, no table, no progress bar" },
};

static const cli_command main_run_command = {
    "run", "SCENARIO [options]",
    "Runs every limiter of SCENARIO (a file, or the name of one in scenarios/: burst) on each backend,\n"
    "prints the verdict and the table, and writes summary.csv, summary.json, timeseries.csv,\n"
    "accuracy.csv, run.json and index.html (the report) to the results directory.",
    main_run_options, sizeof main_run_options / sizeof main_run_options[0], 1, 1,
    "exit status: 0 done, 1 run-time failure, 2 bad input or usage, 3 Redis unreachable, 4 a --fail-on\n"
    "condition held (the results are written), 130 interrupted",
};

static int main_option(void *ctx, int id, const char *v)
{
    main_args *a = ctx;
    char err[300];
    long num;
    switch (id) {
    case RO_OUT: a->out = v; return 0;
    case RO_ONLY: a->only = v; return 0;
    case RO_SET:
        if (a->n_sets == MAIN_MAX_SETS) { fprintf(stderr, "ratelab: at most %d --set\n", MAIN_MAX_SETS); return -1; }
        a->sets[a->n_sets++] = v;
        return 0;
    case RO_BACKEND:
        a->backend_given = 1;
        a->use_memory = a->use_redis = a->use_cluster = 0;
        for (const char *p = v; *p;) {
            size_t n = strcspn(p, ",");
            int *use = n == 6 && strncmp(p, "memory", 6) == 0    ? &a->use_memory
                       : n == 5 && strncmp(p, "redis", 5) == 0   ? &a->use_redis
                       : n == 7 && strncmp(p, "cluster", 7) == 0 ? &a->use_cluster : NULL;
            if (p[n] == ',' && p[n + 1] == '\0') use = NULL;   /* "redis,": a name left out */
            if (!use || *use) {
                fprintf(stderr, "ratelab: --backend: '%s' is not a list of memory, redis and cluster, each once\n", v);
                return -1;
            }
            *use = 1;
            p += n + (p[n] == ',');
        }
        if (!a->use_memory && !a->use_redis && !a->use_cluster) {
            fprintf(stderr, "ratelab: --backend: '%s' names no backend\n", v);
            return -1;
        }
        return 0;
    case RO_REDIS_URL: a->redis_url = v; a->url_source = "--redis-url"; return 0;
    case RO_CLUSTER: a->cluster_spec = v; return 0;
    case RO_CLUSTER_FAULT:
        if (a->n_faults == CFAULT_MAX) { fprintf(stderr, "ratelab: at most %d --cluster-fault\n", CFAULT_MAX); return -1; }
        if (cfault_parse(v, &a->faults[a->n_faults++], err, sizeof err) == 0) return 0;
        fprintf(stderr, "ratelab: %s\n", err);
        return -1;
    case RO_LOG: a->log_dir = v; return 0;
    case RO_MODE:
        if (strcmp(v, "virtual") != 0 && strcmp(v, "realtime") != 0) {
            fprintf(stderr, "ratelab: --mode: '%s' is not virtual or realtime\n", v);
            return -1;
        }
        a->realtime = strcmp(v, "realtime") == 0;
        return 0;
    case RO_CLOCK:
        if (strcmp(v, "client") != 0 && strcmp(v, "server") != 0) {
            fprintf(stderr, "ratelab: --clock: '%s' is not client or server\n", v);
            return -1;
        }
        a->server_clock = strcmp(v, "server") == 0;
        return 0;
    case RO_CLIENTS: return cli_long("clients", v, 1, RT_MAX_CLIENTS, &a->clients);
    case RO_IN_FLIGHT: return cli_long("in-flight", v, 1, RT_MAX_IN_FLIGHT, &a->in_flight);
    case RO_SPEED: return cli_double("speed", v, 1e-3, 1e6, &a->speed);
    case RO_SKEW: return cli_double("skew-ms", v, 0, 3.6e6, &a->skew_ms);
    case RO_RUN_ID: {
        size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (n == 0 || v[n] || n > 32) {
            fprintf(stderr, "ratelab: --run-id: '%s' must be 1 to 32 letters, digits or _\n", v);
            return -1;
        }
        a->run_id = v;
        return 0;
    }
    case RO_PIPELINE: return cli_long("pipeline", v, 1, 1024, &a->pipeline);
    case RO_TIMEOUT: a->timeout_given = 1; return cli_long("redis-timeout-ms", v, 10, 600000, &a->timeout_ms);
    case RO_WAIT: return cli_long("redis-wait-s", v, 0, 3600, &a->outage_wait_s);
    case RO_ON_ERROR:
        if (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0) {
            fprintf(stderr, "ratelab: --on-error: '%s' is not allow or deny\n", v);
            return -1;
        }
        a->on_error_allow = strcmp(v, "allow") == 0;
        return 0;
    case RO_SAMPLE:
        if (cli_long("latency-sample", v, 1, 1 << 20, &num) != 0) return -1;
        if (num & (num - 1)) {
            fprintf(stderr, "ratelab: --latency-sample: '%s' is not a power of two from 1 to 1048576\n", v);
            return -1;
        }
        a->sample = (unsigned)num;
        return 0;
    case RO_QUIET: a->quiet = 1; return 0;
    case RO_TARGET: a->target = v; return 0;
    case RO_PLOTS: a->plots = 1; return 0;
    case RO_JOBS: return cli_long("jobs", v, 1, 64, &a->jobs);
    case RO_FAIL_ON:
        if (vrd_parse_fail_on(v, &a->fail_on, err, sizeof err) == 0) return 0;
        fprintf(stderr, "ratelab: %s\n", err);
        return -1;
    }
    return -1;
}

/* CLI_OK, CLI_HELP or CLI_USAGE (message printed). */
static int main_parse_run(int argc, char **argv, main_args *a)
{
    *a = (main_args){ .sample = 16, .use_memory = 1, .pipeline = 64, .timeout_ms = 2000, .outage_wait_s = 30, .clients = 1,
                      .speed = 1, .jobs = sysconf(_SC_NPROCESSORS_ONLN) };
    a->redis_url = getenv("REDIS_URL");
    a->url_source = "REDIS_URL";
    if (a->redis_url && !*a->redis_url) a->redis_url = NULL;
    int first, parsed = cli_parse(&main_run_command, argc, argv, main_option, a, &first);
    if (parsed != CLI_OK) return parsed;
    char err[2400];
    if (cli_find_scenario(argv[first], a->scenario_path, sizeof a->scenario_path, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return CLI_USAGE;
    }
    a->scenario = a->scenario_path;
    if (a->n_faults && !a->use_cluster) {
        fprintf(stderr, "ratelab: --cluster-fault needs --backend cluster\n");
        return CLI_USAGE;
    }
    /* the private cluster's shape means nothing to another backend: a
     * mistake, checked as the value itself is */
    if (a->cluster_spec) {
        int m, r;
        if (rsrv_cluster_parse(a->cluster_spec, &m, &r, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            return CLI_USAGE;
        }
        if (!a->use_cluster) {
            fprintf(stderr, "ratelab: --cluster sets the private Redis Cluster of --backend cluster\n");
            return CLI_USAGE;
        }
    }
    if (a->realtime) {
        if (a->backend_given && a->use_memory) {
            fprintf(stderr, "ratelab: --mode realtime runs on Redis only: use --backend redis or cluster\n");
            return CLI_USAGE;
        }
        a->use_memory = 0;
        if (!a->use_cluster) a->use_redis = 1;
        if (a->server_clock && a->speed != 1) {
            fprintf(stderr, "ratelab: --clock server runs at the wall's speed: use --speed 1, or the client clock "
                            "(which runs at the scenario's time, wall time x speed)\n");
            return CLI_USAGE;
        }
    } else if (a->clients != 1 || a->in_flight || a->speed != 1 || a->server_clock || a->skew_ms != 0) {
        fprintf(stderr, "ratelab: --clients, --in-flight, --speed, --clock and --skew-ms need --mode realtime\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ---- the memory passes on worker threads (--jobs) ------------------------------------ */

#define MAIN_MAX_PASSES 1024

typedef struct {
    const scn_scenario *s;
    run_result *results;
    unsigned char *filled;
    FILE **logs;
    unsigned sample;
    main_progress *progress;
    size_t n_backends;
    size_t pass[MAIN_MAX_PASSES];   /* the memory passes' indices */
    size_t n;
    atomic_size_t next, done;
    atomic_int failed;
    pthread_mutex_t err_lock;
    char err[1024];
} main_pool;

/* One worker: its own generator and store, taking passes until none is left
 * or one failed. The scenario is only read. */
static void *main_pool_worker(void *arg)
{
    main_pool *p = arg;
    run_backend backend;
    bmem *mem = bmem_create(p->sample, &backend);
    gen *g = gen_create(p->s);
    char err[1024] = "out of memory for a worker's generator or store";
    if (g) gen_set_stop(g, intr_requested, NULL);
    for (;;) {
        size_t k = atomic_fetch_add(&p->next, 1);
        if (k >= p->n || atomic_load(&p->failed)) break;
        size_t pass = p->pass[k];
        const scn_limiter *l = &p->s->limiters[pass / p->n_backends];
        run_options ropt = { NULL, intr_requested, p->progress, p->logs[pass] };
        drv_target target = { &backend, NULL, NULL, NULL };
        if (!mem || !g || drv_run(p->s, g, l, &target, &ropt, &p->results[pass], err, sizeof err) != 0) {
            pthread_mutex_lock(&p->err_lock);
            if (!atomic_exchange(&p->failed, 1)) snprintf(p->err, sizeof p->err, "%s", err);
            pthread_mutex_unlock(&p->err_lock);
            break;
        }
        p->filled[pass] = 1;
        size_t finished = atomic_fetch_add(&p->done, 1) + 1;
        if (pthread_mutex_trylock(&p->progress->lock) == 0) {
            p->progress->index = finished - 1;
            p->progress->name = l->name;
            main_progress_draw_locked(p->progress, 1.0);
            pthread_mutex_unlock(&p->progress->lock);
        }
    }
    gen_destroy(g);
    bmem_destroy(mem);
    return NULL;
}

/* Runs p's passes on `jobs` threads. 0, or -1 with p->err. */
static int main_pool_run(main_pool *p, unsigned jobs)
{
    pthread_t t[64];
    if (jobs > 64) jobs = 64;
    if (jobs > p->n) jobs = (unsigned)p->n;
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->failed, 0);
    pthread_mutex_init(&p->err_lock, NULL);
    unsigned started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&t[started], NULL, main_pool_worker, p) != 0) break;
    if (!started) main_pool_worker(p);   /* no thread to be had: this one does the work */
    for (unsigned i = 0; i < started; i++) pthread_join(t[i], NULL);
    pthread_mutex_destroy(&p->err_lock);
    return atomic_load(&p->failed) ? -1 : 0;
}

/* Before anything runs: the results directory must be one ratelab may
 * replace, and the decision logs must not lie inside it (the swap that
 * puts the results in place would delete them). */
static int main_check_outputs(char *outdir, size_t len, const char *log_dir, char *err, size_t errlen)
{
    if (fs_results_target(outdir, outdir, len, err, errlen) != 0) return -1;
    if (!log_dir) return 0;
    char out_abs[4096], log_abs[4096];
    if (fs_absolute(outdir, out_abs, sizeof out_abs) != 0 || fs_absolute(log_dir, log_abs, sizeof log_abs) != 0) {
        snprintf(err, errlen, "%s: path too long", log_dir);
        return -1;
    }
    if (fs_within(log_abs, out_abs)) {
        snprintf(err, errlen, "--log-decisions %.400s: lies inside the results directory %.400s, which a run replaces "
                              "whole: choose a directory outside it", log_dir, out_abs);
        return -1;
    }
    return 0;
}

/* 8 hex digits from the kernel's random source (time and pid if it fails). */
static void main_run_id(char *buf, size_t len)
{
    uint32_t x = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&x, sizeof x, 1, f) != 1) x = (uint32_t)clk_mono_ns() ^ ((uint32_t)getpid() << 16);
    if (f) fclose(f);
    snprintf(buf, len, "%08x", x);
}

/* A URL serves the one backend of its kind: redis:// and unix:// a
 * standalone server, redis+cluster:// a cluster; the other Redis backend
 * asked for gets a private server or cluster. 0, or -1 with a message. */
static int main_url_fits(const main_args *a, const rurl *u, char *err, size_t errlen)
{
    if (u->is_cluster && a->n_faults) {
        snprintf(err, errlen, "--cluster-fault kills and reshards ratelab's own private cluster only: drop the "
                              "redis+cluster:// URL, or the faults");
        return -1;
    }
    if (u->is_cluster && !a->use_cluster) {
        snprintf(err, errlen, "the Redis URL is a cluster's (redis+cluster://): use --backend cluster");
        return -1;
    }
    if (!u->is_cluster && !a->use_redis) {
        snprintf(err, errlen, "--backend cluster reads a redis+cluster://host:port URL (any node of the cluster), or "
                              "none for a private cluster; the URL given is a standalone server's");
        return -1;
    }
    return 0;
}

static int main_run(int argc, char **argv)
{
    char command[2048];
    cli_command_line(argc, argv, command, sizeof command);   /* before getopt reorders argv */
    main_args a;
    int parsed = main_parse_run(argc, argv, &a);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;

    /* Reading the scenario (a trace may be a FIFO) changes nothing and
     * starts nothing, so Ctrl-C may end it the ordinary way; from here on
     * SIGINT and SIGTERM are blocked and polled, so a run stops between
     * batches and cleans up. */
    char err[1024];
    scn_scenario s;
    scn_options opt = { a.sets, a.n_sets, a.only };
    if (scn_load(a.scenario, &opt, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return 2;
    }
    tgt_targets targets;
    const char *targets_from = a.target ? "--target" : "the scenario's";
    if (tgt_parse(a.target ? a.target : s.targets, s.downstream.present, &targets, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s: %s\n", a.target ? "--target" : a.scenario, err);
        scn_free(&s);
        return 2;
    }
    if ((a.fail_on & VRD_FAIL_TARGETS) && targets.n == 0) {
        fprintf(stderr, "ratelab: --fail-on targets: %s has no \"targets\"; give them with --target 'drop_pct<=5 ...'\n",
                a.scenario);
        scn_free(&s);
        return 2;
    }
    if (a.realtime && rt_supports(&s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s: %s\n", a.scenario, err);
        scn_free(&s);
        return 2;
    }
    /* a fleet whose nodes' shares round below a request admits almost
     * nothing (or more than the limit): said before it runs */
    for (size_t i = 0; i < s.n_limiters; i++) {
        char why[400];
        if (flt_share_below_one(&s.limiters[i], why, sizeof why))
            fprintf(stderr, "ratelab: warning: %s\n", why);
    }
    intr_block();
    rurl url = { 0 };
    int masters = 3, replicas = 1;
    if ((a.use_redis || a.use_cluster) && a.redis_url &&
        (rurl_parse(a.redis_url, a.url_source, &url, err, sizeof err) != 0 ||
         main_url_fits(&a, &url, err, sizeof err) != 0)) {
        fprintf(stderr, "ratelab: %s\n", err);
        scn_free(&s);
        return 2;
    }
    if (url.timeout_ms && !a.timeout_given) a.timeout_ms = url.timeout_ms;
    if (a.use_cluster && a.cluster_spec && rsrv_cluster_parse(a.cluster_spec, &masters, &replicas, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        scn_free(&s);
        return 2;
    }
    char outdir[4096];
    out_results_dir(outdir, sizeof outdir, a.out, s.name, NULL);
    if (main_check_outputs(outdir, sizeof outdir, a.log_dir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        scn_free(&s);
        return 2;
    }

    int rc = 0;
    run_backend backends[3];
    size_t n_backends = 0;
    bmem *mem = NULL;
    bred *red = NULL, *clu = NULL;
    rsrv server = { 0 };
    rsrv_cluster cluster = { 0 };
    cfault *faults = NULL;
    char cluster_where[320] = "";
    rqr_options queue_redis = { 0 };   /* how a queue entry runs on Redis */
    rqr_options queue_cluster = { 0 }; /* and on the cluster: on the master of its slot */
    char where[300] = "", run_id[40];
    snprintf(run_id, sizeof run_id, "%s", a.run_id ? a.run_id : "");
    if (!a.run_id) main_run_id(run_id, sizeof run_id);
    gen *g = gen_create(&s);
    if (g) gen_set_stop(g, intr_requested, NULL);
    size_t n_results = 0, n_logs = 0;
    unsigned char *filled = NULL;   /* which results hold a pass (to free) */
    int judged = 0;
    vrd_verdict verdict;
    run_result *results = NULL;
    af_file *logs = NULL;     /* the decision logs, put in place with the results */
    if (!g) { fprintf(stderr, "ratelab: out of memory for the generator\n"); rc = 1; goto done; }
    if (a.use_memory) {
        if (!(mem = bmem_create(a.sample, &backends[n_backends++]))) { rc = 1; goto done; }
    }
    const rurl given = url;   /* the URL's, before a private server takes its place */
    if (a.use_redis) {
        if (!a.redis_url || url.is_cluster) {
            if (rsrv_start(&server, NULL, err, sizeof err) != 0) {
                fprintf(stderr, "ratelab: %s\n", err);
                rc = 3;
                goto done;
            }
            url = (rurl){ .port = server.port };
            snprintf(url.host, sizeof url.host, "127.0.0.1");
            snprintf(where, sizeof where, "private redis-server on 127.0.0.1:%d", server.port);
        } else {
            rurl_describe(&url, where, sizeof where);
        }
        bred_options ro = { .run_id = run_id, .pipeline = (size_t)a.pipeline, .on_error_allow = a.on_error_allow,
                            .timeout_ms = (int)a.timeout_ms, .ttl_ms = 86400000,
                            .outage_wait_ms = (int64_t)a.outage_wait_s * 1000 };
        queue_redis = (rqr_options){ .url = url, .timeout_ms = (int)a.timeout_ms, .run_id = run_id,
                                     .server = a.redis_url ? NULL : &server, .measure_durability = !a.redis_url,
                                     .stop = intr_requested };
        if (!(red = bred_create(&url, &ro, &backends[n_backends++], err, sizeof err))) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 3;
            goto done;
        }
    }
    if (a.use_cluster) {
        rurl seed = given;
        if (!given.is_cluster) {
            if (rsrv_cluster_start(&cluster, masters, replicas, err, sizeof err) != 0) {
                fprintf(stderr, "ratelab: %s\n", err);
                rc = intr_requested(NULL) ? 130 : 3;
                goto done;
            }
            seed = (rurl){ .port = cluster.node[0].port, .is_cluster = 1 };
            snprintf(seed.host, sizeof seed.host, "127.0.0.1");
            int used = snprintf(cluster_where, sizeof cluster_where, "private Redis Cluster of %d masters x %d "
                                "replica(s) on 127.0.0.1 ports ", masters, replicas);
            for (int k = 0; k < cluster.n && used < (int)sizeof cluster_where; k++)
                used += snprintf(cluster_where + used, sizeof cluster_where - (size_t)used, "%s%d", k ? "," : "",
                                 cluster.node[k].port);
        } else {
            char node[260];
            rurl_describe(&given, node, sizeof node);
            snprintf(cluster_where, sizeof cluster_where, "Redis Cluster at %s", node);
        }
        if (a.n_faults && !(faults = cfault_create(&cluster, a.faults, a.n_faults))) { rc = 1; goto done; }
        bred_options co = { .run_id = run_id, .pipeline = (size_t)a.pipeline, .on_error_allow = a.on_error_allow,
                            .timeout_ms = (int)a.timeout_ms, .ttl_ms = 86400000,
                            .outage_wait_ms = (int64_t)a.outage_wait_s * 1000, .cluster = 1, .faults = faults };
        queue_cluster = (rqr_options){ .url = seed, .timeout_ms = (int)a.timeout_ms, .run_id = run_id, .cluster = 1,
                                       .private_cluster = given.is_cluster ? NULL : &cluster, .stop = intr_requested };
        if (!(clu = bred_create(&seed, &co, &backends[n_backends++], err, sizeof err))) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 3;
            goto done;
        }
    }
    /* what the run will hold and write, before anything runs */
    double held = (double)(s.n_limiters * n_backends) * met_bytes_for(scn_tick_count(&s), s.duration_us);
    double written = (double)(s.n_limiters * n_backends) * (double)scn_tick_count(&s) * MAIN_BYTES_PER_ROW;
    if (held > MAIN_SERIES_BUDGET || written > MAIN_OUTPUT_BUDGET) {
        fprintf(stderr, "ratelab: %s: %zu limiter pass(es) x %zu ticks would hold %.1f GiB of series and write %.1f "
                        "GiB of timeseries.csv, above the budgets of %.0f GiB and %.0f GiB: use a longer tick_ms, "
                        "fewer limiters (--only) or a shorter duration\n", a.scenario, s.n_limiters * n_backends,
                scn_tick_count(&s), held / (1 << 30), written / (1 << 30), MAIN_SERIES_BUDGET / (1 << 30),
                MAIN_OUTPUT_BUDGET / (1 << 30));
        rc = 2;
        goto done;
    }
    results = calloc(s.n_limiters * n_backends, sizeof *results);
    logs = a.log_dir ? calloc(s.n_limiters * n_backends, sizeof *logs) : NULL;
    if (!results || (a.log_dir && !logs)) { rc = 1; goto done; }
    main_progress progress = { .enabled = !a.quiet && isatty(STDERR_FILENO), .count = s.n_limiters * n_backends };
    progress.started_ns = clk_mono_ns();
    pthread_mutex_init(&progress.lock, NULL);
    size_t n_passes = s.n_limiters * n_backends;
    /* pass k is limiter k / n_backends on backend k % n_backends: results and logs keep that order
     * whoever runs the pass, so the files are the same for any --jobs */
    FILE **pass_log = calloc(n_passes, sizeof *pass_log);
    filled = calloc(n_passes, 1);
    if (!pass_log || !filled) { free(pass_log); rc = 1; goto done; }
    for (size_t k = 0; k < n_passes && a.log_dir; k++) {
        const scn_limiter *l = &s.limiters[k / n_backends];
        if (!drv_decides(l)) continue;
        if (!(pass_log[k] = dlog_open(&logs[n_logs], a.log_dir, l, backends[k % n_backends].name, err, sizeof err))) {
            fprintf(stderr, "ratelab: %s\n", err);
            free(pass_log);
            rc = 1;
            goto done;
        }
        n_logs++;
    }
    n_results = n_passes;   /* from here every result is freed by its filled[] flag */
    /* the memory passes on worker threads, each with its own generator and store */
    main_pool pool = { .s = &s, .results = results, .filled = filled, .logs = pass_log, .sample = a.sample,
                       .progress = &progress, .n_backends = n_backends };
    for (size_t k = 0; k < n_passes && mem; k++)
        if (backends[k % n_backends].ctx == (void *)mem) pool.pass[pool.n++] = k;
    int pooled = a.jobs > 1 && pool.n > 1 && pool.n <= MAIN_MAX_PASSES;
    if (pooled && main_pool_run(&pool, (unsigned)a.jobs) != 0) {
        fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", pool.err);
        free(pass_log);
        rc = intr_requested(&progress) ? 130 : 1;
        goto done;
    }
    for (size_t k = 0; k < n_passes; k++) {
        size_t i = k / n_backends, b = k % n_backends;
        if (pooled && backends[b].ctx == (void *)mem) {
            if (results[k].note[0]) fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", results[k].note);
            continue;
        }
        progress.index = k;
        progress.name = s.limiters[i].name;
        rt_options rto = { (unsigned)a.clients, a.in_flight ? (unsigned)a.in_flight : RT_DEFAULT_IN_FLIGHT, a.speed,
                           a.server_clock, a.skew_ms, a.on_error_allow };
        run_options ropt = { main_progress_draw, intr_requested, &progress, pass_log[k] };
        bred *on_redis = red && backends[b].ctx == (void *)red   ? red
                         : clu && backends[b].ctx == (void *)clu ? clu : NULL;
        drv_target target = { &backends[b], on_redis, a.realtime ? &rto : NULL,
                              on_redis && on_redis == clu ? &queue_cluster : &queue_redis };
        int failed = drv_run(&s, g, &s.limiters[i], &target, &ropt, &results[k], err, sizeof err);
        if (results[k].note[0])   /* what the backend said of the pass, failed or not */
            fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", results[k].note);
        if (failed) {
            fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", err);
            free(pass_log);
            rc = intr_requested(&progress) ? 130 : 1;
            goto done;
        }
        filled[k] = 1;
    }
    free(pass_log);
    if (progress.drawn) fprintf(stderr, "\r%*s\r", 70, "");
    char backend_names[40] = "";
    for (size_t b = 0; b < n_backends; b++)
        snprintf(backend_names + strlen(backend_names), sizeof backend_names - strlen(backend_names), "%s%s",
                 b ? "," : "", backends[b].name);
    char mode[200] = "virtual";
    if (a.realtime) {
        int fleets = 0;
        for (size_t i = 0; i < s.n_limiters; i++) fleets |= s.limiters[i].fleet != NULL;
        snprintf(mode, sizeof mode, "realtime: %ld clients%s, %ld in flight each, speed %g, %s clock, skew +-%g ms%s",
                 a.clients, fleets ? " (a fleet: one per node)" : "", fleets ? 1 : a.in_flight ? a.in_flight : RT_DEFAULT_IN_FLIGHT, a.speed, a.server_clock ? "server" : "client", a.skew_ms,
                 a.server_clock ? "" : "; limiters decide at the scenario's time (wall time since start x speed)");
    }
    char servers[700];
    snprintf(servers, sizeof servers, "%s%s%s", where, where[0] && cluster_where[0] ? "; " : "", cluster_where);
    int on_redis = a.use_redis || a.use_cluster;
    if (vrd_judge(&targets, targets_from, results, n_results, &verdict) != 0) {
        fprintf(stderr, "ratelab: out of memory\n");
        rc = 1;
        goto done;
    }
    judged = 1;
    out_context ctx = { backend_names, on_redis ? servers : NULL, on_redis ? run_id : NULL, mode, command,
                        a.sample, main_clock_overhead(), &verdict };
    /* The decision logs and the results go into place together: logs first
     * (the larger, the likelier to meet a full disk), and a failure of
     * either takes back what was put in place, so no partial output. */
    size_t committed = 0;
    for (; committed < n_logs; committed++)
        if (dlog_close(&logs[committed], 1, err, sizeof err) != 0) break;
    if (committed < n_logs || out_write_run(outdir, &s, results, n_results, &ctx, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        for (size_t i = 0; i < committed; i++) unlink(logs[i].path);
        for (size_t i = committed + (committed < n_logs); i < n_logs; i++) dlog_close(&logs[i], 0, err, sizeof err);
        n_logs = 0;
        rc = 1;
        goto done;
    }
    n_logs = 0;
    /* the figures and the page are drawn from the files just written, as
     * `ratelab report` would draw them again */
    if (a.plots && plot_draw("plot.sh", outdir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        rc = 1;
    }
    if (rep_write(outdir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        rc = 1;
    }
    out_print_violations(stderr, &s, results, n_results);
    if (!a.quiet) {
        vrd_print(stdout, &verdict);
        out_print_table(stdout, &s, results, n_results);
        if (a.use_memory)
            printf("(lat: one decision in %u timed by the CPU's cycle counter, which reads about %.0f ns for nothing here, "
                   "so a figure near it is the clock's floor, not the limiter's cost: ratelab perf measures that)\n",
                   a.sample, ctx.clock_overhead_ns);
        qout_print(stdout, results, n_results);
        cout_print(stdout, results, n_results);
        if (on_redis) printf("redis: %s, %s%s, keys ratelab:%s-<limiter>:{key}, deleted\n", servers,
                                a.realtime ? mode : "virtual mode (pipelined)",
                                qout_any(results, n_results) ? "; queues on the wall clock" : "", run_id);
        printf("results: %s/{index.html,summary.csv,summary.json,timeseries.csv,accuracy.csv,run.json%s%s%s%s%s%s}\n", outdir,
               a.plots ? ",plots/" : "",
               qout_any(results, n_results) ? ",queue.csv" : "", s.clients.n ? ",tts.csv" : "",
               out_any_fleet(results, n_results) ? ",fleet_nodes.csv" : "",
               cout_any(results, n_results) ? ",cluster_nodes.csv" : "",
               cout_any_fault(results, n_results) ? ",cluster_faults.csv" : "");
    }
    if (a.fail_on) {
        char why[2048];
        if (vrd_failed(&verdict, a.fail_on, why, sizeof why)) {
            fprintf(stderr, "ratelab: --fail-on: %s (exit %d)\n", why, VRD_EXIT_FAILED_CHECK);
            rc = VRD_EXIT_FAILED_CHECK;
        }
    }
done:
    if (judged) vrd_free(&verdict);
    for (size_t i = 0; i < n_logs; i++) dlog_close(&logs[i], 0, err, sizeof err);
    free(logs);
    for (size_t i = 0; i < n_results; i++)
        if (!filled || filled[i]) run_result_free(&results[i]);
    free(results);
    free(filled);
    bred_destroy(red);
    bred_destroy(clu);
    cfault_destroy(faults);
    bmem_destroy(mem);
    rsrv_stop(&server);
    rsrv_cluster_stop(&cluster);
    gen_destroy(g);
    scn_free(&s);
    return rc;
}

static void main_sweep_progress(void *ctx, size_t done, size_t total)
{
    main_progress *p = ctx;
    main_progress_draw(p, (double)done / (double)total);
}

/* After the grids: every limiter of the scenario that has a sweep CSV in
 * `dir` (this run's or an earlier one's), judged together against the
 * targets: _points.csv, recommendation.txt and the recommendation printed. */
static int main_recommend(const scn_scenario *s, const char *dir, const tgt_targets *t, int quiet)
{
    rec_point *pts = NULL;
    size_t n = 0, cap = 0;
    char err[1024], path[4400];
    int rc = 0;
    for (size_t i = 0; i < s->n_limiters && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, s->limiters[i].name);
        if (access(path, F_OK) != 0) continue;
        if (rec_read_sweep(path, &pts, &n, &cap, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0 && n > 0) {
        rec_evaluate(t, pts, n);
        snprintf(path, sizeof path, "%s/_points.csv", dir);
        if (rec_write_points(path, t, pts, n, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0 && n > 0) {
        snprintf(path, sizeof path, "%s/recommendation.txt", dir);
        af_file out;
        if (af_open(&out, path, err, sizeof err) == 0) rec_print(out.f, t, pts, n);
        if (!out.f || af_commit(&out, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0 && n > 0 && !quiet) rec_print(stdout, t, pts, n);
    free(pts);
    return rc;
}

enum { SW_ALGO, SW_PARAMS, SW_TARGET, SW_OUT, SW_JOBS, SW_PLOTS, SW_QUIET };

static const cli_option main_sweep_options[] = {
    { "algo", "NAME", SW_ALGO, "the limiter (name or algorithm) to sweep, or all: each limiter on its own\n"
                               "\"sweep\" grid from the scenario (required)" },
    { "params", "SPEC", SW_PARAMS, "the grid of one limiter: 'rate=from:to:step capacity=a,b,c' (default: its own\n"
                                   "\"sweep\" grid in the scenario)" },
    { "target", "SPEC", SW_TARGET, "what the recommendation judges by, e.g. 'overload_s=0 drop_pct<=5 p99_ms<=200'\n"
                                   "(default: the scenario's \"targets\")" },
    { "out", "DIR", SW_OUT, "the sweep's directory (default results/<scenario>/sweep; when it is named sweep,\n"
                            "the page goes to its parent, the scenario's results directory)" },
    { "jobs", "N", SW_JOBS, "worker processes (default: the cores)" },
    { "plots", NULL, SW_PLOTS, "also draw the gnuplot heatmaps and Pareto plots into the sweep's plots/" },
    { "quiet", NULL, SW_QUIET, "no progress, no recommendation printed" },
};

static const cli_command main_sweep_command = {
    "sweep", "SCENARIO --algo NAME|all [options]",
    "Runs one limiter (or each) over a parameter grid: a CSV per limiter, the points judged against the\n"
    "targets, the Pareto front and a recommendation.",
    main_sweep_options, sizeof main_sweep_options / sizeof main_sweep_options[0], 1, 1,
    "exit status: 0 done, 1 run-time failure, 2 bad input or usage",
};

typedef struct {
    const char *algo, *params, *out, *target;
    long jobs;
    int quiet, plots;
} main_sweep_args;

static int main_sweep_option(void *ctx, int id, const char *v)
{
    main_sweep_args *a = ctx;
    switch (id) {
    case SW_ALGO: a->algo = v; return 0;
    case SW_PARAMS: a->params = v; return 0;
    case SW_TARGET: a->target = v; return 0;
    case SW_OUT: a->out = v; return 0;
    case SW_JOBS: return cli_long("jobs", v, 1, 64, &a->jobs);
    case SW_QUIET: a->quiet = 1; return 0;
    case SW_PLOTS: a->plots = 1; return 0;
    }
    return -1;
}

static int main_sweep(int argc, char **argv)
{
    char command[4096];
    cli_command_line(argc, argv, command, sizeof command);   /* before getopt reorders argv */
    main_sweep_args sa = { .jobs = sysconf(_SC_NPROCESSORS_ONLN) };
    int first, parsed = cli_parse(&main_sweep_command, argc, argv, main_sweep_option, &sa, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    char scenario[4096], why[2400];
    if (cli_find_scenario(argv[first], scenario, sizeof scenario, why, sizeof why) != 0) {
        fprintf(stderr, "ratelab: %s\n", why);
        return 2;
    }
    const char *algo = sa.algo, *params = sa.params, *out = sa.out, *target = sa.target;
    long jobs = sa.jobs;
    int quiet = sa.quiet;
    if (!algo) {
        fprintf(stderr, "ratelab sweep: --algo is required (a limiter's name or algorithm, or all)\n");
        return 2;
    }
    if (jobs < 1) jobs = 1;
    char err[1024];
    scn_scenario s;
    if (scn_load(scenario, NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return 2;
    }
    int all = strcmp(algo, "all") == 0, rc = 0;
    size_t swept = 0;
    if (all && params) {
        fprintf(stderr, "ratelab sweep: --algo all sweeps each limiter on its own \"sweep\" grid; --params is for one\n");
        scn_free(&s);
        return 2;
    }
    tgt_targets targets;
    if (!target) target = s.targets;
    if (tgt_parse(target, s.downstream.present, &targets, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: --target: %s\n", err);
        scn_free(&s);
        return 2;
    }
    char dir[4096], parent[4096] = "";
    out_results_dir(dir, sizeof dir, out, s.name, "sweep");
    /* A directory the user named must be new, empty or ratelab's, as a
     * run's must; the page goes beside a sweep/ only into a directory that
     * is ratelab's (or becomes it now). */
    size_t dl = strlen(dir);
    if (dl > 6 && strcmp(dir + dl - 6, "/sweep") == 0) {
        snprintf(parent, sizeof parent, "%.*s", (int)(dl - 6), dir);
        if (fs_results_target(parent, parent, sizeof parent, err, sizeof err) != 0) parent[0] = '\0';
    }
    if (out && fs_results_target(dir, dir, sizeof dir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: --out %s\n", err);
        scn_free(&s);
        return 2;
    }
    /* what this sweep creates, it removes if it is interrupted */
    struct stat st;
    int made_dir = lstat(dir, &st) != 0, made_parent = parent[0] && lstat(parent, &st) != 0;
    intr_block();   /* Ctrl-C and SIGTERM are polled: the workers are stopped, nothing half-made is left */
    out_sweep *done = calloc(s.n_limiters, sizeof *done);
    char (*grids)[256] = calloc(s.n_limiters, sizeof *grids);
    if (!done || !grids) {
        fprintf(stderr, "ratelab: out of memory\n");
        rc = 1;
    }
    for (size_t i = 0; i < s.n_limiters && rc == 0; i++) {
        const scn_limiter *l = &s.limiters[i];
        if (!all && strcmp(l->name, algo) != 0 && strcmp(l->entry->name, algo) != 0) continue;
        if (!all && swept) break;   /* the first limiter that matches */
        /* without --params, one limiter is swept on its own "sweep" grid too */
        const char *spec = all || !params ? l->sweep : params;
        if (!spec || !*spec) {
            if (all) continue;
            fprintf(stderr, "ratelab sweep: %s has no \"sweep\" grid in %s: give one with --params (e.g. --params "
                            "'rate=100:500:100')\n", l->name, scenario);
            rc = 2;
            break;
        }
        swp_grid g;
        if (swp_parse(spec, l, &g, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s: limiters[%zu] (%s): %s\n", scenario, i, l->name, err);
            rc = 2;
            break;
        }
        char csv[4400];
        snprintf(csv, sizeof csv, "%s/%s.csv", dir, l->name);
        main_progress progress = { .enabled = !quiet && isatty(STDERR_FILENO), .count = 1, .name = l->name };
        progress.started_ns = clk_mono_ns();
        int64_t t0 = clk_mono_ns();
        if (fs_mkdirs(dir) != 0) {
            fprintf(stderr, "ratelab: %s: cannot create: %s\n", dir, strerror(errno));
            rc = 1;
        } else if (out_mark_results(dir, err, sizeof err) != 0 || (parent[0] && out_mark_results(parent, err, sizeof err) != 0)) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        } else if (swp_run(&s, l, &g, (unsigned)jobs, csv, main_sweep_progress, &progress, err, sizeof err) != 0) {
            fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", err);
            rc = intr_requested(NULL) ? 130 : strncmp(err, "sweep point", 11) == 0 ? 2 : 1;
        } else {
            double seconds = (double)(clk_mono_ns() - t0) / 1e9;
            if (progress.drawn) fprintf(stderr, "\r%*s\r", 70, "");
            if (!quiet)
                printf("sweep %s (%s): %zu points on %ld worker(s) in %.2f s -> %s\n", l->name, l->entry->name,
                       g.n_points, jobs, seconds, csv);
            snprintf(grids[swept], sizeof grids[swept], "%s", spec);
            done[swept] = (out_sweep){ l->name, l->entry->name, grids[swept], g.n_points, seconds };
            swept++;
        }
        swp_free(&g);
    }
    if (rc == 0 && !swept) {
        if (all) fprintf(stderr, "ratelab sweep: no limiter in %s has a \"sweep\" grid\n", scenario);
        else fprintf(stderr, "ratelab sweep: no limiter or algorithm named '%s' in %s\n", algo, scenario);
        rc = 2;
    }
    if (rc == 0) {
        char path[4400];
        snprintf(path, sizeof path, "%s/_traffic.csv", dir);
        if (swp_write_traffic(&s, path, err, sizeof err) != 0 ||
            (snprintf(path, sizeof path, "%s/run.json", dir),
             out_write_sweep_run(path, &s, command, target, (unsigned)jobs, done, swept, err, sizeof err) != 0)) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0) rc = main_recommend(&s, dir, &targets, quiet);
    if (rc == 0 && sa.plots && plot_draw("sweep_plot.sh", dir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        rc = 1;
    }
    /* the page lives in the scenario's results directory, the sweep in its sweep/ */
    if (rc == 0 && parent[0]) {
        if (rep_write(parent, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        } else if (!quiet) {
            printf("report: %s/index.html\n", parent);
        }
    } else if (rc == 0 && !quiet && dl > 6 && strcmp(dir + dl - 6, "/sweep") == 0) {
        printf("report: not written beside the sweep: %.*s is not a ratelab results directory\n", (int)(dl - 6), dir);
    }
    if (rc == 130) {
        if (made_dir) fs_remove_tree(dir);
        if (made_parent) fs_remove_tree(parent);
    }
    free(done);
    free(grids);
    scn_free(&s);
    return rc;
}

static const cli_command main_report_command = {
    "report", "RESULTS_DIR",
    "Writes RESULTS_DIR/index.html again from the files in a results directory (of run, sweep or chaos).",
    NULL, 0, 1, 1, "exit status: 0 done, 1 the page cannot be written, 2 the directory holds no results (or ones that\n"
                   "cannot be read)",
};

static int main_no_option(void *ctx, int id, const char *v)
{
    (void)ctx, (void)id, (void)v;
    return -1;
}

static int main_report(int argc, char **argv)
{
    int first, parsed = cli_parse(&main_report_command, argc, argv, main_no_option, NULL, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    char err[1024];
    int rc = rep_write(argv[first], err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return rc == REP_BAD_INPUT ? 2 : 1;
    }
    printf("report: %s/index.html\n", argv[first]);
    return 0;
}

static const cli_command main_check_command = {
    "check", "LOG.csv...",
    "Runs the oracle on saved decision logs (ratelab run --log-decisions DIR): violations of each\n"
    "limiter's promise and, where an exact reference exists, decisions that differ from it.",
    NULL, 0, 1, -1, "exit status: 0 no violation, 1 a log with violations, 2 a log that cannot be read,\n"
                    "3 a log whose promise the oracle could not check (it says why; never counted as 0)",
};

static int main_check(int argc, char **argv)
{
    int first, parsed = cli_parse(&main_check_command, argc, argv, main_no_option, NULL, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    int broken = 0, unchecked = 0;
    for (int i = first; i < argc; i++) {
        orc_report r;
        char name[64], key[300], err[512];
        if (dlog_check(argv[i], &r, name, key, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            return 2;
        }
        printf("%s: %s: %llu decisions, %llu admitted, ", argv[i], name, (unsigned long long)r.offered,
               (unsigned long long)r.admitted);
        if (r.violations == (uint64_t)-1) printf("violations not checked (%s)", r.unchecked);
        else printf("%llu violations", (unsigned long long)r.violations);
        if (r.violations && r.violations != (uint64_t)-1)
            printf(" (worst: key %s, %.3f over between t=%.6f s and t=%.6f s)", key, r.worst_excess,
                   (double)r.worst_from_us / 1e6, (double)r.worst_to_us / 1e6);
        if (r.wrongly_allowed >= 0)
            printf(", vs the reference: %lld wrongly allowed, %lld wrongly blocked", (long long)r.wrongly_allowed,
                   (long long)r.wrongly_blocked);
        else if (r.unchecked[0] && r.violations != (uint64_t)-1)
            printf(", no exact reference (%s)", r.unchecked);
        printf("\n");
        broken += r.violations != 0 && r.violations != (uint64_t)-1;
        unchecked += r.violations == (uint64_t)-1;
    }
    return broken ? 1 : unchecked ? 3 : 0;
}

static const cli_option main_compare_options[] = {
    { "update", NULL, 0, "rewrite GOLDEN.csv from SUMMARY.csv instead of comparing" },
};

static const cli_command main_compare_command = {
    "compare", "SUMMARY.csv GOLDEN.csv [--update]",
    "Compares one run's summary with its accepted baseline, within each column's tolerance.",
    main_compare_options, 1, 2, 2, "exit status: 0 within tolerance, 1 drift, 2 a file that cannot be read",
};

static int main_compare_option(void *ctx, int id, const char *v)
{
    (void)id, (void)v;
    *(int *)ctx = 1;
    return 0;
}

static int main_compare(int argc, char **argv)
{
    int update = 0, first;
    int parsed = cli_parse(&main_compare_command, argc, argv, main_compare_option, &update, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    const char *files[2] = { argv[first], argv[first + 1] };
    char err[512];
    if (update) {
        if (gold_update(files[0], files[1], stdout, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            return 2;
        }
        return 0;
    }
    int problems = gold_compare(files[0], files[1], stdout, err, sizeof err);
    if (problems < 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return 2;
    }
    return problems ? 1 : 0;
}

static const cli_command main_list_command = {
    "list", "", "Every algorithm, what it promises, and its parameters with their defaults and ranges.",
    NULL, 0, 0, 0, NULL,
};

static int main_list(int argc, char **argv)
{
    int first, parsed = cli_parse(&main_list_command, argc, argv, main_no_option, NULL, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    for (size_t i = 0; lim_entries[i]; i++) {
        const lim_entry *o = lim_entries[i];
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

static int main_help(int argc, char **argv);

static const cli_command main_help_command = {
    "help", "[COMMAND]", "The commands, or one command's options.", NULL, 0, 0, 1, NULL,
};

/* Every command: its grammar (for help) and what runs it. */
typedef struct {
    const cli_command *(*grammar)(void);
    int (*run)(int argc, char **argv);
} main_command;

static const cli_command *main_run_cli(void) { return &main_run_command; }
static const cli_command *main_sweep_cli(void) { return &main_sweep_command; }
static const cli_command *main_report_cli(void) { return &main_report_command; }
static const cli_command *main_check_cli(void) { return &main_check_command; }
static const cli_command *main_compare_cli(void) { return &main_compare_command; }
static const cli_command *main_list_cli(void) { return &main_list_command; }
static const cli_command *main_help_cli(void) { return &main_help_command; }

static const main_command main_commands[] = {
    { main_run_cli, main_run },         { main_sweep_cli, main_sweep },  { main_report_cli, main_report },
    { main_check_cli, main_check },     { main_compare_cli, main_compare }, { main_list_cli, main_list },
    { chaos_cli, chaos_main },          { perf_cli, perf_main },         { perf_redis_cli, perf_redis_main },
    { main_help_cli, main_help },
};
#define MAIN_N_COMMANDS (sizeof main_commands / sizeof main_commands[0])

static void main_usage(FILE *f)
{
    fprintf(f, "usage: ratelab COMMAND [options]   (ratelab COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < MAIN_N_COMMANDS; i++) {
        const cli_command *c = main_commands[i].grammar();
        fprintf(f, "  %-11s %.*s\n", c->name, (int)strcspn(c->summary, "\n"), c->summary);
    }
    fprintf(f, "\n  ratelab --version   the version built\n"
               "exit status: 0 done, 1 run-time failure, 2 bad input or usage, 3 Redis unreachable, 130 interrupted\n");
}

static const main_command *main_find(const char *name)
{
    for (size_t i = 0; i < MAIN_N_COMMANDS; i++)
        if (strcmp(main_commands[i].grammar()->name, name) == 0) return &main_commands[i];
    return NULL;
}

static int main_unknown(const char *name)
{
    const char *names[MAIN_N_COMMANDS];
    for (size_t i = 0; i < MAIN_N_COMMANDS; i++) names[i] = main_commands[i].grammar()->name;
    const char *near = cli_suggest(name, names, MAIN_N_COMMANDS);
    fprintf(stderr, "ratelab: unknown command '%s'", name);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fprintf(stderr, " (ratelab help lists the commands)\n");
    return 2;
}

static int main_help(int argc, char **argv)
{
    int first, parsed = cli_parse(&main_help_command, argc, argv, main_no_option, NULL, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    if (first == argc) {
        main_usage(stdout);
        return 0;
    }
    const main_command *c = main_find(argv[first]);
    if (!c) return main_unknown(argv[first]);
    cli_help(stdout, c->grammar());
    return 0;
}

int main(int argc, char **argv)
{
    /* hiredis's blocking API writes with write(): a server that went away
     * must be an error the run counts and survives, not a SIGPIPE that
     * kills it with nothing written and nothing cleaned up. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) { main_usage(stderr); return 2; }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) { main_usage(stdout); return 0; }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 || strcmp(name, "version") == 0) {
        printf("ratelab %s\n", cli_version());
        return 0;
    }
    const main_command *c = main_find(name);
    if (!c) {
        if (name[0] == '-') {
            fprintf(stderr, "ratelab: '%s' before a command: options follow it (ratelab run SCENARIO %s ...)\n", name,
                    name);
            return 2;
        }
        return main_unknown(name);
    }
    return c->run(argc - 1, argv + 1);
}
