/* recommend.c -- see recommend.h. */
#define _POSIX_C_SOURCE 200809L
#include "recommend.h"

#include "atomicfile.h"
#include "csvfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double rec_miss(const tgt_term *t, double x)
{
    if (isnan(x)) return INFINITY;
    switch (t->op) {
    case TGT_EQ: return fabs(x - t->value);
    case TGT_LE:
    case TGT_LT: return x > t->value ? x - t->value : 0;
    case TGT_GE:
    case TGT_GT: return x < t->value ? t->value - x : 0;
    }
    return INFINITY;
}

int rec_term_met(const tgt_term *t, double x)
{
    if (isnan(x)) return 0;
    switch (t->op) {
    case TGT_EQ: return x == t->value;
    case TGT_LE: return x <= t->value;
    case TGT_LT: return x < t->value;
    case TGT_GE: return x >= t->value;
    case TGT_GT: return x > t->value;
    }
    return 0;
}

/* ---- evaluation --------------------------------------------------------------------- */

/* a beats b on the axes (x, y): no worse on both, better on one */
static int rec_dominates(const rec_point *a, const rec_point *b, tgt_metric x, tgt_metric y)
{
    double ax = a->metric[x], ay = a->metric[y], bx = b->metric[x], by = b->metric[y];
    return ax <= bx && ay <= by && (ax < bx || ay < by);
}

static int rec_is_option(const rec_point *p, tgt_metric x, tgt_metric y)
{
    return p->violations == 0 && !isnan(p->metric[x]) && !isnan(p->metric[y]);
}

static int rec_on_front(const rec_point *p, size_t n, size_t i, tgt_metric x, tgt_metric y)
{
    if (!rec_is_option(&p[i], x, y)) return 0;
    for (size_t j = 0; j < n; j++)
        if (j != i && rec_is_option(&p[j], x, y) && rec_dominates(&p[j], &p[i], x, y)) return 0;
    return 1;
}

void rec_evaluate(const tgt_targets *t, rec_point *p, size_t n)
{
    tgt_metric p99 = tgt_p99_metric(t->has_downstream);
    for (size_t i = 0; i < n; i++) {
        rec_point *q = &p[i];
        q->missed = 0;
        q->miss_score = 0;
        for (size_t k = 0; k < t->n; k++) {
            const tgt_term *term = &t->term[k];
            double x = q->metric[term->metric];
            if (rec_term_met(term, x)) continue;
            q->missed++;
            double scale = term->value != 0 ? fabs(term->value) : 1;
            q->miss_score += rec_miss(term, x) / scale;
        }
        q->meets = q->violations == 0 && q->missed == 0;
    }
    /* O(n^2): sweeps are hundreds of points, not millions */
    for (size_t i = 0; i < n; i++) {
        p[i].front_load = rec_on_front(p, n, i, TGT_DROP_PCT, TGT_PEAK_RPS);
        p[i].front_delay = rec_on_front(p, n, i, TGT_DROP_PCT, p99);
    }
}

/* -1 when a is the better choice, 1 when b is, 0 when equal */
static int rec_compare(const rec_point *a, const rec_point *b, tgt_metric p99)
{
    if (a->meets != b->meets) return a->meets ? -1 : 1;
    if (!a->meets) {
        int ao = a->violations == 0, bo = b->violations == 0;
        if (ao != bo) return ao ? -1 : 1;
        if (a->missed != b->missed) return a->missed < b->missed ? -1 : 1;
        if (a->miss_score != b->miss_score) return a->miss_score < b->miss_score ? -1 : 1;
    }
    const tgt_metric order[] = { TGT_DROP_PCT, p99, TGT_PEAK_RPS };
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        double x = a->metric[order[k]], y = b->metric[order[k]];
        if (isnan(x) || isnan(y) || x == y) continue;
        return x < y ? -1 : 1;
    }
    return 0;
}

size_t rec_best(const tgt_targets *t, const rec_point *p, size_t n, const char *limiter)
{
    tgt_metric p99 = tgt_p99_metric(t->has_downstream);
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (limiter && strcmp(p[i].limiter, limiter) != 0) continue;
        if (best == n || rec_compare(&p[i], &p[best], p99) < 0) best = i;
    }
    return best;
}

/* ---- the recommendation ------------------------------------------------------------- */

