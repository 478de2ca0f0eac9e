/*
 * clients.h -- what clients do after a refusal: a scenario's "clients"
 * (scenarios/README.md). Each intent (a first attempt, one arrival of the
 * generator) belongs to a class, drawn by weight; after a refusal the
 * class's client comes back after a backoff, or gives up.
 *
 * Backoff before retry n (n = 1 is the first retry), b = base, c = cap:
 *   none         0
 *   constant     b
 *   exponential  min(c, b * 2^(n-1))
 *   decorrelated min(c, uniform(b, 3 * previous)), previous = b at first
 * and the jitter on it (not on decorrelated, which is its own), x the
 * backoff:
 *   none  x;   full  uniform(0, x);   equal  x/2 + uniform(0, x/2)
 * -- the definitions of Marc Brooker, "Exponential Backoff And Jitter",
 * AWS Architecture Blog, 2015. With honor_retry_after, a refusal that
 * carries a retry_after_us waits that plus the jitter's random part
 * (full: uniform(0, x); equal: uniform(0, x/2); none: nothing), and one
 * that says never (LIM_RETRY_NEVER: the cost can never pass) gives up.
 *
 * With retry_on "failed", an admitted attempt fails with the downstream's
 * failure_prob (a draw of its own) and its client comes back as after a
 * refusal, without a Retry-After. With retry_on "timeout", a client stops
 * waiting for an admitted call that has not ended timeout_ms (the
 * downstream's) after its admission -- limiter delay, wait for a server
 * and service -- and, from that moment, comes back the same way; the
 * downstream still serves the call it left.
 *
 * A client gives up (abandons) after max_attempts attempts, or when its
 * next attempt would come more than after_s after its first. A class may
 * hold a retry budget (Finagle's RetryBudget, gRPC's retry throttling): a
 * retry is allowed while the class's retries over the last window_s whole
 * seconds stay below ratio * its first attempts there + min_per_s *
 * window_s; a retry the budget refuses is given up.
 *
 * Every random choice is a hash of (seed, intent, attempt): the same
 * scenario and seed give the same retries on every backend, and no retry
 * moves an arrival. Nothing here allocates.
 */
#ifndef RATELAB_CLIENTS_H
#define RATELAB_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "../algorithms/limiter.h"

#define CLI_MAX_CLASSES 16
#define CLI_MAX_WINDOW_S 600
#define CLI_NAME_MAX 64

typedef enum { CLI_BACKOFF_NONE, CLI_BACKOFF_CONSTANT, CLI_BACKOFF_EXPONENTIAL, CLI_BACKOFF_DECORRELATED } cli_backoff;
typedef enum { CLI_JITTER_NONE, CLI_JITTER_FULL, CLI_JITTER_EQUAL } cli_jitter;

typedef struct {
    char name[CLI_NAME_MAX];
    double weight;               /* share of intents, relative to the other classes */
    int retry_on_refused;        /* comes back after a refusal by the limiter (default) */
    int retry_on_failed;         /* comes back after an admitted call the downstream failed */
    int retry_on_timeout;        /* comes back after an admitted call that outlasted the downstream's timeout */
    uint32_t max_attempts;       /* 1: never retries */
    cli_backoff backoff;
    int64_t base_us, cap_us;
    cli_jitter jitter;
    int honor_retry_after;
    int64_t abandon_after_us;    /* 0: only max_attempts ends it */
    int has_budget;
    double budget_ratio, budget_min_per_s;   /* as given */
    int64_t budget_ratio_nano, budget_min_nano;   /* the same in billionths, exact: what the budget counts with */
    uint32_t budget_window_s;    /* 1..CLI_MAX_WINDOW_S */
} cli_class;

typedef struct {
    size_t n;                    /* 0: no clients section, a refusal is final */
    cli_class c[CLI_MAX_CLASSES];
    double total_weight;
} cli_config;

/* The class of intent `intent` (0-based arrival index). */
uint32_t cli_class_of(const cli_config *c, uint64_t seed, uint64_t intent);

/* The draws of retry `attempt` (1-based: after that attempt's refusal)
 * of an intent: its backoff x, the spread of the jitter on it and the
 * jitter's random part. Hashes of (seed, intent, attempt), so they are
 * known before the attempt is decided. prev_backoff_us is the backoff
 * before this attempt (0 for the first; decorrelated needs it). */
