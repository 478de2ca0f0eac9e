/*
 * sweep.h -- one limiter over a grid of parameters: `ratelab sweep`.
 *
 * A grid is "name=from:to:step name=v1,v2,... name=v": ranges (inclusive,
 * step > 0) and lists, several parameters forming their product, the first
 * varying slowest. Each point is a plain run of the limiter with those
 * parameters (memory backend, virtual time), so a point's row equals
 * `ratelab run --only <limiter> --set ...` with the same values. Points
 * are spread over worker processes; the CSV is written in grid order, so
 * it is the same for any number of workers.
 */
#ifndef RATELAB_SWEEP_H
#define RATELAB_SWEEP_H

#include <stddef.h>

#include "scenario.h"

#define SWP_MAX_PARAMS LIM_MAX_PARAMS
#define SWP_MAX_POINTS 100000

typedef struct {
    size_t n_params;
    int param[SWP_MAX_PARAMS];           /* index into the limiter's ops->params */
    size_t n_values[SWP_MAX_PARAMS];
    double *values[SWP_MAX_PARAMS];
    size_t n_points;
} swp_grid;

/* Parses `spec` for limiter l into *g. Returns 0, or -1 with a message that
 * quotes the part that is wrong. */
int swp_parse(const char *spec, const scn_limiter *l, swp_grid *g, char *err, size_t errlen);
void swp_free(swp_grid *g);

/* The parameter values of point `i` (in ops->params order, the limiter's
 * own values where the grid leaves them). */
void swp_point(const swp_grid *g, const scn_limiter *l, size_t i, double *values);

/* Runs every point of the grid over `jobs` worker processes and writes
 * `csv` (atomically). progress(ctx, done, total) is called as points end.
 * Returns 0, or -1 with a message. */
int swp_run(const scn_scenario *s, const scn_limiter *l, const swp_grid *g, unsigned jobs, const char *csv,
            void (*progress)(void *ctx, size_t done, size_t total), void *ctx, char *err, size_t errlen);

/* Writes the scenario's offered requests per tick ("t_s,offered", the
 * columns of timeseries.csv) to `csv`, atomically: the traffic a sweep ran
 * on, for the report. Returns 0, or -1 with a message. */
int swp_write_traffic(const scn_scenario *s, const char *csv, char *err, size_t errlen);

#endif
