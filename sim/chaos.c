/* chaos.c -- see chaos.h. */
#define _POSIX_C_SOURCE 200809L
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../algorithms/queue.h"
#include "cli.h"
#include "fsutil.h"
#include "generator.h"
#include "interrupt.h"
#include "output.h"
#include "queue_output.h"
#include "drive.h"
#include "redis_queue_run.h"
#include "redis_server.h"
#include "scenario.h"

enum { CH_KILLS, CH_RESTARTS, CH_SEED, CH_DRAIN, CH_WAIT, CH_CLUSTER, CH_ONLY, CH_OUT, CH_SET };

static const cli_option chaos_options[] = {
    { "kills", "N", CH_KILLS, "consumer kill -9s at random times (default 20)" },
    { "restarts", "M", CH_RESTARTS, "server kill and restarts at random times (default 3); on a cluster a kill -9\n"
                                    "of the queue's master, its replica taking over" },
    { "seed", "S", CH_SEED, "the fault schedule's seed (default 1)" },
    { "only", "NAMES", CH_ONLY, "comma-separated queue entries (names or algorithms) to run" },
    { "set", "L.P=V", CH_SET, "override parameter P of entry (or algorithm) L; repeatable" },
    { "out", "DIR", CH_OUT, "results directory (default results/<scenario>/chaos)" },
    { "drain-limit-s", "S", CH_DRAIN, "after the load, wait at most S seconds for the queue to empty (default 60)" },
    { "cluster", "MxR", CH_CLUSTER, "on a private Redis Cluster of M masters with R replicas each: each queue on\n"
                                    "the master of its hash tag" },
    { "wait-replicas", "K", CH_WAIT, "WAIT for K replicas after every write (with --cluster)" },
};

static const cli_command chaos_command = {
    "chaos", "SCENARIO [options]",
    "Runs the scenario's queue entries on a private redis-server on 127.0.0.1 with the queue's durability,\n"
    "kills consumers and restarts the server at random times, then reconciles every message id.",
    chaos_options, sizeof chaos_options / sizeof chaos_options[0], 1, 1,
    "exit status: 0 nothing lost (or only the loss a queue without persistence expects), 1 a durable queue\n"
    "lost messages or the run failed, 2 bad input or usage, 3 no redis-server",
};

const cli_command *chaos_cli(void)
{
    return &chaos_command;
}

typedef struct {
    const char *out, *only;
    const char *sets[64];
    size_t n_sets;
    long kills, restarts, seed, drain, wait_replicas;
    int masters, replicas;
} chaos_args;

static int chaos_option(void *ctx, int id, const char *v)
{
    chaos_args *a = ctx;
    char why[300];
    switch (id) {
    case CH_KILLS: return cli_long("kills", v, 0, 100000, &a->kills);
    case CH_RESTARTS: return cli_long("restarts", v, 0, 1000, &a->restarts);
    case CH_SEED: return cli_long("seed", v, 0, 1L << 40, &a->seed);
    case CH_DRAIN: return cli_long("drain-limit-s", v, 0, 86400, &a->drain);
    case CH_WAIT: return cli_long("wait-replicas", v, 0, 4, &a->wait_replicas);
    case CH_CLUSTER:
        if (rsrv_cluster_parse(v, &a->masters, &a->replicas, why, sizeof why) == 0) return 0;
        fprintf(stderr, "ratelab chaos: %s\n", why);
        return -1;
    case CH_ONLY: a->only = v; return 0;
    case CH_OUT: a->out = v; return 0;
    case CH_SET:
        if (a->n_sets == 64) { fprintf(stderr, "ratelab chaos: at most 64 --set\n"); return -1; }
        a->sets[a->n_sets++] = v;
        return 0;
    }
    return -1;
}

