/* durations.c -- see durations.h. */
#include "durations.h"

#include <math.h>
#include <string.h>

void dur_init(dur_dist *s, scn_service_dist dist, double mean_ms, double p99_ms, uint64_t seed, uint64_t stream)
{
    memset(s, 0, sizeof *s);
    s->dist = dist;
    s->mean_ms = mean_ms;
    rng_seed(&s->r, seed, stream);
    if (dist == SCN_SERVICE_LOGNORMAL) {
        /* mean = e^(mu + s^2/2), p99 = e^(mu + z s): s is the smaller root of
         * s^2/2 - z s + ln(p99/mean) = 0 */
        const double z = 2.326347874040841;
        s->sigma = z - sqrt(z * z - 2 * log(p99_ms / mean_ms));
        s->mu = log(mean_ms) - s->sigma * s->sigma / 2;
    }
}

int64_t dur_draw(dur_dist *s)
{
    double ms;
    switch (s->dist) {
    case SCN_SERVICE_EXPONENTIAL: ms = s->mean_ms * rng_exp(&s->r); break;
    case SCN_SERVICE_LOGNORMAL: {
        double u1 = 1 - rng_uniform(&s->r), u2 = rng_uniform(&s->r);
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        ms = exp(s->mu + s->sigma * z);
        break;
    }
    default: ms = s->mean_ms;
    }
    return (int64_t)llround(ms * 1000);
}
