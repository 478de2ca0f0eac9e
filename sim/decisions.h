/*
 * decisions.h -- the decision log (`--log-decisions DIR`) and its re-check
 * (`ratelab check`).
 *
 * One file per limiter and backend, DIR/<limiter>.<backend>.csv:
 *   # ratelab decisions v2
 *   # limiter <name> algorithm <algorithm> scope <key|global> backend <b>
 *   # params <name>=<value>;...
 *   t_us,key,cost,allowed,delay_us,remaining,retry_after_us
 *   <one line per decided request, in time order>
 * remaining is what the limiter said is still admissible now (cost-1
 * requests), retry_after_us its Retry-After for a refusal (0 when
 * admitted; empty when this cost can never pass). A v1 log (without the
 * last two columns) is read as well.
 * The header holds what the oracle needs to know the promise; the rows,
 * what the limiter did. Realtime runs log in the order of the times the
 * limiter decided at.
 */
#ifndef RATELAB_DECISIONS_H
#define RATELAB_DECISIONS_H

#include <stddef.h>
#include <stdio.h>

#include "atomicfile.h"
#include "oracle.h"
#include "scenario.h"

/* Opens DIR/<limiter>.<backend>.csv (creating DIR and its parents) to be
 * written beside it and renamed into place by dlog_close, and writes the
 * header; the FILE to write rows to, or NULL with a message. */
FILE *dlog_open(af_file *log, const char *dir, const scn_limiter *l, const char *backend, char *err,
                size_t errlen);

/* One decided request. */
static inline void dlog_write(FILE *f, int64_t t_us, const char *key, uint32_t cost, const lim_decision *d)
{
    if (d->retry_after_us == LIM_RETRY_NEVER)
        fprintf(f, "%lld,%s,%u,%d,%lld,%lld,\n", (long long)t_us, key, cost, d->allowed, (long long)d->delay_us,
                (long long)d->remaining);
    else
        fprintf(f, "%lld,%s,%u,%d,%lld,%lld,%lld\n", (long long)t_us, key, cost, d->allowed, (long long)d->delay_us,
                (long long)d->remaining, (long long)d->retry_after_us);
}

/* Closes the log: with `keep`, puts it in place (0, or -1 with the path
 * and errno's text when anything failed to write: disk full...); without,
 * or on a failure, no log is left, never a truncated one. */
int dlog_close(af_file *log, int keep, char *err, size_t errlen);

/* Re-checks one log with the oracle: fills *r, limiter_name (64 bytes) and
 * worst_key (300 bytes: the key of the worst violation). Returns 0, or -1
 * with "file:line: ..." in err for a malformed log. */
int dlog_check(const char *path, orc_report *r, char *limiter_name, char *worst_key, char *err, size_t errlen);

#endif
