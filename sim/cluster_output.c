/* cluster_output.c -- see cluster_output.h. */
#include "cluster_output.h"

int cout_any(const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].cluster.n) return 1;
    return 0;
}

static uint64_t cout_calls(const run_cluster_report *c)
{
    uint64_t all = 0;
    for (int k = 0; k < c->n; k++) all += c->shard[k].calls;
    return all;
}

void cout_nodes_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,backend,node,role,slots,keys,calls,share,latency_p50_us,latency_p99_us,moved,ask,tryagain,"
          "clusterdown,map_refreshes,unanswered_windows,longest_window_ms\n", f);
    for (size_t i = 0; i < n; i++) {
        const run_cluster_report *c = &r[i].cluster;
        uint64_t all = cout_calls(c);
        for (int k = 0; k < c->n; k++) {
            const run_shard *s = &c->shard[k];
            fprintf(f, "%s,%s,%s,%s,%u,%llu,%llu,%.6f,%.3f,%.3f,%llu,%llu,%llu,%llu,%llu,%llu,%.3f\n",
                    r[i].limiter->name, r[i].backend, s->addr, s->master ? "master" : "former master", s->slots,
                    (unsigned long long)s->keys, (unsigned long long)s->calls,
                    all ? (double)s->calls / (double)all : 0.0, (double)s->latency_p50_ns / 1e3,
                    (double)s->latency_p99_ns / 1e3, (unsigned long long)c->moved, (unsigned long long)c->ask,
                    (unsigned long long)c->tryagain, (unsigned long long)c->clusterdown,
                    (unsigned long long)c->refreshes, (unsigned long long)c->windows,
                    (double)c->window_longest_ns / 1e6);
        }
    }
}

static void cout_us(char *buf, size_t len, int64_t ns)
{
    if (ns >= 1000000) snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else snprintf(buf, len, "%.0fus", (double)ns / 1e3);
}

void cout_print(FILE *f, const run_result *r, size_t n)
{
    if (!cout_any(r, n)) return;
    fprintf(f, "cluster: per node, the pass's keys at its end and the commands it answered (a global limiter's one "
               "slot is one master carrying everything)\n");
    fprintf(f, "%-22s %-22s %-13s %6s %8s %10s %7s %9s %9s\n", "limiter", "node", "role", "slots", "keys", "calls",
            "share", "lat p50", "lat p99");
    for (size_t i = 0; i < n; i++) {
        const run_cluster_report *c = &r[i].cluster;
        uint64_t all = cout_calls(c);
        for (int k = 0; k < c->n; k++) {
            const run_shard *s = &c->shard[k];
            char p50[24], p99[24];
            cout_us(p50, sizeof p50, s->latency_p50_ns);
            cout_us(p99, sizeof p99, s->latency_p99_ns);
            fprintf(f, "%-22s %-22s %-13s %6u %8llu %10llu %6.1f%% %9s %9s\n", k ? "" : r[i].limiter->name, s->addr,
                    s->master ? "master" : "former master", s->slots, (unsigned long long)s->keys,
                    (unsigned long long)s->calls, all ? 100.0 * (double)s->calls / (double)all : 0.0, p50, p99);
        }
        for (size_t k = 0; k < c->n_faults; k++) {
            const run_cluster_fault *x = &c->fault[k];
            if (x->is_reshard)
                fprintf(f, "%-22s reshard@%g s: %u slot(s) and %llu key(s) moved %s at t=%.3f s, in %.3f s%s%s\n", "",
                        (double)x->planned_us / 1e6, x->slots_moved, (unsigned long long)x->keys_moved, x->victim,
                        (double)x->landed_us / 1e6, x->took_s, x->error[0] ? "; " : "", x->error);
            else
                fprintf(f, "%-22s kill-master@%g s: killed %s at t=%.3f s; its replica served the hot slot %.3f s "
                           "later%s%s\n", "", (double)x->planned_us / 1e6, x->victim, (double)x->landed_us / 1e6,
                        x->took_s, x->error[0] ? "; " : "", x->error);
        }
        if (c->moved || c->ask || c->tryagain || c->clusterdown || c->windows)
            fprintf(f, "%-22s routing: %llu MOVED, %llu ASK, %llu TRYAGAIN, %llu CLUSTERDOWN, %llu map refreshes; "
                       "%llu window(s) without answers, the longest %.3f s\n", "",
                    (unsigned long long)c->moved, (unsigned long long)c->ask, (unsigned long long)c->tryagain,
                    (unsigned long long)c->clusterdown, (unsigned long long)c->refreshes,
                    (unsigned long long)c->windows, (double)c->window_longest_ns / 1e9);
    }
}

int cout_any_fault(const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].cluster.n_faults) return 1;
    return 0;
}

void cout_faults_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,backend,fault,planned_s,landed_s,victim,slots_moved,keys_moved,took_s,errors,"
          "unanswered_windows,longest_window_s,error\n", f);
    for (size_t i = 0; i < n; i++) {
        const run_cluster_report *c = &r[i].cluster;
        for (size_t k = 0; k < c->n_faults; k++) {
            const run_cluster_fault *x = &c->fault[k];
            fprintf(f, "%s,%s,%s,%.6f,%.6f,%s,%u,%llu,%.6f,%llu,%llu,%.6f,\"%s\"\n", r[i].limiter->name, r[i].backend,
                    x->is_reshard ? "reshard" : "kill-master", (double)x->planned_us / 1e6, (double)x->landed_us / 1e6,
                    x->victim, x->slots_moved, (unsigned long long)x->keys_moved, x->took_s,
                    (unsigned long long)r[i].summary.errors, (unsigned long long)c->windows,
                    (double)c->window_longest_ns / 1e9, x->error);
        }
    }
}
