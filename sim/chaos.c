/* chaos.c -- see chaos.h. */
#define _POSIX_C_SOURCE 200809L
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../algorithms/queue.h"
#include "fsutil.h"
#include "generator.h"
#include "interrupt.h"
#include "output.h"
#include "queue_output.h"
#include "drive.h"
#include "redis_queue_run.h"
#include "redis_server.h"
#include "scenario.h"

static void chaos_usage(FILE *f)
{
    fputs("usage: ratelab chaos SCENARIO.json [--kills N] [--restarts M] [--seed S] [--only NAMES]\n"
          "                     [--set L.P=V]... [--out DIR] [--drain-limit-s S]\n"
          "                     [--cluster MxR [--wait-replicas K]]\n"
          "  runs the scenario's queue entries on a private redis-server on 127.0.0.1 with the\n"
          "  queue's durability, kills N consumers (kill -9, default 20) and kills and restarts the\n"
          "  server M times (default 3) at random times, then reconciles every message id.\n"
          "  With --cluster, on a private Redis Cluster of M masters with R replicas each: each\n"
          "  queue lives on the master of its hash tag, and a restart is a kill -9 of that master,\n"
          "  its replica taking over; --wait-replicas K WAITs for K replicas after every write.\n"
          "  Results go to DIR (default results/<scenario>/chaos).\n", f);
}

static int chaos_number(const char *opt, const char *text, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > max) {
        fprintf(stderr, "ratelab chaos: %s: '%s' is not a whole number from 0 to %ld\n", opt, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

int chaos_main(int argc, char **argv)
{
    const char *path = NULL, *out = NULL, *only = NULL;
    const char *sets[64];
    size_t n_sets = 0;
    long kills = 20, restarts = 3, seed = 1, drain = 60, wait_replicas = 0;
    int masters = 0, replicas = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
        if (strcmp(o, "--kills") == 0 && has) { if (chaos_number(o, argv[++i], 100000, &kills) != 0) return 2; }
        else if (strcmp(o, "--restarts") == 0 && has) { if (chaos_number(o, argv[++i], 1000, &restarts) != 0) return 2; }
        else if (strcmp(o, "--seed") == 0 && has) { if (chaos_number(o, argv[++i], 1L << 40, &seed) != 0) return 2; }
        else if (strcmp(o, "--drain-limit-s") == 0 && has) { if (chaos_number(o, argv[++i], 86400, &drain) != 0) return 2; }
        else if (strcmp(o, "--wait-replicas") == 0 && has) { if (chaos_number(o, argv[++i], 4, &wait_replicas) != 0) return 2; }
        else if (strcmp(o, "--cluster") == 0 && has) {
            char why[300];
            if (rsrv_cluster_parse(argv[++i], &masters, &replicas, why, sizeof why) != 0) {
                fprintf(stderr, "ratelab chaos: %s\n", why);
                return 2;
            }
        }
        else if (strcmp(o, "--only") == 0 && has) only = argv[++i];
        else if (strcmp(o, "--out") == 0 && has) out = argv[++i];
        else if (strcmp(o, "--set") == 0 && has && n_sets < 64) sets[n_sets++] = argv[++i];
        else if (strcmp(o, "--help") == 0) { chaos_usage(stdout); return 0; }
        else if (o[0] != '-' && !path) path = o;
        else { fprintf(stderr, "ratelab chaos: unknown option or missing value: %s\n", o); chaos_usage(stderr); return 2; }
    }
    if (!path) { chaos_usage(stderr); return 2; }
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
    char err[1024];
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
        char command[2048] = "";
        for (int i = 0; i < argc; i++) {
            size_t used = strlen(command);
            snprintf(command + used, sizeof command - used, "%s%s", i ? " " : "ratelab ", argv[i]);
        }
        out_context ctx = { masters ? "cluster" : "redis",
                            masters ? "private Redis Cluster on 127.0.0.1" : "private redis-server on 127.0.0.1", NULL,
                            "realtime, with faults", command, 0, 0 };
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
