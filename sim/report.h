/*
 * report.h -- results/<scenario>/index.html: one page a team opens in a
 * browser after `make bench` or `make sweep`.
 *
 * It is built from the files of the results directory alone (run.json,
 * summary.csv, accuracy.csv, timeseries.csv, plots/, and sweep/ with its
 * run.json, recommendation.txt, _points.csv, _traffic.csv and plots/), so
 * it can be written again at any time. Self-contained: one file with
 * inline CSS, the traffic shape as inline SVG, plots by relative links, no
 * network. A small inline script replaces a plot that fails to load with a
 * note and records, on <body>, how many images there are and how many
 * loaded (data-images, data-images-loaded), which the browser test reads.
 */
#ifndef RATELAB_REPORT_H
#define RATELAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* What rep_write returns when DIR is no results directory it can read. */
#define REP_BAD_INPUT (-2)

/* Writes DIR/index.html (atomically). Returns 0; REP_BAD_INPUT with a
 * message when DIR holds neither a run (run.json) nor a sweep
 * (sweep/run.json), or a file in it cannot be read or parsed; -1 when the
 * page cannot be written. */
int rep_write(const char *dir, char *err, size_t errlen);

/* Writes s as HTML text or an attribute value (& < > " escaped): the one
 * escape every part of the page uses. */
void rep_html(FILE *f, const char *s);

#endif
