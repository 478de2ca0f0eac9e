/* The log-linear histogram against exact sorting. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/hist.h"
#include "../sim/rng.h"

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t exact_quantile(const int64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

Test(hist, percentiles_within_the_stated_error_of_exact_sorting)
{
    const double bound = 1.0 / (1 << HIST_SUB_BITS);   /* 0.78% */
    static const double qs[] = { 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999 };
    for (uint64_t seed = 1; seed <= 4; seed++) {
        const size_t n = 200000;
        int64_t *v = malloc(n * sizeof *v);
        hist *h = malloc(sizeof *h);
        hist_init(h);
        rng r;
        rng_seed(&r, seed, 0);
        for (size_t i = 0; i < n; i++) {
            /* log-normal latencies from ~10 ns to ~10 ms */
            double z = sqrt(-2 * log1p(-rng_uniform(&r))) * cos(6.283185307179586 * rng_uniform(&r));
            v[i] = (int64_t)exp(6.0 + 2.0 * z);
            hist_record(h, v[i]);
        }
        qsort(v, n, sizeof *v, cmp64);
        for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
            int64_t want = exact_quantile(v, n, qs[k]), got = hist_quantile(h, qs[k]);
            double err = fabs((double)(got - want)) / (double)(want > 0 ? want : 1);
            cr_assert_leq(err, bound + 1e-9, "seed %llu q %g: got %lld, exact %lld (%.4f%%)",
                          (unsigned long long)seed, qs[k], (long long)got, (long long)want, err * 100);
        }
        cr_assert_eq(hist_quantile(h, 1.0), v[n - 1], "max is exact");
        cr_assert_eq(hist_quantile(h, 0.0), v[0], "min is exact");
        free(v);
        free(h);
    }
}

Test(hist, small_values_are_exact_and_reset_empties)
{
    hist *h = malloc(sizeof *h);
    hist_init(h);
    for (int64_t i = 0; i < 100; i++) hist_record(h, i);
    cr_assert_eq(hist_quantile(h, 0.5), 49);
    cr_assert_eq(hist_quantile(h, 0.99), 98);
    hist_record(h, -5);
    cr_assert_eq(hist_quantile(h, 0.0), 0, "negative values count as 0");
    hist_reset(h);
    cr_assert_eq(h->total, 0);
    cr_assert_eq(hist_quantile(h, 0.5), 0);
    for (size_t b = 0; b < HIST_BUCKETS; b++) cr_assert_eq(h->counts[b], 0);
    free(h);
}

Test(hist, merge_adds_and_huge_values_saturate)
{
    hist *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    hist_init(a);
    hist_init(b);
    for (int i = 0; i < 1000; i++) hist_record(a, 1000);
    for (int i = 0; i < 1000; i++) hist_record(b, 3000000);
    hist_record(b, INT64_MAX);
    hist_merge(a, b);
    cr_assert_eq(a->total, 2001);
    cr_assert_leq(fabs((double)hist_quantile(a, 0.25) - 1000) / 1000, 1.0 / 128);
    cr_assert_leq(fabs((double)hist_quantile(a, 0.75) - 3000000) / 3000000, 1.0 / 128);
    cr_assert_eq(hist_quantile(a, 1.0), INT64_MAX, "max kept exactly beyond the top bucket");
    free(a);
    free(b);
}

Test(hist, every_bucket_midpoint_maps_back_to_its_bucket)
{
    for (uint32_t b = 0; b < HIST_BUCKETS; b++)
        cr_assert_eq(hist_bucket(hist_bucket_mid(b)), b, "bucket %u", b);
}

/* The HdrHistogram percentile distribution: a line per non-empty bucket at
 * its highest value, cumulative counts, and the footer its plotter reads. */
Test(hist, hgrm_is_hdrhistograms_percentile_distribution)
{
    hist *h = malloc(sizeof *h);
    cr_assert(h);
    hist_init(h);
    for (int i = 0; i < 3; i++) hist_record(h, 10);
    hist_record(h, 1000);   /* above 2^7: a bucket of width 8, 1000..1007, reported at the exact max */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f);
    hist_write_hgrm(f, h, 1.0);
    fclose(f);
    cr_assert(strstr(text, "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"), "%s", text);
    cr_assert(strstr(text, "\n      10.000 0.750000000000          3           4.00\n"), "%s", text);
    cr_assert(strstr(text, "\n    1000.000 1.000000000000          4\n"), "the last line has no 1/(1-p): %s", text);
    cr_assert(strstr(text, "#[Max     =     1000.000, Total count    =            4]\n"), "%s", text);
    cr_assert(strstr(text, "#[Mean    =      258.250,"), "the mean of bucket midpoints (10 and 1003): %s", text);
    free(text);
    free(h);
}