int chaos_main(int argc, char **argv)
{
    char command[2048];
    cli_command_line(argc, argv, command, sizeof command);   /* before getopt reorders argv */
    chaos_args a = { .kills = 20, .restarts = 3, .seed = 1, .drain = 60 };
    int first, parsed = cli_parse(&chaos_command, argc, argv, chaos_option, &a, &first);
    if (parsed != CLI_OK) return parsed == CLI_HELP ? 0 : 2;
    char path[4096], err[1024];
    if (cli_find_scenario(argv[first], path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab chaos: %s\n", err);
        return 2;
    }
    const char *out = a.out, *only = a.only;
    const char **sets = a.sets;
    size_t n_sets = a.n_sets;
    long kills = a.kills, restarts = a.restarts, seed = a.seed, drain = a.drain, wait_replicas = a.wait_replicas;
    int masters = a.masters, replicas = a.replicas;
    if (wait_replicas && wait_replicas > replicas) {
        fprintf(stderr, "ratelab chaos: --wait-replicas %ld: the queue's master has %d replica(s)%s\n", wait_replicas,
                replicas, masters ? "" : " (no --cluster)");
        return 2;
    }
    if (masters && restarts && replicas == 0) {
        fprintf(stderr, "ratelab chaos: --cluster %dx0: a killed master has no replica to take over; give replicas "
                        "(3x1) or --restarts 0\n", masters);
        return 2;
    }
    scn_scenario s;
    scn_options so = { sets, n_sets, only };
    if (scn_load(path, &so, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab chaos: %s\n", err);
        return 2;
    }
    intr_block();   /* from here on Ctrl-C stops the pass where it can clean up */
    size_t queues = 0;
    for (size_t i = 0; i < s.n_limiters; i++) queues += !drv_decides(&s.limiters[i]);
    if (queues == 0) {
        fprintf(stderr, "ratelab chaos: %s: no queue entry among its limiters (algorithm \"queue\")\n", path);
        scn_free(&s);
        return 2;
    }
    char dir[4096];
    out_results_dir(dir, sizeof dir, out, s.name, "chaos");
    if (fs_results_target(dir, dir, sizeof dir, err, sizeof err) != 0) {
        fprintf(stderr, "ratelab chaos: %s\n", err);
        scn_free(&s);
        return 2;
    }
    run_result *results = calloc(queues, sizeof *results);
    gen *g = gen_create(&s);
    size_t n = 0;
    int rc = 0;
    if (!results || !g) { fprintf(stderr, "ratelab chaos: out of memory\n"); rc = 1; goto done; }
    for (size_t i = 0; i < s.n_limiters && rc == 0; i++) {
        const scn_limiter *l = &s.limiters[i];
        if (drv_decides(l)) continue;
        int durability = (int)l->cfg.v[QUEUE_V_DURABILITY];
        rsrv server = { 0 };
        rsrv_cluster cluster = { 0 };
        if (masters ? rsrv_cluster_start(&cluster, masters, replicas, err, sizeof err) != 0
                    : rsrv_start(&server, rqr_server_args(durability), err, sizeof err) != 0) {
            fprintf(stderr, "ratelab chaos: %s\n", err);
            rc = 3;
            break;
        }
        char run_id[32];
        snprintf(run_id, sizeof run_id, "chaos%ld", (long)getpid());
        rqr_options o = { .timeout_ms = 2000, .run_id = run_id, .server = masters ? NULL : &server,
                          .cluster = masters > 0, .private_cluster = masters ? &cluster : NULL,
                          .wait_replicas = (int)wait_replicas,
                          .consumer_kills = (uint32_t)kills, .server_restarts = (uint32_t)restarts,
                          .fault_seed = (uint64_t)seed, .drain_limit_s = (double)drain, .events = stderr,
                          .stop = intr_requested };
        o.url.port = masters ? cluster.node[0].port : server.port;
        snprintf(o.url.host, sizeof o.url.host, "127.0.0.1");
        if (masters)
            printf("chaos %s: %s on a private Redis Cluster of %d masters x %d replica(s) (127.0.0.1:%d...; %s), %ld "
                   "consumer kill(s), %ld kill(s) of the queue's master, seed %ld\n", l->name, s.name, masters,
                   replicas, cluster.node[0].port, wait_replicas ? RQR_DURABILITY_WAIT : RQR_DURABILITY_ASYNC, kills,
                   restarts, seed);
        else
            printf("chaos %s: %s on a private redis-server on 127.0.0.1:%d (durability %s), %ld consumer kill(s), "
                   "%ld server restart(s), seed %ld\n", l->name, s.name, server.port,
                   queue_durability_name(durability), kills, restarts, seed);
        fflush(stdout);
        int failed = rqr_run(&o, &s, g, l, &results[n], err, sizeof err) != 0;
        if (results[n].note[0]) fprintf(stderr, "ratelab chaos: %s\n", results[n].note);
        if (failed) {
            fprintf(stderr, "ratelab chaos: %s\n", err);
            rc = intr_requested(NULL) ? 130 : 1;
        } else {
            n++;
        }
        rsrv_stop(&server);
        rsrv_cluster_stop(&cluster);
    }
    if (n > 0) {
        out_context ctx = { masters ? "cluster" : "redis",
                            masters ? "private Redis Cluster on 127.0.0.1" : "private redis-server on 127.0.0.1", NULL,
                            "realtime, with faults", command, 0, 0, NULL };
        if (out_write_run(dir, &s, results, n, &ctx, err, sizeof err) != 0) {
            fprintf(stderr, "ratelab chaos: %s\n", err);
            rc = 1;
        }
        qout_print(stdout, results, n);
        for (size_t i = 0; i < n; i++) {
            const qm_report *p = &results[i].queue->report;
            /* asynchronous replicas may miss a master's last writes: a loss there is measured, not a failure */
            const char *d = results[i].queue->durability;
            int durable = strcmp(d, "none") != 0 && strcmp(d, RQR_DURABILITY_ASYNC) != 0;
            printf("chaos %s: produced %llu / succeeded %llu / dead-lettered %llu / still queued %llu / rejected %llu "
                   "/ duplicates %llu / lost %lld -- %llu consumer kills, %llu server restarts, durability %s%s\n",
                   results[i].limiter->name, (unsigned long long)p->produced, (unsigned long long)p->succeeded,
                   (unsigned long long)p->dead_lettered, (unsigned long long)p->still_queued,
                   (unsigned long long)p->rejected, (unsigned long long)p->duplicates, (long long)p->lost,
                   (unsigned long long)results[i].queue->consumer_kills,
                   (unsigned long long)results[i].queue->server_restarts, results[i].queue->durability,
                   p->lost && !durable ? (masters ? " (asynchronous replication: the replica missed the killed master's "
                                                    "last writes; the loss is the price)"
                                                  : " (no persistence: a restart empties the server; the loss is "
                                                    "the price)")
                                       : "");
            if (masters)
                printf("chaos %s: %llu failover(s) of the queue's master, the longest %.3f s from the kill to the new "
                       "master; %llu write(s) WAIT saw reach fewer replicas than asked\n", results[i].limiter->name,
                       (unsigned long long)results[i].queue->failovers, results[i].queue->failover_s_max,
                       (unsigned long long)results[i].queue->unreplicated_writes);
            if (p->lost != 0 && durable) rc = 1;
            /* a fault meant for the load must land inside it, or "lost 0" proves nothing */
            const run_queue_result *q = results[i].queue;
            uint32_t outside = 0, busy = 0, held = 0;
            for (uint32_t k = 0; k < q->n_faults; k++) {
                outside += q->faults[k].at_us > q->load_end_us;
                busy += q->faults[k].processing > 0;
                held += !q->faults[k].is_restart && q->faults[k].held > 0;
            }
            printf("chaos %s: %u of %u fault(s) struck while messages were in processing, %u kill(s) a consumer "
                   "holding some; %u within the load (the last message produced at %+.3f s); the reaper returned "
                   "%llu deliveries in all; producer lag p99 %.1f ms\n",
                   results[i].limiter->name, busy, q->n_faults, held, q->n_faults - outside,
                   (double)q->load_end_us / 1e6,
                   (unsigned long long)q->reaped, (double)q->lag_p99_us / 1e3);
            if (q->effects_wrong && durable) {
                fprintf(stderr, "ratelab chaos: %s: %llu balance(s) are not the sum of their succeeded messages' "
                                "costs (first: %s)\n", results[i].limiter->name,
                        (unsigned long long)q->effects_wrong, q->effects_first_wrong);
                rc = 1;
            }
            printf("chaos %s: effects reconciled: %llu applied exactly once, %llu duplicate(s) suppressed, %llu "
                   "balance(s) compensated, %llu wrong\n", results[i].limiter->name,
                   (unsigned long long)q->effects_applied, (unsigned long long)q->effects_suppressed,
                   (unsigned long long)q->effects_compensated, (unsigned long long)q->effects_wrong);
            if (outside) {
                fprintf(stderr, "ratelab chaos: %s: %u fault(s) landed after the load had ended (the last message "
                                "was produced at %+.3f s): the run did not test what it was asked to\n",
                        results[i].limiter->name, outside, (double)q->load_end_us / 1e6);
                rc = 1;
            }
        }
        printf("results: %s/{summary.csv,queue.csv,run.json}\n", dir);
    }
done:
    for (size_t i = 0; i < n; i++) run_result_free(&results[i]);
    free(results);
    gen_destroy(g);
    scn_free(&s);
    return rc;
}
