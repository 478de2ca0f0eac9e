/* output.c -- see output.h. */
#define _GNU_SOURCE
#include "output.h"

#include "cli.h"
#include "cluster_output.h"

#include "atomicfile.h"
#include "columns.h"
#include "fsutil.h"
#include "queue_output.h"
#include "utf8.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


void out_results_dir(char *buf, size_t len, const char *given, const char *scenario, const char *sub)
{
    if (given) snprintf(buf, len, "%s", given);
    else snprintf(buf, len, "results/%s%s%s", scenario, sub ? "/" : "", sub ? sub : "");
}

void out_summary_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,algorithm,backend,scope,params", f);
    col_summary_header(f);
    qout_summary_header(f);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const scn_limiter *l = r[i].limiter;
        char params[256];
        scn_params(l, params, sizeof params);
        fprintf(f, "%s,%s,%s,%s,%s", l->name, l->entry->name, r[i].backend, l->global ? "global" : "key", params);
        char refused[256] = "";
        for (size_t t = 0, used = 0; t < l->n_tiers && used < sizeof refused; t++)
            used += (size_t)snprintf(refused + used, sizeof refused - used, "%s%s=%llu", t ? ";" : "", l->tiers[t].name,
                                     (unsigned long long)r[i].tier_refused[t]);
        col_row row = { &r[i].summary, &r[i].oracle, r[i].has_downstream, &r[i].downstream, r[i].overload_s,
                        r[i].has_clients, &r[i].clients, refused, &r[i].fleet, r[i].bound_breaches };
        col_summary_row(f, &row);
        qout_summary_fields(f, &r[i]);
        fputc('\n', f);
    }
}

void out_timeseries_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,algorithm,backend,t_s,offered,admitted,dropped,delayed,released,level,"
          "delay_p50_us,delay_p99_us,delay_max_us,wall_latency_p50_ns,wall_latency_p99_ns,intents\n", f);
    for (size_t i = 0; i < n; i++) {
        const met_series *m = &r[i].series;
        const scn_limiter *l = r[i].limiter;
        for (size_t t = 0; t < m->n_ticks; t++) {
            int64_t at_ms = (int64_t)t * (m->tick_us / 1000);
            fprintf(f, "%s,%s,%s,%lld.%03lld,%llu,%llu,%llu,%llu,%llu,%lld,%lld,%lld,%lld,%lld,%lld,%llu\n",
                    l->name, l->entry->name, r[i].backend, (long long)(at_ms / 1000), (long long)(at_ms % 1000),
                    (unsigned long long)m->offered[t], (unsigned long long)m->admitted[t],
                    (unsigned long long)m->dropped[t], (unsigned long long)m->delayed[t],
                    (unsigned long long)m->released[t], (long long)m->level[t],
                    (long long)m->delay_p50[t], (long long)m->delay_p99[t], (long long)m->delay_max[t],
                    (long long)m->latency_p50[t], (long long)m->latency_p99[t], (unsigned long long)m->intents[t]);
        }
    }
}


static void out_si(char *buf, size_t len, double v)
{
    if (v >= 1e9) snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, len, "%.1fk", v / 1e3);
    else snprintf(buf, len, "%.0f", v);
}

static void out_duration_ns(char *buf, size_t len, int64_t ns)
{
    if (ns >= 1000000) snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else if (ns >= 10000) snprintf(buf, len, "%.1fus", (double)ns / 1e3);
    else snprintf(buf, len, "%lldns", (long long)ns);
}

