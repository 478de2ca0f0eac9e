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

int64_t hist_bucket_high(uint32_t bucket)
{
    const uint32_t half = 1u << (HIST_SUB_BITS - 1);
    if (bucket < (1u << HIST_SUB_BITS)) return bucket;
    uint32_t shift = bucket / half - 1;
    uint64_t mantissa = bucket - shift * half;
    return (int64_t)(((mantissa + 1) << shift) - 1);
}

void hist_write_hgrm(FILE *f, const hist *h, double unit)
{
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    double sum = 0, sq = 0;
    uint64_t seen = 0;
    for (uint32_t b = h->lowest; h->total && b <= h->highest; b++) {
        if (!h->counts[b]) continue;
        double mid = (double)hist_bucket_mid(b);
        sum += mid * (double)h->counts[b];
        sq += mid * mid * (double)h->counts[b];
        seen += h->counts[b];
        int64_t high = hist_bucket_high(b);
        if (high > h->max) high = h->max;
        double p = (double)seen / (double)h->total;
        if (seen < h->total)
            fprintf(f, "%12.3f %2.12f %10llu %14.2f\n", (double)high / unit, p, (unsigned long long)seen, 1 / (1 - p));
        else
            fprintf(f, "%12.3f %2.12f %10llu\n", (double)high / unit, p, (unsigned long long)seen);
    }
    double n = h->total ? (double)h->total : 1, mean = sum / n, var = sq / n - mean * mean;
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean / unit, sqrt(var > 0 ? var : 0) / unit);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", h->total ? (double)h->max / unit : 0.0,
            (unsigned long long)h->total);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", HIST_MAX_BITS - HIST_SUB_BITS + 1,
            1 << (HIST_SUB_BITS - 1));
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
