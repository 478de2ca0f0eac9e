/* GCRA on hand-computed cases. */
#include <criterion/criterion.h>

#include "support.h"

#define S 1000000LL

Test(gcra, burst_requests_pass_back_to_back_from_idle)
{
    tsup_limiter l = tsup_make("gcra", "rate=1 burst=5");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 5), 5);
    lim_decision d = tsup_at(&l, 0, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, S);
    cr_assert_eq(d.remaining, 0);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 0);
    tsup_free(&l);
}

Test(gcra, remaining_counts_what_is_left_of_the_burst)
{
    tsup_limiter l = tsup_make("gcra", "rate=1 burst=5");
    tsup_at(&l, 0, 1);
    cr_assert_eq(tsup_at(&l, 0, 1).remaining, 3);
    cr_assert_eq(tsup_level(&l, 0), 3);
    cr_assert_eq(tsup_level(&l, 2 * S), 5);
    tsup_free(&l);
}

/* T = 1/3 s is not a whole number of microseconds: the emission interval
 * must not be rounded, or the second request would pass at 333333 us. */
Test(gcra, a_third_of_a_second_is_kept_exactly)
{
    tsup_limiter l = tsup_make("gcra", "rate=3 burst=1");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 1);
    lim_decision d = tsup_at(&l, 333333, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 1);
    cr_assert_eq(tsup_at(&l, 333334, 1).allowed, 1);
    tsup_free(&l);
}

Test(gcra, cost_counts_as_that_many_intervals)
{
    tsup_limiter l = tsup_make("gcra", "rate=10 burst=5");
    cr_assert_eq(tsup_at(&l, 0, 3).allowed, 1);
    lim_decision d = tsup_at(&l, 0, 3);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, S / 10, "6 intervals ahead, 5 allowed: one interval to wait");
    cr_assert_eq(d.remaining, 2);
    cr_assert_eq(tsup_at(&l, 0, 6).retry_after_us, LIM_RETRY_NEVER);
    tsup_free(&l);
}

Test(gcra, half_a_request_per_second_and_long_idle)
{
    tsup_limiter l = tsup_make("gcra", "rate=0.5 burst=1");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, 2 * S - 1, 1).allowed, 0);
    cr_assert_eq(tsup_at(&l, 2 * S, 1).allowed, 1);
    int64_t later = 4000000000LL * S;  /* 127 years on */
    cr_assert_eq(tsup_at(&l, later, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, later, 1).allowed, 0);
    tsup_free(&l);
}

Test(gcra, decides_like_a_token_bucket_of_the_same_size)
{
    tsup_limiter g = tsup_make("gcra", "rate=7 burst=4");
    tsup_limiter t = tsup_make("token_bucket", "rate=7 capacity=4");
    uint64_t x = 12345;
    int64_t now = 0;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        now += (int64_t)(x >> 44) % 400000;
        int64_t cost = 1 + (int64_t)((x >> 20) % 3);
        cr_assert_eq(tsup_at(&g, now, cost).allowed, tsup_at(&t, now, cost).allowed, "request %d", i);
    }
    tsup_free(&g);
    tsup_free(&t);
}

Test(gcra, a_tat_far_ahead_leaves_none_admissible_not_a_negative_count)
{
    tsup_limiter l = tsup_make("gcra", "rate=1 burst=2");
    cr_assert_eq(tsup_admit_n(&l, 10 * S, 1, 2), 2, "the burst at 10 s: the tat is 12 s");
    /* a client whose clock is 5 s behind: the tat is 7 s ahead of it, the limit 2 s */
    lim_decision d = tsup_at(&l, 5 * S, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.remaining, 0);
    cr_assert_eq(d.retry_after_us, 6 * S, "until the tat is within 2 s, less one interval for the request");
    cr_assert_eq(tsup_level(&l, 5 * S), 0);
    tsup_free(&l);
}
