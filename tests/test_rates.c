/* Rates as users state limits ("20/min", "1/3s", "100/1500ms", 0.5) are
 * kept exactly: parsing and refusals, and every decision of the bucket
 * algorithms at exact refill instants equals an exact-rational model
 * written here from DESIGN.md's rules (fractions of 128-bit integers,
 * nothing shared with the algorithms' fixed point). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/fixedpoint.h"
#include "../algorithms/limiter.h"
#include "../sim/rng.h"
#include "support.h"

Test(rates, counts_per_period_parse_and_print_as_given)
{
    static const struct { const char *text; long long count, per_us; const char *printed; } ok[] = {
        { "20/min", 20, 60000000, "20/min" },     { "1/3s", 1, 3000000, "1/3s" },
        { "100/1500ms", 100, 1500000, "100/1500ms" }, { "5/s", 5, 1000000, "5/s" },
        { "/h", 1, 3600000000LL, "1/h" },        { "7/2d", 7, 172800000000LL, "7/2d" },
        { "3/250us", 3, 250, "3/250us" },         { "1/1.5s", 1, 1500000, "1/1500ms" },
        { "0.5", 5, 10000000, "0.5" },            { "1000", 1000, 1000000, "1000" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        lim_rate r;
        char why[300], out[64];
        cr_assert_eq(lim_rate_parse(ok[i].text, &r, why, sizeof why), 0, "%s: %s", ok[i].text, why);
        cr_assert(r.count * ok[i].per_us == ok[i].count * r.per_us, "%s: %lld/%lld us", ok[i].text,
                  (long long)r.count, (long long)r.per_us);
        lim_rate_format(&r, out, sizeof out);
        cr_assert_str_eq(out, ok[i].printed, "%s", ok[i].text);
    }
    static const struct { const char *text, *message; } bad[] = {
        { "0.333333333333333", "more than 9 decimals, so it cannot be kept exactly; write it as a count per period" },
        { "1.5/s", "the count before '/' must be a whole number" },
        { "3/0s", "the period must be > 0" },
        { "3/min5", "the period's unit must be one of us, ms, s, min, h, d" },
        { "1/0.5us", "whole number of microseconds" },
        { "fast", "'fast' is not a rate" },
        { "-2", "must be > 0" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lim_rate r;
        char why[300] = "";
        cr_assert_eq(lim_rate_parse(bad[i].text, &r, why, sizeof why), -1, "%s accepted", bad[i].text);
        cr_assert(strstr(why, bad[i].message), "%s: %s", bad[i].text, why);
    }
    /* the nearest exact value is named */
    lim_rate r;
    char why[300];
    cr_assert_eq(lim_rate_from_number(1.0 / 3.0, &r, why, sizeof why), -1);
    cr_assert(strstr(why, "0.333333333 is exact"), "%s", why);
}

/* ---- an exact-rational model ----------------------------------------------------------- */

typedef __int128 i128;
typedef struct { i128 n, d; } frac;   /* d > 0 */

static i128 gcd128(i128 a, i128 b)
{
    if (a < 0) a = -a;
    while (b) { i128 t = a % b; a = b; b = t; }
    return a ? a : 1;
}
static frac fr(i128 n, i128 d) { i128 g = gcd128(n, d); return (frac){ n / g, d / g }; }
static frac fadd(frac a, frac b) { return fr(a.n * b.d + b.n * a.d, a.d * b.d); }
static frac fsub(frac a, frac b) { return fr(a.n * b.d - b.n * a.d, a.d * b.d); }
static frac fmul(frac a, frac b) { return fr(a.n * b.n, a.d * b.d); }
static int fcmp(frac a, frac b) { i128 x = a.n * b.d, y = b.n * a.d; return (x > y) - (x < y); }
static frac fmin_(frac a, frac b) { return fcmp(a, b) <= 0 ? a : b; }
static frac fmax_(frac a, frac b) { return fcmp(a, b) >= 0 ? a : b; }
static i128 ffloor(frac a) { i128 q = a.n / a.d; return (a.n % a.d != 0 && a.n < 0) ? q - 1 : q; }
static i128 fceil(frac a) { return -ffloor((frac){ -a.n, a.d }); }
static frac fint(i128 v) { return (frac){ v, 1 }; }

