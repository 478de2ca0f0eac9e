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
#include "report_assets.h"
#include "report_charts.h"
#include "targets.h"

/* run.json is a few KiB; anything far larger was not written by ratelab */
#define REP_MAX_JSON_BYTES (16u << 20)
/* a sweep's recommendation and notes: a few lines each */
#define REP_MAX_TEXT_BYTES (1u << 20)

/* ---- small helpers -------------------------------------------------------------------- */

void rep_html(FILE *f, const char *s)
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
static char **rep_files(const char *dir, const char *sub, const char *ext, size_t *n);

static char **rep_pngs(const char *dir, const char *sub, size_t *n)
{
    return rep_files(dir, sub, ".png", n);
}

/* The names in dir/sub ending in ext, sorted; *n of them. */
static char **rep_files(const char *dir, const char *sub, const char *ext, size_t *n)
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
        if (len <= strlen(ext) || strcmp(e->d_name + len - strlen(ext), ext) != 0) continue;
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
    fprintf(f, "<p>%.0f requests over %.15g s; the busiest %.3g s tick offered %.0f req/s (scaled to a second) at "
               "t = %.1f s.</p>\n", total, end, tick, peak, peak_at);
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

typedef enum { REP_TEXT, REP_SHORT, REP_INT, REP_RATIO_PCT, REP_PCT, REP_US_MS, REP_FIXED2, REP_NS, REP_RATE } rep_kind;

typedef struct {
    const char *column, *heading;
    rep_kind kind;
} rep_column;

/* Parameter strings longer than this are cut, whole in the cell's title. */
#define REP_SHORT_CHARS 36

/* One cell of value v; `group` (or NULL) is a class its column belongs to. */
static void rep_cell_in(FILE *f, const char *v, rep_kind kind, const char *group)
{
    const char *g = group ? group : "";
    if (kind == REP_TEXT || (kind == REP_SHORT && strlen(v) <= REP_SHORT_CHARS)) {
        fprintf(f, "<td class=\"t %s\">", g);
        rep_html(f, v);
        fputs("</td>", f);
        return;
    }
    if (kind == REP_SHORT) {
        char cut[REP_SHORT_CHARS + 1];
        snprintf(cut, sizeof cut, "%.*s", REP_SHORT_CHARS - 1, v);
        fprintf(f, "<td class=\"t %s\" title=\"", g);
        rep_html(f, v);
        fputs("\">", f);
        rep_html(f, cut);
        fputs("&hellip;</td>", f);
        return;
    }
    char *end;
    double x = strtod(v, &end);
    /* empty: not applicable (-1 in results from an older ratelab) */
    if (!*v || x == -1) {
        fprintf(f, "<td class=\"%s\" title=\"not applicable\">&ndash;</td>", g);
        return;
    }
    fprintf(f, group ? "<td class=\"%s\">" : "<td>", g);
    if (*end) fputs("?", f);
    else if (kind == REP_RATIO_PCT) fprintf(f, "%.2f%%", 100 * x);
    else if (kind == REP_PCT) fprintf(f, "%.2f%%", x);
    else if (kind == REP_US_MS) fprintf(f, "%.1f", x / 1000);
    else if (kind == REP_FIXED2) fprintf(f, "%.2f", x);
    else if (kind == REP_NS && x >= 1e6) fprintf(f, "%.1f ms", x / 1e6);
    else if (kind == REP_NS && x >= 1e4) fprintf(f, "%.1f &micro;s", x / 1e3);
    else if (kind == REP_NS) fprintf(f, "%.0f ns", x);
    else if (kind == REP_RATE && x >= 1e6) fprintf(f, "%.2fM/s", x / 1e6);
    else if (kind == REP_RATE && x >= 1e4) fprintf(f, "%.1fk/s", x / 1e3);
    else if (kind == REP_RATE) fprintf(f, "%.0f/s", x);
    else fprintf(f, "%.0f", x);
    fputs("</td>", f);
}

static void rep_cell(FILE *f, const char *v, rep_kind kind)
{
    rep_cell_in(f, v, kind, NULL);
}

/* Whether column c applies to any row (not a downstream column without a downstream). */
static int rep_used(const csv_table *t, int c)
{
    if (c < 0) return 0;
    for (size_t r = 0; r < t->n_rows; r++)
        if (csv_get(t, r, c)[0] && strcmp(csv_get(t, r, c), "-1") != 0) return 1;
    return 0;
}

