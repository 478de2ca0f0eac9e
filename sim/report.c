/* report.c -- see report.h. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"
#include "fleet.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "csvfile.h"
#include "fsutil.h"

/* run.json is a few KiB; anything far larger was not written by ratelab */
#define REP_MAX_JSON_BYTES (16u << 20)

/* ---- small helpers -------------------------------------------------------------------- */

static void rep_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static int rep_exists(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The JSON of dir/name, or NULL when absent; -1 in *bad when unreadable. */
static cJSON *rep_json(const char *dir, const char *name, int *bad, char *err, size_t errlen)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    int missing;
    char why[200];
    char *text = fs_read_file(path, REP_MAX_JSON_BYTES, &len, &missing, why, sizeof why);
    if (!text) {
        if (!missing) { snprintf(err, errlen, "%s: %s", path, why); *bad = 1; }
        return NULL;
    }
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!root) {
        snprintf(err, errlen, "%s: not valid JSON (written by another program?)", path);
        *bad = 1;
    }
    return root;
}

static const char *rep_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double rep_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int rep_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The PNG names in dir/sub, sorted; *n of them (free with rep_free_names). */
static char **rep_pngs(const char *dir, const char *sub, size_t *n)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png") != 0) continue;
        if (*n == cap) {
            char **grown = realloc(names, (cap = cap * 2 + 16) * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        if (!(names[*n] = strdup(e->d_name))) break;
        ++*n;
    }
    closedir(d);
    if (names) qsort(names, *n, sizeof *names, rep_name_cmp);
    return names;
}

static void rep_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---- sections ------------------------------------------------------------------------- */

static const char rep_style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 18px 40px;color:#1d2330}"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccd}"
    "h3{font-size:15px;margin:18px 0 6px}.desc{color:#445;max-width:900px}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:13px}"
    "th,td{padding:3px 8px;border-bottom:1px solid #e3e5ea;text-align:right;white-space:nowrap}"
    "th{background:#f3f4f7;position:sticky;top:0}td.t,th.t{text-align:left}"
    "tr.meets td{background:#eaf7ea}tr.bad td{background:#fbeaea}"
    ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}"
    "figure{margin:0}figure img{width:100%;height:auto;border:1px solid #e3e5ea}"
    "figcaption{font-size:12px;color:#556}.missing{padding:30px;border:1px dashed #c44;color:#c44}"
    "#broken{display:none;background:#fbeaea;border:1px solid #c44;padding:8px;margin:10px 0}"
    "ul.rec li{margin:4px 0}.best{font-weight:600}code{background:#f3f4f7;padding:1px 4px}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dt{color:#556}dd{margin:0}";

/* Replaces plots that fail to load and counts them: data-images and
 * data-images-loaded on <body> once the page has loaded. */
static const char rep_script[] =
    "window.addEventListener('load',function(){"
    "var imgs=Array.prototype.slice.call(document.images),ok=0;"
    "imgs.forEach(function(img){"
    "if(img.complete&&img.naturalWidth>0){ok++;return;}"
    "var note=document.createElement('div');note.className='missing';"
    "note.textContent='plot missing: '+img.getAttribute('src');img.replaceWith(note);});"
    "document.body.setAttribute('data-images',imgs.length);"
    "document.body.setAttribute('data-images-loaded',ok);"
    "if(ok<imgs.length){var b=document.getElementById('broken');"
    "b.textContent=(imgs.length-ok)+' of '+imgs.length+' plots failed to load: run make bench or make sweep again.';"
    "b.style.display='block';}});";

/* The offered rate over time as an inline SVG line, from a CSV with t_s and
 * offered (timeseries.csv: its first limiter and backend; _traffic.csv). */
