/* verdict.c -- see verdict.h. */
#include "verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void vrd_point_of(const run_result *r, rec_point *p)
{
    const met_summary *m = &r->summary;
    double offered = m->offered ? (double)m->offered : 1.0;
    memset(p, 0, sizeof *p);
    snprintf(p->limiter, sizeof p->limiter, "%s", r->limiter->name);
    snprintf(p->algorithm, sizeof p->algorithm, "%s", r->limiter->entry->name);
    p->point = 1;
    p->metric[TGT_DROP_PCT] = 100.0 * (double)m->dropped / offered;
    p->metric[TGT_ADMIT_PCT] = 100.0 * (double)m->admitted / offered;
    p->metric[TGT_PEAK_RPS] = (double)m->peak_admitted_rps;
    p->metric[TGT_DELAY_P99_MS] = (double)m->delay_p99_us / 1000.0;
    p->metric[TGT_OVERLOAD_S] = r->has_downstream ? (double)r->overload_s : NAN;
    p->metric[TGT_E2E_P99_MS] = r->has_downstream ? (double)r->downstream.e2e_p99_us / 1000.0 : NAN;
}

int vrd_judge(const tgt_targets *t, const char *targets_from, const run_result *results, size_t n, vrd_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->targets = *t;
    v->targets_from = targets_from;
    v->entry = calloc(n ? n : 1, sizeof *v->entry);
    if (!v->entry) return -1;
    v->n = n;
    int several = 0;
    for (size_t i = 1; i < n; i++) several |= strcmp(results[i].backend, results[0].backend) != 0;
    rec_point *points = calloc(n ? n : 1, sizeof *points);
    if (!points) { vrd_free(v); return -1; }
    for (size_t i = 0; i < n; i++) {
        vrd_entry *e = &v->entry[i];
        const run_result *r = &results[i];
        e->result = r;
        /* a limiter's name is under SCN_NAME_MAX (64) bytes, a backend's 7 */
        if (several) snprintf(e->label, sizeof e->label, "%.63s (%.7s)", r->limiter->name, r->backend);
        else snprintf(e->label, sizeof e->label, "%.63s", r->limiter->name);
        vrd_point_of(r, &e->point);
        /* (uint64_t)-1: the oracle could not check this pass */
        e->violations = r->oracle.violations == (uint64_t)-1 ? 0 : (long long)r->oracle.violations;
        e->not_checked = r->oracle.violations == (uint64_t)-1 && r->oracle.unchecked[0] ? r->oracle.unchecked : NULL;
        v->not_checked += e->not_checked != NULL;
        e->over_admitted = r->summary.over_admitted > 0 ? (long long)r->summary.over_admitted : 0;
        e->errors = (unsigned long long)r->summary.errors;
        /* one label per pass: the recommendation tells passes apart by name */
        snprintf(e->point.limiter, sizeof e->point.limiter, "%s", e->label);
        e->point.violations = e->violations + e->over_admitted;
        points[i] = e->point;
    }
    rec_evaluate(t, points, n);
    for (size_t i = 0; i < n; i++) {
        v->entry[i].point = points[i];
        v->meeting += (size_t)points[i].meets;
        v->broken += points[i].violations != 0;
    }
    size_t best = rec_best(t, points, n, NULL);
    v->best = t->n && best < n && points[best].meets ? best : n;
    v->closest = t->n && best < n && !points[best].meets && !points[best].violations ? best : n;
    free(points);
    return 0;
}

void vrd_free(vrd_verdict *v)
{
    free(v->entry);
    v->entry = NULL;
    v->n = 0;
}

static void vrd_metrics(FILE *f, const vrd_verdict *v, const rec_point *q)
{
    fprintf(f, "%.2f%% dropped, peak %.0f/s admitted, p99 %.1f ms", q->metric[TGT_DROP_PCT], q->metric[TGT_PEAK_RPS],
            q->metric[tgt_p99_metric(v->targets.has_downstream)]);
    if (v->targets.has_downstream) fprintf(f, ", overload %.0f s", q->metric[TGT_OVERLOAD_S]);
}

static void vrd_promise(FILE *f, const vrd_entry *e)
{
    const char *sep = "";
    if (e->result->queue && e->violations) {
        fprintf(f, "%lld message(s) lost", e->violations);
        return;
    }
    if (e->over_admitted) { fprintf(f, "admitted %lld over its bound", e->over_admitted); sep = ", "; }
    if (e->violations) fprintf(f, "%s%lld admission(s) that broke its promise (oracle)", sep, e->violations);
}