/* The oracle's finer columns: grouped at the table's end, hidden until asked for. */
static int rep_is_oracle_detail(const char *column)
{
    static const char *const detail[] = { "worst_excess", "wrongly_allowed", "wrongly_blocked", "max_window_cost",
                                          "reference_admitted" };
    for (size_t i = 0; i < sizeof detail / sizeof detail[0]; i++)
        if (strcmp(column, detail[i]) == 0) return 1;
    return 0;
}

/* Whether a cost differs from its count in some row (llm_tokens): else
 * the cost column says the counts again. */
static int rep_costs_vary(const csv_table *t)
{
    int oc = csv_col(t, "offered_cost"), o = csv_col(t, "offered");
    for (size_t r = 0; oc >= 0 && o >= 0 && r < t->n_rows; r++)
        if (strcmp(csv_get(t, r, oc), csv_get(t, r, o)) != 0) return 1;
    return 0;
}

/* A table of t's columns `cols`; with only_algorithm, just its rows. Its
 * first column stays in view while the rest scroll; the oracle's finer
 * columns sit in a group a checkbox shows. */
static void rep_table(FILE *f, const csv_table *t, const rep_column *cols, size_t n_cols, const char *id,
                      const char *row_class_column, const char *only_algorithm)
{
    int idx[64], details = 0, costs = rep_costs_vary(t);
    for (size_t k = 0; k < n_cols && k < 64; k++) {
        idx[k] = csv_col(t, cols[k].column);
        int wanted = costs || strcmp(cols[k].column, "admitted_cost") != 0;
        int text = cols[k].kind == REP_TEXT || cols[k].kind == REP_SHORT;
        if (idx[k] < 0 || !wanted || (!text && !rep_used(t, idx[k]))) {
            idx[k] = -2;
            continue;
        }
        details += rep_is_oracle_detail(cols[k].column);
    }
    if (details)
        fprintf(f, "<input type=\"checkbox\" id=\"show-oracle-%s\" class=\"show-oracle\"><label class=\"toggle\" "
                   "for=\"show-oracle-%s\">show the oracle's %d finer columns (worst excess, decisions unlike the "
                   "exact reference, ...)</label>\n", id, id, details);
    fprintf(f, "<div class=\"scroll\"><table id=\"%s\" class=\"sticky\"><thead><tr>", id);
    for (size_t k = 0; k < n_cols && k < 64; k++) {
        if (idx[k] == -2) continue;
        int text = cols[k].kind == REP_TEXT || cols[k].kind == REP_SHORT, oracle = rep_is_oracle_detail(cols[k].column);
        fprintf(f, "<th%s title=\"%s\">%s</th>", text ? " class=\"t\"" : oracle ? " class=\"oracle\"" : "",
                cols[k].column, cols[k].heading);
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
            rep_html(f, csv_get(t, r, key));
            fputc('"', f);
        }
        fputc('>', f);
        for (size_t k = 0; k < n_cols && k < 64; k++) {
            if (idx[k] == -2) continue;
            rep_cell_in(f, csv_get(t, r, idx[k]), cols[k].kind, rep_is_oracle_detail(cols[k].column) ? "oracle" : NULL);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
}

/* What to look at in a gnuplot figure, by its file's stem. */
static void rep_caption(FILE *f, const char *stem)
{
    static const char *const known[][2] = {
        { "offered_admitted", "Offered against what each limiter passed on, with the downstream's capacity." },
        { "dropped", "Requests refused per second, per limiter." },
        { "delay", "The delay a limiter adds to what it admits: p99 solid, p50 dashed." },
        { "latency", "Decision time on the wall clock, sampled: p99 solid, p50 dashed." },
        { "accuracy", "How often an approximate limiter decides unlike the exact sliding log, beside Cloudflare's "
                      "published figure." },
        { "panels", "Each limiter alone: offered, admitted, released and dropped per second." },
        { "level", "Each limiter's state (tokens, a count, a queue) for its busiest key." },
        { "attempts", "Attempts against intents: how much the retries add to the load." },
        { "tts_cdf", "Time to success of the intents that got through." },
        { "queue", "The reliable queue over time: waiting, in flight, delivered." },
        { "pareto_load", "Every sweep point: drops against the peak it let through; filled points meet the targets, "
                         "the line is the Pareto front." },
        { "pareto_delay", "Every sweep point: drops against its p99; filled points meet the targets, the line is the "
                          "Pareto front." },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(stem, known[i][0]) == 0) {
            fputs(known[i][1], f);
            return;
        }
    /* a sweep's <limiter>_<metric> */
    fputs("Over the grid: ", f);
    rep_html(f, stem);
    fputs(" (white circles meet the targets; the red ring is the chosen point).", f);
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
            rep_html(f, sub);
            fputc('/', f);
            rep_html(f, stem);
            fputs(".svg\"><img src=\"", f);
            rep_html(f, sub);
            fputc('/', f);
            rep_html(f, names[i]);
            fputs("\" alt=\"", f);
            rep_html(f, stem);
            fputs("\"></a><figcaption>", f);
            rep_caption(f, stem);
            fputs(" <a href=\"", f);
            rep_html(f, sub);
            fputc('/', f);
            rep_html(f, stem);
            fputs(".svg\">SVG</a></figcaption></figure>\n", f);
        }
    fputs("</div>\n", f);
    rep_free_names(names, n);
    /* what was not drawn, after what was: a sentence per constant map */
    size_t n_notes;
    char **notes = rep_files(dir, sub, ".txt", &n_notes);
    for (size_t i = 0; i < n_notes; i++) {
        char path[4600];
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, notes[i]);
        size_t len;
        char why[200];
        char *text = fs_read_file(path, REP_MAX_TEXT_BYTES, &len, NULL, why, sizeof why);
        if (text && len) {   /* its first line */
            text[strcspn(text, "\n")] = '\0';
            fputs("<p class=\"caption note\">", f);
            rep_html(f, text);
            fputs("</p>\n", f);
        }
        free(text);
    }
    rep_free_names(notes, n_notes);
}