static void rep_traffic(FILE *f, const csv_table *t, double duration_s)
{
    int ct = csv_col(t, "t_s"), co = csv_col(t, "offered"), cl = csv_col(t, "limiter"), cb = csv_col(t, "backend");
    if (ct < 0 || co < 0 || t->n_rows < 2) return;
    size_t n = 0;
    for (; n < t->n_rows; n++) {
        if (cl >= 0 && n > 0 && (strcmp(csv_get(t, n, cl), csv_get(t, 0, cl)) != 0 ||
                                 strcmp(csv_get(t, n, cb), csv_get(t, 0, cb)) != 0))
            break;
    }
    double tick = atof(csv_get(t, 1, ct)) - atof(csv_get(t, 0, ct));
    if (!(tick > 0)) return;
    double peak = 0, peak_at = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        double rps = atof(csv_get(t, i, co)) / tick;
        total += atof(csv_get(t, i, co));
        if (rps > peak) peak = rps, peak_at = atof(csv_get(t, i, ct));
    }
    double end = duration_s > 0 ? duration_s : atof(csv_get(t, n - 1, ct)) + tick;
    const double w = 900, h = 200, left = 60, bottom = 24, top = 10;
    fprintf(f, "<p>%.0f requests over %.15g s; peak %.0f req/s at t = %.1f s (offered per %.3g s tick).</p>\n",
            total, end, peak, peak_at, tick);
    fprintf(f, "<svg id=\"traffic\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" style=\"max-width:%.0fpx\" "
               "role=\"img\" aria-label=\"offered requests per second over time\">\n", w, h + bottom + top, w);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#889\"/>", left, top + h, w, top + h);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#889\"/>\n", left, top, left, top + h);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">%.0f/s</text>", left - 4, top + 8, peak);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">0</text>", left - 4, top + h);
    for (int k = 0; k <= 4; k++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%.4g s</text>",
                left + (w - left - 10) * k / 4, top + h + 16, end * k / 4);
    fputs("\n<polyline fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"1.5\" points=\"", f);
    for (size_t i = 0; i < n; i++) {
        double x = left + (w - left - 10) * atof(csv_get(t, i, ct)) / end;
        double y = top + h - (peak > 0 ? h * atof(csv_get(t, i, co)) / tick / peak : 0);
        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fputs("\"/>\n</svg>\n", f);
}

typedef enum { REP_TEXT, REP_INT, REP_RATIO_PCT, REP_US_MS, REP_FIXED2 } rep_kind;

typedef struct {
    const char *column, *heading;
    rep_kind kind;
} rep_column;

static void rep_cell(FILE *f, const char *v, rep_kind kind)
{
    if (kind == REP_TEXT) {
        fputs("<td class=\"t\">", f);
        rep_esc(f, v);
        fputs("</td>", f);
        return;
    }
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end) fprintf(f, "<td>%s</td>", *v ? "?" : "");
    else if (x == -1) fputs("<td title=\"not applicable\">&ndash;</td>", f);
    else if (kind == REP_RATIO_PCT) fprintf(f, "<td>%.2f%%</td>", 100 * x);
    else if (kind == REP_US_MS) fprintf(f, "<td>%.1f</td>", x / 1000);
    else if (kind == REP_FIXED2) fprintf(f, "<td>%.2f</td>", x);
    else fprintf(f, "<td>%.0f</td>", x);
}

/* Whether column c holds anything but -1 (a downstream column without a downstream). */
static int rep_used(const csv_table *t, int c)
{
    if (c < 0) return 0;
    for (size_t r = 0; r < t->n_rows; r++)
        if (strcmp(csv_get(t, r, c), "-1") != 0) return 1;
    return 0;
}