void out_accuracy_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,algorithm,backend,limit,window_ms,requests,wrongly_allowed,wrongly_allowed_pct,wrongly_blocked,"
          "wrongly_blocked_pct,wrong_pct,max_window_cost,overshoot_pct,mean_window_diff,source\n", f);
    for (size_t i = 0; i < n; i++) {
        const scn_limiter *l = r[i].limiter;
        const orc_report *o = &r[i].oracle;
        const char *a = l->entry->name;
        if (!l->ops || !l->ops->facts.approximates) continue;   /* exact ones are judged, not measured */
        double limit = l->values[lim_param_index(l->entry, "limit")], req = (double)(o->offered ? o->offered : 1);
        if (o->wrongly_allowed < 0) {   /* no reference: the row stays, its error empty, the reason its source */
            fprintf(f, "%s,%s,%s,%.0f,%.15g,%llu,,,,,,,,,not checked: %s\n", l->name, a, r[i].backend, limit,
                    l->values[lim_param_index(l->entry, "window_ms")], (unsigned long long)o->offered,
                    o->unchecked[0] ? o->unchecked : "no exact reference in this run");
            continue;
        }
        fprintf(f, "%s,%s,%s,%.0f,%.15g,%llu,%lld,%.4f,%lld,%.4f,%.4f,%lld,%.2f,%.3f,ratelab oracle\n", l->name, a,
                r[i].backend, limit, l->values[lim_param_index(l->entry, "window_ms")], (unsigned long long)o->offered,
                (long long)o->wrongly_allowed, 100.0 * (double)o->wrongly_allowed / req, (long long)o->wrongly_blocked,
                100.0 * (double)o->wrongly_blocked / req,
                100.0 * (double)(o->wrongly_allowed + o->wrongly_blocked) / req, (long long)o->max_window_cost,
                100.0 * ((double)o->max_window_cost / limit - 1), o->mean_window_diff);
    }
    /* Cloudflare, "How we built rate limiting capable of scaling to millions
     * of domains" (blog, 2017): 0.003% of 400 million requests wrongly
     * allowed or blocked by its sliding window counter, on its own traffic. */
    fputs("cloudflare_2017,sliding_window_counter,published,,,400000000,,,,,0.003,,,,"
          "\"Cloudflare blog 2017, How we built rate limiting capable of scaling to millions of domains\"\n", f);
}

void out_print_violations(FILE *f, const scn_scenario *s, const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const orc_report *o = &r[i].oracle;
        if (o->violations == 0 || o->violations == (uint64_t)-1) continue;
        const scn_limiter *l = r[i].limiter;
        if (r[i].queue) {
            fprintf(f, "VIOLATION %s (queue, %s): %lld message(s) lost (produced %llu, accounted for %llu)\n", l->name,
                    r[i].backend, (long long)r[i].queue->report.lost, (unsigned long long)r[i].queue->report.produced,
                    (unsigned long long)(r[i].queue->report.produced - (uint64_t)r[i].queue->report.lost));
            continue;
        }
        fprintf(f, "VIOLATION %s (%s, %s): %llu admitted request(s) broke its promise; worst: key %s, %.3f over "
                   "between t=%.6f s and t=%.6f s\n",
                l->name, l->entry->name, r[i].backend, (unsigned long long)o->violations,
                l->global ? "global" : kspace_name(s->keys, o->worst_key), o->worst_excess,
                (double)o->worst_from_us / 1e6, (double)o->worst_to_us / 1e6);
    }
}

/* The fleets' own table: what sharing one limit across nodes cost. */
static void out_fleet_table(FILE *f, const run_result *r, size_t n)
{
    size_t fleets = 0;
    for (size_t i = 0; i < n; i++) fleets += r[i].fleet.nodes > 0;
    if (!fleets) return;
    fprintf(f, "fleets: over bound = admitted above the limiter's whole-run bound; breaches = admissions that broke "
               "its promise pairwise (worst excess beside); wrong ref = refused what the exact central limiter admits "
               "on the same stream; vs exact = admitted minus what it admits; fallback = decisions by on_cut\n");
    fprintf(f, "%-22s %-7s %-11s %5s %10s %10s %10s %9s %10s %10s %10s %11s %9s\n", "fleet", "backend", "strategy",
            "nodes", "admitted", "over bound", "breaches", "worst", "wrong ref", "vs exact", "calls/req", "added p99",
            "fallback");
    for (size_t i = 0; i < n; i++) {
        const flt_report *fl = &r[i].fleet;
        if (!fl->nodes) continue;
        const scn_limiter *l = r[i].limiter;
        char added[24];
        if (fl->added_p99_us >= 1000) snprintf(added, sizeof added, "%.1fms", (double)fl->added_p99_us / 1e3);
        else snprintf(added, sizeof added, "%lldus", (long long)fl->added_p99_us);
        const orc_report *o = &r[i].oracle;
        fprintf(f, "%-22s %-7s %-11s %5u %10llu %10lld %10llu %9.1f %10lld %+10lld %10.4f %11s %9llu\n", l->name, r[i].backend,
                flt_strategy_names[l->fleet->strategy], fl->nodes, (unsigned long long)r[i].summary.admitted,
                (long long)o->over_admitted, (unsigned long long)r[i].bound_breaches,
                r[i].bound_breaches ? o->worst_excess : 0.0, (long long)o->wrongly_blocked,
                (long long)r[i].summary.admitted - (long long)o->reference_admitted,
                r[i].summary.offered ? (double)fl->store_calls / (double)r[i].summary.offered : 0.0, added,
                (unsigned long long)fl->fallbacks);
    }
}

