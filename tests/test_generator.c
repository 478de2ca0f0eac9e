/* The traffic generator: Poisson counts, shapes' integrals, Zipf keys,
 * trace replay, determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/generator.h"
#include "../sim/rng.h"

static void load(const char *path, scn_scenario *s)
{
    char err[512];
    cr_assert_eq(scn_load(path, NULL, s, err, sizeof err), 0, "%s", err);
}

Test(generator, poisson_counts_per_tick_within_4_sigma_over_several_seeds)
{
    scn_scenario s;
    load("tests/fixtures/good/poisson_1000.json", &s);
    const double lambda = 100;  /* 1000/s in 100 ms ticks */
    for (uint64_t seed = 1; seed <= 5; seed++) {
        s.seed = seed;
        gen *g = gen_create(&s);
        uint64_t counts[600] = { 0 }, total = 0;
        gen_request r;
        int64_t last = 0;
        while (gen_next(g, &r)) {
            cr_assert_geq(r.t_us, last, "in time order");
            last = r.t_us;
            counts[r.t_us / 100000]++;
            total++;
        }
        for (int t = 0; t < 600; t++)
            cr_assert_leq(fabs((double)counts[t] - lambda), 4 * sqrt(lambda), "seed %llu tick %d: %llu",
                          (unsigned long long)seed, t, (unsigned long long)counts[t]);
        cr_assert_leq(fabs((double)total - 60000), 4 * sqrt(60000.0), "seed %llu total %llu",
                      (unsigned long long)seed, (unsigned long long)total);
        gen_destroy(g);
    }
    scn_free(&s);
}

/* The ziggurat's three paths (core, wedge, tail) together must give the
 * exponential law: 100 equiprobable bins by chi-square, the mean, and the
 * far tail, which only the tail path reaches. */
Test(generator, ziggurat_draws_follow_the_exponential_law)
{
    rng_zig z;
    rng_zig_init(&z);
    rng r;
    rng_seed(&r, 12345, 1);
    enum { N = 4000000, BINS = 100 };
    static uint64_t bin[BINS];
    double sum = 0;
    uint64_t beyond_r = 0, beyond_12 = 0;
    for (int i = 0; i < N; i++) {
        double x = rng_exp_zig(&r, &z);
        cr_assert_geq(x, 0.0);
        sum += x;
        /* F(x) = 1 - e^-x: bin by the probability below x */
        int b = (int)(-expm1(-x) * BINS);
        bin[b < BINS ? b : BINS - 1]++;
        beyond_r += x > 7.69711747013104972;
        beyond_12 += x > 12;
    }
    double chi2 = 0, expect = (double)N / BINS;
    for (int b = 0; b < BINS; b++) chi2 += ((double)bin[b] - expect) * ((double)bin[b] - expect) / expect;
    /* 99 degrees of freedom: mean 99, sd 14; 99 + 6 sd is p < 1e-6 */
    cr_assert_lt(chi2, 99 + 6 * 14.07, "chi-square %.1f over %d bins", chi2, BINS);
    cr_assert_lt(fabs(sum / N - 1.0), 5.0 / sqrt(N), "mean %.5f", sum / N);
    double p_r = exp(-7.69711747013104972), p_12 = exp(-12.0);
    cr_assert_lt(fabs((double)beyond_r - N * p_r), 5 * sqrt(N * p_r), "beyond R: %llu, expected %.0f",
                 (unsigned long long)beyond_r, N * p_r);
    cr_assert_lt(fabs((double)beyond_12 - N * p_12), 5 * sqrt(N * p_12) + 1, "beyond 12: %llu, expected %.1f",
                 (unsigned long long)beyond_12, N * p_12);
}

Test(generator, same_seed_same_requests_other_seed_others)
{
    scn_scenario s;
    load("tests/fixtures/good/zipf_100.json", &s);
    gen *a = gen_create(&s), *b = gen_create(&s);
    gen_request ra, rb;
    for (int i = 0; i < 100000; i++) {
        cr_assert_eq(gen_next(a, &ra), 1);
        cr_assert_eq(gen_next(b, &rb), 1);
        cr_assert(ra.t_us == rb.t_us && ra.key == rb.key && ra.cost == rb.cost, "request %d", i);
    }
    gen_rewind(a);
    gen_next(a, &ra);
    gen_destroy(b);
    s.seed = 4;
    b = gen_create(&s);
    gen_next(b, &rb);
    cr_assert(ra.t_us != rb.t_us || ra.key != rb.key, "another seed, another stream");
    gen_destroy(a);
    gen_destroy(b);
    scn_free(&s);
}