/* The verdict of summary.json: which limiters meet the targets, the best,
 * and what each other one misses, every limiter named with its colour. */
static void rep_verdict(FILE *f, const cJSON *summary, rch_colours *colours)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(summary, "verdict");
    fputs("<section class=\"verdict\" id=\"verdict\"><h2>Verdict</h2>\n", f);
    if (!v) {
        fputs("<p class=\"headline\">No verdict: these results were written by an older ratelab (no summary.json). "
              "Run the scenario again.</p></section>\n", f);
        return;
    }
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(v, "targets"), *t;
    const cJSON *passes = cJSON_GetObjectItemCaseSensitive(v, "passes"), *p;
    int n_targets = cJSON_GetArraySize(targets), n_passes = cJSON_GetArraySize(passes);
    const char *best = rep_str(v, "best"), *closest = rep_str(v, "closest");
    fputs("<p class=\"headline\">", f);
    if (!n_targets) {
        fputs("No targets to judge by (give the scenario <code>\"targets\"</code>, or <code>--target</code>): "
              "each limiter is judged against its own promise only.", f);
    } else {
        if (*best) {
            fputs("Best: <b>", f);
            rep_html(f, best);
            fputs("</b>, which meets every target with the fewest drops.", f);
        } else {
            fputs("<b>No limiter meets the targets.</b>", f);
            if (*closest) {
                fputs(" Closest: <b>", f);
                rep_html(f, closest);
                fputs("</b>.", f);
            }
        }
        fprintf(f, " %.0f of %d meet", rep_num(v, "meeting"), n_passes);
        cJSON_ArrayForEach(t, targets) {
            fputs(" <code>", f);
            rep_html(f, cJSON_IsString(t) ? t->valuestring : "");
            fputs("</code>", f);
        }
        fprintf(f, " (from %s; p99 is %s).", rep_str(v, "targets_from"),
                strcmp(rep_str(v, "p99_is"), "e2e_p99_ms") == 0 ? "end to end" : "the limiter's own delay");
    }
    fputs("</p>\n<ul>\n", f);
    cJSON_ArrayForEach(p, passes) {
        const char *label = rep_str(p, "label"), *standing = rep_str(p, "standing");
        char colour[8];
        rch_colour(colours, rep_str(p, "limiter"), colour);
        const char *badge = strcmp(standing, "best") == 0            ? "best"
                            : strcmp(standing, "meets") == 0         ? "meets"
                            : strcmp(standing, "misses") == 0        ? "misses"
                            : strcmp(standing, "broke_promise") == 0 ? "broke"
                                                                     : "none";
        const char *word = strcmp(badge, "broke") == 0 ? "broke its promise" : strcmp(badge, "none") == 0 ? "kept its promise"
                           : badge;
        if (strcmp(label, closest) == 0) word = "closest";
        const char *not_checked = rep_str(p, "not_checked");   /* never "kept" what was not checked */
        if (*not_checked && strcmp(badge, "none") == 0) word = "not checked";
        fputs("<li data-limiter=\"", f);
        rep_html(f, label);
        fprintf(f, "\"><span class=\"swatch\" style=\"background:%s\"></span><span class=\"badge %s\">%s</span><b>",
                colour, badge, word);
        rep_html(f, label);
        fputs("</b>", f);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "metrics");
        if (strcmp(badge, "broke") == 0) {
            double over = rep_num(p, "over_admitted"), viol = rep_num(p, "violations");
            if (over > 0) fprintf(f, ": admitted %.0f above its bound", over);
            if (viol > 0) fprintf(f, "%s %.0f admission(s) broke its promise (oracle)", over > 0 ? ";" : ":", viol);
        } else if (strcmp(badge, "misses") == 0) {
            const cJSON *miss, *missed = cJSON_GetObjectItemCaseSensitive(p, "missed");
            int k = 0;
            cJSON_ArrayForEach(miss, missed) {
                fputs(k++ ? ", " : ": misses <code>", f);
                if (k > 1) fputs("<code>", f);
                rep_html(f, rep_str(miss, "target"));
                fprintf(f, "</code> by %.4g (it is %.4g)", rep_num(miss, "by"), rep_num(miss, "value"));
            }
        } else if (m) {
            fprintf(f, ": %.2f%% dropped, peak %.0f/s admitted, p99 %.1f ms", rep_num(m, "drop_pct"),
                    rep_num(m, "peak_rps"), rep_num(m, rep_str(v, "p99_is")));
        }
        if (*not_checked) {
            fputs("; its promise was not checked: ", f);
            rep_html(f, not_checked);
        }
        fputs("</li>\n", f);
    }
    fputs("</ul></section>\n", f);
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
        rep_html(f, v);
        fprintf(f, "%s</dd>", i == 0 ? "</code>" : "");
    }
    double seed = rep_num(run, "seed");
    if (!isnan(seed)) fprintf(f, "<dt>seed</dt><dd>%.0f</dd>", seed);
    fputs("<dt>scenario file</dt><dd>", f);
    rep_html(f, rep_str(scn, "file"));
    fputs(" (FNV-1a ", f);
    rep_html(f, rep_str(scn, "fnv1a64"));
    fprintf(f, ")</dd><dt>everything</dt><dd><a href=\"%s\">%s</a></dd></dl>\n", link, link);
}

