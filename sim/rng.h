/*
 * rng.h -- a small deterministic random number generator: xoshiro256**
 * (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * 2018) seeded through splitmix64. Same seed, same stream, on every machine.
 */
#ifndef RATELAB_RNG_H
#define RATELAB_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng;

/* A generator whose stream is fixed by `seed` (and `stream`, to give
 * independent sub-streams of one seed). */
void rng_seed(rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* 64 random bits. */
static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n), n >= 1 (Lemire's multiply-shift; bias < n/2^64). */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Exponential with mean 1. */
static inline double rng_exp(rng *r) { return -log1p(-rng_uniform(r)); }

#endif