/* A table of t's columns `cols`; with only_algorithm, just its rows. */
static void rep_table(FILE *f, const csv_table *t, const rep_column *cols, size_t n_cols, const char *id,
                      const char *row_class_column, const char *only_algorithm)
{
    int idx[64];
    fprintf(f, "<div class=\"scroll\"><table id=\"%s\"><thead><tr>", id);
    for (size_t k = 0; k < n_cols && k < 64; k++) {
        idx[k] = csv_col(t, cols[k].column);
        if (idx[k] < 0 || (cols[k].kind != REP_TEXT && !rep_used(t, idx[k]))) { idx[k] = -2; continue; }
        fprintf(f, "<th%s title=\"%s\">%s</th>", cols[k].kind == REP_TEXT ? " class=\"t\"" : "", cols[k].column,
                cols[k].heading);
    }
    fputs("</tr></thead><tbody>\n", f);
    int key = csv_col(t, row_class_column);
    int viol = csv_col(t, "violations"), algo = csv_col(t, "algorithm");
    for (size_t r = 0; r < t->n_rows; r++) {
        if (only_algorithm && (algo < 0 || strcmp(csv_get(t, r, algo), only_algorithm) != 0)) continue;
        int bad = viol >= 0 && atof(csv_get(t, r, viol)) > 0;
        fputs("<tr class=\"row", f);
        fputs(bad ? " bad\"" : "\"", f);
        if (key >= 0) {
            fputs(" data-limiter=\"", f);
            rep_esc(f, csv_get(t, r, key));
            fputc('"', f);
        }
        fputc('>', f);
        for (size_t k = 0; k < n_cols && k < 64; k++)
            if (idx[k] != -2) rep_cell(f, csv_get(t, r, idx[k]), cols[k].kind);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
}

static void rep_plots(FILE *f, const char *dir, const char *sub, const char *prefix_first)
{
    size_t n;
    char **names = rep_pngs(dir, sub, &n);
    if (n == 0) {
        fputs("<p>No plots (is gnuplot installed? <code>make deps</code>).</p>\n", f);
        rep_free_names(names, n);
        return;
    }
    fputs("<div class=\"plots\">\n", f);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            int first = prefix_first && strncmp(names[i], prefix_first, strlen(prefix_first)) == 0;
            if (first != (pass == 0)) continue;
            char stem[512];
            snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
            fputs("<figure><a href=\"", f);
            rep_esc(f, sub);
            fputc('/', f);
            rep_esc(f, stem);
            fputs(".svg\"><img src=\"", f);
            rep_esc(f, sub);
            fputc('/', f);
            rep_esc(f, names[i]);
            fputs("\" alt=\"", f);
            rep_esc(f, stem);
            fputs("\"></a><figcaption>", f);
            rep_esc(f, stem);
            fputs(" (click for SVG)</figcaption></figure>\n", f);
        }
    fputs("</div>\n", f);
    rep_free_names(names, n);
}

static void rep_provenance(FILE *f, const cJSON *run, const char *link)
{
    const cJSON *scn = cJSON_GetObjectItemCaseSensitive(run, "scenario");
    fputs("<dl>", f);
    const char *fields[][2] = { { "command", "command" }, { "version", "ratelab version" }, { "started_at", "started" },
                                { "host", "host" }, { "backend", "backend" }, { "mode", "mode" },
                                { "targets", "targets" } };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = rep_str(run, fields[i][0]);
        if (!*v) continue;
        fprintf(f, "<dt>%s</dt><dd>%s", fields[i][1], i == 0 ? "<code>" : "");
        rep_esc(f, v);
        fprintf(f, "%s</dd>", i == 0 ? "</code>" : "");
    }
    double seed = rep_num(run, "seed");
    if (!isnan(seed)) fprintf(f, "<dt>seed</dt><dd>%.0f</dd>", seed);
    fputs("<dt>scenario file</dt><dd>", f);
    rep_esc(f, rep_str(scn, "file"));
    fputs(" (FNV-1a ", f);
    rep_esc(f, rep_str(scn, "fnv1a64"));
    fprintf(f, ")</dd><dt>everything</dt><dd><a href=\"%s\">%s</a></dd></dl>\n", link, link);
}

static void rep_recommendation(FILE *f, const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/sweep/recommendation.txt", dir);
    FILE *in = fopen(path, "r");
    if (!in) return;
    char line[2048];
    fputs("<ul class=\"rec\" id=\"recommendation\">\n", f);
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        int best = strncmp(line, "best overall:", 13) == 0;
        fputs(best ? "<li class=\"best\">" : "<li>", f);
        rep_esc(f, line);
        fputs("</li>\n", f);
    }
    fclose(in);
    fputs("</ul>\n", f);
}

static void rep_best_points(FILE *f, const csv_table *pts)
{
    int cb = csv_col(pts, "best"), cm = csv_col(pts, "meets");
    static const rep_column cols[] = {
        { "limiter", "limiter", REP_TEXT },        { "algorithm", "algorithm", REP_TEXT },
        { "params", "parameters", REP_TEXT },      { "drop_pct", "dropped %", REP_FIXED2 },
        { "peak_rps", "peak admitted/s", REP_INT }, { "p99_ms", "p99 ms", REP_FIXED2 },
        { "overload_s", "overload s", REP_INT },   { "missed", "targets missed", REP_INT },
    };
    fputs("<div class=\"scroll\"><table id=\"best\"><thead><tr>", f);
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        fprintf(f, "<th%s>%s</th>", cols[k].kind == REP_TEXT ? " class=\"t\"" : "", cols[k].heading);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t r = 0; r < pts->n_rows; r++) {
        if (strcmp(csv_get(pts, r, cb), "1") != 0) continue;
        fprintf(f, "<tr%s>", strcmp(csv_get(pts, r, cm), "1") == 0 ? " class=\"meets\"" : "");
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            int c = csv_col(pts, cols[k].column);
            const char *v = csv_get(pts, r, c);
            if (cols[k].kind != REP_TEXT && !*v) fputs("<td>&ndash;</td>", f);
            else rep_cell(f, v, cols[k].kind);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
}