/* A table whose columns size to their contents: cells as text, then printed. */
#define OUT_MAX_COLS 24
#define OUT_CELL 32

typedef struct {
    size_t n_cols, n_rows;
    const char *head[OUT_MAX_COLS];
    int left[OUT_MAX_COLS];           /* text columns align left, numbers right */
    char (*cell)[OUT_MAX_COLS][OUT_CELL];
} out_table;

static void out_table_col(out_table *t, const char *head, int left)
{
    t->left[t->n_cols] = left;
    t->head[t->n_cols++] = head;
}

__attribute__((format(printf, 4, 5))) static void out_cellf(out_table *t, size_t row, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->cell[row][col], OUT_CELL, fmt, ap);
    va_end(ap);
}

static void out_table_print(FILE *f, const out_table *t)
{
    int width[OUT_MAX_COLS];
    for (size_t c = 0; c < t->n_cols; c++) {
        width[c] = (int)strlen(t->head[c]);
        for (size_t r = 0; r < t->n_rows; r++)
            if ((int)strlen(t->cell[r][c]) > width[c]) width[c] = (int)strlen(t->cell[r][c]);
    }
    for (size_t c = 0; c < t->n_cols; c++)
        fprintf(f, "%s%*s", c ? "  " : "", t->left[c] ? -width[c] : width[c], t->head[c]);
    fputc('\n', f);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++)
            fprintf(f, "%s%*s", c ? "  " : "", t->left[c] ? -width[c] : width[c], t->cell[r][c]);
        fputc('\n', f);
    }
}

static void out_duration_us(char *buf, size_t len, int64_t us)
{
    if (us >= 1000000) snprintf(buf, len, "%.2fs", (double)us / 1e6);
    else if (us >= 1000) snprintf(buf, len, "%.1fms", (double)us / 1e3);
    else snprintf(buf, len, "%lldus", (long long)us);
}

