/*
 * hist.h -- a log-linear histogram of non-negative integers (HdrHistogram's
 * idea, written for ratelab): fixed memory, a few nanoseconds per record,
 * percentiles computed once when asked.
 *
 * Values below 2^HIST_SUB_BITS are counted exactly. Above, each power of two
 * is split into 2^(HIST_SUB_BITS-1) equal buckets, so a bucket is never wider
 * than 1/2^(HIST_SUB_BITS-1) of its lower bound, and a percentile reported as
 * the bucket's midpoint is within 2^-HIST_SUB_BITS (0.78%) of a value that
 * was recorded at that rank. Values at or above 2^HIST_MAX_BITS (2^47: 39 h
 * in ns, 4.4 years in us) are counted in the top bucket; min and max are
 * kept exactly. sizeof(hist) is about 22 KiB.
 */
#ifndef RATELAB_HIST_H
#define RATELAB_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 7
#define HIST_MAX_BITS 47
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 2) << (HIST_SUB_BITS - 1))

typedef struct {
    uint64_t total;
    int64_t min, max;
    uint32_t lowest, highest;   /* range of buckets touched, so reset is cheap */
    uint64_t counts[HIST_BUCKETS];
} hist;

/* An empty histogram. */
void hist_init(hist *h);

/* Empties h, touching only the buckets that were used. */
void hist_reset(hist *h);

/* Counts one value (negative values count as 0). */
static inline void hist_record(hist *h, int64_t v);
static inline void hist_record_n(hist *h, int64_t v, uint64_t count);

/* The value at quantile q (0 <= q <= 1): the smallest recorded value with at
 * least q of the records at or below it, within the stated error; 0 if empty.
 * q = 1 gives the exact max. */
int64_t hist_quantile(const hist *h, double q);

/* Adds every record of `from` into `into`. */
void hist_merge(hist *into, const hist *from);

/* The bucket a value falls in, and the midpoint reported for a bucket. */
static inline uint32_t hist_bucket(int64_t v)
{
    if (v < 0) v = 0;
    uint64_t u = (uint64_t)v;
    if (u >= (1ULL << HIST_MAX_BITS)) u = (1ULL << HIST_MAX_BITS) - 1;
    if (u < (1ULL << HIST_SUB_BITS)) return (uint32_t)u;
    unsigned msb = 63u - (unsigned)__builtin_clzll(u);
    unsigned shift = msb - HIST_SUB_BITS + 1;
    return (uint32_t)(((uint64_t)shift << (HIST_SUB_BITS - 1)) + (u >> shift));
}

int64_t hist_bucket_mid(uint32_t bucket);

/* The largest value a bucket holds. */
int64_t hist_bucket_high(uint32_t bucket);

/* Writes h as HdrHistogram's percentile distribution (the text its
 * outputPercentileDistribution prints and its plotter reads): a line per
 * non-empty bucket with the bucket's highest value divided by `unit`, the
 * percentile, the cumulative count and 1/(1-percentile), then mean,
 * standard deviation, max and count. */
void hist_write_hgrm(FILE *f, const hist *h, double unit);

/* Counts `count` records of one value v at once (none when count is 0). */
static inline void hist_record_n(hist *h, int64_t v, uint64_t count)
{
    if (count == 0) return;
    if (v < 0) v = 0;
    uint32_t b = hist_bucket(v);
    h->counts[b] += count;
    if (h->total == 0) {
        h->min = h->max = v;
        h->lowest = h->highest = b;
    } else {
        if (v < h->min) h->min = v;
        if (v > h->max) h->max = v;
        if (b < h->lowest) h->lowest = b;
        if (b > h->highest) h->highest = b;
    }
    h->total += count;
}

static inline void hist_record(hist *h, int64_t v) { hist_record_n(h, v, 1); }

#endif
