/* oracle.c -- see oracle.h. */
#include "oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double orc_param(const scn_limiter *l, const char *name);

int orc_tally_init(orc_tally *t, const scn_limiter *l, size_t n_keys)
{
    memset(t, 0, sizeof *t);
    t->l = l;
    t->fixed_window = strcmp(l->ops->name, "fixed_window") == 0;
    if (t->fixed_window) {
        t->window_us = (int64_t)llround(orc_param(l, "window_ms") * 1000.0);
        t->limit = (uint64_t)orc_param(l, "limit");
    }
    t->n_keys = n_keys;
    t->first_us = malloc(n_keys * sizeof *t->first_us);
    t->last_us = malloc(n_keys * sizeof *t->last_us);
    t->admitted_cost = calloc(n_keys, sizeof *t->admitted_cost);
    t->window = malloc(n_keys * sizeof *t->window);
    t->window_cost = calloc(n_keys, sizeof *t->window_cost);
    if (!t->first_us || !t->last_us || !t->admitted_cost || !t->window || !t->window_cost) {
        orc_tally_free(t);
        return -1;
    }
    for (size_t k = 0; k < n_keys; k++) {
        t->first_us[k] = INT64_MAX;
        t->last_us[k] = INT64_MIN;
        t->window[k] = INT64_MIN;
    }
    return 0;
}

void orc_tally_free(orc_tally *t)
{
    free(t->first_us);
    free(t->last_us);
    free(t->admitted_cost);
    free(t->window);
    free(t->window_cost);
    memset(t, 0, sizeof *t);
}

/* A parameter of l by name (the oracle reads the parameters as given). */
static double orc_param(const scn_limiter *l, const char *name)
{
    for (size_t i = 0; i < l->ops->n_params; i++)
        if (strcmp(l->ops->params[i].name, name) == 0) return l->values[i];
    return NAN;
}

/* Most cost one key may have admitted over `span_us`. */
static double orc_bound(const scn_limiter *l, int64_t first_us, int64_t last_us)
{
    const char *a = l->ops->name;
    double span_s = (double)(last_us - first_us) / 1e6;
    if (strcmp(a, "token_bucket") == 0 || strcmp(a, "naive_token_bucket") == 0)
        return orc_param(l, "capacity") + orc_param(l, "rate") * span_s;
    if (strcmp(a, "gcra") == 0) return orc_param(l, "burst") + orc_param(l, "rate") * span_s;
    if (strcmp(a, "leaky_bucket") == 0)   /* meter: capacity + 1 back-to-back; queue: 1 + capacity waiting */
        return orc_param(l, "capacity") + 1 + orc_param(l, "rate") * span_s;
    int64_t w = (int64_t)llround(orc_param(l, "window_ms") * 1000.0);
    if (strcmp(a, "fixed_window") == 0)   /* limit in every window the span touches */
        return orc_param(l, "limit") * (double)(orc_floor_div(last_us, w) - orc_floor_div(first_us, w) + 1);
    if (strcmp(a, "sliding_window_log") == 0)   /* [first, last] is covered by this many disjoint (t - w, t] */
        return orc_param(l, "limit") * (double)((last_us - first_us + 1 + w - 1) / w);
    return NAN;
}

int64_t orc_over_admitted(const orc_tally *t)
{
    const scn_limiter *l = t->l;
    if (strcmp(l->ops->name, "sliding_window_counter") == 0) return -1;
    double over = 0;
    for (size_t k = 0; k < t->n_keys; k++) {
        if (t->admitted_cost[k] == 0) continue;
        double bound = orc_bound(l, t->first_us[k], t->last_us[k]);
        /* the rate term is exact to about 1e-9 of a request: floor what may pass */
        double allowed = floor(bound + 1e-6);
        if ((double)t->admitted_cost[k] > allowed) over += (double)t->admitted_cost[k] - allowed;
    }
    if (t->fixed_window && (double)t->window_excess > over) over = (double)t->window_excess;
    return (int64_t)over;
}