void out_print_table(FILE *f, const scn_scenario *s, const run_result *r, size_t n)
{
    fprintf(f, "%s: %.15g s, seed %llu, %zu key(s)\n", s->name, s->duration_s, (unsigned long long)s->seed,
            kspace_count(s->keys));
    int costs = 0, downstream = 0;
    for (size_t i = 0; i < n; i++) {
        costs |= r[i].summary.offered_cost != r[i].summary.offered;
        downstream |= r[i].has_downstream;
    }
    out_table t = { .n_rows = n, .cell = calloc(n ? n : 1, sizeof *t.cell) };
    if (!t.cell) return;
    enum { LIM, ALG, BACK, OFF, ADM, DROP, DEL, PCT };
    out_table_col(&t, "limiter", 1);
    out_table_col(&t, "algorithm", 1);
    out_table_col(&t, "backend", 1);
    out_table_col(&t, "offered", 0);
    out_table_col(&t, "admitted", 0);
    out_table_col(&t, "dropped", 0);
    out_table_col(&t, "delayed", 0);
    out_table_col(&t, "admit%", 0);
    size_t cost_col = t.n_cols;
    if (costs) out_table_col(&t, "admitted cost", 0);
    size_t peak_col = t.n_cols;
    out_table_col(&t, "peak offered/s", 0);
    out_table_col(&t, "peak admitted/s", 0);
    out_table_col(&t, "delay p99", 0);
    size_t ds_col = t.n_cols;
    if (downstream) {
        out_table_col(&t, "overload s", 0);
        out_table_col(&t, "e2e p99", 0);
    }
    size_t oracle_col = t.n_cols;
    out_table_col(&t, "over bound", 0);
    out_table_col(&t, "violations", 0);
    out_table_col(&t, "lat p50", 0);
    out_table_col(&t, "lat p99", 0);
    out_table_col(&t, "dec/s", 0);
    out_table_col(&t, "errors", 0);
    for (size_t i = 0; i < n; i++) {
        const met_summary *m = &r[i].summary;
        const orc_report *o = &r[i].oracle;
        char rate[16], p99[24], p50l[24], p99l[24];
        out_si(rate, sizeof rate, m->wall_s > 0 ? (double)m->offered / m->wall_s : 0);
        out_duration_us(p99, sizeof p99, m->delay_p99_us);
        out_duration_ns(p50l, sizeof p50l, m->latency_p50_ns);
        out_duration_ns(p99l, sizeof p99l, m->latency_p99_ns);
        out_cellf(&t, i, LIM, "%s", r[i].limiter->name);
        out_cellf(&t, i, ALG, "%s", r[i].limiter->entry->name);
        out_cellf(&t, i, BACK, "%s", r[i].backend);
        out_cellf(&t, i, OFF, "%llu", (unsigned long long)m->offered);
        out_cellf(&t, i, ADM, "%llu", (unsigned long long)m->admitted);
        out_cellf(&t, i, DROP, "%llu", (unsigned long long)m->dropped);
        out_cellf(&t, i, DEL, "%llu", (unsigned long long)m->delayed);
        out_cellf(&t, i, PCT, "%.2f%%", m->offered ? 100.0 * (double)m->admitted / (double)m->offered : 0.0);
        if (costs) {
            char c[16];
            out_si(c, sizeof c, (double)m->admitted_cost);
            out_cellf(&t, i, cost_col, "%s (%.1f%%)", c,
                      m->offered_cost ? 100.0 * (double)m->admitted_cost / (double)m->offered_cost : 0.0);
        }
        out_cellf(&t, i, peak_col, "%llu", (unsigned long long)m->peak_offered_rps);
        out_cellf(&t, i, peak_col + 1, "%llu", (unsigned long long)m->peak_admitted_rps);
        out_cellf(&t, i, peak_col + 2, "%s", p99);
        if (downstream) {
            char e2e[24];
            out_duration_us(e2e, sizeof e2e, r[i].downstream.e2e_p99_us);
            out_cellf(&t, i, ds_col, "%llu", (unsigned long long)r[i].overload_s);
            out_cellf(&t, i, ds_col + 1, "%s", r[i].has_downstream ? e2e : "");
        }
        /* blank where the oracle has no bound or could not check */
        if (m->over_admitted >= 0) out_cellf(&t, i, oracle_col, "%lld", (long long)m->over_admitted);
        if (o->violations != (uint64_t)-1) out_cellf(&t, i, oracle_col + 1, "%llu", (unsigned long long)o->violations);
        out_cellf(&t, i, oracle_col + 2, "%s", p50l);
        out_cellf(&t, i, oracle_col + 3, "%s", p99l);
        out_cellf(&t, i, oracle_col + 4, "%s", rate);
        out_cellf(&t, i, oracle_col + 5, "%llu", (unsigned long long)m->errors);
    }
    out_table_print(f, &t);
    free(t.cell);
    fprintf(f, "(peak offered/s: the busiest second of requests arriving; peak admitted/s: of requests let through; "
               "over bound: admitted above the limiter's promise%s)\n",
            downstream ? "; overload s: seconds the downstream got more than its capacity; e2e p99: limiter delay + "
                         "downstream wait + service" : "");
    out_fleet_table(f, r, n);
    if (!s->clients.n) return;
    fprintf(f, "clients who come back (%zu class(es)); recovery: seconds from the busiest second of the last phase "
               "(t=%llds) until attempts stay within the limiter's rate and the downstream's capacity\n",
            s->clients.n, n ? (long long)r[0].clients.peak_second_s : 0LL);
    int timeouts = 0;   /* the timed-out column only where a class waits for its answers */
    for (size_t k = 0; k < s->clients.n; k++) timeouts |= s->clients.c[k].retry_on_timeout;
    fprintf(f, "%-26s %-7s %10s %10s %7s %10s %10s %10s %9s %9s %9s%s\n", "limiter", "backend", "intents", "attempts",
            "amplif", "goodput/s", "tts p99", "abandoned", "budget", "unfinish", "recovery",
            timeouts ? "  timed out" : "");
    for (size_t i = 0; i < n; i++) {
        if (!r[i].has_clients) continue;
        const run_client_stats *c = &r[i].clients;
        char tts[24], rec[24];
        if (c->tts_p99_us >= 1000000) snprintf(tts, sizeof tts, "%.2fs", (double)c->tts_p99_us / 1e6);
        else snprintf(tts, sizeof tts, "%.1fms", (double)c->tts_p99_us / 1e3);
        if (c->recovery_s < 0) snprintf(rec, sizeof rec, "never");
        else snprintf(rec, sizeof rec, "%.0fs", c->recovery_s);
        fprintf(f, "%-26s %-7s %10llu %10llu %6.2fx %10.1f %10s %10llu %9llu %9llu %9s", r[i].limiter->name,
                r[i].backend, (unsigned long long)c->intents, (unsigned long long)r[i].summary.offered,
                c->intents ? (double)r[i].summary.offered / (double)c->intents : 1.0,
                c->duration_s > 0 ? (double)c->succeeded / c->duration_s : 0.0, tts, (unsigned long long)c->abandoned,
                (unsigned long long)c->budget_refused, (unsigned long long)c->unfinished, rec);
        if (timeouts) fprintf(f, " %10llu", (unsigned long long)c->timed_out_attempts);
        fputc('\n', f);
    }
}