static const rep_column rep_summary_cols[] = {
    { "limiter", "limiter", REP_TEXT },
    { "algorithm", "algorithm", REP_TEXT },
    { "backend", "backend", REP_TEXT },
    { "params", "parameters", REP_TEXT },
    { "offered", "offered", REP_INT },
    { "admitted", "admitted", REP_INT },
    { "dropped", "dropped", REP_INT },
    { "delayed", "delayed", REP_INT },
    { "admit_ratio", "admitted %", REP_RATIO_PCT },
    { "peak_offered_rps", "peak in/s", REP_INT },
    { "peak_admitted_rps", "peak out/s", REP_INT },
    { "delay_p50_us", "delay p50 ms", REP_US_MS },
    { "delay_p99_us", "delay p99 ms", REP_US_MS },
    { "delay_max_us", "delay max ms", REP_US_MS },
    { "errors", "errors", REP_INT },
    { "violations", "oracle violations", REP_INT },
    { "over_admitted", "over-admitted", REP_INT },
    { "wrongly_allowed", "wrongly allowed", REP_INT },
    { "wrongly_blocked", "wrongly blocked", REP_INT },
    { "max_window_cost", "max in a window", REP_INT },
    { "downstream_overload_s", "overload s", REP_INT },
    { "downstream_wait_p99_us", "downstream wait p99 ms", REP_US_MS },
    { "e2e_p99_us", "end-to-end p99 ms", REP_US_MS },
    { "downstream_completed", "completed", REP_INT },
};

static const rep_column rep_client_cols[] = {
    { "limiter", "limiter or chain", REP_TEXT },
    { "backend", "backend", REP_TEXT },
    { "intents", "intents", REP_INT },
    { "offered", "attempts", REP_INT },
    { "amplification", "amplification", REP_FIXED2 },
    { "goodput_rps", "goodput/s", REP_FIXED2 },
    { "tts_p50_us", "time to success p50 ms", REP_US_MS },
    { "tts_p99_us", "time to success p99 ms", REP_US_MS },
    { "attempts_per_success", "attempts per success", REP_FIXED2 },
    { "abandoned", "abandoned", REP_INT },
    { "budget_refused", "refused by budget", REP_INT },
    { "unfinished", "unfinished", REP_INT },
    { "timed_out_attempts", "timed out", REP_INT },
    { "recovery_s", "recovery s (-1: never)", REP_INT },
    { "refused_by", "refusals per tier", REP_TEXT },
};

static const rep_column rep_fleet_cols[] = {
    { "limiter", "fleet", REP_TEXT },
    { "backend", "backend", REP_TEXT },
    { "params", "strategy", REP_TEXT },
    { "admitted", "admitted", REP_INT },
    { "reference_admitted", "one exact limiter admits", REP_INT },
    { "over_admitted", "over the whole-run bound", REP_INT },
    { "bound_breaches", "admissions breaking the bound", REP_INT },
    { "worst_excess", "worst excess", REP_FIXED2 },
    { "wrongly_blocked", "refused, exact admits", REP_INT },
    { "store_calls_per_request", "store calls per request", REP_FIXED2 },
    { "added_latency_p99_us", "added latency p99 ms", REP_US_MS },
    { "fallback_decisions", "decided by on_cut", REP_INT },
    { "lost_messages", "messages lost", REP_INT },
};

static const rep_column rep_cluster_cols[] = {
    { "limiter", "limiter", REP_TEXT },
    { "node", "node", REP_TEXT },
    { "role", "role", REP_TEXT },
    { "slots", "slots", REP_INT },
    { "keys", "keys at the end", REP_INT },
    { "calls", "calls answered", REP_INT },
    { "share", "share of the calls", REP_RATIO_PCT },
    { "latency_p50_us", "latency p50 ms", REP_US_MS },
    { "latency_p99_us", "latency p99 ms", REP_US_MS },
    { "moved", "MOVED", REP_INT },
    { "ask", "ASK", REP_INT },
    { "clusterdown", "CLUSTERDOWN", REP_INT },
    { "unanswered_windows", "windows without answers", REP_INT },
    { "longest_window_ms", "longest window ms", REP_FIXED2 },
};

