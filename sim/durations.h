/*
 * durations.h -- random durations from a scenario's distribution: a
 * downstream's service times (downstream.h, the queue models) and a
 * fleet's link delays (fleet.h). Each draws from a stream of the seed of
 * its own, so adding one moves no other.
 *
 *   fixed        the mean
 *   exponential  with that mean
 *   lognormal    with that mean and p99 (sigma the smaller root of
 *                s^2/2 - z99 s + ln(p99/mean) = 0; Box-Muller normals)
 */
#ifndef RATELAB_DURATIONS_H
#define RATELAB_DURATIONS_H

#include <stdint.h>

#include "rng.h"
#include "scenario.h"

typedef struct {
    scn_service_dist dist;
    double mean_ms, mu, sigma;       /* mu, sigma: lognormal */
    rng r;
} dur_dist;

/* Draws of `dist` (mean_ms; p99_ms for lognormal) on stream `stream` of `seed`. */
void dur_init(dur_dist *d, scn_service_dist dist, double mean_ms, double p99_ms, uint64_t seed, uint64_t stream);

/* The next duration, in whole microseconds. */
int64_t dur_draw(dur_dist *d);

#endif
