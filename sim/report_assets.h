/*
 * report_assets.h -- the files inlined into every index.html, embedded at
 * build time (scripts/embed_assets.sh): the page's own script and style
 * (sim/report/), the vendored uPlot (vendor/uplot/) and the palette that
 * gnuplot loads too (scripts/palette.gp), so a limiter has one colour in
 * every chart.
 */
#ifndef RATELAB_REPORT_ASSETS_H
#define RATELAB_REPORT_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *name;   /* the file's base name: "uPlot.iife.min.js" */
    const char *text;
} rasset;

extern const rasset rasset_all[];   /* ends with { 0, 0 } */

/* The text of the asset named `name`; "" when there is none (a build error
 * the report tests catch). */
const char *rasset_get(const char *name);

/* Colour k (0-based, cycling) of the palette, "#rrggbb": the k-th colour
 * named in scripts/palette.gp. buf holds at least 8 bytes. */
void rasset_colour(size_t k, char *buf);

#endif
