/* Leaky bucket, queue and meter modes, on hand-computed cases. */
#include <criterion/criterion.h>

#include "support.h"

#define S 1000000LL

Test(leaky_queue, spaces_departures_and_drops_beyond_the_queue)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=10 capacity=2");
    lim_decision d[5];
    for (int i = 0; i < 5; i++) d[i] = tsup_at(&l, 0, 1);
    cr_assert(d[0].allowed && d[0].delay_us == 0);
    cr_assert(d[1].allowed && d[1].delay_us == 100000);
    cr_assert(d[2].allowed && d[2].delay_us == 200000);
    cr_assert_eq(d[3].allowed, 0, "a wait of 300 ms exceeds capacity/rate = 200 ms");
    cr_assert_eq(d[3].retry_after_us, 100000);
    cr_assert_eq(d[4].allowed, 0);
    cr_assert_eq(tsup_level(&l, 0), 2, "two requests wait behind the first");
    tsup_free(&l);
}

Test(leaky_queue, a_drop_leaves_the_last_departure)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=10 capacity=1");
    tsup_admit_n(&l, 0, 1, 2);
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0);
    lim_decision d = tsup_at(&l, 100000, 1);
    cr_assert(d.allowed);
    cr_assert_eq(d.delay_us, 100000, "departs at 200 ms, after the one at 100 ms");
    tsup_free(&l);
}

Test(leaky_queue, departures_a_third_of_a_second_apart_stay_exact)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=3 capacity=10");
    cr_assert_eq(tsup_at(&l, 0, 1).delay_us, 0);
    cr_assert_eq(tsup_at(&l, 0, 1).delay_us, 333334, "333333.3 us, released at the next whole microsecond");
    cr_assert_eq(tsup_at(&l, 0, 1).delay_us, 666667);
    cr_assert_eq(tsup_at(&l, 0, 1).delay_us, 1000000, "three intervals are exactly one second");
    tsup_free(&l);
}

Test(leaky_queue, an_idle_queue_releases_at_once)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=0.5 capacity=0");
    cr_assert_eq(tsup_at(&l, 0, 1).delay_us, 0);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 0, "capacity 0: no waiting at all");
    cr_assert_eq(tsup_at(&l, 2 * S, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, 2000000000LL * S, 1).delay_us, 0);
    tsup_free(&l);
}

Test(leaky_meter, capacity_plus_one_pass_back_to_back)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=1 capacity=2 mode=meter");
    cr_assert_eq(tsup_admit_n(&l, 0, 1, 3), 3);
    lim_decision d = tsup_at(&l, 0, 1);
    cr_assert_eq(d.allowed, 0);
    cr_assert_eq(d.retry_after_us, S);
    cr_assert_eq(d.delay_us, 0, "a meter never delays");
    tsup_free(&l);
}

Test(leaky_meter, a_rejection_leaves_the_state)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=1 capacity=2 mode=meter");
    tsup_admit_n(&l, 0, 1, 3);
    cr_assert_eq(tsup_admit_n(&l, S / 2, 1, 5), 0);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 1, "excess 2 - 1 + 1 = 2 <= 2");
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 0);
    tsup_free(&l);
}

/* nginx clamps the excess at 0 after subtracting the drain, so a request
 * after enough idle time passes with excess 0 whatever its cost. */
Test(leaky_meter, nginx_clamp_after_idle)
{
    tsup_limiter l = tsup_make("leaky_bucket", "rate=1 capacity=0 mode=meter");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 1, "first sight: excess 0");
    cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0);
    cr_assert_eq(tsup_at(&l, S, 1).allowed, 1);
    cr_assert_eq(tsup_at(&l, 10 * S, 3).allowed, 1, "max(0, 0 - 10 + 3) = 0");
    tsup_free(&l);
}