static void vrd_misses(FILE *f, const vrd_verdict *v, const rec_point *q)
{
    size_t said = 0;
    for (size_t k = 0; k < v->targets.n; k++) {
        const tgt_term *term = &v->targets.term[k];
        double x = q->metric[term->metric];
        if (rec_term_met(term, x)) continue;
        fprintf(f, "%s%s by %.4g (%s = %.4g)", said++ ? ", " : "", term->text, rec_miss(term, x),
                tgt_metric_name(term->metric), x);
    }
}

void vrd_print(FILE *f, const vrd_verdict *v)
{
    if (v->targets.n == 0) {
        fprintf(f, "verdict: no targets to judge by (the scenario's \"targets\", or --target 'drop_pct<=5 p99_ms<=200')");
        if (!v->broken && !v->not_checked) fprintf(f, "; every limiter kept its promise\n");
        else if (!v->broken) fprintf(f, "; no limiter broke its promise where the oracle could check it\n");
        else fprintf(f, "\n");
    } else {
        fprintf(f, "verdict: targets");
        for (size_t k = 0; k < v->targets.n; k++) fprintf(f, " %s", v->targets.term[k].text);
        fprintf(f, " (%s; p99 is %s): %zu of %zu meet them\n", v->targets_from,
                v->targets.has_downstream ? "end to end" : "the limiter's delay", v->meeting, v->n);
        if (v->best < v->n) {
            const vrd_entry *b = &v->entry[v->best];
            fprintf(f, "  best       %s -- ", b->label);
            vrd_metrics(f, v, &b->point);
            fprintf(f, "\n");
            int listed = 0;
            for (size_t i = 0; i < v->n; i++) {
                if (i == v->best || !v->entry[i].point.meets) continue;
                fprintf(f, "%s%s", listed++ ? ", " : "  also meet ", v->entry[i].label);
            }
            if (listed) fprintf(f, "\n");
        }
        for (size_t i = 0; i < v->n; i++) {
            const vrd_entry *e = &v->entry[i];
            if (e->point.meets || e->point.violations) continue;
            fprintf(f, "  %s %s: ", i == v->closest ? "closest   " : "misses    ", e->label);
            vrd_misses(f, v, &e->point);
            fprintf(f, "\n");
        }
    }
    for (size_t i = 0; i < v->n; i++) {
        const vrd_entry *e = &v->entry[i];
        if (!e->point.violations) continue;
        fprintf(f, "  BROKE      %s: ", e->label);
        vrd_promise(f, e);
        fprintf(f, "%s\n", v->targets.n ? " -- meets no target" : "");
    }
    for (size_t i = 0; i < v->n; i++)   /* what a pass said of itself (an outage, clients behind schedule) */
        if (v->entry[i].result->note[0]) fprintf(f, "  NOTE       %s\n", v->entry[i].result->note);
    for (size_t i = 0; i < v->n; i++)
        if (v->entry[i].not_checked)
            fprintf(f, "  NOT CHECKED %s: the oracle could not check its promise: %s\n", v->entry[i].label,
                    v->entry[i].not_checked);
}

static cJSON *vrd_number_or_null(double x)
{
    return isnan(x) || isinf(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x);
}

