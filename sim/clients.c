/* clients.c -- see clients.h. */
#include "clients.h"

#include <math.h>
#include <string.h>

/* splitmix64's finaliser (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): a good 64-bit mix. */
static uint64_t cli_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform double in [0, 1) for draw `which` of (seed, intent, attempt):
 * one mix of the three spread by odd constants (a draw per call, no state). */
static double cli_uniform(uint64_t seed, uint64_t intent, uint32_t attempt, uint32_t which)
{
    uint64_t h = cli_mix(seed * 0xd6e8feb86659fd93ULL ^ intent * 0x9e3779b97f4a7c15ULL ^
                         ((uint64_t)attempt << 8 | which) * 0xd1b54a32d192ed03ULL);
    return (double)(h >> 11) * 0x1.0p-53;
}

/* A uniform whole number of microseconds in [lo, hi]. */
static int64_t cli_between(int64_t lo, int64_t hi, double u)
{
    if (hi <= lo) return lo;
    int64_t v = lo + (int64_t)floor(u * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}

uint32_t cli_class_of(const cli_config *c, uint64_t seed, uint64_t intent)
{
    if (c->n <= 1) return 0;
    double x = cli_uniform(seed, intent, 0, 0) * c->total_weight;
    for (uint32_t i = 0; i < c->n; i++) {
        if (x < c->c[i].weight) return i;
        x -= c->c[i].weight;
    }
    return (uint32_t)c->n - 1;   /* rounding at the top end */
}

/* The backoff before retry n (1-based), before jitter. */
static int64_t cli_backoff_us(const cli_class *k, uint32_t n, int64_t prev_us, double u)
{
    switch (k->backoff) {
    case CLI_BACKOFF_NONE: return 0;
    case CLI_BACKOFF_CONSTANT: return k->base_us;
    case CLI_BACKOFF_EXPONENTIAL: {
        double x = (double)k->base_us * ldexp(1.0, (int)(n - 1 < 62 ? n - 1 : 62));
        return x >= (double)k->cap_us ? k->cap_us : (int64_t)x;
    }
    case CLI_BACKOFF_DECORRELATED: {
        int64_t prev = prev_us > 0 ? prev_us : k->base_us;
        int64_t hi = prev > INT64_MAX / 3 ? INT64_MAX : prev * 3;
        int64_t x = cli_between(k->base_us, hi, u);
        return x > k->cap_us ? k->cap_us : x;
    }
    }
    return 0;
}

void cli_draw(const cli_class *k, uint64_t seed, uint64_t intent, uint32_t attempt, int64_t prev_backoff_us,
              cli_draws *d)
{
    d->x = cli_backoff_us(k, attempt, prev_backoff_us, cli_uniform(seed, intent, attempt, 1));
    d->spread = k->backoff == CLI_BACKOFF_DECORRELATED ? 0
                : k->jitter == CLI_JITTER_FULL         ? d->x
                : k->jitter == CLI_JITTER_EQUAL        ? d->x / 2
                                                       : 0;
    d->random_part = cli_between(0, d->spread, cli_uniform(seed, intent, attempt, 2));
}

/* The wait after a refusal without (or without using) a Retry-After:
 * full x - x + r = r; equal x - x/2 + r; none and decorrelated x. */
static int64_t cli_plain_wait(const cli_draws *d) { return d->x - d->spread + d->random_part; }

cli_verdict cli_next(const cli_class *k, const cli_draws *dr, uint32_t attempt, int64_t first_us, int64_t now_us,
                     const lim_decision *d, int64_t *at_us, int64_t *backoff_us)
{
    if (attempt >= k->max_attempts) return CLI_GIVE_UP;
    if (k->honor_retry_after && d->retry_after_us == LIM_RETRY_NEVER) return CLI_GIVE_UP;
    int64_t wait = k->honor_retry_after && d->retry_after_us > 0 ? d->retry_after_us + dr->random_part
                                                                 : cli_plain_wait(dr);
    *backoff_us = dr->x;
    *at_us = now_us + wait;
    if (k->abandon_after_us > 0 && *at_us - first_us > k->abandon_after_us) return CLI_GIVE_UP;
    return CLI_RETRY;
}

int64_t cli_earliest_return_us(const cli_class *k, uint32_t attempt, const cli_draws *d)
{
    if (attempt >= k->max_attempts) return INT64_MAX;
    int64_t plain = cli_plain_wait(d);
    /* a Retry-After adds to the random part; without one the plain wait holds, and it is never below it */
    return k->honor_retry_after && d->random_part < plain ? d->random_part : plain;
}

int cli_failed(uint64_t seed, uint64_t intent, uint32_t attempt, double failure_prob)
{
    return failure_prob > 0 && cli_uniform(seed, intent, attempt, 3) < failure_prob;
}

/* A client that would come back after what d says at now_us: when, if
 * its limits and its budget let it and the run lasts. */
static cli_outcome cli_come_back(const cli_class *k, cli_budget *budget, int64_t duration_us, uint32_t attempt,
                                 int64_t first_us, const cli_draws *dr, int64_t now_us, const lim_decision *d,
                                 int64_t *at_us, int64_t *backoff_us)
{
    if (cli_next(k, dr, attempt, first_us, now_us, d, at_us, backoff_us) == CLI_GIVE_UP) return CLI_ABANDONED;
    if (!cli_budget_take(budget, k, now_us)) return CLI_BUDGET_REFUSED;
    if (*at_us >= duration_us) return CLI_UNFINISHED;
    return CLI_COMES_BACK;
}

/* What a call that was admitted but did not answer says to its client. */
static const lim_decision cli_no_answer = { 0, 0, 0, 0 };

cli_outcome cli_after(const cli_class *k, cli_budget *budget, uint64_t seed, double failure_prob,
                      int64_t duration_us, uint64_t intent, uint32_t attempt, int64_t first_us, const cli_draws *dr,
                      int64_t now_us, const lim_decision *d, int *failed, int64_t *at_us, int64_t *backoff_us)
{
    *failed = d->allowed && cli_failed(seed, intent, attempt, failure_prob);
    if (d->allowed && !*failed) return CLI_SUCCEEDED;
    if (*failed ? !k->retry_on_failed : !k->retry_on_refused) return *failed ? CLI_FAILED : CLI_ABANDONED;
    /* a failed call comes back like a refusal without a Retry-After */
    return cli_come_back(k, budget, duration_us, attempt, first_us, dr, now_us, *failed ? &cli_no_answer : d, at_us,
                         backoff_us);
}

cli_outcome cli_after_timeout(const cli_class *k, cli_budget *budget, int64_t duration_us, uint32_t attempt,
                              int64_t first_us, const cli_draws *dr, int64_t now_us, int64_t *at_us,
                              int64_t *backoff_us)
{
    return cli_come_back(k, budget, duration_us, attempt, first_us, dr, now_us, &cli_no_answer, at_us, backoff_us);
}

void cli_budget_init(cli_budget *b, uint32_t window_s)
{
    memset(b, 0, sizeof *b);
    b->window_s = window_s < 1 ? 1 : window_s > CLI_MAX_WINDOW_S ? CLI_MAX_WINDOW_S : window_s;
    b->second = -1;
}

/* Moves the window so that its newest second is t_us's. */
static void cli_budget_advance(cli_budget *b, int64_t t_us)
{
    int64_t s = t_us / 1000000;
    if (s <= b->second) return;
    if (b->second < 0) {   /* nothing counted yet: the ring is empty */
        b->second = s;
        return;
    }
    int64_t steps = s - b->second;
    if (steps > b->window_s) steps = b->window_s;
    for (int64_t k = 1; k <= steps; k++) {
        size_t slot = (size_t)((s - steps + k) % b->window_s);
        b->sum_intents -= b->intents[slot];
        b->sum_retries -= b->retries[slot];
        b->intents[slot] = b->retries[slot] = 0;
    }
    b->second = s;
}

void cli_budget_intent(cli_budget *b, int64_t t_us)
{
    cli_budget_advance(b, t_us);
    b->intents[(size_t)(b->second % b->window_s)]++;
    b->sum_intents++;
}

int cli_budget_take(cli_budget *b, const cli_class *k, int64_t t_us)
{
    if (!k->has_budget) return 1;
    cli_budget_advance(b, t_us);
    /* in billionths of a retry, in integers: a ratio times a count is exact */
    __int128 allowed = (__int128)k->budget_ratio_nano * (__int128)b->sum_intents +
                       (__int128)k->budget_min_nano * (__int128)b->window_s;
    if ((__int128)(b->sum_retries + 1) * 1000000000 > allowed) return 0;
    b->retries[(size_t)(b->second % b->window_s)]++;
    b->sum_retries++;
    return 1;
}
