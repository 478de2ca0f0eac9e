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

/* Exponential with mean 1, by inversion: one log1p per draw. */
static inline double rng_exp(rng *r) { return -log1p(-rng_uniform(r)); }

/* The ziggurat for the exponential (G. Marsaglia and W. W. Tsang, "The
 * Ziggurat Method for Generating Random Variables", Journal of Statistical
 * Software 5(8), 2000), with 256 layers of equal area: 98.9% of draws are
 * one 64-bit number, a multiply and a compare, the rest take a wedge test
 * or the tail. Its tables are computed once by rng_zig_init and owned by
 * the caller (a generator), never global. */
#define RNG_ZIG_LAYERS 256
typedef struct {
    uint64_t keep[RNG_ZIG_LAYERS];     /* layer i: a 53-bit draw below it lies under the curve */
    double scale[RNG_ZIG_LAYERS];      /* layer i's width / 2^53 */
    double f[RNG_ZIG_LAYERS + 1];      /* exp(-x) at layer i's right edge; f[256] = 1 */
} rng_zig;

void rng_zig_init(rng_zig *z);

/* The rare part of a ziggurat draw: layer i's draw x fell outside its
 * rectangle's core. */
double rng_exp_zig_rare(rng *r, const rng_zig *z, unsigned layer, double x);

/* Exponential with mean 1, by the ziggurat: the same distribution as
 * rng_exp, another stream of values. */
static inline double rng_exp_zig(rng *r, const rng_zig *z)
{
    uint64_t u = rng_next(r);
    unsigned layer = (unsigned)u & (RNG_ZIG_LAYERS - 1);
    uint64_t m = u >> 11;   /* 53 bits, apart from the layer's 8 */
    double x = (double)m * z->scale[layer];
    return m < z->keep[layer] ? x : rng_exp_zig_rare(r, z, layer, x);
}

#endif