/* A path or a command line into JSON: whatever bytes it has, valid UTF-8. */
static void out_add_text(cJSON *obj, const char *name, const char *text)
{
    char valid[4096];
    utf8_copy_valid(text, valid, sizeof valid);
    cJSON_AddStringToObject(obj, name, valid);
}

/* The "scenario" block of run.json: which file, which bytes. */
static void out_scenario_json(cJSON *root, const scn_scenario *s)
{
    cJSON *scn = cJSON_AddObjectToObject(root, "scenario");
    char hash[24];
    cJSON_AddStringToObject(scn, "name", s->name);
    out_add_text(scn, "file", s->path);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->file_hash);
    cJSON_AddStringToObject(scn, "fnv1a64", hash);
    cJSON_AddStringToObject(scn, "description", s->description);
    cJSON_AddNumberToObject(scn, "duration_s", s->duration_s);
    cJSON_AddNumberToObject(scn, "tick_ms", (double)s->tick_us / 1000);
    cJSON *traces = cJSON_AddArrayToObject(scn, "traces");
    for (size_t i = 0; i < s->n_traces; i++) {
        cJSON *t = cJSON_CreateObject();
        out_add_text(t, "file", s->trace_paths[i]);
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->traces[i].file_hash);
        cJSON_AddStringToObject(t, "fnv1a64", hash);
        cJSON_AddNumberToObject(t, "rows", (double)s->traces[i].n);
        cJSON_AddItemToArray(traces, t);
    }
    /* cJSON prints numbers with 15 significant digits when they compare
     * equal within its epsilon: a seed is written as its exact integer */
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddRawToObject(root, "seed", seed);
}

void out_cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) break;
        v += 1 + strspn(v + 1, " \t");
        snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
        break;
    }
    fclose(f);
}

/* command, version, host, started_at, CPU and load: how the results were made */
static void out_provenance_json(cJSON *root, const char *command)
{
    out_add_text(root, "command", command);
    cJSON_AddStringToObject(root, "version", cli_version());
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(root, "host", host);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(root, "started_at", when);
    /* what the wall-clock columns were measured on */
    char cpu[256];
    out_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(root, "cpu_model", cpu);
    cJSON_AddNumberToObject(root, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    double load[3];
    if (getloadavg(load, 3) == 3) {
        cJSON *l = cJSON_AddArrayToObject(root, "load_average");
        for (int i = 0; i < 3; i++) cJSON_AddItemToArray(l, cJSON_CreateNumber(round(load[i] * 100) / 100));
    }
}

static cJSON *out_run_json(const scn_scenario *s, const run_result *r, size_t n, const out_context *ctx)
{
    cJSON *root = cJSON_CreateObject();
    out_scenario_json(root, s);
    cJSON_AddNumberToObject(root, "keys", (double)kspace_count(s->keys));
    cJSON_AddStringToObject(root, "level_key", kspace_name(s->keys, s->level_key));
    cJSON_AddStringToObject(root, "backend", ctx->backend);
    if (ctx->redis) cJSON_AddStringToObject(root, "redis", ctx->redis);
    if (ctx->run_id) cJSON_AddStringToObject(root, "run_id", ctx->run_id);
    cJSON_AddStringToObject(root, "mode", ctx->mode);
    /* what the report draws as lines: the service's capacity, the targets judged by */
    if (s->downstream.present) {
        cJSON *d = cJSON_AddObjectToObject(root, "downstream");
        cJSON_AddNumberToObject(d, "capacity_rps", s->downstream.capacity_rps);
    }
    if (ctx->verdict && ctx->verdict->targets.n) {
        char spec[TGT_MAX_TERMS * 66] = "";
        for (size_t k = 0; k < ctx->verdict->targets.n; k++)
            snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%s", k ? " " : "",
                     ctx->verdict->targets.term[k].text);
        cJSON_AddStringToObject(root, "targets", spec);
    }
    cJSON *lims = cJSON_AddArrayToObject(root, "limiters");
    for (size_t i = 0; i < n; i++) {
        const scn_limiter *l = r[i].limiter;
        if (i > 0 && r[i - 1].limiter == l) continue;  /* the same limiter on another backend */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", l->name);
        cJSON_AddStringToObject(o, "algorithm", l->entry->name);
        cJSON_AddStringToObject(o, "scope", l->global ? "global" : "key");
        cJSON *p = cJSON_AddObjectToObject(o, "params");
        for (size_t k = 0; k < l->entry->n_params; k++) {
            const lim_param_spec *ps = &l->entry->params[k];
            if (isnan(l->values[k])) continue;
            if (ps->kind == LIM_PARAM_CHOICE) cJSON_AddStringToObject(p, ps->name, ps->choices[(int)l->values[k]]);
            else if (ps->kind == LIM_PARAM_RATE && !l->rates[k].plain) {
                char rate[64];   /* as given and used: "20/min" */
                lim_rate_format(&l->rates[k], rate, sizeof rate);
                cJSON_AddStringToObject(p, ps->name, rate);
            } else cJSON_AddNumberToObject(p, ps->name, l->values[k]);
        }
        cJSON_AddStringToObject(o, "level", l->entry->level_name);
        cJSON_AddItemToArray(lims, o);
    }
    out_provenance_json(root, ctx->command);
    cJSON_AddNumberToObject(root, "latency_sample_every", ctx->latency_sample_every);
    cJSON_AddNumberToObject(root, "clock_overhead_ns", round(ctx->clock_overhead_ns));
    return root;
}

