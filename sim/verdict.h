/*
 * verdict.h -- what a run says a person should do: each pass (limiter on a
 * backend) judged against the scenario's targets by the sweep's rule
 * (recommend.h) and against its own promise (the oracle), the best one
 * named, and for every other the target it misses and by how much.
 *
 * A pass "keeps its promise" when the oracle found no violation (a queue:
 * no message lost) and it admitted nothing above its bound (over_admitted
 * is 0 or not applicable). One that does not meets no targets.
 */
#ifndef RATELAB_VERDICT_H
#define RATELAB_VERDICT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "recommend.h"
#include "result.h"
#include "targets.h"

typedef struct {
    char label[96];            /* "token_bucket" or, with several backends, "token_bucket (redis)" */
    const run_result *result;
    rec_point point;           /* its metrics as the sweep judges them */
    long long violations;      /* the oracle's, 0 when kept */
    long long over_admitted;   /* above its bound, 0 when kept or not applicable */
    unsigned long long errors; /* Redis calls that failed and were decided by --on-error */
    const char *not_checked;   /* why the oracle could not check its promise (the result's text), or NULL */
} vrd_entry;

typedef struct {
    tgt_targets targets;
    const char *targets_from;  /* "the scenario" or "--target" */
    vrd_entry *entry;          /* one per pass, in run order (owned) */
    size_t n;
    size_t best;               /* index of the best meeting the targets, or n (none, or no targets) */
    size_t closest;            /* when none meets them: the one missing least (the sweep's rule), or n */
    size_t meeting;            /* passes that meet every target and keep their promise */
    size_t broken;             /* passes that broke their promise */
    size_t not_checked;        /* passes whose promise the oracle could not check: never said kept */
} vrd_verdict;

/* Judges results[0..n) against `t`. Returns 0, or -1 when out of memory. */
int vrd_judge(const tgt_targets *t, const char *targets_from, const run_result *results, size_t n, vrd_verdict *v);

void vrd_free(vrd_verdict *v);

/* The verdict in a few lines for the terminal. */
void vrd_print(FILE *f, const vrd_verdict *v);

/* The verdict as JSON (summary.json's "verdict"): targets, best and per
 * pass its standing, metrics and every missed target. */
cJSON *vrd_json(const vrd_verdict *v);

/* What --fail-on may name: a missed target, over-admission, an oracle
 * violation, a Redis error. */
enum { VRD_FAIL_TARGETS = 1, VRD_FAIL_OVER_ADMITTED = 2, VRD_FAIL_VIOLATIONS = 4, VRD_FAIL_ERRORS = 8 };

/* The exit status of a run whose --fail-on condition held. */
#define VRD_EXIT_FAILED_CHECK 4

/* Parses "targets,over_admitted" into a mask. Returns 0, or -1 with a
 * message naming the word that is not a condition. */
int vrd_parse_fail_on(const char *spec, unsigned *mask, char *err, size_t errlen);

/* Which of the mask's conditions held: the mask of those that did, with
 * one line each in why (empty when none). */
unsigned vrd_failed(const vrd_verdict *v, unsigned mask, char *why, size_t len);

#endif
