/*
 * golden.h -- a run's summary against its accepted baseline.
 *
 * A golden file (tests/golden/<scenario>.csv) holds one line per limiter,
 * backend and metric: `limiter,backend,metric,expected,tolerance`, the
 * tolerance the largest absolute difference accepted (0: exact, as every
 * count of a virtual-time run is). Lines starting with # are comments.
 */
#ifndef RATELAB_GOLDEN_H
#define RATELAB_GOLDEN_H

#include <stddef.h>
#include <stdio.h>

/* Compares summary.csv at `summary` with the golden file at `golden`,
 * printing one line per drift or oracle violation to `out`. Returns the
 * number of problems (0: matches), or -1 with a message in err when a file
 * cannot be read or is malformed. */
int gold_compare(const char *summary, const char *golden, FILE *out, char *err, size_t errlen);

/* Writes `golden` from `summary` (atomically), printing to `out` what
 * changed against the previous golden. Returns 0, or -1 with a message. */
int gold_update(const char *summary, const char *golden, FILE *out, char *err, size_t errlen);

#endif
