/*
 * recommend.h -- which sweep point to pick: targets, Pareto fronts and the
 * best point per limiter.
 *
 * Targets (targets.h) are parsed with the scenario; judged here.
 *
 * A point whose limiter broke its own promise (oracle violations > 0) meets
 * no targets and is on no front: it is not an option.
 *
 * The best point of a limiter is, among its points that meet every target,
 * the one with the fewest drops, then the lowest p99 (as p99_ms), then the
 * lowest peak, then the first in grid order. When none meets them, the
 * closest: fewest targets missed, then the smallest sum of relative misses
 * (miss / |value|; in the metric's own unit when the value is 0).
 *
 * The fronts are over all points of all limiters given: a point is on the
 * load front when no other point is at least as good on both drops and
 * peak admitted rps and better on one; the delay front is the same with p99
 * for peak. Lower is better on every axis.
 */
#ifndef RATELAB_RECOMMEND_H
#define RATELAB_RECOMMEND_H

#include <stddef.h>
#include <stdio.h>

#include "targets.h"

typedef struct {
    char limiter[96];          /* a limiter's name, or in a run's verdict "name (backend)" */
    char algorithm[32];
    char params[192];          /* "rate=300 capacity=200" */
    size_t point;              /* 1-based, in its limiter's grid order */
    double metric[TGT_N_METRICS];   /* NAN where not measured (no downstream) */
    long long violations;
    /* set by rec_evaluate */
    int meets;
    size_t missed;             /* targets missed */
    double miss_score;         /* sum of relative misses */
    int front_load, front_delay;
} rec_point;

/* How far x is from meeting term t, in the metric's unit: 0 when met,
 * INFINITY when x is NAN. A strict term missed on its bound misses by 0 but
 * is still missed: use rec_term_met for yes or no. */
double rec_miss(const tgt_term *t, double x);
int rec_term_met(const tgt_term *t, double x);

/* Sets meets, missed, miss_score, front_load and front_delay of p[0..n). */
void rec_evaluate(const tgt_targets *t, rec_point *p, size_t n);

/* Index of the best point of `limiter` (every limiter when NULL) after
 * rec_evaluate, or n when it has none. */
size_t rec_best(const tgt_targets *t, const rec_point *p, size_t n, const char *limiter);

/* Writes the recommendation: the targets, one line per limiter (in the
 * order they first appear) with its best point and why, or the closest
 * point and by how much each missed target is missed, and the best overall. */
void rec_print(FILE *f, const tgt_targets *t, const rec_point *p, size_t n);

/* Appends the rows of a `ratelab sweep` CSV to *p (growing *cap). Returns
 * 0, or -1 with a message naming the file and line. */
int rec_read_sweep(const char *path, rec_point **p, size_t *n, size_t *cap, char *err, size_t errlen);

/* Writes every point with its metrics and flags (meets, missed, fronts,
 * best) as CSV to `path`, atomically. Returns 0, or -1 with a message. */
int rec_write_points(const char *path, const tgt_targets *t, const rec_point *p, size_t n, char *err, size_t errlen);

#endif
