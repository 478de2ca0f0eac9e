/* report_charts.c -- see report_charts.h. */
#include "report_charts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_assets.h"

size_t rch_colour_of(rch_colours *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0) return i;
    if (c->n == RCH_MAX_LIMITERS) return c->n - 1;
    snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
    return c->n++;
}

void rch_colour(rch_colours *c, const char *name, char *buf)
{
    rasset_colour(rch_colour_of(c, name), buf);
}

/* One series of timeseries.csv: rows [from, to) of one limiter on one backend. */
typedef struct {
    size_t from, to;
    const char *limiter, *backend, *algorithm;
} rch_group;

static size_t rch_groups(const csv_table *t, rch_group *g, size_t max)
{
    int cl = csv_col(t, "limiter"), cb = csv_col(t, "backend"), ca = csv_col(t, "algorithm");
    size_t n = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (n && strcmp(g[n - 1].limiter, csv_get(t, r, cl)) == 0 && strcmp(g[n - 1].backend, csv_get(t, r, cb)) == 0) {
            g[n - 1].to = r + 1;
            continue;
        }
        if (n == max) break;
        g[n++] = (rch_group){ r, r + 1, csv_get(t, r, cl), csv_get(t, r, cb), csv_get(t, r, ca) };
    }
    return n;
}

/* A number for JSON: 4 significant digits are more than a chart shows. */
static void rch_num(FILE *f, double v, int first)
{
    if (!first) fputc(',', f);
    if (isnan(v) || isinf(v)) fputs("null", f);
    else if (v == floor(v) && fabs(v) < 1e15) fprintf(f, "%.0f", v);
    else fprintf(f, "%.4g", v);
}

/* Column c of rows [g->from, g->to) in buckets of `per` ticks: per second
 * (the bucket's mean) when `rate`, else the bucket's largest, x `scale`. */
static int rch_array(FILE *f, const csv_table *t, const rch_group *g, int c, size_t per, double tick_s, int rate,
                     double scale)
{
    int any = 0;
    fputc('[', f);
    for (size_t r = g->from, k = 0; r < g->to; r += per, k++) {
        double acc = rate ? 0 : -INFINITY;
        size_t end = r + per < g->to ? r + per : g->to;
        for (size_t q = r; q < end; q++) {
            double v = atof(csv_get(t, q, c));
            if (rate) acc += v;
            else if (v > acc) acc = v;
        }
        double v = rate ? acc / ((double)(end - r) * tick_s) : acc;
        any |= v != 0;
        rch_num(f, v * scale, k == 0);
    }
    fputc(']', f);
    return any;
}


static void rch_esc_js(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '<') fputs("\\u003c", f);   /* never "</script>" inside the data */
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

