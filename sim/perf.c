/* perf.c -- see perf.h. */
#define _GNU_SOURCE
#include "perf.h"
#include "redis_bounded.h"
#include "cli.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../algorithms/keystore.h"
#include "atomicfile.h"
#include "fsutil.h"
#include "output.h"
#include "backend_memory.h"
#include "backend_redis.h"
#include "evloop.h"
#include "redis_scripts.h"
#include "redis_server.h"
#include "generator.h"
#include "realtime.h"
#include "runner.h"
#include "scenario.h"

/* The registry's perf cases in order (limiter.h lim_perf_case): the
 * algorithm, its case, and the label printed. */
typedef struct {
    const lim_ops *ops;
    const lim_perf_case *c;
    char label[64];
} perf_case;

/* Fills out[] (at most max) from the registry; returns how many. */
static size_t perf_cases(perf_case *out, size_t max, const char *only)
{
    size_t n = 0;
    for (size_t i = 0; lim_registry[i]; i++) {
        if (only && strcmp(lim_registry[i]->name, only) != 0) continue;
        for (const lim_perf_case *c = lim_registry[i]->facts.perf; c && c->one_key && n < max; c++, n++) {
            out[n] = (perf_case){ lim_registry[i], c, "" };
            snprintf(out[n].label, sizeof out[n].label, "%s%s%s", lim_registry[i]->name, c->variant ? " " : "",
                     c->variant ? c->variant : "");
        }
    }
    return n;
}

/* The limiter's JSON members for one case: the algorithm, then the case's own. */
static void perf_limiter_json(const perf_case *p, int many_keys, char *buf, size_t len)
{
    snprintf(buf, len, "\"algorithm\":\"%s\",%s", p->ops->name, many_keys ? p->c->many_keys : p->c->one_key);
}

/* Writes a one-limiter scenario (with a "clients" section when clients is
 * not "") to a temporary file and loads it. */
static int perf_scenario_with(const char *limiter, unsigned keys, double requests, double duration_s,
                              const char *clients, scn_scenario *s)
{
    char path[] = "/tmp/ratelab-perf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(path); return -1; }
    fprintf(f, "{\"name\":\"perf\",\"duration_s\":%.0f,\"seed\":7,\"tick_ms\":10,"
               "\"phases\":[{\"shape\":\"constant\",\"start_s\":0,\"end_s\":%.0f,\"rate\":%.0f}],"
               "\"keys\":{\"count\":%u,\"distribution\":\"zipf\",\"exponent\":1.0},%s%s"
               "\"limiters\":[{%s}]}", duration_s, duration_s, requests / duration_s, keys, *clients ? "\"clients\":" : "", *clients ? clients : "",
            limiter);
    fclose(f);
    char err[512];
    int rc = scn_load(path, NULL, s, err, sizeof err);
    unlink(path);
    if (rc != 0) fprintf(stderr, "ratelab perf: %s\n", err);
    return rc;
}

static int perf_scenario(const char *limiter, unsigned keys, double requests, scn_scenario *s)
{
    return perf_scenario_with(limiter, keys, requests, 1, "", s);
}

static int perf_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double perf_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, perf_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per decision: store lookup + decide over requests generated beforehand. */
static double perf_min(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m) m = v[i];
    return m;
}

static double perf_decide_ns(const scn_scenario *s, const gen_request *reqs, size_t n)
{
    const scn_limiter *l = &s->limiters[0];
    ks_store *store = ks_create(kspace_count(s->keys), l->cfg.state_size);
    if (!store) return -1;
    lim_decision d;
    uint64_t admitted = 0;
    int64_t t0 = clk_mono_ns();
    for (size_t i = 0; i < n; i++) {
        int is_new;
        void *state = ks_get(store, reqs[i].key, &is_new);
        l->ops->decide(&l->cfg, state, is_new, reqs[i].t_us, reqs[i].cost, &d);
        admitted += (uint64_t)d.allowed;
    }
    int64_t t1 = clk_mono_ns();
    ks_destroy(store);
    /* the admitted count keeps the loop from being optimized away */
    return admitted <= n ? (double)(t1 - t0) / (double)n : -1;
}

/* One pass in memory: wall seconds, and what it offered and kept pending. */
static int perf_pass(const scn_scenario *s, double *wall_s, uint64_t *offered, uint64_t *intents, uint64_t *pending)
{
    gen *g = gen_create(s);
    run_backend mem;
    bmem *m = bmem_create(16, &mem);
    run_result res;
    char err[256] = "out of memory";
    run_options opt = { NULL, NULL, NULL, NULL };
    int rc = g && m ? run_limiter(s, g, &s->limiters[0], &mem, &opt, &res, err, sizeof err) : -1;
    if (rc != 0) fprintf(stderr, "ratelab perf: %s\n", err);
    else {
        *wall_s = res.summary.wall_s;
        *offered = res.summary.offered;
        *intents = res.clients.intents;
        *pending = res.clients.peak_pending;
        run_result_free(&res);
    }
    bmem_destroy(m);
    gen_destroy(g);
    return rc;
}