typedef struct {
    frac tokens, t_last;       /* token bucket: tokens, time of the last refill (us) */
    frac tat;                  /* gcra */
    frac depart;               /* leaky queue: the last departure (us) */
    frac excess;               /* leaky meter */
    int seen;
} model_key;

/* rate in requests per microsecond, as a fraction */
static frac model_rate(const char *text)
{
    lim_rate r;
    char why[300];
    cr_assert_eq(lim_rate_parse(text, &r, why, sizeof why), 0, "%s", why);
    return fr(r.count, r.per_us);
}

static lim_decision model_token_bucket(model_key *k, frac rate, int64_t cap, int64_t t, int64_t cost)
{
    frac now = fint(t);
    if (!k->seen) { k->tokens = fint(cap); k->t_last = now; k->seen = 1; }
    if (fcmp(now, k->t_last) > 0) {
        k->tokens = fmin_(fint(cap), fadd(k->tokens, fmul(rate, fsub(now, k->t_last))));
        k->t_last = now;
    }
    lim_decision d = { 0, 0, 0, 0 };
    if (fcmp(k->tokens, fint(cost)) >= 0) {
        k->tokens = fsub(k->tokens, fint(cost));
        d.allowed = 1;
    } else if (cost > cap) {
        d.retry_after_us = LIM_RETRY_NEVER;
    } else {   /* (cost - tokens) / rate microseconds, rounded up */
        frac need = fsub(fint(cost), k->tokens);
        d.retry_after_us = (int64_t)fceil(fr(need.n * rate.d, need.d * rate.n));
    }
    d.remaining = (int64_t)ffloor(k->tokens);
    return d;
}

static lim_decision model_gcra(model_key *k, frac rate, int64_t burst, int64_t t, int64_t cost)
{
    frac now = fint(t), T = fr(rate.d, rate.n);   /* microseconds per request */
    if (!k->seen) { k->tat = now; k->seen = 1; }
    frac base = fmax_(k->tat, now);
    frac next = fadd(base, fmul(fint(cost), T));
    frac limit = fmul(fint(burst), T);
    lim_decision d = { 0, 0, 0, 0 };
    frac ahead = fsub(next, now);
    if (cost <= burst && fcmp(ahead, limit) <= 0) {
        k->tat = next;
        d.allowed = 1;
        d.remaining = (int64_t)ffloor(fmul(fsub(limit, ahead), rate));
    } else {
        d.retry_after_us = cost > burst ? LIM_RETRY_NEVER : (int64_t)fceil(fsub(ahead, limit));
        d.remaining = (int64_t)ffloor(fmul(fsub(limit, fsub(base, now)), rate));
    }
    return d;
}

static lim_decision model_leaky_queue(model_key *k, frac rate, int64_t cap, int64_t t, int64_t cost)
{
    frac now = fint(t), T = fr(rate.d, rate.n);
    frac dep = k->seen ? fmax_(now, fadd(k->depart, fmul(fint(cost), T))) : now;
    frac wait = fsub(dep, now), most = fmul(fint(cap), T);
    lim_decision d = { 0, 0, 0, 0 };
    if (fcmp(wait, most) <= 0) {
        k->depart = dep;
        k->seen = 1;
        d.allowed = 1;
        d.delay_us = (int64_t)fceil(wait);
        /* cost-1 requests that could still join: the next waits wait + T */
        frac first = fadd(wait, T);
        d.remaining = fcmp(first, most) > 0 ? 0 : 1 + (int64_t)ffloor(fmul(fsub(most, first), rate));
    } else {
        d.retry_after_us = (int64_t)fceil(fsub(wait, most));
        frac one = fsub(fmax_(now, fadd(k->depart, T)), now);
        d.remaining = fcmp(one, most) > 0 ? 0 : 1 + (int64_t)ffloor(fmul(fsub(most, one), rate));
    }
    return d;
}