rch_written rch_write(FILE *f, const csv_table *t, rch_colours *colours, const char *best, const char *closest,
                      const rch_line *lines, size_t n_lines, double peak_second)
{
    rch_written none = { 0, 0 };
    rch_group g[RCH_MAX_LIMITERS * 3];
    size_t n = rch_groups(t, g, sizeof g / sizeof g[0]);
    int ct = csv_col(t, "t_s"), co = csv_col(t, "offered"), crel = csv_col(t, "released"),
        cdr = csv_col(t, "dropped"), cdel = csv_col(t, "delay_p99_us"), clat = csv_col(t, "wall_latency_p99_ns");
    if (!n || ct < 0 || co < 0 || crel < 0 || cdr < 0 || g[0].to - g[0].from < 2) return none;
    double tick_s = atof(csv_get(t, g[0].from + 1, ct)) - atof(csv_get(t, g[0].from, ct));
    if (!(tick_s > 0)) return none;
    size_t ticks = g[0].to - g[0].from, per = (ticks + RCH_MAX_POINTS - 1) / RCH_MAX_POINTS;
    int several = 0;
    for (size_t i = 1; i < n; i++) several |= strcmp(g[i].backend, g[0].backend) != 0;

    unsigned charts = RCH_MAIN | RCH_DROPPED;
    double peak_tick = 0;
    for (size_t r = g[0].from; r < g[0].to; r++)
        if (atof(csv_get(t, r, co)) / tick_s > peak_tick) peak_tick = atof(csv_get(t, r, co)) / tick_s;

    fputs("<script type=\"application/json\" id=\"ratelab-data\">{", f);
    fprintf(f, "\"tick_s\":%.6g,\"bucket_ticks\":%zu,\"closest\":", tick_s, per);
    rch_esc_js(f, closest ? closest : "");
    fputs(",\"t\":[", f);
    for (size_t r = g[0].from, k = 0; r < g[0].to; r += per, k++) rch_num(f, atof(csv_get(t, r, ct)), k == 0);
    fputs("],\"offered\":", f);
    rch_array(f, t, &g[0], co, per, tick_s, 1, 1);
    fputs(",\"lines\":[", f);
    for (size_t k = 0; k < n_lines; k++) {
        fprintf(f, "%s{\"label\":", k ? "," : "");
        rch_esc_js(f, lines[k].label);
        fprintf(f, ",\"value\":%.6g,\"colour\":\"%s\"}", lines[k].value, lines[k].colour);
    }
    fputs("],\"series\":[", f);
    for (size_t i = 0; i < n; i++) {
        char label[160], colour[8];
        if (several) snprintf(label, sizeof label, "%s (%s)", g[i].limiter, g[i].backend);
        else snprintf(label, sizeof label, "%s", g[i].limiter);
        rch_colour(colours, g[i].limiter, colour);
        int first_backend = 1;
        for (size_t j = 0; j < i; j++) first_backend &= strcmp(g[j].limiter, g[i].limiter) != 0;
        fprintf(f, "%s{\"label\":", i ? "," : "");
        rch_esc_js(f, label);
        fprintf(f, ",\"colour\":\"%s\",\"dash\":%d,\"best\":%d,\"released\":", colour, !first_backend,
                best && strcmp(best, label) == 0);
        rch_array(f, t, &g[i], crel, per, tick_s, 1, 1);
        fputs(",\"dropped\":", f);
        rch_array(f, t, &g[i], cdr, per, tick_s, 1, 1);
        if (cdel >= 0) {
            fputs(",\"delay_p99_ms\":", f);
            if (rch_array(f, t, &g[i], cdel, per, tick_s, 0, 1e-3)) charts |= RCH_DELAY;
        }
        /* a queue decides nothing per request: only limiters have a decision time */
        if (clat >= 0 && strcmp(g[i].algorithm, "queue") != 0) {
            fputs(",\"latency_p99_ns\":", f);
            if (rch_array(f, t, &g[i], clat, per, tick_s, 0, 1)) charts |= RCH_LATENCY;
        }
        fputc('}', f);
    }
    fputs("]}</script>\n", f);

    fputs("<h2 id=\"main-chart\">What reached the service</h2>\n<div class=\"chart\" data-chart=\"main\" "
          "data-height=\"340\"></div>\n<p class=\"caption\">Requests per second offered (grey) and passed on by each "
          "limiter (released: admitted, at the moment a shaper lets it go)", f);
    if (n_lines) fputs("; dashed: ", f);
    for (size_t k = 0; k < n_lines; k++) {
        fputs(k ? ", " : "", f);
        rep_html(f, lines[k].label);
    }
    fprintf(f, ". Rates are per %.3g s tick, scaled to a second, so a burst inside one second rises above a "
               "per-second line the whole second keeps: the busiest tick offered %.0f/s, the busiest whole second "
               "(the table's <i>peak offered/s</i>) %.0f.%s Click a name to hide its line, drag to zoom, double-click "
               "to see all again.%s</p>\n", tick_s, peak_tick, peak_second,
            per > 1 ? " Lines are averaged over buckets of several ticks." : "",
            n > 4 ? " With this many limiters only the verdict's pick is drawn at first: each has its own chart "
                    "further down." : "");
    return (rch_written){ charts, n };
}

void rch_write_others(FILE *f, rch_written w)
{
    unsigned charts = w.charts;
    if (!(charts & (RCH_DROPPED | RCH_DELAY | RCH_LATENCY))) return;
    fputs("<h2>Over time</h2>\n<div class=\"charts\">\n", f);
    if (charts & RCH_DROPPED)
        fputs("<div><div class=\"chart\" data-chart=\"dropped\"></div><p class=\"caption\">Requests refused per "
              "second: where each limiter sheds the bursts, and whether it keeps refusing after them.</p></div>\n", f);
    if (charts & RCH_DELAY)
        fputs("<div><div class=\"chart\" data-chart=\"delay\"></div><p class=\"caption\">The p99 delay a limiter adds "
              "to what it admits, per tick: shapers (a leaky queue) trade drops for this wait; policers add none.</p>"
              "</div>\n", f);
    if (charts & RCH_LATENCY)
        fputs("<div><div class=\"chart\" data-chart=\"latency\"></div><p class=\"caption\">How long one decision took "
              "on the wall clock (sampled p99, log scale): in memory a few tens of ns, near the clock's own cost; on "
              "Redis the round trip.</p></div>\n", f);
    fputs("</div>\n", f);
    if (w.n_series < 2) return;
    fputs("<h2>Each limiter alone</h2>\n<p class=\"caption\">What each limiter was offered (grey), passed on (solid) "
          "and refused (dotted), on axes of its own: compare the shapes, not the heights.</p>\n<div class=\"charts "
          "small\">\n", f);
    for (size_t k = 0; k < w.n_series; k++) fprintf(f, "<div class=\"chart\" data-chart=\"one:%zu\" data-height=\"200\"></div>\n", k);
    fputs("</div>\n", f);
}
