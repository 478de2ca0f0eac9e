/* golden.c -- see golden.h. */
#define _POSIX_C_SOURCE 200809L
#include "golden.h"

#include "atomicfile.h"

#include "csvfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The metrics a golden holds; all deterministic in virtual time. */
static const char *const gold_metrics[] = {
    "offered", "admitted", "dropped", "delayed", "offered_cost", "admitted_cost", "peak_offered_rps",
    "peak_admitted_rps", "delay_p50_us", "delay_p99_us", "delay_max_us", "keys", "errors", "over_admitted",
    "violations", "wrongly_allowed", "wrongly_blocked", "max_window_cost", "reference_admitted",
    "downstream_overload_s", "downstream_wait_p99_us", "e2e_p99_us", "downstream_completed", "queue_produced",
    "queue_succeeded", "queue_dead_lettered", "queue_still_queued", "queue_lost", "queue_retries", "intents",
    "amplification", "goodput_rps", "abandoned", "budget_refused", "unfinished", "failed", "failed_attempts",
    "tts_p99_us", "recovery_s", "timed_out_attempts", "worst_excess", "bound_breaches", "store_calls_per_request",
    "added_latency_p99_us", "fallback_decisions", "lost_messages", NULL,
};

/* A queue on Redis runs on the wall clock: only what no timing can change
 * is held to its baseline (every message accounted for). */
static const char *const gold_realtime_metrics[] = {
    "offered", "offered_cost", "peak_offered_rps", "violations", "queue_produced", "queue_lost", NULL,
};

/* The summary row of limiter and backend, or s->n_rows. */
static size_t gold_find(const csv_table *s, const char *limiter, const char *backend)
{
    int li = csv_col(s, "limiter"), bi = csv_col(s, "backend");
    for (size_t r = 0; r < s->n_rows; r++)
        if (strcmp(csv_get(s, r, li), limiter) == 0 && strcmp(csv_get(s, r, bi), backend) == 0) return r;
    return s->n_rows;
}

/* Oracle violations in the summary, whatever the golden says. A fleet
 * (nodes > 0) promises only that nothing is lost: its over-admission is
 * what it measures, held to the golden like any figure. */
static int gold_violations(const csv_table *s, const char *path, FILE *out)
{
    int problems = 0, li = csv_col(s, "limiter"), bi = csv_col(s, "backend"), vi = csv_col(s, "violations"),
        oi = csv_col(s, "over_admitted"), wi = csv_col(s, "worst_excess"), ni = csv_col(s, "nodes");
    for (size_t r = 0; r < s->n_rows; r++) {
        int fleet = ni >= 0 && atoll(csv_get(s, r, ni)) > 0;
        long long v = atoll(csv_get(s, r, vi)), o = fleet ? 0 : atoll(csv_get(s, r, oi));
        if (v > 0 || o > 0) {
            fprintf(out, "%s: %s (%s): VIOLATION: the oracle found %lld broken promise(s), worst %s over, and %lld "
                         "admitted above the whole-run bound\n",
                    path, csv_get(s, r, li), csv_get(s, r, bi), v, wi >= 0 ? csv_get(s, r, wi) : "?", o > 0 ? o : 0);
            problems++;
        }
    }
    return problems;
}