static const rep_column rep_cluster_fault_cols[] = {
    { "limiter", "limiter", REP_TEXT },
    { "fault", "fault", REP_TEXT },
    { "planned_s", "planned s", REP_FIXED2 },
    { "victim", "master / slots from -> to", REP_TEXT },
    { "slots_moved", "slots moved", REP_INT },
    { "keys_moved", "keys moved", REP_INT },
    { "took_s", "took s", REP_FIXED2 },
    { "errors", "errors in the pass", REP_INT },
    { "longest_window_s", "longest window s", REP_FIXED2 },
    { "error", "went wrong", REP_TEXT },
};

/* Whether clients came back (some amplification above 1) or a chain ran. */
static int rep_has_clients(const csv_table *t, int have)
{
    int amp = have ? csv_col(t, "amplification") : -1, tiers = have ? csv_col(t, "refused_by") : -1;
    for (size_t r = 0; amp >= 0 && r < t->n_rows; r++)
        if (atof(csv_get(t, r, amp)) > 1 || (tiers >= 0 && *csv_get(t, r, tiers))) return 1;
    return 0;
}

static const rep_column rep_queue_cols[] = {
    { "limiter", "queue", REP_TEXT },
    { "backend", "backend", REP_TEXT },
    { "queue_produced", "produced", REP_INT },
    { "queue_succeeded", "succeeded", REP_INT },
    { "queue_dead_lettered", "dead-lettered", REP_INT },
    { "queue_still_queued", "still queued", REP_INT },
    { "dropped", "rejected", REP_INT },
    { "queue_lost", "lost", REP_INT },
    { "queue_deliveries", "deliveries", REP_INT },
    { "queue_retries", "retries", REP_INT },
    { "queue_duplicates", "duplicates", REP_INT },
    { "queue_reaped", "reaped", REP_INT },
    { "queue_max_len", "most waiting", REP_INT },
    { "peak_offered_rps", "peak in/s", REP_INT },
    { "peak_admitted_rps", "peak delivered/s", REP_INT },
    { "delay_p50_us", "e2e p50 ms", REP_US_MS },
    { "delay_p99_us", "e2e p99 ms", REP_US_MS },
    { "queue_drained_s", "drained at s", REP_FIXED2 },
    { "queue_durability", "durability", REP_TEXT },
    { "queue_msgs_per_s_durable", "msg/s with it", REP_INT },
    { "queue_msgs_per_s_no_aof", "msg/s without AOF", REP_INT },
    { "queue_consumer_kills", "consumer kills", REP_INT },
    { "queue_server_restarts", "server restarts", REP_INT },
};

/* Whether the summary has a queue row. */
static int rep_has_queue(const csv_table *t, int have)
{
    int algo = have ? csv_col(t, "algorithm") : -1;
    for (size_t r = 0; algo >= 0 && r < t->n_rows; r++)
        if (strcmp(csv_get(t, r, algo), "queue") == 0) return 1;
    return 0;
}

static const rep_column rep_accuracy_cols[] = {
    { "limiter", "limiter", REP_TEXT },
    { "algorithm", "algorithm", REP_TEXT },
    { "backend", "backend", REP_TEXT },
    { "limit", "limit", REP_INT },
    { "window_ms", "window ms", REP_INT },
    { "requests", "requests", REP_INT },
    { "wrongly_allowed_pct", "wrongly allowed %", REP_FIXED2 },
    { "wrongly_blocked_pct", "wrongly blocked %", REP_FIXED2 },
    { "wrong_pct", "wrong %", REP_FIXED2 },
    { "overshoot_pct", "overshoot %", REP_FIXED2 },
    { "source", "reference", REP_TEXT },
};

/* ---- the page ------------------------------------------------------------------------- */

static int rep_load_optional(const char *dir, const char *name, csv_table *t, int *have, char *err, size_t errlen)
{
    *have = 0;
    if (!rep_exists(dir, name)) return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (csv_load(path, t, err, errlen) != 0) return -1;
    *have = 1;
    return 0;
}

