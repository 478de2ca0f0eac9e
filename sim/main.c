/*
 * main.c -- the ratelab command line. Parses arguments, loads the scenario,
 * runs each limiter on each backend, writes results. Exit status: 0 done,
 * 1 a run-time failure (memory, disk), 2 bad input or usage (nothing
 * written), 3 Redis unreachable, 130 interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
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
#include "fsutil.h"
#include "generator.h"
#include "interrupt.h"
#include "golden.h"
#include "chaos.h"
#include "output.h"
#include "queue_output.h"
#include "perf.h"
#include "realtime.h"
#include "recommend.h"
#include "redis_server.h"
#include "report.h"
#include "redis_url.h"
#include "runner.h"
#include "scenario.h"
#include "sweep.h"

#define MAIN_MAX_SETS 64
#define MAIN_SERIES_BUDGET (8.0 * (1 << 30))   /* per-tick series kept until the results are written */
#define MAIN_OUTPUT_BUDGET (4.0 * (1 << 30))   /* timeseries.csv */
#define MAIN_BYTES_PER_ROW 90.0                /* a timeseries.csv row, about */

static void main_usage(FILE *f)
{
    fputs("usage: ratelab run SCENARIO.json [--out DIR] [--only NAMES] [--set LIMITER.PARAM=VALUE]...\n"
          "                   [--backend memory|redis|cluster,...] [--cluster MxR] [--redis-url URL] [--pipeline N]\n"
          "                   [--on-error allow|deny] [--redis-timeout-ms N] [--run-id ID]\n"
          "                   [--mode virtual|realtime] [--clients N] [--speed X] [--clock client|server]\n"
          "                   [--skew-ms S]\n"
          "                   [--latency-sample N] [--quiet]\n"
          "       ratelab list             algorithms and their parameters\n"
          "       ratelab compare SUMMARY.csv GOLDEN.csv [--update]   a run against its accepted baseline\n"
          "       ratelab check LOG.csv...   the oracle on saved decision logs (--log-decisions)\n"
          "       ratelab sweep SCENARIO.json --algo NAME|all [--params 'p=from:to:step q=a,b'] [--target SPEC] [--jobs N]\n"
          "       ratelab report DIR       DIR/index.html from a results directory (run and sweep)\n"
          "       ratelab chaos SCENARIO.json [--kills N] [--restarts M]   its queues under faults\n"
          "       ratelab perf [--quick]   decision and simulation speed per algorithm\n"
          "       ratelab perf-redis [--quick]  the Lua twins' speed on Redis beside redis-benchmark\n"
          "\n"
          "  --out DIR            results directory (default results/<scenario name>)\n"
          "  --only NAMES         comma-separated limiter names or algorithms to run\n"
          "  --set L.P=V          override parameter P of limiter (or algorithm) L\n"
          "  --backend B          memory (default), redis, cluster (a Redis Cluster), or several: memory,redis\n"
          "  --redis-url URL      redis://[user:password@]host:port[/db] or unix:///path[?db=N] for redis,\n"
          "                       redis+cluster://host:port (any node) for cluster; default $REDIS_URL,\n"
          "                       else a private redis-server (or cluster) on free ports\n"
          "  --cluster MxR        the private cluster: M masters, R replicas of each (default 3x1)\n"
          "  --cluster-fault F    on the private cluster, in each pass (repeatable): kill-master@T (kill -9\n"
          "                       the hot slot's master at scenario second T) or reshard@T:N (move N slots)\n"
          "  --pipeline N         requests per Redis round trip (default 64)\n"
          "  --on-error P         when Redis fails a request: allow (fail open) or deny (default)\n"
          "  --redis-timeout-ms N connect and command timeout (default 2000)\n"
          "  --redis-wait-s N     virtual mode: wait out a lost connection this long before deciding\n"
          "                       by --on-error (default 30; 0: never wait)\n"
          "  --run-id ID          the run's key prefix ratelab:ID-<limiter>:{key} (default random)\n"
          "  --mode M             virtual (default: as fast as possible, on scenario time) or realtime\n"
          "                       (Redis only: paced on the wall clock by concurrent clients)\n"
          "  --clients N          realtime: client threads, one connection each (default 1)\n"
          "  --speed X            realtime: scenario seconds per wall second (default 1)\n"
          "  --clock C            realtime: decide at the client's clock (default) or the server's TIME\n"
          "  --skew-ms S          realtime: client clocks spread over [-S, +S] ms\n"
          "  --latency-sample N   memory: time one decision in N (a power of two; default 16)\n"
          "  --log-decisions DIR  write every decision to DIR/<limiter>.<backend>.csv (ratelab check reads it)\n"
          "  --quiet              no table, no progress bar\n"
          "exit status: 0 done, 1 run-time failure, 2 bad input or usage, 3 Redis unreachable, 130 interrupted\n", f);
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
    int64_t now = clk_mono_ns();
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
        /* quoted when the shell would split it, so the line can be run again */
        int plain = argv[i][0] && !argv[i][strcspn(argv[i], " \t\"'$*?<>|&;()\\")];
        int w = snprintf(buf + used, len - used, plain ? "%s%s" : "%s'%s'", i ? " " : "", argv[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static double main_clock_overhead(void)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < 1000; i++) {
        int64_t a = clk_mono_ns(), b = clk_mono_ns();
        if (b - a < best) best = b - a;
    }
    return (double)best;
}

typedef struct {
    const char *scenario, *out, *only, *redis_url, *run_id, *log_dir;
    const char *sets[MAIN_MAX_SETS];
    size_t n_sets;
    unsigned sample;
    int quiet, use_memory, use_redis, use_cluster, on_error_allow, backend_given;
    const char *cluster_spec;
    cfault_spec faults[CFAULT_MAX];
    size_t n_faults;
    long pipeline, timeout_ms, outage_wait_s;
    int realtime, server_clock;
    long clients;
    double speed, skew_ms;
} main_args;

static int main_double(const char *opt, const char *text, double min, double max, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (*text == '\0' || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "ratelab: %s: '%s' is not a number from %g to %g\n", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int main_long(const char *opt, const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end || v < min || v > max) {
        fprintf(stderr, "ratelab: %s: '%s' is not a whole number from %ld to %ld\n", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int main_parse_run(int argc, char **argv, main_args *a)
{
    *a = (main_args){ .sample = 16, .use_memory = 1, .pipeline = 64, .timeout_ms = 2000, .outage_wait_s = 30, .clients = 1, .speed = 1 };
    a->redis_url = getenv("REDIS_URL");
    if (a->redis_url && !*a->redis_url) a->redis_url = NULL;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long num;
        if (v && strcmp(o, "--out") == 0) a->out = argv[++i];
        else if (v && strcmp(o, "--only") == 0) a->only = argv[++i];
        else if (v && strcmp(o, "--set") == 0) {
            if (a->n_sets == MAIN_MAX_SETS) { fprintf(stderr, "ratelab: at most %d --set\n", MAIN_MAX_SETS); return -1; }
            a->sets[a->n_sets++] = argv[++i];
        } else if (v && strcmp(o, "--backend") == 0) {
            i++;
            a->backend_given = 1;
            a->use_memory = a->use_redis = a->use_cluster = 0;
            for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");
                int *use = n == 6 && strncmp(p, "memory", 6) == 0    ? &a->use_memory
                           : n == 5 && strncmp(p, "redis", 5) == 0   ? &a->use_redis
                           : n == 7 && strncmp(p, "cluster", 7) == 0 ? &a->use_cluster : NULL;
                if (!use || *use) {
                    fprintf(stderr, "ratelab: --backend: '%s' is not a list of memory, redis and cluster, each once\n",
                            v);
                    return -1;
                }
                *use = 1;
                p += n + (p[n] == ',');
            }
            if (!a->use_memory && !a->use_redis && !a->use_cluster) {
                fprintf(stderr, "ratelab: --backend: '%s' names no backend\n", v);
                return -1;
            }
        } else if (v && strcmp(o, "--redis-url") == 0) a->redis_url = argv[++i];
        else if (v && strcmp(o, "--cluster") == 0) a->cluster_spec = argv[++i];
        else if (v && strcmp(o, "--cluster-fault") == 0) {
            char err[300];
            if (a->n_faults == CFAULT_MAX) { fprintf(stderr, "ratelab: at most %d --cluster-fault\n", CFAULT_MAX); return -1; }
            if (cfault_parse(argv[++i], &a->faults[a->n_faults++], err, sizeof err) != 0) {
                fprintf(stderr, "ratelab: %s\n", err);
                return -1;
            }
        }
        else if (v && strcmp(o, "--log-decisions") == 0) a->log_dir = argv[++i];
        else if (v && strcmp(o, "--mode") == 0) {
            i++;
            if (strcmp(v, "virtual") != 0 && strcmp(v, "realtime") != 0) {
                fprintf(stderr, "ratelab: --mode: '%s' is not virtual or realtime\n", v);
                return -1;
            }
            a->realtime = strcmp(v, "realtime") == 0;
        } else if (v && strcmp(o, "--clock") == 0) {
            i++;
            if (strcmp(v, "client") != 0 && strcmp(v, "server") != 0) {
                fprintf(stderr, "ratelab: --clock: '%s' is not client or server\n", v);
                return -1;
            }
            a->server_clock = strcmp(v, "server") == 0;
        } else if (v && strcmp(o, "--clients") == 0) {
            if (main_long(o, argv[++i], 1, RT_MAX_CLIENTS, &a->clients) != 0) return -1;
        } else if (v && strcmp(o, "--speed") == 0) {
            if (main_double(o, argv[++i], 1e-3, 1e6, &a->speed) != 0) return -1;
        } else if (v && strcmp(o, "--skew-ms") == 0) {
            if (main_double(o, argv[++i], 0, 3.6e6, &a->skew_ms) != 0) return -1;
        }
        else if (v && strcmp(o, "--run-id") == 0) {
            a->run_id = argv[++i];
            size_t n = strspn(a->run_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            if (n == 0 || a->run_id[n] || n > 32) {
                fprintf(stderr, "ratelab: --run-id: '%s' must be 1 to 32 letters, digits or _\n", a->run_id);
                return -1;
            }
        } else if (v && strcmp(o, "--pipeline") == 0) {
            if (main_long(o, argv[++i], 1, 1024, &a->pipeline) != 0) return -1;
        } else if (v && strcmp(o, "--redis-timeout-ms") == 0) {
            if (main_long(o, argv[++i], 10, 600000, &a->timeout_ms) != 0) return -1;
        } else if (v && strcmp(o, "--redis-wait-s") == 0) {
            if (main_long(o, argv[++i], 0, 3600, &a->outage_wait_s) != 0) return -1;
        } else if (v && strcmp(o, "--on-error") == 0) {
            i++;
            if (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0) {
                fprintf(stderr, "ratelab: --on-error: '%s' is not allow or deny\n", v);
                return -1;
            }
            a->on_error_allow = strcmp(v, "allow") == 0;
        } else if (v && strcmp(o, "--latency-sample") == 0) {
            if (main_long(o, argv[++i], 1, 1 << 20, &num) != 0 || (num & (num - 1))) {
                fprintf(stderr, "ratelab: --latency-sample: '%s' is not a power of two from 1 to 1048576\n", argv[i]);
                return -1;
            }
            a->sample = (unsigned)num;
        } else if (strcmp(o, "--quiet") == 0) a->quiet = 1;
        else if (o[0] == '-') {
            fprintf(stderr, "ratelab: unknown option or missing value: %s\n", o);
            main_usage(stderr);
            return -1;
        } else if (!a->scenario) a->scenario = o;
        else { fprintf(stderr, "ratelab: one scenario at a time (got %s and %s)\n", a->scenario, o); return -1; }
    }
    if (!a->scenario) { main_usage(stderr); return -1; }
    if (a->n_faults && !a->use_cluster) {
        fprintf(stderr, "ratelab: --cluster-fault needs --backend cluster\n");
        return -1;
    }
    if (a->realtime) {
        if (a->backend_given && a->use_memory) {
            fprintf(stderr, "ratelab: --mode realtime runs on Redis only: use --backend redis or cluster\n");
            return -1;
        }
        a->use_memory = 0;
        if (!a->use_cluster) a->use_redis = 1;
        if (a->server_clock && a->speed != 1) {
            fprintf(stderr, "ratelab: --clock server runs at the wall's speed: use --speed 1, or the client clock "
                            "(which runs at the scenario's time, wall time x speed)\n");
            return -1;
        }
    } else if (a->clients != 1 || a->speed != 1 || a->server_clock || a->skew_ms != 0) {
        fprintf(stderr, "ratelab: --clients, --speed, --clock and --skew-ms need --mode realtime\n");
        return -1;
    }
    return 0;
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
    main_args a;
    if (main_parse_run(argc, argv, &a) != 0) return 2;

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
    if (a.realtime && rt_supports(&s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s: %s\n", a.scenario, err);
        scn_free(&s);
        return 2;
    }
    intr_block();
    rurl url = { 0 };
    int masters = 3, replicas = 1;
    if ((a.use_redis || a.use_cluster) && a.redis_url &&
        (rurl_parse(a.redis_url, &url, err, sizeof err) != 0 || main_url_fits(&a, &url, err, sizeof err) != 0)) {
        fprintf(stderr, "ratelab: %s\n", err);
        scn_free(&s);
        return 2;
    }
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
                rc = 3;
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
    run_options ropt = { main_progress_draw, intr_requested, &progress, NULL };
    for (size_t i = 0; i < s.n_limiters; i++) {
        for (size_t b = 0; b < n_backends; b++) {
            progress.index = n_results;
            progress.name = s.limiters[i].name;
            rt_options rto = { (unsigned)a.clients, a.speed, a.server_clock, a.skew_ms, a.on_error_allow };
            ropt.log = NULL;
            bred *on_redis = red && backends[b].ctx == (void *)red   ? red
                             : clu && backends[b].ctx == (void *)clu ? clu : NULL;
            if (a.log_dir && drv_decides(&s.limiters[i])) {
                if (!(ropt.log = dlog_open(&logs[n_logs], a.log_dir, &s.limiters[i], backends[b].name, err,
                                           sizeof err))) {
                    fprintf(stderr, "ratelab: %s\n", err);
                    rc = 1;
                    goto done;
                }
                n_logs++;
            }
            drv_target target = { &backends[b], on_redis, a.realtime ? &rto : NULL,
                                  on_redis && on_redis == clu ? &queue_cluster : &queue_redis };
            int failed = drv_run(&s, g, &s.limiters[i], &target, &ropt, &results[n_results], err, sizeof err);
            if (results[n_results].note[0])   /* what the backend said of the pass, failed or not */
                fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", results[n_results].note);
            if (failed) {
                fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", err);
                rc = intr_requested(&progress) ? 130 : 1;
                goto done;
            }
            n_results++;
        }
    }
    if (progress.drawn) fprintf(stderr, "\r%*s\r", 70, "");
    char command[2048];
    main_command_line(argc, argv, command, sizeof command);
    char backend_names[40] = "";
    for (size_t b = 0; b < n_backends; b++)
        snprintf(backend_names + strlen(backend_names), sizeof backend_names - strlen(backend_names), "%s%s",
                 b ? "," : "", backends[b].name);
    char mode[200] = "virtual";
    if (a.realtime) {
        int fleets = 0;
        for (size_t i = 0; i < s.n_limiters; i++) fleets |= s.limiters[i].fleet != NULL;
        snprintf(mode, sizeof mode, "realtime: %ld clients%s, speed %g, %s clock, skew +-%g ms%s", a.clients,
                 fleets ? " (a fleet: one per node)" : "", a.speed, a.server_clock ? "server" : "client", a.skew_ms,
                 a.server_clock ? "" : "; limiters decide at the scenario's time (wall time since start x speed)");
    }
    char servers[700];
    snprintf(servers, sizeof servers, "%s%s%s", where, where[0] && cluster_where[0] ? "; " : "", cluster_where);
    int on_redis = a.use_redis || a.use_cluster;
    out_context ctx = { backend_names, on_redis ? servers : NULL, on_redis ? run_id : NULL, mode, command,
                        a.sample, main_clock_overhead() };
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
    out_print_violations(stderr, &s, results, n_results);
    if (!a.quiet) {
        out_print_table(stdout, &s, results, n_results);
        qout_print(stdout, results, n_results);
        cout_print(stdout, results, n_results);
        if (on_redis) printf("redis: %s, %s%s, keys ratelab:%s-<limiter>:{key}, deleted\n", servers,
                                a.realtime ? mode : "virtual mode (pipelined)",
                                qout_any(results, n_results) ? "; queues on the wall clock" : "", run_id);
        printf("results: %s/{summary.csv,timeseries.csv,accuracy.csv,run.json%s%s%s%s%s}\n", outdir,
               qout_any(results, n_results) ? ",queue.csv" : "", s.clients.n ? ",tts.csv" : "",
               out_any_fleet(results, n_results) ? ",fleet_nodes.csv" : "",
               cout_any(results, n_results) ? ",cluster_nodes.csv" : "",
               cout_any_fault(results, n_results) ? ",cluster_faults.csv" : "");
    }
done:
    for (size_t i = 0; i < n_logs; i++) dlog_close(&logs[i], 0, err, sizeof err);
    free(logs);
    for (size_t i = 0; i < n_results; i++) run_result_free(&results[i]);
    free(results);
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

/* ratelab sweep SCENARIO.json --algo NAME|all [--params SPEC] [--target SPEC] [--jobs N] [--out DIR] [--quiet] */
static int main_sweep(int argc, char **argv)
{
    const char *scenario = NULL, *algo = NULL, *params = NULL, *out = NULL, *target = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int quiet = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(o, "--algo") == 0) algo = argv[++i];
        else if (v && strcmp(o, "--params") == 0) params = argv[++i];
        else if (v && strcmp(o, "--target") == 0) target = argv[++i];
        else if (v && strcmp(o, "--out") == 0) out = argv[++i];
        else if (v && strcmp(o, "--jobs") == 0) { if (main_long(o, argv[++i], 1, 64, &jobs) != 0) return 2; }
        else if (strcmp(o, "--quiet") == 0) quiet = 1;
        else if (o[0] != '-' && !scenario) scenario = o;
        else {
            fprintf(stderr, "usage: ratelab sweep SCENARIO.json --algo NAME|all [--params 'p=from:to:step q=a,b'] "
                            "[--target 'drop_pct<=5 ...'] [--jobs N] [--out DIR]\n");
            return 2;
        }
    }
    if (!scenario || !algo) {
        fprintf(stderr, "ratelab sweep: SCENARIO.json and --algo are required\n");
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
    char dir[4096];
    out_results_dir(dir, sizeof dir, out, s.name, "sweep");
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
        const char *spec = all ? l->sweep : params;
        if (!spec || !*spec) {
            if (all) continue;
            fprintf(stderr, "ratelab sweep: --params is required (e.g. --params 'rate=100:500:100')\n");
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
        } else if (swp_run(&s, l, &g, (unsigned)jobs, csv, main_sweep_progress, &progress, err, sizeof err) != 0) {
            fprintf(stderr, "%sratelab: %s\n", progress.drawn ? "\n" : "", err);
            rc = strncmp(err, "sweep point", 11) == 0 ? 2 : 1;
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
        char path[4400], command[4096];
        main_command_line(argc, argv, command, sizeof command);
        snprintf(path, sizeof path, "%s/_traffic.csv", dir);
        if (swp_write_traffic(&s, path, err, sizeof err) != 0 ||
            (snprintf(path, sizeof path, "%s/run.json", dir),
             out_write_sweep_run(path, &s, command, target, (unsigned)jobs, done, swept, err, sizeof err) != 0)) {
            fprintf(stderr, "ratelab: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0) rc = main_recommend(&s, dir, &targets, quiet);
    free(done);
    free(grids);
    scn_free(&s);
    return rc;
}

/* ratelab report DIR */
static int main_report(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ratelab report RESULTS_DIR   (writes RESULTS_DIR/index.html)\n");
        return 2;
    }
    char err[1024];
    if (rep_write(argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "ratelab: %s\n", err);
        return 1;
    }
    printf("report: %s/index.html\n", argv[2]);
    return 0;
}

/* ratelab check LOG.csv... */
static int main_check(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: ratelab check LOG.csv...\n"); return 2; }
    int broken = 0;
    for (int i = 2; i < argc; i++) {
        orc_report r;
        char name[64], key[300], err[512];
        if (dlog_check(argv[i], &r, name, key, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab: %s\n", err);
            return 2;
        }
        printf("%s: %s: %llu decisions, %llu admitted, %llu violations", argv[i], name, (unsigned long long)r.offered,
               (unsigned long long)r.admitted, (unsigned long long)r.violations);
        if (r.violations)
            printf(" (worst: key %s, %.3f over between t=%.6f s and t=%.6f s)", key, r.worst_excess,
                   (double)r.worst_from_us / 1e6, (double)r.worst_to_us / 1e6);
        if (r.wrongly_allowed >= 0)
            printf(", vs the reference: %lld wrongly allowed, %lld wrongly blocked", (long long)r.wrongly_allowed,
                   (long long)r.wrongly_blocked);
        printf("\n");
        broken += r.violations != 0;
    }
    return broken ? 1 : 0;
}

/* ratelab compare SUMMARY.csv GOLDEN.csv [--update] */
static int main_compare(int argc, char **argv)
{
    const char *files[2] = { NULL, NULL };
    int update = 0, n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--update") == 0) update = 1;
        else if (n < 2 && argv[i][0] != '-') files[n++] = argv[i];
        else { fprintf(stderr, "usage: ratelab compare SUMMARY.csv GOLDEN.csv [--update]\n"); return 2; }
    }
    if (n != 2) { fprintf(stderr, "usage: ratelab compare SUMMARY.csv GOLDEN.csv [--update]\n"); return 2; }
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

static int main_list(void)
{
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

int main(int argc, char **argv)
{
    /* hiredis's blocking API writes with write(): a server that went away
     * must be an error the run counts and survives, not a SIGPIPE that
     * kills it with nothing written and nothing cleaned up. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) { main_usage(stderr); return 2; }
    if (strcmp(argv[1], "run") == 0) return main_run(argc, argv);
    if (strcmp(argv[1], "list") == 0) return main_list();
    if (strcmp(argv[1], "compare") == 0) return main_compare(argc, argv);
    if (strcmp(argv[1], "check") == 0) return main_check(argc, argv);
    if (strcmp(argv[1], "sweep") == 0) return main_sweep(argc, argv);
    if (strcmp(argv[1], "report") == 0) return main_report(argc, argv);
    if (strcmp(argv[1], "chaos") == 0) return chaos_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "perf") == 0) return perf_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "perf-redis") == 0) return perf_redis_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) { main_usage(stdout); return 0; }
    fprintf(stderr, "ratelab: unknown command '%s'\n", argv[1]);
    main_usage(stderr);
    return 2;
}