/* Clients who come back against the same number of open-loop requests,
 * over 100 s, one pass of each in turn: what the retries cost is the event
 * queue's and the client model's. */
static int perf_clients(double attempts, int reps)
{
    const double duration_s = 100;
    const char *limiter = "\"algorithm\":\"token_bucket\",\"scope\":\"global\",\"rate\":%.0f,\"capacity\":1000";
    const char *clients = "[{\"weight\":1,\"retry\":{\"max_attempts\":4,\"backoff\":\"exponential\","
                          "\"base_ms\":20,\"cap_ms\":200,\"jitter\":\"full\"}}],";
    /* intents at twice the rate: about half refused, some of them several times */
    double intents = attempts / 2.2;
    char lim[300];
    snprintf(lim, sizeof lim, limiter, intents / 2 / duration_s);
    scn_scenario closed, open;
    if (perf_scenario_with(lim, 1000, intents, duration_s, clients, &closed) != 0) return 1;
    double wall[2][9];
    uint64_t offered[2] = { 0, 0 }, firsts = 0, pending = 0, ignored;
    if (perf_pass(&closed, &wall[0][0], &offered[0], &firsts, &pending) != 0) return 1;
    if (perf_scenario_with(lim, 1000, (double)offered[0], duration_s, "", &open) != 0) return 1;
    for (int r = 0; r < reps; r++) {
        uint64_t o;
        if ((r > 0 && perf_pass(&closed, &wall[0][r], &o, &ignored, &ignored) != 0) ||
            perf_pass(&open, &wall[1][r], &offered[1], &ignored, &ignored) != 0)
            return 1;
    }
    double with = perf_median(wall[0], reps) / (double)offered[0] * 1e9;
    double without = perf_median(wall[1], reps) / (double)offered[1] * 1e9;
    printf("\nclients who come back (token_bucket, one global key, %.0f s, median of %d interleaved passes):\n",
           duration_s, reps);
    printf("  %llu attempts of %llu intents: %.1f ns per attempt; %llu open-loop requests: %.1f ns per request; "
           "ratio %.2f\n", (unsigned long long)offered[0], (unsigned long long)firsts, with,
           (unsigned long long)offered[1], without, with / without);
    printf("  peak pending retries %llu: %.1f KiB of event queue at %zu B each, and its ring's %.0f KiB\n",
           (unsigned long long)pending, (double)pending * (double)EVL_BYTES_PER_EVENT / 1024, EVL_BYTES_PER_EVENT,
           (double)EVL_RING_BYTES / 1024);
    scn_free(&closed);
    scn_free(&open);
    return 0;
}

typedef struct {
    int quick;
    const char *only;   /* an algorithm's name, or NULL: all */
} perf_settings;

enum { PERF_OPT_QUICK, PERF_OPT_ONLY };

static int perf_option(void *ctx, int id, const char *value)
{
    perf_settings *ps = ctx;
    if (id == PERF_OPT_QUICK) ps->quick = 1;
    else if (!lim_find(value)) {
        fprintf(stderr, "ratelab perf: --only: no algorithm named '%s'\n", value);
        return -1;
    } else ps->only = value;
    return 0;
}

static const cli_option perf_options[] = {
    { "quick", NULL, PERF_OPT_QUICK, "a short run: fewer requests and repetitions" },
    { "only", "ALGORITHM", PERF_OPT_ONLY, "only this algorithm's cases (token_bucket, gcra, ...)" },
};

static const cli_command perf_command = {
    "perf", "[--quick] [--only ALGORITHM]",
    "Decision and end-to-end simulation speed of every algorithm in memory, on one key and on 1M Zipf keys.",
    perf_options, 2, 0, 0, NULL,
};

static const cli_command perf_redis_command = {
    "perf-redis", "[--quick] [--only ALGORITHM]",
    "Each Lua twin's decisions/s on a private redis-server at pipeline depth 1 and 64, beside\n"
    "redis-benchmark, then a Redis Cluster beside one node.",
    perf_options, 2, 0, 0, "exit status: 0 done, 2 usage, 3 no redis-server",
};

const cli_command *perf_cli(void)
{
    return &perf_command;
}

const cli_command *perf_redis_cli(void)
{
    return &perf_redis_command;
}