static void rep_recommendation(FILE *f, const char *dir)
{
    char path[4400], why[200];
    snprintf(path, sizeof path, "%s/sweep/recommendation.txt", dir);
    size_t len;
    int missing = 0;
    /* read whole and bounded: /dev/zero or an endless FIFO put there ends
     * as a note, not as a page that grows without end */
    char *text = fs_read_file(path, REP_MAX_TEXT_BYTES, &len, &missing, why, sizeof why);
    if (!text) {
        if (missing) return;
        fputs("<p class=\"caption note\">sweep/recommendation.txt not shown: ", f);
        rep_html(f, why);
        fputs("</p>\n", f);
        return;
    }
    fputs("<ul class=\"rec\" id=\"recommendation\">\n", f);
    for (char *line = text, *next; line < text + len; line = next) {
        next = line + strcspn(line, "\n");
        if (*next) *next++ = '\0';
        int best = strncmp(line, "best overall:", 13) == 0;
        fputs(best ? "<li class=\"best\">" : "<li>", f);
        rep_html(f, line);
        fputs("</li>\n", f);
    }
    free(text);
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
    { "params", "parameters", REP_SHORT },
    { "offered", "offered", REP_INT },
    { "admitted", "admitted", REP_INT },
    { "dropped", "dropped", REP_INT },
    { "delayed", "delayed", REP_INT },
    { "admit_pct", "admitted %", REP_PCT },
    { "admitted_cost", "admitted cost", REP_INT },
    { "peak_offered_rps", "peak offered/s (busiest second)", REP_INT },
    { "peak_admitted_rps", "peak admitted/s", REP_INT },
    { "delay_p50_us", "delay p50 ms", REP_US_MS },
    { "delay_p99_us", "delay p99 ms", REP_US_MS },
    { "delay_max_us", "delay max ms", REP_US_MS },
    { "downstream_overload_s", "overload s", REP_INT },
    { "downstream_wait_p99_us", "downstream wait p99 ms", REP_US_MS },
    { "e2e_p99_us", "end-to-end p99 ms", REP_US_MS },
    { "downstream_completed", "completed", REP_INT },
    { "over_admitted", "over bound", REP_INT },
    { "violations", "oracle violations", REP_INT },
    { "wall_latency_p50_ns", "decision p50", REP_NS },
    { "wall_latency_p99_ns", "decision p99", REP_NS },
    { "wall_decisions_per_s", "decisions/s", REP_RATE },
    { "errors", "errors", REP_INT },
    { "worst_excess", "worst excess", REP_FIXED2 },
    { "wrongly_allowed", "wrongly allowed", REP_INT },
    { "wrongly_blocked", "wrongly blocked", REP_INT },
    { "max_window_cost", "max in a window", REP_INT },
    { "reference_admitted", "exact reference admits", REP_INT },
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
    { "recovery_s", "recovery s (empty: never)", REP_INT },
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

/* A sweep's part of the page: the recommendation as its verdict, the
 * Pareto plots and heatmaps, then the traffic it was judged on and its grids. */
static void rep_sweep(FILE *f, const char *dir, const cJSON *sweep, const csv_table *points, int have_points,
                      const csv_table *traffic, int have_traffic, double duration_s)
{
    fputs("<section class=\"verdict\" id=\"sweep-verdict\"><h2>Sweep: the recommendation</h2>\n", f);
    rep_recommendation(f, dir);
    if (have_points) {
        fputs("<h3>Each limiter's best point (green: meets every target)</h3>\n", f);
        rep_best_points(f, points);
    }
    fputs("</section>\n<h2>The grid, drawn</h2>\n<p class=\"caption\">The Pareto plots put every point of every "
          "limiter on one chart (lower is better on both axes); the heatmaps show one limiter's grid, a metric each.</p>\n",
          f);
    rep_plots(f, dir, "sweep/plots", "pareto");
    if (have_traffic) {
        fputs("<h2>The traffic it was judged on</h2>\n", f);
        rep_traffic(f, traffic, duration_s);
    }
    const cJSON *sw, *list = cJSON_GetObjectItemCaseSensitive(sweep, "sweeps");
    fputs("<h3>Grids</h3><ul>", f);
    cJSON_ArrayForEach(sw, list) {
        fputs("<li><a href=\"sweep/", f);
        rep_html(f, rep_str(sw, "limiter"));
        fputs(".csv\">", f);
        rep_html(f, rep_str(sw, "limiter"));
        fputs("</a> (", f);
        rep_html(f, rep_str(sw, "algorithm"));
        fputs("): <code>", f);
        rep_html(f, rep_str(sw, "grid"));
        fprintf(f, "</code>, %.0f points in %.2f s</li>", rep_num(sw, "points"), rep_num(sw, "seconds"));
    }
    fputs("</ul>\n<p>All points, judged: <a href=\"sweep/_points.csv\">sweep/_points.csv</a>.</p>\n", f);
}

int rep_write(const char *dir, char *err, size_t errlen)
{
    int bad = 0, rc = REP_BAD_INPUT;
    cJSON *run = rep_json(dir, "run.json", &bad, err, errlen);
    cJSON *sweep = bad ? NULL : rep_json(dir, "sweep/run.json", &bad, err, errlen);
    cJSON *summary_json = bad || !run ? NULL : rep_json(dir, "summary.json", &bad, err, errlen);
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
    rc = -1;   /* what is read was good: from here a failure is the page's */
    if (af_open(&out, path, err, errlen) != 0) goto done;
    FILE *f = out.f;
    const cJSON *scn = cJSON_GetObjectItemCaseSensitive(run ? run : sweep, "scenario");
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>ratelab: ", f);
    rep_html(f, rep_str(scn, "name"));
    fprintf(f, "</title><style>%s\n%s</style></head>\n<body>\n<h1>ratelab: ", rasset_get("uPlot.min.css"),
            rasset_get("page.css"));
    rep_html(f, rep_str(scn, "name"));
    fputs("</h1>\n<p class=\"desc\">", f);
    rep_html(f, rep_str(scn, "description"));
    fputs("</p>\n<div id=\"broken\"></div>\n", f);
    /* one colour per limiter on the whole page: the run's order, then the sweep's */
    rch_colours colours = { 0 };
    const cJSON *lim;
    cJSON_ArrayForEach(lim, cJSON_GetObjectItemCaseSensitive(run, "limiters")) rch_colour_of(&colours, rep_str(lim, "name"));
    cJSON_ArrayForEach(lim, cJSON_GetObjectItemCaseSensitive(sweep, "sweeps")) rch_colour_of(&colours, rep_str(lim, "limiter"));
    rch_written charts = { 0, 0 };
    if (run) {
        rep_verdict(f, summary_json, &colours);
        /* the main chart's lines: what the service takes, and a peak the targets allow */
        rch_line lines[2];
        size_t n_lines = 0;
        const cJSON *ds = cJSON_GetObjectItemCaseSensitive(run, "downstream");
        double capacity = rep_num(ds, "capacity_rps");
        if (!isnan(capacity)) {
            lines[n_lines] = (rch_line){ .value = capacity, .colour = "#c62828" };
            snprintf(lines[n_lines++].label, sizeof lines[0].label, "the downstream's capacity, %.0f/s", capacity);
        }
        tgt_targets tg;
        char why[200];
        if (tgt_parse(rep_str(run, "targets"), ds != NULL, &tg, why, sizeof why) == 0)
            for (size_t k = 0; k < tg.n && n_lines < 2; k++)
                if (tg.term[k].metric == TGT_PEAK_RPS) {
                    lines[n_lines] = (rch_line){ .value = tg.term[k].value, .colour = "#6b4a00" };
                    snprintf(lines[n_lines++].label, sizeof lines[0].label, "target %s", tg.term[k].text);
                }
        double peak_second = 0;
        int cp = have_summary ? csv_col(&summary, "peak_offered_rps") : -1;
        for (size_t r = 0; cp >= 0 && r < summary.n_rows; r++)
            if (atof(csv_get(&summary, r, cp)) > peak_second) peak_second = atof(csv_get(&summary, r, cp));
        const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(summary_json, "verdict");
        const char *best = rep_str(verdict, "best"), *closest = rep_str(verdict, "closest");
        if (have_series)
            charts = rch_write(f, &series, &colours, *best ? best : NULL, *closest ? closest : NULL, lines, n_lines,
                               peak_second);
    } else if (sweep) {
        rep_sweep(f, dir, sweep, &points, have_points, &traffic, have_traffic, rep_num(scn, "duration_s"));
    }


    if (run) {
        fputs("<h2>Every limiter, in numbers</h2>\n<p class=\"caption\">Red rows broke their promise. over bound: "
              "admitted above what the limiter promises (empty where it has no bound to check); decision: wall-clock "
              "time of one decision, sampled.</p>\n", f);
        if (have_summary)
            rep_table(f, &summary, rep_summary_cols, sizeof rep_summary_cols / sizeof rep_summary_cols[0], "summary",
                      "limiter", NULL);
        rch_write_others(f, charts);
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
        if (sweep) rep_sweep(f, dir, sweep, &points, have_points, &traffic, 0, rep_num(scn, "duration_s"));
        fputs("<h2>Figures for papers and slides</h2>\n<p class=\"caption\">The same runs drawn by gnuplot "
              "(<code>ratelab run --plots</code>, which <code>make bench</code> uses): PNG here, SVG on a click.</p>\n", f);
        rep_plots(f, dir, "plots", "offered_admitted");
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
    fprintf(f, "<script>%s</script>\n<script>%s</script>\n</body></html>\n", rasset_get("uPlot.iife.min.js"),
            rasset_get("page.js"));
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
    cJSON_Delete(summary_json);
    return rc;
}
