/* rng.c -- see rng.h. */
#include "rng.h"

static uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++) r->s[i] = rng_splitmix(&x);
}

/* Layer 0 is the base strip [0, V/f(R)] x [0, f(R)] whose part beyond R
 * stands for the tail; layer i >= 1 spans [0, x_i] x [f(x_i), f(x_{i+1})]
 * with x_1 = R and x_{i+1} = -log(f(x_i) + V/x_i), each of area V. R and V
 * for 256 layers are Marsaglia and Tsang's. */
#define RNG_ZIG_R 7.69711747013104972
#define RNG_ZIG_V 0.0039496598225815571993

void rng_zig_init(rng_zig *z)
{
    double x[RNG_ZIG_LAYERS + 1];
    x[0] = RNG_ZIG_V / exp(-RNG_ZIG_R);
    x[1] = RNG_ZIG_R;
    for (int i = 1; i < RNG_ZIG_LAYERS - 1; i++) x[i + 1] = -log(exp(-x[i]) + RNG_ZIG_V / x[i]);
    x[RNG_ZIG_LAYERS] = 0;
    for (int i = 0; i < RNG_ZIG_LAYERS; i++) {
        z->keep[i] = (uint64_t)(x[i + 1] / x[i] * 0x1.0p53);
        z->scale[i] = x[i] * 0x1.0p-53;
        z->f[i] = exp(-x[i]);
    }
    z->f[RNG_ZIG_LAYERS] = 1.0;
}

double rng_exp_zig_rare(rng *r, const rng_zig *z, unsigned layer, double x)
{
    double base = 0;
    for (;;) {
        if (layer == 0) {
            /* the tail beyond R: the exponential forgets, so it is R more
             * than a fresh draw */
            base += RNG_ZIG_R;
        } else if (z->f[layer] + rng_uniform(r) * (z->f[layer + 1] - z->f[layer]) < exp(-x)) {
            return base + x;   /* the wedge: under the curve after all */
        }
        uint64_t u = rng_next(r);
        layer = (unsigned)u & (RNG_ZIG_LAYERS - 1);
        uint64_t m = u >> 11;
        x = (double)m * z->scale[layer];
        if (m < z->keep[layer]) return base + x;
    }
}
