/* targets.c -- see targets.h. */
#include "targets.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tgt_names[TGT_N_METRICS] = {
    [TGT_DROP_PCT] = "drop_pct",         [TGT_ADMIT_PCT] = "admit_pct",
    [TGT_PEAK_RPS] = "peak_rps",         [TGT_OVERLOAD_S] = "overload_s",
    [TGT_DELAY_P99_MS] = "delay_p99_ms", [TGT_E2E_P99_MS] = "e2e_p99_ms",
};

const char *tgt_metric_name(tgt_metric m) { return m < TGT_N_METRICS ? tgt_names[m] : "?"; }

tgt_metric tgt_p99_metric(int has_downstream) { return has_downstream ? TGT_E2E_P99_MS : TGT_DELAY_P99_MS; }

int tgt_parse(const char *spec, int has_downstream, tgt_targets *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->has_downstream = has_downstream;
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t len = strcspn(p, " ");
        char part[64];
        if (len >= sizeof part) {
            snprintf(err, errlen, "target '%.40s...': too long", p);
            return -1;
        }
        memcpy(part, p, len);
        part[len] = '\0';
        p += len;
        size_t name_len = strcspn(part, "=<>");
        if (name_len == 0 || name_len == len) {
            snprintf(err, errlen, "target '%s': expected metric op value, e.g. drop_pct<=5 (op: = <= < >= >)", part);
            return -1;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)name_len, part);
        int metric = -1;
        if (strcmp(name, "p99_ms") == 0) metric = (int)tgt_p99_metric(has_downstream);
        for (int m = 0; m < TGT_N_METRICS && metric < 0; m++)
            if (strcmp(name, tgt_names[m]) == 0) metric = m;
        if (metric < 0) {
            snprintf(err, errlen, "target '%s': unknown metric '%s' (drop_pct, admit_pct, peak_rps, overload_s, "
                                  "delay_p99_ms, e2e_p99_ms, p99_ms)", part, name);
            return -1;
        }
        if ((metric == TGT_OVERLOAD_S || metric == TGT_E2E_P99_MS) && !has_downstream) {
            snprintf(err, errlen, "target '%s': %s needs a \"downstream\" in the scenario", part, name);
            return -1;
        }
        const char *o = part + name_len;
        tgt_op op;
        if (strncmp(o, "<=", 2) == 0) op = TGT_LE, o += 2;
        else if (strncmp(o, ">=", 2) == 0) op = TGT_GE, o += 2;
        else if (*o == '<') op = TGT_LT, o++;
        else if (*o == '>') op = TGT_GT, o++;
        else op = TGT_EQ, o += o[1] == '=' ? 2 : 1;   /* "=" or "==" */
        char *end;
        errno = 0;
        double v = strtod(o, &end);
        if (!*o || *end || errno || !isfinite(v)) {
            snprintf(err, errlen, "target '%s': '%s' is not a number", part, o);
            return -1;
        }
        if (t->n == TGT_MAX_TERMS) {
            snprintf(err, errlen, "target '%s': at most %d targets", part, TGT_MAX_TERMS);
            return -1;
        }
        tgt_term *term = &t->term[t->n++];
        term->metric = (tgt_metric)metric;
        term->op = op;
        term->value = v;
        snprintf(term->text, sizeof term->text, "%s", part);
    }
    return 0;
}