static int out_file(const char *dir, const char *name, int (*write)(FILE *, const void *), const void *arg,
                    char *err, size_t errlen)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int bad = write(f, arg) != 0;
    bad |= ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}

typedef struct {
    const scn_scenario *s;
    const run_result *r;
    size_t n;
    const out_context *ctx;
} out_job;

static int out_write_summary(FILE *f, const void *a)
{
    const out_job *j = a;
    out_summary_csv(f, j->r, j->n);
    return 0;
}

static int out_write_timeseries(FILE *f, const void *a)
{
    const out_job *j = a;
    out_timeseries_csv(f, j->r, j->n);
    return 0;
}

/* tts.csv: the distribution of time to success, per limiter with clients. */
static int out_write_tts(FILE *f, const void *a)
{
    const out_job *j = a;
    fputs("limiter,backend,percentile,tts_ms\n", f);
    for (size_t i = 0; i < j->n; i++) {
        if (!j->r[i].has_clients) continue;
        for (int k = 0; k <= 100; k++)
            fprintf(f, "%s,%s,%d,%.3f\n", j->r[i].limiter->name, j->r[i].backend, k,
                    (double)j->r[i].clients.tts_percentile[k] / 1000.0);
    }
    return ferror(f) ? -1 : 0;
}

int out_any_fleet(const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].fleet.nodes) return 1;
    return 0;
}

/* fleet_nodes.csv: each fleet's requests and admissions per node. */
static int out_write_fleet_nodes(FILE *f, const void *a)
{
    const out_job *j = a;
    fputs("fleet,backend,node,offered,admitted,share\n", f);
    for (size_t i = 0; i < j->n; i++) {
        const flt_report *fl = &j->r[i].fleet;
        for (uint32_t k = 0; k < fl->nodes && fl->offered; k++) {
            fprintf(f, "%s,%s,%u,%llu,%llu,", j->r[i].limiter->name, j->r[i].backend, k,
                    (unsigned long long)fl->offered[k], (unsigned long long)fl->admitted[k]);
            if (fl->share) fprintf(f, "%.6f", fl->share[k]);   /* the share of the rate it held at the end */
            fputc('\n', f);
        }
    }
    return ferror(f) ? -1 : 0;
}

static int out_write_cluster_nodes(FILE *f, const void *a)
{
    const out_job *j = a;
    cout_nodes_csv(f, j->r, j->n);
    return ferror(f) ? -1 : 0;
}

static int out_write_cluster_faults(FILE *f, const void *a)
{
    const out_job *j = a;
    cout_faults_csv(f, j->r, j->n);
    return ferror(f) ? -1 : 0;
}

static int out_write_queue(FILE *f, const void *a)
{
    const out_job *j = a;
    qout_series_csv(f, j->r, j->n);
    return 0;
}

static int out_write_accuracy(FILE *f, const void *a)
{
    const out_job *j = a;
    out_accuracy_csv(f, j->r, j->n);
    return 0;
}

static int out_write_json(FILE *f, const void *a)
{
    const out_job *j = a;
    cJSON *root = out_run_json(j->s, j->r, j->n, j->ctx);
    char *text = root ? cJSON_Print(root) : NULL;
    if (text) fprintf(f, "%s\n", text);
    free(text);
    cJSON_Delete(root);
    return text ? 0 : -1;
}