int gold_compare(const char *summary, const char *golden, FILE *out, char *err, size_t errlen)
{
    csv_table s, g;
    if (csv_load(summary, &s, err, errlen) != 0) return -1;
    if (csv_load(golden, &g, err, errlen) != 0) {
        csv_free(&s);
        return -1;
    }
    int rc = -1;
    int gl = csv_col(&g, "limiter"), gb = csv_col(&g, "backend"), gm = csv_col(&g, "metric"),
        ge = csv_col(&g, "expected"), gt = csv_col(&g, "tolerance");
    int sl = csv_col(&s, "limiter"), sb = csv_col(&s, "backend");
    if (gl < 0 || gb < 0 || gm < 0 || ge < 0 || gt < 0) {
        snprintf(err, errlen, "%s: the header must be limiter,backend,metric,expected,tolerance", golden);
        goto done;
    }
    if (sl < 0 || sb < 0) {
        snprintf(err, errlen, "%s: not a ratelab summary (no limiter, backend columns)", summary);
        goto done;
    }
    int problems = gold_violations(&s, summary, out);
    const char *skipped = NULL;
    for (size_t r = 0; r < g.n_rows; r++) {
        const char *lim = csv_get(&g, r, gl), *be = csv_get(&g, r, gb), *metric = csv_get(&g, r, gm);
        size_t row = gold_find(&s, lim, be);
        int col = csv_col(&s, metric);
        if (row == s.n_rows) {
            /* a backend this run did not use (no redis-server here): note it once */
            int backend_ran = 0;
            for (size_t k = 0; k < s.n_rows && !backend_ran; k++) backend_ran = strcmp(csv_get(&s, k, sb), be) == 0;
            if (!backend_ran) {
                if (!skipped || strcmp(skipped, be) != 0) fprintf(out, "%s: %s rows not checked: that backend did not run\n", golden, be);
                skipped = be;
                continue;
            }
            /* once per limiter: its metrics follow each other in the golden */
            if (r == 0 || strcmp(csv_get(&g, r - 1, gl), lim) != 0 || strcmp(csv_get(&g, r - 1, gb), be) != 0) {
                fprintf(out, "%s: %s (%s): in the golden, missing from the run\n", golden, lim, be);
                problems++;
            }
            continue;
        }
        if (col < 0) {
            fprintf(out, "%s: %s (%s): %s: in the golden, not a column of the summary\n", golden, lim, be, metric);
            problems++;
            continue;
        }
        double expected = strtod(csv_get(&g, r, ge), NULL), tol = strtod(csv_get(&g, r, gt), NULL);
        if (!csv_get(&s, row, col)[0]) {
            /* an empty field is "not applicable", never 0 */
            fprintf(out, "%s: %s (%s): %s: expected %s, got an empty field (not applicable in this run)\n", golden,
                    lim, be, metric, csv_get(&g, r, ge));
            problems++;
            continue;
        }
        double got = strtod(csv_get(&s, row, col), NULL);
        if (fabs(got - expected) > tol) {
            fprintf(out, "%s: %s (%s): %s: expected %s, got %s (tolerance %s)\n", golden, lim, be, metric,
                    csv_get(&g, r, ge), csv_get(&s, row, col), csv_get(&g, r, gt));
            problems++;
        }
    }
    for (size_t r = 0; r < s.n_rows; r++) {
        int known = 0;
        for (size_t k = 0; k < g.n_rows && !known; k++)
            known = strcmp(csv_get(&g, k, gl), csv_get(&s, r, sl)) == 0 &&
                    strcmp(csv_get(&g, k, gb), csv_get(&s, r, sb)) == 0;
        if (!known) {
            fprintf(out, "%s: %s (%s): in the run, not in the golden (make regress UPDATE=1 accepts it)\n", golden,
                    csv_get(&s, r, sl), csv_get(&s, r, sb));
            problems++;
        }
    }
    rc = problems;
done:
    csv_free(&s);
    csv_free(&g);
    return rc;
}

int gold_update(const char *summary, const char *golden, FILE *out, char *err, size_t errlen)
{
    csv_table s;
    if (csv_load(summary, &s, err, errlen) != 0) return -1;
    af_file file;
    if (af_open(&file, golden, err, errlen) != 0) {
        csv_free(&s);
        return -1;
    }
    FILE *f = file.f;
    fprintf(f, "# The accepted results of this scenario, checked by make regress; rewrite with\n"
               "# make regress UPDATE=1. tolerance: the largest absolute difference accepted\n"
               "# (0 = exact: every count of a virtual-time run is deterministic).\n"
               "limiter,backend,metric,expected,tolerance\n");
    int li = csv_col(&s, "limiter"), bi = csv_col(&s, "backend"), ai = csv_col(&s, "algorithm");
    for (size_t r = 0; r < s.n_rows; r++) {
        int realtime = ai >= 0 && strcmp(csv_get(&s, r, ai), "queue") == 0 && strcmp(csv_get(&s, r, bi), "memory") != 0;
        const char *const *metrics = realtime ? gold_realtime_metrics : gold_metrics;
        for (size_t m = 0; metrics[m]; m++) {
            int col = csv_col(&s, metrics[m]);
            /* a limiter's queue columns are empty: nothing to hold */
            if (col >= 0 && csv_get(&s, r, col)[0] != '\0')
                fprintf(f, "%s,%s,%s,%s,0\n", csv_get(&s, r, li), csv_get(&s, r, bi), metrics[m],
                        csv_get(&s, r, col));
        }
    }
    /* flushed, so the comparison below can read what was written */
    if (fflush(f) != 0 || ferror(f)) {
        snprintf(err, errlen, "%s: write failed: %s", file.tmp, strerror(errno));
        af_abandon(&file);
        csv_free(&s);
        return -1;
    }
    /* say what changes, then move the new golden into place */
    if (access(golden, R_OK) == 0) {
        char msg[256];
        int changes = gold_compare(summary, golden, out, msg, sizeof msg);
        csv_table old, now;
        long added = 0;
        if (csv_load(golden, &old, msg, sizeof msg) == 0) {
            if (csv_load(file.tmp, &now, msg, sizeof msg) == 0) {
                added = (long)now.n_rows - (long)old.n_rows;
                csv_free(&now);
            }
            csv_free(&old);
        }
        if (added > 0) fprintf(out, "%s: %ld line(s) added (new metrics or limiters)\n", golden, added);
        else if (changes == 0) fprintf(out, "%s: unchanged\n", golden);
    } else {
        fprintf(out, "%s: new\n", golden);
    }
    csv_free(&s);
    return af_commit(&file, err, errlen);
}
