/* Token bucket on hand-computed cases. */
#include <criterion/criterion.h>

#include "support.h"

#define S 1000000LL  /* one second in microseconds */

/* The worked example of the text this project grew from: rate 10/s,
 * capacity 100, 80 tokens present. */
Test(token_bucket, worked_example_50_of_80_tokens_pass)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=10 capacity=100 initial=80");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 50), 50);
    cr_assert_eq(tsup_at(&l, 0, 1).remaining, 29);
    tsup_free(&l);
}

Test(token_bucket, worked_example_120_messages_80_pass_40_fail)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=10 capacity=100 initial=80");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 120), 80);
    lim_decision d = tsup_at(&l, 0, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, S / 10, "one token takes 100 ms at 10/s");
    tsup_free(&l);
}

Test(token_bucket, refills_at_rate_and_caps_at_capacity)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=10 capacity=100 initial=0");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0);
    cr_assert_eq(tsup_level(&l, S / 2), 5);
    cr_assert_eq(tsup_admit_n(&l, S / 2, 1, 10), 5);
    cr_assert_eq(tsup_level(&l, 1000 * S), 100, "never above capacity");
    tsup_free(&l);
}

Test(token_bucket, cost_above_capacity_never_passes_and_takes_nothing)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=10 capacity=5");
    lim_decision d = tsup_at(&l, 0, 6);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, LIM_RETRY_NEVER);
    cr_assert_eq(d.remaining, 5, "a rejected request consumes nothing");
    cr_assert_eq(tsup_at(&l, 0, 5).allowed, 1);
    tsup_free(&l);
}

Test(token_bucket, two_requests_in_the_same_microsecond)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=1000000 capacity=1");
    cr_assert_eq(tsup_at(&l, 7, 1).allowed, 1);
    lim_decision d = tsup_at(&l, 7, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 1);
    cr_assert_eq(tsup_at(&l, 8, 1).allowed, 1);
    tsup_free(&l);
}

Test(token_bucket, half_a_token_per_second)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=0.5 capacity=1 initial=0");
    lim_decision d = tsup_at(&l, 0, 1);
    cr_assert_eq(d.retry_after_us, 2 * S);
    cr_assert_eq(tsup_at(&l, 2 * S - 1, 1).allowed, 0);
    cr_assert_eq(tsup_at(&l, 2 * S, 1).allowed, 1);
    tsup_free(&l);
}

Test(token_bucket, two_million_per_second)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=2e6 capacity=4 initial=0");
    cr_assert_eq(tsup_at(&l, 0, 1).retry_after_us, 1, "half a microsecond rounds up to one");
    cr_assert_eq(tsup_admit_n(&l, 1, 1, 3), 2);
    cr_assert_eq(tsup_admit_n(&l, 3, 1, 5), 4);
    tsup_free(&l);
}

Test(token_bucket, decades_of_idle_at_the_top_rate_do_not_overflow)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=1e9 capacity=4000000 initial=0");
    tsup_at(&l, 0, 1);
    int64_t later = 1000000000LL * S;  /* 31 years */
    cr_assert_eq(tsup_level(&l, later), 4000000);
    cr_assert_eq(tsup_at(&l, later, 4000000).allowed, 1);
    cr_assert_eq(tsup_at(&l, later, 1).allowed, 0);
    tsup_free(&l);
}

Test(token_bucket, an_earlier_timestamp_gets_no_refill)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=1 capacity=2");
    cr_assert_eq(tsup_admit_n(&l, 10 * S, 1, 2), 2);
    cr_assert_eq(tsup_at(&l, 5 * S, 1).allowed, 0, "skewed clock: no tokens from the past");
    cr_assert_eq(tsup_at(&l, 11 * S, 1).allowed, 1);
    tsup_free(&l);
}

Test(token_bucket, a_refusal_leaves_the_bucket_as_it_was)
{
    tsup_limiter l = tsup_make("token_bucket", "rate=1 capacity=4 initial=0");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0, "a new bucket with nothing in it");
    lim_decision d = tsup_at(&l, 3500000, 4);
    cr_assert_eq(d.allowed, 0, "3.5 tokens do not pay for 4");
    cr_assert_eq(d.retry_after_us, 500000);
    /* stamped a second before the refused one: 2.5 tokens, not the 3.5 a refusal that wrote would leave */
    d = tsup_at(&l, 2500000, 3);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 500000, "refilled from 0 at t=0, as if the refusal at 3.5 s never happened");
    cr_assert_eq(d.remaining, 2);
    cr_assert_eq(tsup_at(&l, 3500000, 3).allowed, 1, "and at 3.5 s the same 3.5 tokens as before");
    cr_assert_eq(tsup_level(&l, 3500000), 0);
    tsup_free(&l);
}

Test(naive_token_bucket, refills_in_whole_seconds)
{
    tsup_limiter l = tsup_make("naive_token_bucket", "rate=10 capacity=20 initial=0");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0);
    cr_assert_eq(tsup_admit_n(&l, S - 1, 1, 5), 0, "no refill within the first second");
    cr_assert_eq(tsup_at(&l, S - 1, 1).retry_after_us, 1, "the next whole second brings 10");
    cr_assert_eq(tsup_admit_n(&l, S, 1, 12), 10);
    cr_assert_eq(tsup_level(&l, 5 * S), 20, "capped at capacity");
    tsup_free(&l);
}

/* Coarse even alone: 20 spent just before a second turns, 10 more right after. */
Test(naive_token_bucket, passes_more_than_rate_and_burst_allow_across_a_second)
{
    tsup_limiter l = tsup_make("naive_token_bucket", "rate=10 capacity=20");
    cr_assert_eq(tsup_admit_n(&l, S - 1, 1, 20), 20);
    cr_assert_eq(tsup_admit_n(&l, S, 1, 20), 10, "30 within 1 us, where an exact bucket of 20 + 10/s allows 20");
    tsup_free(&l);
}
