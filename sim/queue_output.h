/*
 * queue_output.h -- what a queue entry adds to the results: the queue's own
 * columns at the end of summary.csv (empty for limiters), queue.csv (its
 * per-tick series: waiting, in processing, deliveries...) and the lines
 * printed under the run's table. output.c calls these.
 */
#ifndef RATELAB_QUEUE_OUTPUT_H
#define RATELAB_QUEUE_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

/* The queue columns' names, each preceded by a comma. */
void qout_summary_header(FILE *f);

/* Their values for r, each preceded by a comma (empty unless r is a queue). */
void qout_summary_fields(FILE *f, const run_result *r);

/* Whether any of the results is a queue. */
int qout_any(const run_result *r, size_t n);

/* queue.csv: one row per queue result and tick. */
void qout_series_csv(FILE *f, const run_result *r, size_t n);

/* A line per queue result: where every message went, what the drain and
 * durability cost. */
void qout_print(FILE *f, const run_result *r, size_t n);

#endif