cJSON *vrd_json(const vrd_verdict *v)
{
    cJSON *root = cJSON_CreateObject(), *terms = cJSON_AddArrayToObject(root, "targets");
    for (size_t k = 0; k < v->targets.n; k++) cJSON_AddItemToArray(terms, cJSON_CreateString(v->targets.term[k].text));
    cJSON_AddStringToObject(root, "targets_from", v->targets.n ? v->targets_from : "none");
    cJSON_AddStringToObject(root, "p99_is", v->targets.has_downstream ? "e2e_p99_ms" : "delay_p99_ms");
    if (v->best < v->n) cJSON_AddStringToObject(root, "best", v->entry[v->best].label);
    else cJSON_AddNullToObject(root, "best");
    if (v->closest < v->n) cJSON_AddStringToObject(root, "closest", v->entry[v->closest].label);
    else cJSON_AddNullToObject(root, "closest");
    cJSON_AddNumberToObject(root, "meeting", (double)v->meeting);
    cJSON *passes = cJSON_AddArrayToObject(root, "passes");
    for (size_t i = 0; i < v->n; i++) {
        const vrd_entry *e = &v->entry[i];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "label", e->label);
        cJSON_AddStringToObject(p, "limiter", e->result->limiter->name);
        cJSON_AddStringToObject(p, "backend", e->result->backend);
        const char *standing = e->point.violations ? "broke_promise"
                               : !v->targets.n     ? "no_targets"
                               : e->point.meets    ? (i == v->best ? "best" : "meets")
                                                   : "misses";
        cJSON_AddStringToObject(p, "standing", standing);
        cJSON_AddNumberToObject(p, "violations", (double)e->violations);
        if (e->not_checked) cJSON_AddStringToObject(p, "not_checked", e->not_checked);
        cJSON_AddNumberToObject(p, "over_admitted", (double)e->over_admitted);
        cJSON *metrics = cJSON_AddObjectToObject(p, "metrics");
        for (int m = 0; m < TGT_N_METRICS; m++)
            cJSON_AddItemToObject(metrics, tgt_metric_name((tgt_metric)m), vrd_number_or_null(e->point.metric[m]));
        cJSON *missed = cJSON_AddArrayToObject(p, "missed");
        for (size_t k = 0; k < v->targets.n; k++) {
            const tgt_term *term = &v->targets.term[k];
            double x = e->point.metric[term->metric];
            if (rec_term_met(term, x)) continue;
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "target", term->text);
            cJSON_AddItemToObject(m, "by", vrd_number_or_null(rec_miss(term, x)));
            cJSON_AddItemToObject(m, "value", vrd_number_or_null(x));
            cJSON_AddItemToArray(missed, m);
        }
        cJSON_AddItemToArray(passes, p);
    }
    return root;
}

static const struct { const char *word; unsigned bit; } vrd_conditions[] = {
    { "targets", VRD_FAIL_TARGETS },
    { "over_admitted", VRD_FAIL_OVER_ADMITTED },
    { "violations", VRD_FAIL_VIOLATIONS },
    { "errors", VRD_FAIL_ERRORS },
};
#define VRD_N_CONDITIONS (sizeof vrd_conditions / sizeof vrd_conditions[0])

int vrd_parse_fail_on(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ", ");
        size_t k = 0;
        while (k < VRD_N_CONDITIONS && !(strlen(vrd_conditions[k].word) == n && strncmp(p, vrd_conditions[k].word, n) == 0))
            k++;
        if (n && k == VRD_N_CONDITIONS) {
            snprintf(err, errlen, "--fail-on: '%.*s' is not a condition (targets, over_admitted, violations, errors)",
                     (int)(n > 40 ? 40 : n), p);
            return -1;
        }
        if (n) *mask |= vrd_conditions[k].bit;
        p += n;
        p += strspn(p, ", ");
    }
    if (!*mask) {
        snprintf(err, errlen, "--fail-on: name at least one condition (targets, over_admitted, violations, errors)");
        return -1;
    }
    return 0;
}

unsigned vrd_failed(const vrd_verdict *v, unsigned mask, char *why, size_t len)
{
    unsigned held = 0;
    size_t used = 0;
    why[0] = '\0';
    for (size_t i = 0; i < v->n; i++) {
        const vrd_entry *e = &v->entry[i];
        unsigned here = 0;
        if ((mask & VRD_FAIL_TARGETS) && v->targets.n && !e->point.meets) here |= VRD_FAIL_TARGETS;
        if ((mask & VRD_FAIL_OVER_ADMITTED) && e->over_admitted) here |= VRD_FAIL_OVER_ADMITTED;
        if ((mask & VRD_FAIL_VIOLATIONS) && e->violations) here |= VRD_FAIL_VIOLATIONS;
        if ((mask & VRD_FAIL_ERRORS) && e->errors) here |= VRD_FAIL_ERRORS;
        if (!here) continue;
        held |= here;
        int w = snprintf(why + used, used < len ? len - used : 0, "%s%s:%s%s%s%s", used ? "; " : "", e->label,
                         here & VRD_FAIL_TARGETS ? " missed a target" : "",
                         here & VRD_FAIL_OVER_ADMITTED ? " over-admitted" : "",
                         here & VRD_FAIL_VIOLATIONS ? " broke its promise" : "",
                         here & VRD_FAIL_ERRORS ? " had Redis errors" : "");
        if (w > 0) used = used + (size_t)w < len ? used + (size_t)w : len;
    }
    return held;
}
