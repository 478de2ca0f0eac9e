/* Fixed window, sliding window log and sliding window counter on
 * hand-computed cases, including the edges between windows. */
#include <criterion/criterion.h>

#include "support.h"

#define S 1000000LL

Test(fixed_window, passes_twice_the_limit_across_an_edge)
{
    tsup_limiter l = tsup_make("fixed_window", "limit=3 window_ms=1000");
    cr_assert_eq(tsup_admit_n(&l, S - 1, 1, 4), 3);
    lim_decision d = tsup_at(&l, S - 1, 1);
    cr_assert_eq(d.retry_after_us, 1, "the next window opens one microsecond later");
    cr_assert_eq(d.remaining, 0);
    cr_assert_eq(tsup_admit_n(&l, S, 1, 4), 3, "a new window: 6 within 2 us");
    cr_assert_eq(tsup_level(&l, S), 3);
    cr_assert_eq(tsup_level(&l, 2 * S), 0);
    tsup_free(&l);
}

Test(fixed_window, cost_counts_and_a_cost_above_the_limit_never_passes)
{
    tsup_limiter l = tsup_make("fixed_window", "limit=5 window_ms=100");
    cr_assert_eq(tsup_at(&l, 0, 4).allowed, 1);
    cr_assert_eq(tsup_at(&l, 0, 2).allowed, 0);
    cr_assert_eq(tsup_at(&l, 0, 1).remaining, 0);
    cr_assert_eq(tsup_at(&l, 0, 6).retry_after_us, LIM_RETRY_NEVER);
    tsup_free(&l);
}

Test(sliding_window_log, exact_window_and_retry_after)
{
    tsup_limiter l = tsup_make("sliding_window_log", "limit=3 window_ms=1000");
    cr_assert(tsup_at(&l, 0, 1).allowed);
    cr_assert(tsup_at(&l, S / 2, 1).allowed);
    cr_assert(tsup_at(&l, 9 * S / 10, 1).allowed);
    lim_decision d = tsup_at(&l, 95 * S / 100, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 50000, "the request at 0 leaves (t - 1 s, t] at t = 1 s");
    cr_assert_eq(tsup_at(&l, S - 1, 1).allowed, 0);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 1);
    cr_assert_eq(tsup_level(&l, S), 3);
    tsup_free(&l);
}

Test(sliding_window_log, costs_expire_with_their_entries)
{
    tsup_limiter l = tsup_make("sliding_window_log", "limit=5 window_ms=1000");
    cr_assert(tsup_at(&l, 0, 3).allowed);
    cr_assert(tsup_at(&l, S / 10, 2).allowed);
    lim_decision d = tsup_at(&l, S / 5, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 8 * S / 10);
    cr_assert_eq(tsup_at(&l, S / 5, 6).retry_after_us, LIM_RETRY_NEVER);
    cr_assert(tsup_at(&l, S, 3).allowed);
    tsup_free(&l);
}

Test(sliding_window_log, ring_wraps_over_many_windows)
{
    tsup_limiter l = tsup_make("sliding_window_log", "limit=4 window_ms=10");
    int admitted = 0;
    for (int64_t t = 0; t < 1000000; t += 1000) admitted += tsup_at(&l, t, 1).allowed;
    /* one request per ms, at most 4 in any 10 ms: 4 of every 10 */
    cr_assert_eq(admitted, 400);
    tsup_free(&l);
}

Test(sliding_window_log, times_are_exact_across_the_entries_42_bit_wrap)
{
    /* an entry keeps its time modulo 2^42 us: these straddle a multiple of it */
    const int64_t T = (INT64_C(1) << 42) * 400 - 10;   /* about 2025's wall clock in us, less 10 */
    tsup_limiter l = tsup_make("sliding_window_log", "limit=2 window_ms=1");
    cr_assert_eq(tsup_at(&l, T, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, T + 15, 1).allowed, 1, "15 us later, past the wrap");
    lim_decision d = tsup_at(&l, T + 20, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 980, "the first entry leaves the window at T + 1000");
    cr_assert_eq(tsup_level(&l, T + 999), 2);
    cr_assert_eq(tsup_level(&l, T + 1000), 1);
    cr_assert_eq(tsup_at(&l, T + 1000, 1).allowed, 1);
    tsup_free(&l);
}

Test(sliding_window_log, a_log_whose_newest_entry_is_a_window_old_is_empty_whatever_the_gap)
{
    tsup_limiter l = tsup_make("sliding_window_log", "limit=2 window_ms=1000");
    cr_assert_eq(tsup_admit_n(&l, 10 * S, 1, 3), 2);
    /* 2^42 us (50.9 days) later, to the microsecond: the same low bits as the entries */
    int64_t later = 10 * S + (INT64_C(1) << 42);
    cr_assert_eq(tsup_level(&l, later), 0);
    cr_assert_eq(tsup_admit_n(&l, later, 1, 3), 2);
    /* and they leave a window later, like any */
    cr_assert_eq(tsup_level(&l, later + S - 1), 2);
    cr_assert_eq(tsup_level(&l, later + S), 0);
    tsup_free(&l);
}

Test(sliding_window_counter, weights_the_previous_window)
{
    tsup_limiter l = tsup_make("sliding_window_counter", "limit=10 window_ms=1000");
    cr_assert_eq(tsup_admit_n(&l, S / 2, 1, 12), 10);
    /* at 1.25 s: est = 10 * 0.75 + cur; 7.5 + 1 and 8.5 + 1 fit, 9.5 + 1 does not */
    cr_assert_eq(tsup_admit_n(&l, S + S / 4, 1, 2), 2);
    lim_decision d = tsup_at(&l, S + S / 4, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, 50000, "at 1.3 s: 10 * 0.7 + 2 + 1 = 10");
    cr_assert_eq(tsup_at(&l, S + 3 * S / 10, 1).allowed, 1);
    tsup_free(&l);
}

Test(sliding_window_counter, retry_reaches_into_the_next_window)
{
    tsup_limiter l = tsup_make("sliding_window_counter", "limit=10 window_ms=1000");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 10), 10);
    lim_decision d = tsup_at(&l, S / 2, 3);
    cr_assert_eq(d.allowed, 0);
    /* next window: 10 * (1 - m) + 3 <= 10 from m = 0.3, i.e. 0.5 s + 0.3 s */
    cr_assert_eq(d.retry_after_us, 8 * S / 10);
    cr_assert_eq(tsup_at(&l, S + 3 * S / 10 - 1, 3).allowed, 0);
    cr_assert_eq(tsup_at(&l, S + 3 * S / 10, 3).allowed, 1);
    tsup_free(&l);
}

Test(sliding_window_counter, two_idle_windows_forget_everything)
{
    tsup_limiter l = tsup_make("sliding_window_counter", "limit=2 window_ms=1000");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 3), 2);
    cr_assert_eq(tsup_level(&l, S), 2);
    cr_assert_eq(tsup_level(&l, 2 * S), 0);
    cr_assert_eq(tsup_admit_n(&l, 2 * S, 1, 3), 2);
    tsup_free(&l);
}