int perf_main(int argc, char **argv)
{
    perf_settings ps = { 0, NULL };
    int first;
    int parsed = cli_parse(&perf_command, argc, argv, perf_option, &ps, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    int quick = ps.quick;
    const char *only = ps.only;
    const double requests = quick ? 2e6 : 2e7;
    const int reps = quick ? 3 : 5;
    const unsigned keysets[] = { 1, 1000000 };
    char cpu[256];
    out_cpu_model(cpu, sizeof cpu);
    double load[3] = { 0, 0, 0 };
    getloadavg(load, 3);
    printf("ratelab perf: %.0f requests per run, median and minimum of %d runs%s\n", requests, reps,
           quick ? " (--quick)" : "");
    printf("on %s, %ld cores online, load average %.2f %.2f %.2f at the start\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
           load[0], load[1], load[2]);
    printf("end to end = generator, store, decision, oracle and metrics per request, on this thread's CPU clock (what "
           "another process cannot inflate) and on the wall clock; once = what a run spends outside its requests (allocating "
           "and faulting in its store and oracle, its report, freeing), which a virtual machine's host can slow many times over\n");
    printf("%-24s %9s %12s %12s %12s %12s %12s %10s %10s\n", "algorithm", "keys", "decide ns", "e2e cpu ns", "min ns",
           "cpu Mreq/s", "wall Mreq/s", "once ms", "B/key");
    perf_case cases[64];
    size_t n_cases = perf_cases(cases, sizeof cases / sizeof cases[0], only);
    int tty = isatty(STDERR_FILENO);
    af_file csv = { .f = NULL };
    char err[512];
    if (fs_mkdirs("results/perf") != 0 || af_open(&csv, "results/perf/perf.csv", err, sizeof err) != 0) {
        fprintf(stderr, "ratelab perf: results/perf/perf.csv: cannot write it (%s)\n", err);
        return 1;
    }
    fprintf(csv.f, "# ratelab perf: %.0f requests per run, %d runs; %s; load %.2f %.2f %.2f\n", requests, reps, cpu,
            load[0], load[1], load[2]);
    fprintf(csv.f, "algorithm,keys,decide_ns_median,e2e_cpu_ns_median,e2e_cpu_ns_min,e2e_wall_ns_median,"
                   "e2e_wall_ns_min,cpu_mreq_per_s,wall_mreq_per_s,once_cpu_ms_median,state_bytes,bytes_per_key\n");
    for (size_t c = 0; c < n_cases; c++) {
        for (size_t k = 0; k < 2; k++) {
            /* where the run is, between rows that take a while (1M keys) */
            if (tty) fprintf(stderr, "\rperf [%zu/%zu] %s on %u key(s)...%10s\r", c * 2 + k + 1, n_cases * 2,
                             cases[c].label, keysets[k], "");
            scn_scenario s;
            char limiter[400];
            perf_limiter_json(&cases[c], k == 1, limiter, sizeof limiter);
            if (perf_scenario(limiter, keysets[k], requests, &s) != 0) { af_abandon(&csv); return 1; }
            gen *g = gen_create(&s);
            size_t cap = (size_t)(requests * 1.1) + 1000, n = 0;
            gen_request *reqs = malloc(cap * sizeof *reqs);
            if (!g || !reqs) { fprintf(stderr, "ratelab perf: out of memory\n"); af_abandon(&csv); return 1; }
            while (n < cap && gen_next(g, &reqs[n])) n++;
            double decide[9], cpu_ns[9], wall_ns[9], once_ms[9];
            size_t state_bytes = 0, keys_seen = 1;
            for (int r = 0; r < reps; r++) {
                decide[r] = perf_decide_ns(&s, reqs, n);
                run_result res;
                char why[256] = "out of memory for the key store";
                run_options opt = { NULL, NULL, NULL, NULL };
                run_backend mem;
                bmem *m = bmem_create(16, &mem);
                int64_t c0 = clk_thread_ns();
                if (!m || run_limiter(&s, g, &s.limiters[0], &mem, &opt, &res, why, sizeof why) != 0) {
                    fprintf(stderr, "ratelab perf: %s\n", why);
                    bmem_destroy(m);
                    af_abandon(&csv);
                    return 1;
                }
                bmem_destroy(m);
                int64_t c1 = clk_thread_ns();
                double offered = res.summary.offered ? (double)res.summary.offered : 1;
                cpu_ns[r] = res.summary.cpu_s * 1e9 / offered;
                wall_ns[r] = res.summary.wall_s * 1e9 / offered;
                once_ms[r] = ((double)(c1 - c0) - res.summary.cpu_s * 1e9) / 1e6;
                state_bytes = res.summary.state_bytes;
                keys_seen = res.summary.keys_seen ? res.summary.keys_seen : 1;
                run_result_free(&res);
            }
            double cpu_med = perf_median(cpu_ns, reps), wall_med = perf_median(wall_ns, reps);
            if (tty) fprintf(stderr, "\r%70s\r", "");
            double once_med = perf_median(once_ms, reps);
            printf("%-24s %9u %12.1f %12.1f %12.1f %12.1f %12.1f %10.1f %10.0f\n", cases[c].label, keysets[k],
                   perf_median(decide, reps), cpu_med, perf_min(cpu_ns, reps), 1e3 / cpu_med, 1e3 / wall_med, once_med,
                   (double)state_bytes / (double)keys_seen);
            fprintf(csv.f, "%s,%u,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,%.3f,%.2f,%zu,%.1f\n", cases[c].label, keysets[k],
                    perf_median(decide, reps), cpu_med, perf_min(cpu_ns, reps), wall_med, perf_min(wall_ns, reps),
                    1e3 / cpu_med, 1e3 / wall_med, once_med, state_bytes, (double)state_bytes / (double)keys_seen);
            fflush(stdout);
            free(reqs);
            gen_destroy(g);
            scn_free(&s);
        }
    }
    if (af_commit(&csv, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab perf: %s\n", err);
        return 1;
    }
    printf("(also in results/perf/perf.csv)\n");
    return perf_clients(requests / 2, reps);
}

/* ---- perf-redis ---------------------------------------------------------------- */

/* requests/s of redis-benchmark with one connection at pipeline depth
 * `depth` running EVALSHA sha `args` (e.g. "0" for a script without keys). */
static double perf_ceiling(int port, const char *sha, const char *args, int depth, long n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "redis-benchmark -h 127.0.0.1 -p %d -c 1 -P %d -n %ld --csv EVALSHA %s %s 2>/dev/null",
             port, depth, n, sha, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    double rps = -1;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "\"EVALSHA", 8) == 0) {
            char *comma = strstr(line, "\",\"");
            if (comma) rps = strtod(comma + 3, NULL);
        }
    pclose(p);
    return rps;
}