static lim_decision model_leaky_meter(model_key *k, frac rate, int64_t cap, int64_t t, int64_t cost)
{
    frac now = fint(t);
    lim_decision d = { 0, 0, 0, 0 };
    if (!k->seen) {
        k->seen = 1;
        k->excess = fint(0);
        k->t_last = now;
        d.allowed = 1;
        d.remaining = cap;   /* excess 0: cost-1 requests fit while the excess stays <= cap */
        return d;
    }
    frac elapsed = fcmp(now, k->t_last) > 0 ? fsub(now, k->t_last) : fint(0);
    frac after = fmax_(fint(0), fsub(fadd(k->excess, fint(cost)), fmul(rate, elapsed)));
    if (fcmp(after, fint(cap)) <= 0) {
        k->excess = after;
        if (fcmp(now, k->t_last) > 0) k->t_last = now;
        d.allowed = 1;
        frac first = fadd(after, fint(1));
        d.remaining = fcmp(first, fint(cap)) > 0 ? 0 : 1 + (int64_t)ffloor(fsub(fint(cap), first));
    } else {
        frac over = fsub(after, fint(cap));
        d.retry_after_us = (int64_t)fceil(fr(over.n * rate.d, over.d * rate.n));
        frac one = fmax_(fint(0), fsub(fadd(k->excess, fint(1)), fmul(rate, elapsed)));
        d.remaining = fcmp(one, fint(cap)) > 0 ? 0 : 1 + (int64_t)ffloor(fsub(fint(cap), one));
    }
    return d;
}

typedef lim_decision (*model_fn)(model_key *, frac, int64_t, int64_t, int64_t);

Test(rates, decisions_at_exact_refill_instants_equal_an_exact_rational_model, .timeout = 120)
{
    /* whole-second times land exactly on the refill instants of 1/3 s, 20/min... */
    static const struct { const char *algo, *rate, *count_param; int64_t count; model_fn model; const char *mode; } cases[] = {
        { "token_bucket", "1/3s", "capacity", 3, model_token_bucket, NULL },
        { "token_bucket", "20/min", "capacity", 5, model_token_bucket, NULL },
        { "token_bucket", "100/1500ms", "capacity", 40, model_token_bucket, NULL },
        { "gcra", "1/3s", "burst", 2, model_gcra, NULL },
        { "gcra", "7/d", "burst", 3, model_gcra, NULL },
        { "gcra", "100/1500ms", "burst", 9, model_gcra, NULL },
        { "leaky_bucket", "1/3s", "capacity", 2, model_leaky_queue, "queue" },
        { "leaky_bucket", "20/min", "capacity", 4, model_leaky_queue, "queue" },
        { "leaky_bucket", "1/3s", "capacity", 2, model_leaky_meter, "meter" },
        { "leaky_bucket", "100/1500ms", "capacity", 6, model_leaky_meter, "meter" },
    };
    uint64_t decisions = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char params[128];
        snprintf(params, sizeof params, "rate=%s %s=%lld%s%s", cases[c].rate, cases[c].count_param,
                 (long long)cases[c].count, cases[c].mode ? " mode=" : "", cases[c].mode ? cases[c].mode : "");
        frac rate = model_rate(cases[c].rate);
        for (uint64_t seed = 1; seed <= 40; seed++) {
            tsup_limiter alg = tsup_make(cases[c].algo, params);
            model_key k = { 0 };
            rng r;
            rng_seed(&r, seed, 500 + c);
            int64_t t = 0;
            for (int i = 0; i < 500; i++, decisions++) {
                uint64_t g = rng_below(&r, 10);
                t += g < 5 ? 0 : (int64_t)rng_below(&r, 5) * 1000000;   /* whole seconds: 0 to 4 s apart */
                int64_t cost = rng_below(&r, 6) == 0 ? 1 + (int64_t)rng_below(&r, 3) : 1;
                lim_decision got = tsup_at(&alg, t, cost);
                lim_decision want = cases[c].model(&k, rate, cases[c].count, t, cost);
                cr_assert(got.allowed == want.allowed && got.remaining == want.remaining &&
                              got.retry_after_us == want.retry_after_us && got.delay_us == want.delay_us,
                          "%s %s seed %llu request %d (t=%lld us, cost %lld): ratelab {%d, %lld, %lld, %lld}, "
                          "exact {%d, %lld, %lld, %lld}", cases[c].algo, params, (unsigned long long)seed, i,
                          (long long)t, (long long)cost, got.allowed, (long long)got.remaining,
                          (long long)got.retry_after_us, (long long)got.delay_us, want.allowed,
                          (long long)want.remaining, (long long)want.retry_after_us, (long long)want.delay_us);
            }
            tsup_free(&alg);
        }
    }
    cr_log_info("%llu decisions equal the exact model", (unsigned long long)decisions);
}

