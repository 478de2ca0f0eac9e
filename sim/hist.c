/* hist.c -- see hist.h. */
#include "hist.h"

#include <math.h>
#include <string.h>

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
}

void hist_reset(hist *h)
{
    if (h->total)
        memset(&h->counts[h->lowest], 0, (h->highest - h->lowest + 1) * sizeof h->counts[0]);
    h->total = 0;
    h->min = h->max = 0;
    h->lowest = h->highest = 0;
}

int64_t hist_bucket_mid(uint32_t bucket)
{
    const uint32_t half = 1u << (HIST_SUB_BITS - 1);
    if (bucket < (1u << HIST_SUB_BITS)) return bucket;
    uint32_t shift = bucket / half - 1;
    uint64_t mantissa = bucket - shift * half;
    uint64_t lower = mantissa << shift;
    return (int64_t)(lower + ((1ULL << shift) - 1) / 2);
}

int64_t hist_quantile(const hist *h, double q)
{
    if (h->total == 0) return 0;
    if (q >= 1.0) return h->max;
    if (q <= 0.0) return h->min;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (uint32_t b = h->lowest; b <= h->highest; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            int64_t v = hist_bucket_mid(b);
            if (v < h->min) v = h->min;
            if (v > h->max) v = h->max;
            return v;
        }
    }
    return h->max;
}

void hist_merge(hist *into, const hist *from)
{
    if (from->total == 0) return;
    for (uint32_t b = from->lowest; b <= from->highest; b++) into->counts[b] += from->counts[b];
    if (into->total == 0) {
        into->min = from->min;
        into->max = from->max;
        into->lowest = from->lowest;
        into->highest = from->highest;
    } else {
        if (from->min < into->min) into->min = from->min;
        if (from->max > into->max) into->max = from->max;
        if (from->lowest < into->lowest) into->lowest = from->lowest;
        if (from->highest > into->highest) into->highest = from->highest;
    }
    into->total += from->total;
}
