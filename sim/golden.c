/* golden.c -- see golden.h. */
#define _POSIX_C_SOURCE 200809L
#include "golden.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOLD_COLS 64
#define GOLD_ROWS 512

/* The metrics a golden holds; all deterministic in virtual time. */
static const char *const gold_metrics[] = {
    "offered", "admitted", "dropped", "delayed", "offered_cost", "admitted_cost", "peak_offered_rps",
    "peak_admitted_rps", "delay_p50_us", "delay_p99_us", "delay_max_us", "keys", "errors", "over_admitted",
    "violations", "wrongly_allowed", "wrongly_blocked", "max_window_cost", "reference_admitted",
    "downstream_overload_s", "downstream_wait_p99_us", "e2e_p99_us", "downstream_completed", NULL,
};

typedef struct {
    char *text;
    size_t n_rows, n_cols;
    char *cell[GOLD_ROWS][GOLD_COLS];   /* row 0 is the header */
} gold_csv;

static int gold_read(const char *path, gold_csv *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->text = malloc((size_t)n + 1);
    if (!c->text || fread(c->text, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(c->text);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    fclose(f);
    c->text[n] = '\0';
    size_t line = 0;
    for (char *p = c->text, *next; *p; p = next) {
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = '\0';
        line++;
        if (*p == '#' || *p == '\0') continue;
        if (c->n_rows == GOLD_ROWS) { snprintf(err, errlen, "%s:%zu: more than %d rows", path, line, GOLD_ROWS); goto bad; }
        size_t col = 0;
        for (char *q = p;; q++) {
            if (col == GOLD_COLS) { snprintf(err, errlen, "%s:%zu: more than %d columns", path, line, GOLD_COLS); goto bad; }
            c->cell[c->n_rows][col++] = q;
            q = strchr(q, ',');
            if (!q) break;
            *q = '\0';
        }
        if (c->n_rows == 0) c->n_cols = col;
        else if (col != c->n_cols) {
            snprintf(err, errlen, "%s:%zu: %zu columns where the header has %zu", path, line, col, c->n_cols);
            goto bad;
        }
        c->n_rows++;
    }
    if (c->n_rows == 0) { snprintf(err, errlen, "%s: no header", path); goto bad; }
    return 0;
bad:
    free(c->text);
    return -1;
}

static int gold_col(const gold_csv *c, const char *name)
{
    for (size_t i = 0; i < c->n_cols; i++)
        if (strcmp(c->cell[0][i], name) == 0) return (int)i;
    return -1;
}

/* The summary row of limiter and backend, or 0. */
static size_t gold_find(const gold_csv *s, const char *limiter, const char *backend)
{
    int li = gold_col(s, "limiter"), bi = gold_col(s, "backend");
    for (size_t r = 1; r < s->n_rows; r++)
        if (strcmp(s->cell[r][li], limiter) == 0 && strcmp(s->cell[r][bi], backend) == 0) return r;
    return 0;
}

/* Oracle violations in the summary, whatever the golden says. */
static int gold_violations(const gold_csv *s, const char *path, FILE *out)
{
    int problems = 0, li = gold_col(s, "limiter"), bi = gold_col(s, "backend"), vi = gold_col(s, "violations"),
        oi = gold_col(s, "over_admitted"), wi = gold_col(s, "worst_excess");
    for (size_t r = 1; r < s->n_rows; r++) {
        long long v = vi >= 0 ? atoll(s->cell[r][vi]) : 0, o = oi >= 0 ? atoll(s->cell[r][oi]) : 0;
        if (v > 0 || o > 0) {
            fprintf(out, "%s: %s (%s): VIOLATION: the oracle found %lld broken promise(s), worst %s over, and %lld "
                         "admitted above the whole-run bound\n",
                    path, s->cell[r][li], s->cell[r][bi], v, wi >= 0 ? s->cell[r][wi] : "?", o > 0 ? o : 0);
            problems++;
        }
    }
    return problems;
}

int gold_compare(const char *summary, const char *golden, FILE *out, char *err, size_t errlen)
{
    gold_csv *s = calloc(1, sizeof *s), *g = calloc(1, sizeof *g);
    int rc = -1;
    if (!s || !g) { snprintf(err, errlen, "out of memory"); goto done; }
    if (gold_read(summary, s, err, errlen) != 0) { free(s); s = NULL; goto done; }
    if (gold_read(golden, g, err, errlen) != 0) { free(g); g = NULL; goto done; }
    int gl = gold_col(g, "limiter"), gb = gold_col(g, "backend"), gm = gold_col(g, "metric"),
        ge = gold_col(g, "expected"), gt = gold_col(g, "tolerance");
    if (gl < 0 || gb < 0 || gm < 0 || ge < 0 || gt < 0) {
        snprintf(err, errlen, "%s: the header must be limiter,backend,metric,expected,tolerance", golden);
        goto done;
    }
    if (gold_col(s, "limiter") < 0 || gold_col(s, "backend") < 0) {
        snprintf(err, errlen, "%s: not a ratelab summary (no limiter, backend columns)", summary);
        goto done;
    }
    int problems = gold_violations(s, summary, out);
    int sb_col = gold_col(s, "backend");
    const char *skipped = NULL;
    for (size_t r = 1; r < g->n_rows; r++) {
        const char *lim = g->cell[r][gl], *be = g->cell[r][gb], *metric = g->cell[r][gm];
        size_t row = gold_find(s, lim, be);
        int col = gold_col(s, metric);
        if (!row) {
            /* a backend this run did not use (no redis-server here): note it once */
            int backend_ran = 0;
            for (size_t k = 1; k < s->n_rows && !backend_ran; k++) backend_ran = strcmp(s->cell[k][sb_col], be) == 0;
            if (!backend_ran) {
                if (!skipped || strcmp(skipped, be) != 0) fprintf(out, "%s: %s rows not checked: that backend did not run\n", golden, be);
                skipped = be;
                continue;
            }
            /* once per limiter: its metrics follow each other in the golden */
            if (r == 1 || strcmp(g->cell[r - 1][gl], lim) != 0 || strcmp(g->cell[r - 1][gb], be) != 0) {
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
        double expected = strtod(g->cell[r][ge], NULL), tol = strtod(g->cell[r][gt], NULL);
        double got = strtod(s->cell[row][col], NULL);
        if (fabs(got - expected) > tol) {
            fprintf(out, "%s: %s (%s): %s: expected %s, got %s (tolerance %s)\n", golden, lim, be, metric,
                    g->cell[r][ge], s->cell[row][col], g->cell[r][gt]);
            problems++;
        }
    }
    int sl = gold_col(s, "limiter"), sb = gold_col(s, "backend");
    for (size_t r = 1; r < s->n_rows; r++) {
        int known = 0;
        for (size_t k = 1; k < g->n_rows && !known; k++)
            known = strcmp(g->cell[k][gl], s->cell[r][sl]) == 0 && strcmp(g->cell[k][gb], s->cell[r][sb]) == 0;
        if (!known) {
            fprintf(out, "%s: %s (%s): in the run, not in the golden (make regress UPDATE=1 accepts it)\n", golden,
                    s->cell[r][sl], s->cell[r][sb]);
            problems++;
        }
    }
    rc = problems;
done:
    if (s) free(s->text);
    if (g) free(g->text);
    free(s);
    free(g);
    return rc;
}

int gold_update(const char *summary, const char *golden, FILE *out, char *err, size_t errlen)
{
    gold_csv *s = malloc(sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return -1; }
    if (gold_read(summary, s, err, errlen) != 0) { free(s); return -1; }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", golden, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(s->text);
        free(s);
        return -1;
    }
    fprintf(f, "# The accepted results of this scenario, checked by make regress; rewrite with\n"
               "# make regress UPDATE=1. tolerance: the largest absolute difference accepted\n"
               "# (0 = exact: every count of a virtual-time run is deterministic).\n"
               "limiter,backend,metric,expected,tolerance\n");
    int li = gold_col(s, "limiter"), bi = gold_col(s, "backend");
    for (size_t r = 1; r < s->n_rows; r++)
        for (size_t m = 0; gold_metrics[m]; m++) {
            int col = gold_col(s, gold_metrics[m]);
            if (col >= 0)
                fprintf(f, "%s,%s,%s,%s,0\n", s->cell[r][li], s->cell[r][bi], gold_metrics[m], s->cell[r][col]);
        }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "%s: write failed", tmp);
        unlink(tmp);
        free(s->text);
        free(s);
        return -1;
    }
    /* say what changes, then move the new golden into place */
    if (access(golden, R_OK) == 0) {
        char msg[256];
        int changes = gold_compare(summary, golden, out, msg, sizeof msg);
        gold_csv *old = calloc(1, sizeof *old), *now = calloc(1, sizeof *now);
        long added = 0;
        if (old && now && gold_read(golden, old, msg, sizeof msg) == 0) {
            if (gold_read(tmp, now, msg, sizeof msg) == 0) {
                added = (long)now->n_rows - (long)old->n_rows;
                free(now->text);
            }
            free(old->text);
        }
        free(old);
        free(now);
        if (added > 0) fprintf(out, "%s: %ld line(s) added (new metrics or limiters)\n", golden, added);
        else if (changes == 0) fprintf(out, "%s: unchanged\n", golden);
    } else {
        fprintf(out, "%s: new\n", golden);
    }
    free(s->text);
    free(s);
    if (rename(tmp, golden) != 0) {
        snprintf(err, errlen, "%s: %s", golden, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