Test(rates, a_rate_that_cannot_be_kept_exactly_is_refused_with_the_limit_it_sets)
{
    const lim_ops *tb = lim_find("token_bucket");
    double values[LIM_MAX_PARAMS] = { 0 };
    lim_rate rates[LIM_MAX_PARAMS] = { { 0, 0, 0 } };
    char why[300];
    cr_assert_eq(lim_rate_parse("1/7d", &rates[0], why, sizeof why), 0);
    values[0] = lim_rate_per_s(&rates[0]);
    values[1] = 4000000;
    values[2] = 4000000;
    lim_config cfg = { .ops = tb };
    cr_assert_eq(tb->configure(values, rates, &cfg, why, sizeof why), -1, "1 per week with 4M tokens: too fine");
    cr_assert(strstr(why, "rate: kept exactly, one request is 604800000000 units, so capacity may be at most 7446"),
              "%s", why);
}

Test(rates, replayed_times_under_a_time_scale_are_exact, .timeout = 60)
{
    char *dir = tsup_tempdir(), out[512], path[600], err[2048];
    snprintf(out, sizeof out, "%s/scaled", dir);
    const char *argv[] = { "run", "tests/fixtures/good/scaled_trace.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    /* every request lands on its whole second, where each limit has exactly one to give */
    cr_assert(strstr(csv, "\ntb,token_bucket,memory,key,rate=1/s capacity=1,200,200,0,"), "%s", csv);
    cr_assert(strstr(csv, "\ngcra,gcra,memory,key,rate=1 burst=1,200,200,0,"), "%s", csv);
    cr_assert(strstr(csv, "\nmeter,leaky_bucket,memory,key,rate=60/min capacity=0 mode=meter,200,200,0,"), "%s", csv);
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* A configured divisor (fixedpoint.h fx_div) divides exactly as C does, on
 * the edges of every range a decision feeds it and on random numerators:
 * a wrong magic or shift would be off by one somewhere among these. */
Test(rates, a_configured_divisor_divides_exactly_as_c_does)
{
    static const int64_t divisors[] = { 1, 2, 3, 5, 7, 10, 641, 1000, 100000, 999983, 1000000, 1LL << 31,
                                        (1LL << 31) + 1, 86400000000LL, (1LL << 52) - 1, 1LL << 52,
                                        (1LL << 62) + 1, INT64_MAX };
    rng r;
    rng_seed(&r, 17, 1);
    for (size_t i = 0; i < sizeof divisors / sizeof divisors[0]; i++) {
        int64_t d = divisors[i];
        lim_divisor v = fx_divisor_of(d);
        int64_t edges[] = { 0, 1, d - 1, d, d < INT64_MAX ? d + 1 : d, 2 * (d / 2), INT64_MAX, INT64_MAX - 1,
                            INT64_MAX - d, -1, -d, INT64_MIN + 1, -(d / 2) - 1 };
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            int64_t n = edges[e];
            cr_assert_eq(fx_div(n, v), n / d, "%lld / %lld", (long long)n, (long long)d);
            int64_t sum;   /* floor's -n + d - 1 must fit: it is for times, far inside this */
            if (n < 0 && (n == INT64_MIN || __builtin_add_overflow(-n, d - 1, &sum))) continue;
            int64_t floor = n / d - (n % d != 0 && n < 0);
            cr_assert_eq(fx_floor_div_by(n, v), floor, "floor(%lld / %lld)", (long long)n, (long long)d);
        }
        for (int k = 0; k < 100000; k++) {
            uint64_t u = rng_next(&r);
            int64_t n = (int64_t)(u >> (u & 63));   /* every magnitude, both signs */
            if (n == INT64_MIN) continue;
            cr_assert_eq(fx_div(n, v), n / d, "%lld / %lld", (long long)n, (long long)d);
        }
    }
}
