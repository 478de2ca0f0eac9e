/* The oracle's promises, on hand-made decision streams: one request too
 * many is caught, a legal stream passes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../sim/oracle.h"

#define S 1000000LL

static scn_limiter limiter(const char *algo, const char *p1, double v1, const char *p2, double v2)
{
    scn_limiter l;
    memset(&l, 0, sizeof l);
    l.ops = lim_find(algo);
    cr_assert(l.ops);
    lim_default_values(l.ops, l.values);
    l.values[lim_param_index(l.ops, p1)] = v1;
    l.values[lim_param_index(l.ops, p2)] = v2;
    snprintf(l.name, sizeof l.name, "%s", algo);
    return l;
}

static int64_t over(const scn_limiter *l, const int64_t *t, const uint32_t *key, size_t n)
{
    orc_tally tally;
    cr_assert_eq(orc_tally_init(&tally, l, 2), 0);
    for (size_t i = 0; i < n; i++) orc_tally_add(&tally, key ? key[i] : 0, t[i], 1, 1);
    int64_t o = orc_over_admitted(&tally);
    orc_tally_free(&tally);
    return o;
}

Test(oracle, a_burst_one_over_the_bucket_is_caught)
{
    scn_limiter tb = limiter("token_bucket", "rate", 1, "capacity", 5);
    int64_t at_once[6] = { 0, 0, 0, 0, 0, 0 };
    cr_assert_eq(over(&tb, at_once, NULL, 5), 0, "5 at once fit a bucket of 5");
    cr_assert_eq(over(&tb, at_once, NULL, 6), 1, "the sixth is one too many");
    int64_t later[6] = { 0, 0, 0, 0, 0, S };
    cr_assert_eq(over(&tb, later, NULL, 6), 0, "one second later one more token has come");
    uint32_t two_keys[6] = { 0, 0, 0, 1, 1, 1 };
    cr_assert_eq(over(&tb, at_once, two_keys, 6), 0, "each key has its own bucket");
    scn_limiter gcra = limiter("gcra", "rate", 1, "burst", 5);
    cr_assert_eq(over(&gcra, at_once, NULL, 6), 1);
    scn_limiter meter = limiter("leaky_bucket", "rate", 1, "capacity", 4);
    cr_assert_eq(over(&meter, at_once, NULL, 5), 0, "a meter passes capacity + 1");
    cr_assert_eq(over(&meter, at_once, NULL, 6), 1);
}

Test(oracle, one_request_too_many_at_a_window_edge_is_caught)
{
    scn_limiter fw = limiter("fixed_window", "limit", 3, "window_ms", 1000);
    int64_t edge[6] = { S - 3, S - 2, S - 1, S, S + 1, S + 2 };
    cr_assert_eq(over(&fw, edge, NULL, 6), 0, "3 before the edge and 3 after: legal for fixed windows");
    int64_t four[4] = { S - 4, S - 3, S - 2, S - 1 };
    cr_assert_eq(over(&fw, four, NULL, 4), 1, "4 in one window");
    scn_limiter swl = limiter("sliding_window_log", "limit", 3, "window_ms", 1000);
    cr_assert_eq(over(&swl, edge, NULL, 3), 0);
    int64_t spread[4] = { 0, S / 2, S - 1, 2 * S - 1 };
    cr_assert_eq(over(&swl, spread, NULL, 4), 0, "two windows of 1 s cover 2 s: 6 may pass");
    int64_t dense[7] = { 0, 1, 2, 3, 4, 5, 6 };
    cr_assert_eq(over(&swl, dense, NULL, 7), 4, "7 within 7 us, where one window allows 3");
}

Test(oracle, the_counter_estimate_has_no_exact_bound)
{
    scn_limiter swc = limiter("sliding_window_counter", "limit", 3, "window_ms", 1000);
    int64_t t[1] = { 0 };
    cr_assert_eq(over(&swc, t, NULL, 1), -1);
}