Test(generator, zipf_key_frequencies_fall_with_rank)
{
    scn_scenario s;
    load("tests/fixtures/good/zipf_100.json", &s);
    gen *g = gen_create(&s);
    uint64_t freq[100] = { 0 }, n = 0, cost10 = 0;
    gen_request r;
    while (gen_next(g, &r)) {
        cr_assert_lt(r.key, 100);
        freq[r.key]++;
        cost10 += r.cost == 10;
        n++;
    }
    for (int k = 0; k < 9; k++) cr_assert_gt(freq[k], freq[k + 1], "rank %d vs %d", k + 1, k + 2);
    /* exponent 1: rank 1 is ten times as frequent as rank 10, and
     * 1/H(100) = 19.3% of all requests */
    cr_assert_leq(fabs((double)freq[0] / (double)freq[9] - 10.0), 0.5);
    cr_assert_leq(fabs((double)freq[0] / (double)n - 0.1928), 0.003);
    cr_assert_leq(fabs((double)cost10 / (double)n - 0.25), 0.003, "weighted cost 3:1");
    cr_assert_str_eq(kspace_name(s.keys, 0), "u1");
    gen_destroy(g);
    scn_free(&s);
}

Test(generator, each_shape_delivers_its_integral)
{
    scn_scenario s;
    load("tests/fixtures/good/shapes.json", &s);
    gen *g = gen_create(&s);
    double count[5] = { 0 };
    gen_request r;
    int64_t last = 0;
    while (gen_next(g, &r)) {
        cr_assert_geq(r.t_us, last);
        last = r.t_us;
        int p = r.t_us < 10000000 ? 0 : r.t_us < 20000000 ? 1 : r.t_us < 30000000 ? 2 : r.t_us < 40000000 ? 3 : 4;
        count[p]++;
        if (p < 4) cr_assert(r.cost >= 1 && r.cost <= 3);
    }
    /* uniform arrivals: the count is the integral, give or take the one
     * request that straddles a phase boundary */
    double spike = 5000 * 1 + 100 * 9 + 4900 * 2 * (1 - exp(-9.0 / 2));
    double want[4] = { 10000, 3 * 1000 + 7 * 100, spike, 5000 };
    for (int p = 0; p < 4; p++) cr_assert_leq(fabs(count[p] - want[p]), 1.5, "phase %d: %g vs %g", p, count[p], want[p]);
    cr_assert_eq(count[4], 5, "rows at 1.0 to 9.0 s after skipping 1 s, at double speed: 5 land within 5 s");
    gen_destroy(g);
    scn_free(&s);
}

Test(generator, trace_rows_keep_their_keys_costs_and_scaled_times)
{
    scn_scenario s;
    load("tests/fixtures/good/shapes.json", &s);
    gen *g = gen_create(&s);
    gen_request r, got[8];
    memset(got, 0, sizeof got);
    int n = 0;
    while (gen_next(g, &r))
        if (r.t_us >= 45000000 && n < 8) got[n++] = r;
    cr_assert_eq(n, 5);
    cr_assert_eq(got[0].t_us, 45000000, "row at 1.0 s with skip 1 s starts the phase");
    cr_assert_str_eq(kspace_name(s.keys, got[0].key), "beta");
    cr_assert_eq(got[1].cost, 3);
    cr_assert_eq(got[2].t_us, 45750000, "2.5 s: 1.5 s in, halved");
    cr_assert_eq(got[3].t_us, 46500000);
    cr_assert_eq(got[4].t_us, 49000000);
    cr_assert_eq(got[4].cost, 7, "the row at 12 s would land at 50.5 s, past the phase");
    gen_destroy(g);
    scn_free(&s);
}

/* 10/s evenly spaced lands at 100000, 200000 ... us exactly, all day long:
 * truncating the doubles' sum put each a microsecond early, into the
 * window before its own. */
Test(generator, uniform_arrivals_land_on_their_exact_microsecond)
{
    scn_scenario s;
    load("tests/fixtures/good/uniform_ten.json", &s);
    gen *g = gen_create(&s);
    gen_request r;
    int64_t k = 0;
    while (gen_next(g, &r)) {
        k++;
        cr_assert_eq(r.t_us, k * 100000, "arrival %lld at %lld", (long long)k, (long long)r.t_us);
    }
    cr_assert_eq(k, 863999, "a day of them, the one at 86400 s past the end: %lld", (long long)k);
    gen_destroy(g);
    scn_free(&s);
}