/* not applicable: null */
#define COL_JSON(name, fmt, value, applies) \
    if (applies) out_json_field(row, #name, fmt, value); \
    else cJSON_AddNullToObject(row, #name);

/* A column's value as JSON: a number when it reads as one, else a string. */
__attribute__((format(printf, 3, 4))) static void out_json_field(cJSON *row, const char *name, const char *fmt, ...)
{
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *end;
    double v = strtod(text, &end);
    if (text[0] && !*end && isfinite(v)) cJSON_AddNumberToObject(row, name, v);
    else cJSON_AddStringToObject(row, name, text);
}

static void out_summary_json_row(cJSON *row, const col_row *r)
{
    COL_SUMMARY(COL_JSON)
}

/* summary.json: the verdict, then summary.csv's rows as objects. */
static int out_write_summary_json(FILE *f, const void *a)
{
    const out_job *j = a;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "scenario", j->s->name);
    if (j->ctx->verdict) cJSON_AddItemToObject(root, "verdict", vrd_json(j->ctx->verdict));
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (size_t i = 0; i < j->n; i++) {
        const run_result *r = &j->r[i];
        const scn_limiter *l = r->limiter;
        cJSON *row = cJSON_CreateObject();
        char params[256], refused[256] = "";
        scn_params(l, params, sizeof params);
        cJSON_AddStringToObject(row, "limiter", l->name);
        cJSON_AddStringToObject(row, "algorithm", l->entry->name);
        cJSON_AddStringToObject(row, "backend", r->backend);
        cJSON_AddStringToObject(row, "scope", l->global ? "global" : "key");
        cJSON_AddStringToObject(row, "params", params);
        for (size_t t = 0, used = 0; t < l->n_tiers && used < sizeof refused; t++)
            used += (size_t)snprintf(refused + used, sizeof refused - used, "%s%s=%llu", t ? ";" : "", l->tiers[t].name,
                                     (unsigned long long)r->tier_refused[t]);
        col_row cr = { &r->summary, &r->oracle, r->has_downstream, &r->downstream, r->overload_s,
                       r->has_clients, &r->clients, refused, &r->fleet, r->bound_breaches };
        out_summary_json_row(row, &cr);
        if (r->note[0]) out_add_text(row, "note", r->note);   /* what the pass said on stderr, kept */
        cJSON_AddItemToArray(rows, row);
    }
    char *text = cJSON_Print(root);
    if (text) fprintf(f, "%s\n", text);
    free(text);
    cJSON_Delete(root);
    return text ? 0 : -1;
}

/* hgrm/<limiter>.<backend>.{delay_ms,latency_us}.hgrm: HdrHistogram's
 * percentile distributions, for its plotter or any tool that reads them. */
static int out_write_hgrm(const char *tmp, const run_result *r, size_t n, char *err, size_t errlen)
{
    char dir[8400];
    snprintf(dir, sizeof dir, "%s/hgrm", tmp);
    if (mkdir(dir, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct { const char *what; const hist *h; double unit; } kinds[] = {
            { "delay_ms", r[i].series.delay_all, 1000.0 },      /* recorded in us */
            { "latency_us", r[i].series.latency_all, 1000.0 },  /* recorded in ns */
        };
        for (size_t k = 0; k < 2; k++) {
            if (!kinds[k].h) continue;
            char path[8700];
            snprintf(path, sizeof path, "%s/%s.%s.%s.hgrm", dir, r[i].limiter->name, r[i].backend, kinds[k].what);
            FILE *f = fopen(path, "w");
            if (!f) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            hist_write_hgrm(f, kinds[k].h, kinds[k].unit);
            int bad = ferror(f);
            if (fclose(f) != 0 || bad) {
                snprintf(err, errlen, "%s: write failed", path);
                return -1;
            }
        }
    }
    return 0;
}

static int out_write_marker(FILE *f, const void *a)
{
    (void)a;
    fputs("This directory was written by ratelab: a later run may replace it whole.\n", f);
    return 0;
}

int out_mark_results(const char *dir, char *err, size_t errlen)
{
    return out_file(dir, FS_RESULTS_MARKER, out_write_marker, NULL, err, errlen);
}

int out_write_run(const char *given, const scn_scenario *s, const run_result *results, size_t n,
                  const out_context *ctx, char *err, size_t errlen)
{
    char dir[4096], parent[4096], tmp[8300];
    if (fs_results_target(given, dir, sizeof dir, err, errlen) != 0) return -1;
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    if (slash) *slash = '\0';
    if (slash && *parent && fs_mkdirs(parent) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", parent, strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", slash ? (*parent ? parent : "/") : ".", base, (long)getpid());
    fs_remove_tree(tmp);
    if (mkdir(tmp, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    out_job job = { s, results, n, ctx };
    if (out_file(tmp, FS_RESULTS_MARKER, out_write_marker, &job, err, errlen) != 0 ||
        out_file(tmp, "summary.csv", out_write_summary, &job, err, errlen) != 0 ||
        out_file(tmp, "timeseries.csv", out_write_timeseries, &job, err, errlen) != 0 ||
        out_file(tmp, "accuracy.csv", out_write_accuracy, &job, err, errlen) != 0 ||
        out_file(tmp, "run.json", out_write_json, &job, err, errlen) != 0 ||
        out_file(tmp, "summary.json", out_write_summary_json, &job, err, errlen) != 0 ||
        out_write_hgrm(tmp, results, n, err, errlen) != 0 ||
        (qout_any(results, n) && out_file(tmp, "queue.csv", out_write_queue, &job, err, errlen) != 0) ||
        (s->clients.n && out_file(tmp, "tts.csv", out_write_tts, &job, err, errlen) != 0) ||
        (out_any_fleet(results, n) && out_file(tmp, "fleet_nodes.csv", out_write_fleet_nodes, &job, err, errlen) != 0) ||
        (cout_any(results, n) && out_file(tmp, "cluster_nodes.csv", out_write_cluster_nodes, &job, err, errlen) != 0) ||
        (cout_any_fault(results, n) &&
         out_file(tmp, "cluster_faults.csv", out_write_cluster_faults, &job, err, errlen) != 0)) {
        fs_remove_tree(tmp);
        return -1;
    }
    /* The run took a while: what is at `dir` now must still be ours. */
    if (fs_results_target(dir, dir, sizeof dir, err, errlen) != 0) {
        fs_remove_tree(tmp);
        return -1;
    }
    /* Sweeps and chaos runs made on this scenario stay with it (ratelab
     * sweep and ratelab chaos write them). */
    static const char *const kept[] = { "sweep", "chaos" };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        char old_sub[4200], new_sub[8400];
        snprintf(old_sub, sizeof old_sub, "%s/%s", dir, kept[i]);
        snprintf(new_sub, sizeof new_sub, "%s/%s", tmp, kept[i]);
        rename(old_sub, new_sub);   /* absent is fine */
    }
    /* Swap in one step when the target exists, so readers see old or new. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
        fs_remove_tree(tmp);  /* now holds the previous results, checked above to be ratelab's */
        return 0;
    }
    if (rename(tmp, dir) != 0) {
        snprintf(err, errlen, "%s: cannot move results into place: %s", dir, strerror(errno));
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {   /* give the kept ones back */
            char old_sub[4200], new_sub[8400];
            snprintf(old_sub, sizeof old_sub, "%s/%s", dir, kept[i]);
            snprintf(new_sub, sizeof new_sub, "%s/%s", tmp, kept[i]);
            rename(new_sub, old_sub);
        }
        fs_remove_tree(tmp);
        return -1;
    }
    return 0;
}

int out_write_sweep_run(const char *path, const scn_scenario *s, const char *command, const char *targets,
                        unsigned jobs, const out_sweep *sweeps, size_t n, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) { snprintf(err, errlen, "out of memory"); return -1; }
    out_scenario_json(root, s);
    cJSON_AddStringToObject(root, "backend", "memory");
    cJSON_AddStringToObject(root, "mode", "virtual");
    cJSON_AddStringToObject(root, "targets", targets);
    cJSON_AddNumberToObject(root, "jobs", jobs);
    cJSON *list = cJSON_AddArrayToObject(root, "sweeps");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "limiter", sweeps[i].limiter);
        cJSON_AddStringToObject(o, "algorithm", sweeps[i].algorithm);
        cJSON_AddStringToObject(o, "grid", sweeps[i].grid);
        cJSON_AddNumberToObject(o, "points", (double)sweeps[i].points);
        cJSON_AddNumberToObject(o, "seconds", round(sweeps[i].seconds * 1000) / 1000);
        cJSON_AddItemToArray(list, o);
    }
    out_provenance_json(root, command);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) { snprintf(err, errlen, "out of memory"); return -1; }
    af_file out;
    if (af_open(&out, path, err, errlen) != 0) {
        free(text);
        return -1;
    }
    fputs(text, out.f);
    fputc('\n', out.f);
    free(text);
    return af_commit(&out, err, errlen);
}
