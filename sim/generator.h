/*
 * generator.h -- the scenario's requests, one at a time, in time order and
 * deterministic for a seed.
 *
 * Synthetic phases are a non-homogeneous Poisson process made by
 * time-rescaling: the rate is integrated exactly over short steps (the
 * whole phase for constant rates, each on/off segment of a burst, about
 * 1/2000 of a ramp, spike decay or sine period, but at least 1 ms), and a
 * unit exponential "exposure" is spent against those integrals. So the
 * expected count of every step is exact; only the placement inside a step
 * treats the rate as flat. `uniform` arrivals spend exposure 1 each time
 * (evenly spaced at the current rate). Trace phases replay their rows.
 *
 * Arrival times, keys and costs come from three independent streams of the
 * seed, so changing the key count does not move a single arrival.
 */
#ifndef RATELAB_GENERATOR_H
#define RATELAB_GENERATOR_H

#include <stdint.h>

#include "scenario.h"

typedef struct {
    int64_t t_us;
    uint32_t key;       /* keyspace id */
    uint32_t cost;
} gen_request;

typedef struct gen gen;

/* A generator for `s` (which must outlive it), positioned at time 0.
 * NULL when memory for the key sampler is short. */
gen *gen_create(const scn_scenario *s);
void gen_destroy(gen *g);

/* Back to time 0: the same requests again. */
void gen_rewind(gen *g);

/* The next request into *out: 1, or 0 when the scenario has ended (or the
 * stop hook said so: see gen_stopped). */
int gen_next(gen *g, gen_request *out);

/* The next requests into out[0..max): how many (fewer than max only when
 * the scenario has ended). The same stream as gen_next, a batch cheaper. */
size_t gen_fill(gen *g, gen_request *out, size_t max);

/* A predicate polled every 65536 steps that produce no request; when it
 * returns nonzero, gen_next ends the scenario early and gen_stopped says
 * so (until gen_rewind). NULL: never. */
void gen_set_stop(gen *g, int (*stop)(void *), void *ctx);
int gen_stopped(const gen *g);

/* Expected requests of synthetic phase `ph` between a_us and b_us (within
 * the phase; for a burst, within one on or off segment). */
double gen_expected(const scn_phase *ph, double a_us, double b_us);

#endif