/* SCRIPT LOAD into sha (41 bytes); empty on failure. */
static void perf_script_load(redisContext *c, const char *source, char *sha)
{
    sha[0] = '\0';
    redisReply *rep = c && !c->err ? rbnd_command(c, "SCRIPT LOAD %s", source) : NULL;
    if (rep && rep->type == REDIS_REPLY_STRING) snprintf(sha, 41, "%s", rep->str);
    freeReplyObject(rep);
}

/* One pass; `pass` numbers the passes of this process, for a key prefix of its own. */
static double perf_redis_pass(const scn_scenario *s, gen *g, const rurl *url, int depth, unsigned pass, int *errors)
{
    run_backend red;
    char err[512], run_id[32];
    snprintf(run_id, sizeof run_id, "perf%ld_%u", (long)getpid(), pass);
    bred_options ro = { .run_id = run_id, .pipeline = (size_t)depth, .timeout_ms = 5000, .ttl_ms = 3600000,
                        .cluster = url->is_cluster };
    bred *r = bred_create(url, &ro, &red, err, sizeof err);
    if (!r) { fprintf(stderr, "ratelab perf-redis: %s\n", err); return -1; }
    run_result res;
    run_options opt = { NULL, NULL, NULL, NULL };
    double rate = -1;
    if (run_limiter(s, g, &s->limiters[0], &red, &opt, &res, err, sizeof err) == 0) {
        rate = (double)res.summary.offered / res.summary.wall_s;
        *errors += (int)res.summary.errors;
        run_result_free(&res);
    } else {
        fprintf(stderr, "ratelab perf-redis: %s\n", err);
    }
    bred_destroy(r);
    return rate;
}

/* What a server has spent so far: CPU seconds (user + sys) and EVALSHA's
 * own calls and microseconds (INFO). 0, or -1. */
typedef struct {
    double cpu_s;
    double evalsha_calls, evalsha_usec;
    double get_calls, get_usec, set_usec;   /* the client-side bucket's GET and SET PX */
} perf_server_use;

/* calls= and usec= of one command's line of INFO commandstats */
static void perf_cmdstat(const char *info, const char *cmd, double *calls, double *usec)
{
    char key[64];
    snprintf(key, sizeof key, "cmdstat_%s:calls=", cmd);
    const char *at = strstr(info, key);
    *calls = *usec = 0;
    if (!at) return;
    *calls = atof(at + strlen(key));
    const char *u = strstr(at, "usec=");
    if (u) *usec = atof(u + 5);
}