int rep_write(const char *dir, char *err, size_t errlen)
{
    int bad = 0, rc = -1;
    cJSON *run = rep_json(dir, "run.json", &bad, err, errlen);
    cJSON *sweep = bad ? NULL : rep_json(dir, "sweep/run.json", &bad, err, errlen);
    csv_table summary, accuracy, series, points, traffic, shards, shard_faults;
    int have_summary = 0, have_accuracy = 0, have_series = 0, have_points = 0, have_traffic = 0, have_shards = 0,
        have_shard_faults = 0;
    af_file out = { .f = NULL };
    char path[4400];
    snprintf(path, sizeof path, "%s/index.html", dir);
    if (bad) goto done;
    if (!run && !sweep) {
        snprintf(err, errlen, "%s: no results to report (neither run.json nor sweep/run.json)", dir);
        goto done;
    }
    if ((run && (rep_load_optional(dir, "summary.csv", &summary, &have_summary, err, errlen) != 0 ||
                 rep_load_optional(dir, "accuracy.csv", &accuracy, &have_accuracy, err, errlen) != 0 ||
                 rep_load_optional(dir, "timeseries.csv", &series, &have_series, err, errlen) != 0 ||
                 rep_load_optional(dir, "cluster_nodes.csv", &shards, &have_shards, err, errlen) != 0 ||
                 rep_load_optional(dir, "cluster_faults.csv", &shard_faults, &have_shard_faults, err, errlen) != 0)) ||
        (sweep && (rep_load_optional(dir, "sweep/_points.csv", &points, &have_points, err, errlen) != 0 ||
                   rep_load_optional(dir, "sweep/_traffic.csv", &traffic, &have_traffic, err, errlen) != 0)))
        goto done;
    if (af_open(&out, path, err, errlen) != 0) goto done;
    FILE *f = out.f;
    const cJSON *scn = cJSON_GetObjectItemCaseSensitive(run ? run : sweep, "scenario");
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>ratelab: ", f);
    rep_esc(f, rep_str(scn, "name"));
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<div id=\"broken\"></div>\n<h1>ratelab: ", rep_style);
    rep_esc(f, rep_str(scn, "name"));
    fputs("</h1>\n<p class=\"desc\">", f);
    rep_esc(f, rep_str(scn, "description"));
    fputs("</p>\n<h2>Traffic</h2>\n", f);
    if (have_series) rep_traffic(f, &series, rep_num(scn, "duration_s"));
    else if (have_traffic) rep_traffic(f, &traffic, rep_num(scn, "duration_s"));

    if (sweep) {
        fputs("<h2>Sweep and recommendation</h2>\n", f);
        rep_recommendation(f, dir);
        if (have_points) {
            fputs("<h3>Each limiter's best point (green: meets every target)</h3>\n", f);
            rep_best_points(f, &points);
        }
        const cJSON *sw, *list = cJSON_GetObjectItemCaseSensitive(sweep, "sweeps");
        fputs("<h3>Grids</h3><ul>", f);
        cJSON_ArrayForEach(sw, list) {
            fputs("<li><a href=\"sweep/", f);
            rep_esc(f, rep_str(sw, "limiter"));
            fputs(".csv\">", f);
            rep_esc(f, rep_str(sw, "limiter"));
            fputs("</a> (", f);
            rep_esc(f, rep_str(sw, "algorithm"));
            fputs("): <code>", f);
            rep_esc(f, rep_str(sw, "grid"));
            fprintf(f, "</code>, %.0f points in %.2f s</li>", rep_num(sw, "points"), rep_num(sw, "seconds"));
        }
        fputs("</ul>\n<p>All points, judged: <a href=\"sweep/_points.csv\">sweep/_points.csv</a>.</p>\n", f);
        fputs("<h3>Sweep plots</h3>\n", f);
        rep_plots(f, dir, "sweep/plots", "pareto");
    }
    if (run) {
        fputs("<h2>Run: summary</h2>\n", f);
        if (have_summary)
            rep_table(f, &summary, rep_summary_cols, sizeof rep_summary_cols / sizeof rep_summary_cols[0], "summary",
                      "limiter", NULL);
        if (rep_has_clients(&summary, have_summary)) {
            fputs("<h3>Clients who come back, and chains</h3>\n<p>intents are first attempts; amplification = "
                  "attempts / intents; goodput = intents admitted per second; recovery: from the busiest second of "
                  "the last phase until attempts stay within the limiter's rate and the downstream's capacity. See "
                  "<a href=\"plots/attempts.png\">attempts</a> and <a href=\"plots/tts_cdf.png\">time to "
                  "success</a>.</p>\n", f);
            rep_table(f, &summary, rep_client_cols, sizeof rep_client_cols / sizeof rep_client_cols[0], "clients",
                      "limiter", NULL);
        }
        int nodes = have_summary ? csv_col(&summary, "nodes") : -1, fleets = 0;
        for (size_t r = 0; nodes >= 0 && r < summary.n_rows; r++) fleets |= atoi(csv_get(&summary, r, nodes)) > 0;
        if (fleets) {
            fputs("<h3>Fleets: one limit across gateway nodes</h3>\n<p>Each fleet is judged by its limiter's promise "
                  "on the requests it admitted: above the whole-run bound, admissions that break it in some window "
                  "(and by how much at worst), and what it refused that one exact limiter would have admitted; what "
                  "coordination cost in calls to the store or coordinator and in link latency. Per node: "
                  "<code>fleet_nodes.csv</code>.</p>\n", f);
            rep_table(f, &summary, rep_fleet_cols, sizeof rep_fleet_cols / sizeof rep_fleet_cols[0], "fleets",
                      "limiter", fleet_entry.name);
        }
        if (have_shards) {
            fputs("<h3>Redis Cluster: the load per node</h3>\n<p>Per pass and node: the pass's keys at its end, the "
                  "commands the node answered and their share, their latency from the batch's send, and what routing "
                  "met. A global limiter is one key in one slot: one master carries all of it. "
                  "<code>cluster_nodes.csv</code>.</p>\n", f);
            rep_table(f, &shards, rep_cluster_cols, sizeof rep_cluster_cols / sizeof rep_cluster_cols[0], "cluster",
                      "limiter", NULL);
        }
        if (have_shard_faults) {
            fputs("<h3>Redis Cluster: faults during the passes</h3>\n<p>kill-master: until the replica served the hot "
                  "slot; its window's unanswered calls are the pass's errors, decided by on-error. reshard: slots and "
                  "keys moved live. <code>cluster_faults.csv</code>.</p>\n", f);
            rep_table(f, &shard_faults, rep_cluster_fault_cols,
                      sizeof rep_cluster_fault_cols / sizeof rep_cluster_fault_cols[0], "cluster_faults", "limiter",
                      NULL);
        }
        if (rep_has_queue(&summary, have_summary)) {
            fputs("<h3>Reliable queue: where every message went</h3>\n<p>lost = produced &minus; (succeeded + "
                  "dead-lettered + still queued + rejected); durability is the redis-server's AOF, with what it "
                  "costs in produce+take+ack per second measured beside the same server without it.</p>\n", f);
            rep_table(f, &summary, rep_queue_cols, sizeof rep_queue_cols / sizeof rep_queue_cols[0], "queue",
                      "limiter", "queue");
        }
        if (have_accuracy && accuracy.n_rows > 0) {
            fputs("<h3>Accuracy of the approximate limiters against the exact sliding log</h3>\n", f);
            rep_table(f, &accuracy, rep_accuracy_cols, sizeof rep_accuracy_cols / sizeof rep_accuracy_cols[0],
                      "accuracy", "limiter", NULL);
        }
        fputs("<h2>Run: plots</h2>\n", f);
        rep_plots(f, dir, "plots", "panels");
    }
    fputs("<h2>How this was produced</h2>\n", f);
    if (run) {
        fputs("<h3>Run</h3>\n", f);
        rep_provenance(f, run, "run.json");
    }
    if (sweep) {
        fputs("<h3>Sweep</h3>\n", f);
        rep_provenance(f, sweep, "sweep/run.json");
    }
    fprintf(f, "<script>%s</script>\n</body></html>\n", rep_script);
    rc = af_commit(&out, err, errlen);
done:
    if (out.f) af_abandon(&out);
    if (have_summary) csv_free(&summary);
    if (have_accuracy) csv_free(&accuracy);
    if (have_series) csv_free(&series);
    if (have_points) csv_free(&points);
    if (have_traffic) csv_free(&traffic);
    if (have_shards) csv_free(&shards);
    if (have_shard_faults) csv_free(&shard_faults);
    cJSON_Delete(run);
    cJSON_Delete(sweep);
    return rc;
}