static void rec_print_metrics(FILE *f, const tgt_targets *t, const rec_point *q)
{
    fprintf(f, "%.2f%% dropped, peak %.0f rps, p99 %.1f ms", q->metric[TGT_DROP_PCT], q->metric[TGT_PEAK_RPS],
            q->metric[tgt_p99_metric(t->has_downstream)]);
    if (t->has_downstream) fprintf(f, ", overload %.0f s", q->metric[TGT_OVERLOAD_S]);
}

static void rec_print_limiter(FILE *f, const tgt_targets *t, const rec_point *p, size_t n, const char *limiter)
{
    size_t total = 0, meeting = 0, best = rec_best(t, p, n, limiter);
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].limiter, limiter) == 0) {
            total++;
            meeting += (size_t)p[i].meets;
        }
    const rec_point *q = &p[best];
    fprintf(f, "%s (%s): ", limiter, q->algorithm);
    if (t->n == 0) {
        size_t front = 0;
        for (size_t i = 0; i < n; i++) front += strcmp(p[i].limiter, limiter) == 0 && p[i].front_load;
        fprintf(f, "no targets; %zu of %zu points on the drops-vs-peak front; fewest drops at %s (", front, total,
                q->params);
        rec_print_metrics(f, t, q);
        fputs(")\n", f);
        return;
    }
    if (q->meets) {
        fprintf(f, "%s -- meets all %zu targets with the fewest drops (", q->params, t->n);
        rec_print_metrics(f, t, q);
        fprintf(f, "); %zu of %zu points meet them\n", meeting, total);
        return;
    }
    if (q->violations) {
        fprintf(f, "every point broke the limiter's promise (oracle violations): none can be recommended\n");
        return;
    }
    fprintf(f, "no point meets the targets; closest is %s, which misses ", q->params);
    size_t said = 0;
    for (size_t k = 0; k < t->n; k++) {
        const tgt_term *term = &t->term[k];
        double x = q->metric[term->metric];
        if (rec_term_met(term, x)) continue;
        fprintf(f, "%s%s by %.4g (%s = %.4g)", said++ ? " and " : "", term->text, rec_miss(term, x),
                tgt_metric_name(term->metric), x);
    }
    fprintf(f, " [0 of %zu points meet them]\n", total);
}

void rec_print(FILE *f, const tgt_targets *t, const rec_point *p, size_t n)
{
    if (t->n == 0) fputs("targets: none given (TARGET='drop_pct<=5 ...' or the scenario's \"targets\")\n", f);
    else {
        fputs("targets:", f);
        for (size_t k = 0; k < t->n; k++) fprintf(f, " %s", t->term[k].text);
        fprintf(f, " (p99 is %s)\n", t->has_downstream ? "end to end: limiter delay + downstream wait + service"
                                                        : "the limiter's own delay");
    }
    for (size_t i = 0; i < n; i++) {
        int first = 1;
        for (size_t j = 0; j < i && first; j++) first = strcmp(p[j].limiter, p[i].limiter) != 0;
        if (first) rec_print_limiter(f, t, p, n, p[i].limiter);
    }
    size_t best = rec_best(t, p, n, NULL);
    if (best == n || t->n == 0) return;
    if (p[best].meets) fprintf(f, "best overall: %s %s\n", p[best].limiter, p[best].params);
    else fputs("best overall: none meets the targets\n", f);
}

/* ---- files -------------------------------------------------------------------------- */

static double rec_number(const char *s, int *bad)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end) *bad = 1;
    return v;
}