static int perf_server_use_of(int port, perf_server_use *u)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r = c && !c->err ? rbnd_command(c, "INFO all") : NULL;
    int ok = r && r->type == REDIS_REPLY_STRING;
    *u = (perf_server_use){ 0 };
    if (ok) {
        const char *user = strstr(r->str, "used_cpu_user:"), *sys = strstr(r->str, "used_cpu_sys:");
        u->cpu_s = (user ? atof(user + 14) : 0) + (sys ? atof(sys + 13) : 0);
        double set_calls;
        perf_cmdstat(r->str, "evalsha", &u->evalsha_calls, &u->evalsha_usec);
        perf_cmdstat(r->str, "get", &u->get_calls, &u->get_usec);
        perf_cmdstat(r->str, "set", &set_calls, &u->set_usec);
    }
    freeReplyObject(r);
    if (c) redisFree(c);
    return ok ? 0 : -1;
}

/* The cluster beside one node: decisions/s at the same pipeline depth,
 * interleaved passes, and the servers' CPU per decision, node by node. */
static int perf_cluster(int quick, const char *only)
{
    rsrv one;
    rsrv_cluster cl;
    char err[512];
    if (rsrv_start(&one, NULL, err, sizeof err) != 0 || rsrv_cluster_start(&cl, 3, 0, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab perf-redis: %s\n", err);
        rsrv_stop(&one);
        return 3;
    }
    const int reps = quick ? 1 : 3, depth = 64;
    const long n = quick ? 50000 : 200000;
    rurl single = { .port = one.port }, cluster = { .port = cl.node[0].port, .is_cluster = 1 };
    snprintf(single.host, sizeof single.host, "127.0.0.1");
    snprintf(cluster.host, sizeof cluster.host, "127.0.0.1");
    printf("\nthe cluster beside one node: 3 masters (no replicas) and one redis-server, all on this machine's 2 "
           "cores, one connection per node, depth %d, 1000 keys, median of %d interleaved runs; server CPU = "
           "used_cpu_user + used_cpu_sys over the runs, per decision\n", depth, reps);
    printf("%-24s %-8s %12s %8s %14s %14s  %s\n", "algorithm", "engine", "decisions/s", "ratio", "server us/dec",
           "evalsha us/dec", "per node: share of decisions, server us per own decision");
    int errors = 0, rc = 0;
    unsigned passes = 1000;
    perf_case cases[64];
    size_t n_cases = perf_cases(cases, sizeof cases / sizeof cases[0], only);
    for (size_t k = 0; k < n_cases && rc == 0; k++) {
        if (cases[k].ops->facts.client_side) continue;
        char limiter[400];
        perf_limiter_json(&cases[k], 1, limiter, sizeof limiter);
        scn_scenario s;
        if (perf_scenario(limiter, 1000, (double)n, &s) != 0) { rc = 1; break; }
        gen *g = gen_create(&s);
        double rate[2][3];
        perf_server_use before[1 + RSRV_CLUSTER_MAX], after[1 + RSRV_CLUSTER_MAX];
        double cpu[1 + RSRV_CLUSTER_MAX] = { 0 }, calls[1 + RSRV_CLUSTER_MAX] = { 0 }, usec[1 + RSRV_CLUSTER_MAX] = { 0 };
        for (int r = 0; r < reps; r++) {
            for (int e = 0; e < 2; e++) {
                int first = e ? 1 : 0, last = e ? cl.n : 0;
                for (int i = first; i <= last; i++)
                    perf_server_use_of(i ? cl.node[i - 1].port : one.port, &before[i]);
                rate[e][r] = perf_redis_pass(&s, g, e ? &cluster : &single, depth, passes++, &errors);
                for (int i = first; i <= last; i++) {
                    perf_server_use_of(i ? cl.node[i - 1].port : one.port, &after[i]);
                    cpu[i] += after[i].cpu_s - before[i].cpu_s;
                    calls[i] += after[i].evalsha_calls - before[i].evalsha_calls;
                    usec[i] += after[i].evalsha_usec - before[i].evalsha_usec;
                }
            }
        }
        double a = perf_median(rate[0], reps), b = perf_median(rate[1], reps);
        double all_calls = 0, all_cpu = 0, all_usec = 0;
        for (int i = 1; i <= cl.n; i++) all_calls += calls[i], all_cpu += cpu[i], all_usec += usec[i];
        printf("%-24s %-8s %12.0f %8s %14.2f %14.2f\n", cases[k].label, "one node", a, "",
               calls[0] ? cpu[0] * 1e6 / calls[0] : 0, calls[0] ? usec[0] / calls[0] : 0);
        printf("%-24s %-8s %12.0f %7.2fx %14.2f %14.2f  ", "", "cluster", b, a > 0 ? b / a : 0,
               all_calls ? all_cpu * 1e6 / all_calls : 0, all_calls ? all_usec / all_calls : 0);
        for (int i = 1; i <= cl.n; i++)
            printf("%s%.0f%% %.1f", i > 1 ? ", " : "", all_calls ? 100 * calls[i] / all_calls : 0,
                   calls[i] ? cpu[i] * 1e6 / calls[i] : 0);
        printf("\n");
        fflush(stdout);
        gen_destroy(g);
        scn_free(&s);
    }
    printf("On 2 cores the cluster's 3 servers and the client share the same CPUs: no scaling is expected here. "
           "On N machines, one master each, a master serves 1/N of the keys; with S server us per decision a "
           "master's core decides at most 1e6/S per second, so N masters about N x 1e6/S, while the keys spread "
           "evenly (a global limiter is one slot: one master, whatever N).\n");
    if (errors) printf("Redis errors during the runs: %d\n", errors);
    rsrv_stop(&one);
    rsrv_cluster_stop(&cl);
    return rc;
}

/* This process's CPU seconds so far, every thread's (user + system). */
static double perf_process_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

/* Where ratelab's tree is (scripts/rlf_bench.js in it): the working
 * directory, else the binary's. 0, or -1. */
static int perf_tree(char *buf, size_t len)
{
    if (access("scripts/rlf_bench.js", R_OK) == 0) return snprintf(buf, len, ".") < (int)len ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/scripts/rlf_bench.js", exe);
    if (access(probe, R_OK) != 0) return -1;
    return snprintf(buf, len, "%s", exe) < (int)len ? 0 : -1;
}

/* One realtime pass of s on a private server: decisions/s over the pass's
 * wall time, this process's CPU and the server's, in seconds. */
static int perf_realtime_pass(const scn_scenario *s, gen *g, int port, unsigned clients, unsigned in_flight,
                              unsigned pass, double *rate, double *client_cpu, double *server_cpu, int *errors)
{
    rurl url = { .port = port };
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    run_backend red;
    char err[512], run_id[32];
    snprintf(run_id, sizeof run_id, "perfrt%ld_%u", (long)getpid(), pass);
    bred_options ro = { .run_id = run_id, .pipeline = 64, .timeout_ms = 5000, .ttl_ms = 3600000 };
    bred *r = bred_create(&url, &ro, &red, err, sizeof err);
    if (!r) { fprintf(stderr, "ratelab perf-redis: %s\n", err); return -1; }
    rt_options rto = { clients, in_flight, 1.0, 0, 0, 0 };
    run_result res;
    run_options opt = { NULL, NULL, NULL, NULL };
    perf_server_use u0, u1;
    perf_server_use_of(port, &u0);
    double c0 = perf_process_cpu_s();
    int rc = rt_run(s, g, &s->limiters[0], r, &red, &rto, &opt, &res, err, sizeof err);
    double c1 = perf_process_cpu_s();
    perf_server_use_of(port, &u1);
    if (rc == 0) {
        *rate = (double)res.summary.offered / res.summary.wall_s;
        *errors += (int)res.summary.errors;
        run_result_free(&res);
    } else {
        fprintf(stderr, "ratelab perf-redis: %s\n", err);
    }
    *client_cpu = c1 - c0;
    *server_cpu = u1.cpu_s - u0.cpu_s;
    bred_destroy(r);
    return rc;
}

/* rate-limiter-flexible's decisions/s (scripts/rlf_bench.js), its
 * process's CPU and the server's; -1 when node or the package is missing. */
static int perf_rlf_pass(const char *tree, int port, long n, int concurrency, unsigned pass, double *rate,
                         double *client_cpu, double *server_cpu)
{
    char cmd[2 * PATH_MAX + 256];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && [ -d build/rlf/node_modules/rate-limiter-flexible ] && command -v node >/dev/null && "
             "node scripts/rlf_bench.js %d %ld %d 1000 rlf%ld_%u 2>&1",
             tree, port, n, concurrency, (long)getpid(), pass);
    perf_server_use u0, u1;
    perf_server_use_of(port, &u0);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[1024] = "";
    int found = 0;
    while (fgets(line, sizeof line, p))
        if (strstr(line, "\"decisions_per_s\":")) {
            found = 1;
            break;
        }
    char rest[256];
    while (fgets(rest, sizeof rest, p)) {}
    int status = pclose(p);
    perf_server_use_of(port, &u1);
    if (!found || status != 0) return -1;
    *rate = atof(strstr(line, "\"decisions_per_s\":") + 18);
    const char *cpu = strstr(line, "\"cpu_s\":");
    *client_cpu = cpu ? atof(cpu + 8) : 0;
    *server_cpu = u1.cpu_s - u0.cpu_s;
    return 0;
}

