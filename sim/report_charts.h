/*
 * report_charts.h -- the interactive charts of index.html: the per-tick
 * series of timeseries.csv as the page's JSON data (page.js draws them with
 * uPlot), the containers with a caption each, and one colour per limiter
 * shared with gnuplot (scripts/palette.gp).
 */
#ifndef RATELAB_REPORT_CHARTS_H
#define RATELAB_REPORT_CHARTS_H

#include <stddef.h>
#include <stdio.h>

#include "csvfile.h"

#define RCH_MAX_POINTS 1500   /* per series: longer runs are averaged over buckets of ticks */
#define RCH_MAX_LIMITERS 64

/* Limiter names in their colour order (run.json's limiters, then any
 * other a page names): a limiter's colour is palette colour `index`. */
typedef struct {
    size_t n;
    char name[RCH_MAX_LIMITERS][64];
} rch_colours;

/* Adds `name` when new; its index either way (the last one when full). */
size_t rch_colour_of(rch_colours *c, const char *name);

/* "#rrggbb" of `name` (added when new) into buf (8 bytes). */
void rch_colour(rch_colours *c, const char *name, char *buf);

/* A horizontal line on the main chart: the service's capacity, a target. */
typedef struct {
    char label[96];
    double value;
    const char *colour;
} rch_line;

/* What rch_write found worth drawing. */
enum { RCH_MAIN = 1, RCH_DROPPED = 2, RCH_DELAY = 4, RCH_LATENCY = 8 };

typedef struct {
    unsigned charts;     /* RCH_ bits; 0: nothing to draw */
    size_t n_series;     /* limiter-on-backend series in the data */
} rch_written;

/* Writes the data script and the main chart for `series` (timeseries.csv),
 * with the verdict's `best` (drawn thicker) and `closest` labels (either
 * may be NULL) and the lines. `peak_second` is the busiest whole second of
 * arrivals (summary.csv), named beside the busiest tick in the caption. */
rch_written rch_write(FILE *f, const csv_table *series, rch_colours *colours, const char *best, const char *closest,
                      const rch_line *lines, size_t n_lines, double peak_second);

/* The other charts (dropped, delay, decision time, each limiter alone),
 * after the tables. */
void rch_write_others(FILE *f, rch_written w);

#endif