int rec_read_sweep(const char *path, rec_point **p, size_t *n, size_t *cap, char *err, size_t errlen)
{
    csv_table t;
    if (csv_load(path, &t, err, errlen) != 0) return -1;
    enum { LIM, ALG, POINT, OFFERED, DROP, ADMIT, PEAK, OVERLOAD, DELAY, E2E, VIOL, NCOL };
    static const char *const want[NCOL] = { "limiter", "algorithm", "point", "offered", "drop_pct", "admit_pct",
                                            "peak_admitted_rps", "overload_s", "delay_p99_us", "e2e_p99_us",
                                            "violations" };
    int col[NCOL], rc = -1;
    for (int k = 0; k < NCOL; k++)
        if ((col[k] = csv_col(&t, want[k])) < 0) {
            snprintf(err, errlen, "%s:1: no column '%s': not a ratelab sweep CSV (or one from an older ratelab)", path,
                     want[k]);
            goto done;
        }
    for (size_t r = 0; r < t.n_rows; r++) {
        if (*n == *cap) {
            size_t grown = *cap ? *cap * 2 : 64;
            rec_point *np = realloc(*p, grown * sizeof *np);
            if (!np) { snprintf(err, errlen, "out of memory"); goto done; }
            *p = np;
            *cap = grown;
        }
        rec_point *q = &(*p)[*n];
        memset(q, 0, sizeof *q);
        snprintf(q->limiter, sizeof q->limiter, "%s", csv_get(&t, r, col[LIM]));
        snprintf(q->algorithm, sizeof q->algorithm, "%s", csv_get(&t, r, col[ALG]));
        size_t used = 0;
        for (int c = col[POINT] + 1; c < col[OFFERED] && used < sizeof q->params; c++) {
            int w = snprintf(q->params + used, sizeof q->params - used, "%s%s=%s", used ? " " : "", t.header[c],
                             csv_get(&t, r, c));
            used = w < 0 ? sizeof q->params : used + (size_t)w;
        }
        if (used >= sizeof q->params) {
            snprintf(err, errlen, "%s:%zu: the parameters take more than %zu characters: not a ratelab sweep CSV", path,
                     r + 2, sizeof q->params - 1);
            goto done;
        }
        int bad = 0;
        double point = rec_number(csv_get(&t, r, col[POINT]), &bad);
        if (!bad && !(point >= 1 && point <= 1e9 && point == floor(point))) bad = 1;
        q->point = bad ? 0 : (size_t)point;
        q->metric[TGT_DROP_PCT] = rec_number(csv_get(&t, r, col[DROP]), &bad);
        q->metric[TGT_ADMIT_PCT] = rec_number(csv_get(&t, r, col[ADMIT]), &bad);
        q->metric[TGT_PEAK_RPS] = rec_number(csv_get(&t, r, col[PEAK]), &bad);
        q->metric[TGT_DELAY_P99_MS] = rec_number(csv_get(&t, r, col[DELAY]), &bad) / 1000;
        /* empty (or -1, from an older ratelab): the scenario has no downstream */
        const char *ov = csv_get(&t, r, col[OVERLOAD]), *e2 = csv_get(&t, r, col[E2E]);
        double overload = *ov ? rec_number(ov, &bad) : -1;
        double e2e = *e2 ? rec_number(e2, &bad) : -1;
        q->metric[TGT_OVERLOAD_S] = overload < 0 ? NAN : overload;
        q->metric[TGT_E2E_P99_MS] = e2e < 0 ? NAN : e2e / 1000;
        /* empty (or -1): not checked; otherwise a count */
        const char *vi = csv_get(&t, r, col[VIOL]);
        double violations = *vi ? rec_number(vi, &bad) : -1;
        if (!bad && !(violations >= -1 && violations <= 9e18 && violations == floor(violations))) bad = 1;
        q->violations = bad ? 0 : (long long)violations;
        if (bad) {
            snprintf(err, errlen, "%s:%zu: a metric is not a number", path, r + 2);
            goto done;
        }
        ++*n;
    }
    rc = 0;
done:
    csv_free(&t);
    return rc;
}

static void rec_field(FILE *f, double x)
{
    if (isnan(x)) fputs(",", f);
    else fprintf(f, ",%.10g", x);
}

int rec_write_points(const char *path, const tgt_targets *t, const rec_point *p, size_t n, char *err, size_t errlen)
{
    af_file out;
    if (af_open(&out, path, err, errlen) != 0) return -1;
    FILE *f = out.f;
    fputs("limiter,algorithm,point,params", f);
    for (int m = 0; m < TGT_N_METRICS; m++) fprintf(f, ",%s", tgt_metric_name((tgt_metric)m));
    fputs(",p99_ms,violations,meets,missed,front_load,front_delay,best\n", f);
    for (size_t i = 0; i < n; i++) {
        const rec_point *q = &p[i];
        fprintf(f, "%s,%s,%zu,%s", q->limiter, q->algorithm, q->point, q->params);
        for (int m = 0; m < TGT_N_METRICS; m++) rec_field(f, q->metric[m]);
        rec_field(f, q->metric[tgt_p99_metric(t->has_downstream)]);
        fprintf(f, ",%lld,%d,%zu,%d,%d,%d\n", q->violations, q->meets, q->missed, q->front_load, q->front_delay,
                rec_best(t, p, n, q->limiter) == i);
    }
    return af_commit(&out, err, errlen);
}