/* ratelab's realtime client beside rate-limiter-flexible, at 64 requests
 * in flight on the same server: decisions/s, and the client's CPU against
 * the server's per decision. Interleaved runs, medians. */
static int perf_realtime(int quick, const char *only)
{
    if (only && strcmp(only, "token_bucket") != 0) return 0;
    rsrv server;
    char err[512];
    if (rsrv_start(&server, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab perf-redis: %s\n", err);
        return 3;
    }
    const int reps = quick ? 1 : 3;
    const long n = quick ? 150000 : 400000;
    scn_scenario s;
    /* all n due within the first second: the clients go as fast as the
     * machine lets them (the schedule alone would allow n/s) */
    if (perf_scenario("\"algorithm\":\"token_bucket\",\"rate\":10,\"capacity\":20", 1000, (double)n, &s) != 0) {
        rsrv_stop(&server);
        return 1;
    }
    gen *g = gen_create(&s);
    char tree[PATH_MAX];
    int have_tree = perf_tree(tree, sizeof tree) == 0;
    enum { OURS = 3, RLF = OURS };
    struct { const char *label; unsigned clients, in_flight; } ours[OURS] = {
        { "ratelab 1 thread x 64 in flight", 1, 64 },
        { "ratelab 4 threads x 16 in flight", 4, 16 },
        { "ratelab 64 threads x 1 (one at a time)", 64, 1 },
    };
    double rate[OURS + 1][3], ccpu[OURS + 1][3], scpu[OURS + 1][3];
    int errors = 0, rlf_ok = have_tree;
    for (int r = 0; r < reps; r++) {
        for (int w = 0; w < OURS; w++)
            if (perf_realtime_pass(&s, g, server.port, ours[w].clients, ours[w].in_flight, (unsigned)(r * OURS + w), &rate[w][r],
                                   &ccpu[w][r], &scpu[w][r], &errors) != 0) {
                gen_destroy(g);
                scn_free(&s);
                rsrv_stop(&server);
                return 1;
            }
        if (rlf_ok && perf_rlf_pass(tree, server.port, n, 64, (unsigned)r, &rate[RLF][r], &ccpu[RLF][r], &scpu[RLF][r]) != 0)
            rlf_ok = 0;
    }
    printf("\nrealtime, 64 requests in flight, on one fresh redis-server: token_bucket rate=10 capacity=20, 1000 keys, "
           "%ld requests all due within 1 s, median of %d interleaved runs; CPU: this client's process and the "
           "server's (used_cpu_user + used_cpu_sys), per decision\n", n, reps);
    printf("%-40s %12s %10s %16s %16s %12s\n", "client", "decisions/s", "vs rlf", "client us/dec", "server us/dec",
           "client/server");
    double rlf_rate = rlf_ok ? perf_median(rate[RLF], reps) : 0;
    for (int w = 0; w <= RLF; w++) {
        if (w == RLF && !rlf_ok) break;
        double per[3], cl[3], sv[3];
        for (int r = 0; r < reps; r++) {
            per[r] = rate[w][r];
            cl[r] = ccpu[w][r] * 1e6 / (double)n;
            sv[r] = scpu[w][r] * 1e6 / (double)n;
        }
        double a = perf_median(per, reps), c = perf_median(cl, reps), v = perf_median(sv, reps);
        char vs[16] = "";
        if (rlf_ok) snprintf(vs, sizeof vs, "%.2fx", a / rlf_rate);
        printf("%-40s %12.0f %10s %16.2f %16.2f %12.2f\n",
               w == RLF ? "rate-limiter-flexible 5.0.5 (ioredis, 64)" : ours[w].label, a, vs, c, v, v > 0 ? c / v : 0);
    }
    if (!rlf_ok)
        printf("(rate-limiter-flexible not run: %s; make perf-redis installs it from npm where node and npm are)\n",
               have_tree ? "node or build/rlf/node_modules missing" : "scripts/rlf_bench.js not found");
    if (errors) printf("Redis errors during the runs: %d\n", errors);
    gen_destroy(g);
    scn_free(&s);
    rsrv_stop(&server);
    return 0;
}

int perf_redis_main(int argc, char **argv)
{
    perf_settings ps = { 0, NULL };
    int first;
    int parsed = cli_parse(&perf_redis_command, argc, argv, perf_option, &ps, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    int quick = ps.quick;
    const char *only = ps.only;
    rsrv server;
    char err[512];
    if (rsrv_start(&server, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab perf-redis: %s\n", err);
        return 3;
    }
    rurl url = { .port = server.port };
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    redisContext *c = redisConnect("127.0.0.1", server.port);
    char sha[41] = "";
    perf_script_load(c, "return 1", sha);
    const int reps = quick ? 1 : 3;
    const long n64 = quick ? 50000 : 300000, n1 = quick ? 5000 : 30000;
    printf("ratelab perf-redis: one connection to a fresh redis-server on 127.0.0.1:%d, median of %d runs,\n"
           "each beside redis-benchmark -c 1 at the same depth running EVALSHA of 'return 1' (the ceiling)\n"
           "and of the algorithm's own script with the same arguments (what the server allows that script)\n",
           server.port, reps);
    printf("server us/dec: the microseconds redis-server spent executing each decision's commands (INFO "
           "commandstats: EVALSHA of the twin, or the client-side bucket's GET and SET PX), beside 'return 1'\n");
    printf("%-24s %6s %12s %12s %8s %14s %8s %14s %12s\n", "algorithm", "depth", "decisions/s", "ceiling/s", "ratio",
           "same script/s", "ratio", "server us/dec", "return 1 us");
    int errors = 0, rc = 0;
    unsigned passes = 0;
    perf_case cases[64];
    size_t n_cases = perf_cases(cases, sizeof cases / sizeof cases[0], only);
    for (size_t k = 0; k < n_cases && rc == 0; k++) {
        char limiter[400];
        perf_limiter_json(&cases[k], 1, limiter, sizeof limiter);
        const char *label = cases[k].label;
        int depths[2] = { 1, 64 };
        for (int d = 0; d < 2; d++) {
            /* read-decide-write in the client cannot pipeline */
            if (cases[k].ops->facts.client_side && depths[d] > 1) continue;
            long n = depths[d] == 1 ? n1 : n64;
            scn_scenario s;
            /* 1000 keys, so each request touches a key other requests touch */
            if (perf_scenario(limiter, 1000, (double)n, &s) != 0) { rc = 1; break; }
            gen *g = gen_create(&s);
            /* the same command ratelab sends, for redis-benchmark: key, now, cost, ttl, config */
            const char *source = rscript_find(s.limiters[0].ops->name);
            char own_sha[41] = "", own_args[512];
            int used = snprintf(own_args, sizeof own_args, "1 ratelab:bench%zu-%d:{key} 5000000 1 3600000", k, depths[d]);
            int last = -1;
            for (int i = 0; i < LIM_MAX_CONFIG; i++) if (s.limiters[0].cfg.v[i]) last = i;
            for (int i = 0; i <= last; i++)
                used += snprintf(own_args + used, sizeof own_args - (size_t)used, " %lld",
                                 (long long)s.limiters[0].cfg.v[i]);
            if (source) perf_script_load(c, source, own_sha);
            double ours[3], ceiling[3], own[3], ours_us[3], ceiling_us[3];
            for (int r = 0; r < reps; r++) {
                perf_server_use u0, u1, u2;
                perf_server_use_of(server.port, &u0);
                ours[r] = perf_redis_pass(&s, g, &url, depths[d], passes++, &errors);
                perf_server_use_of(server.port, &u1);
                ceiling[r] = perf_ceiling(server.port, sha, "0", depths[d], n);
                perf_server_use_of(server.port, &u2);
                double calls = u1.evalsha_calls - u0.evalsha_calls, gets = u1.get_calls - u0.get_calls;
                double usec = (u1.evalsha_usec - u0.evalsha_usec) + (u1.get_usec - u0.get_usec) +
                              (u1.set_usec - u0.set_usec);
                ours_us[r] = calls > 0 ? usec / calls : gets > 0 ? usec / gets : -1;
                double trivial = u2.evalsha_calls - u1.evalsha_calls;
                ceiling_us[r] = trivial > 0 ? (u2.evalsha_usec - u1.evalsha_usec) / trivial : -1;
                own[r] = own_sha[0] ? perf_ceiling(server.port, own_sha, own_args, depths[d], n) : -1;
            }
            double a = perf_median(ours, reps), b = perf_median(ceiling, reps), o = perf_median(own, reps);
            double us = perf_median(ours_us, reps), us1 = perf_median(ceiling_us, reps);
            if (o > 0)
                printf("%-24s %6d %12.0f %12.0f %7.0f%% %14.0f %7.0f%% %14.2f %12.2f\n", label, depths[d], a, b,
                       100 * a / b, o, 100 * a / o, us, us1);
            else
                printf("%-24s %6d %12.0f %12.0f %7.0f%% %14s %8s %14.2f %12.2f\n", label, depths[d], a, b,
                       b > 0 ? 100 * a / b : 0, "(no script)", "", us, us1);
            fflush(stdout);
            gen_destroy(g);
            scn_free(&s);
        }
    }
    if (errors) printf("Redis errors during the runs: %d\n", errors);
    if (c) redisFree(c);
    rsrv_stop(&server);
    if (rc == 0) rc = perf_realtime(quick, ps.only);
    return rc ? rc : perf_cluster(quick, ps.only);
}