typedef struct {
    int64_t x, spread, random_part;
} cli_draws;

void cli_draw(const cli_class *k, uint64_t seed, uint64_t intent, uint32_t attempt, int64_t prev_backoff_us,
              cli_draws *d);

typedef enum { CLI_RETRY, CLI_GIVE_UP } cli_verdict;

/* What a client of class k does after attempt `attempt` of an intent that
 * first arrived at first_us was refused at now_us with decision d, with
 * that attempt's draws: CLI_RETRY with the retry's time *at_us and the
 * backoff used (*backoff_us, the next attempt's prev_backoff_us), or
 * CLI_GIVE_UP (max_attempts reached, never admissible, or later than
 * after_s). The budget is not consulted here (cli_budget). */
cli_verdict cli_next(const cli_class *k, const cli_draws *dr, uint32_t attempt, int64_t first_us, int64_t now_us,
                     const lim_decision *d, int64_t *at_us, int64_t *backoff_us);

/* The earliest a refusal of this attempt can bring its client back, as a
 * wait from the refusal (INT64_MAX: it would not come back): requests
 * closer than this to it may be decided together with it, as its retry
 * cannot come between them. */
int64_t cli_earliest_return_us(const cli_class *k, uint32_t attempt, const cli_draws *d);

/* 1 when the downstream fails admitted attempt `attempt` of `intent`, which
 * it does with probability failure_prob. */
int cli_failed(uint64_t seed, uint64_t intent, uint32_t attempt, double failure_prob);

/* What follows a decided attempt. */
typedef enum {
    CLI_SUCCEEDED,       /* admitted (and not failed): the intent is done */
    CLI_ABANDONED,       /* refused (or failed), and its client gives up */
    CLI_BUDGET_REFUSED,  /* its client would come back; the class's budget refuses */
    CLI_UNFINISHED,      /* it would come back after the run's end */
    CLI_FAILED,          /* admitted, failed by the downstream, and not retried */
    CLI_COMES_BACK,      /* a retry at *at_us */
} cli_outcome;

struct cli_budget;

/* What follows attempt `attempt` (with its draws) of an intent first sent
 * at first_us, admitted but timed out, the client noticing it at now_us:
 * as after a refusal without a Retry-After (never CLI_SUCCEEDED or
 * CLI_FAILED). */
cli_outcome cli_after_timeout(const cli_class *k, struct cli_budget *budget, int64_t duration_us, uint32_t attempt,
                              int64_t first_us, const cli_draws *dr, int64_t now_us, int64_t *at_us,
                              int64_t *backoff_us);

/* After attempt `attempt` of an intent (first sent at first_us, of class
 * k, with that attempt's draws) was decided d at now_us: whether the
 * downstream failed it (*failed, for an admitted attempt; failure_prob 0
 * fails nothing) and what follows. CLI_COMES_BACK sets *at_us and
 * *backoff_us (the next attempt's prev_backoff_us). `budget` is the
 * class's (consulted only for a retry). */
cli_outcome cli_after(const cli_class *k, struct cli_budget *budget, uint64_t seed, double failure_prob,
                      int64_t duration_us, uint64_t intent, uint32_t attempt, int64_t first_us, const cli_draws *dr,
                      int64_t now_us, const lim_decision *d, int *failed, int64_t *at_us, int64_t *backoff_us);

/* A class's retry budget over whole seconds: a ring of per-second counts. */
typedef struct cli_budget {
    uint32_t window_s;
    int64_t second;              /* the newest second counted, -1 before any */
    uint64_t intents[CLI_MAX_WINDOW_S], retries[CLI_MAX_WINDOW_S];
    uint64_t sum_intents, sum_retries;
} cli_budget;

void cli_budget_init(cli_budget *b, uint32_t window_s);

/* Counts a first attempt at t_us (times never go back by more than the window). */
void cli_budget_intent(cli_budget *b, int64_t t_us);

/* 1 (and counts the retry) when class k's budget allows a retry at t_us; 0 when it refuses. */
int cli_budget_take(cli_budget *b, const cli_class *k, int64_t t_us);

#endif
