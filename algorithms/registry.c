/*
 * registry.c -- the one list of algorithms. Adding one is a line here, its
 * .c file, its lua/<name>.lua twin and its tests. (An algorithm without a
 * twin runs on Redis client-side, read-decide-write: naive_token_bucket is
 * that on purpose.)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limiter.h"

#define LIM_ALGORITHMS(X) \
    X(token_bucket)       \
    X(gcra)               \
    X(leaky_bucket)       \
    X(fixed_window)       \
    X(sliding_window_log) \
    X(sliding_window_counter) \
    X(naive_token_bucket)

#define LIM_DECLARE(name) extern const lim_ops name##_ops;
#define LIM_ENTRY(name) &name##_ops,

#define LIM_AS_ENTRY(name) &name##_ops.entry,

LIM_ALGORITHMS(LIM_DECLARE)
extern const lim_entry queue_entry;

const lim_ops *const lim_registry[] = { LIM_ALGORITHMS(LIM_ENTRY) NULL };
const lim_entry *const lim_entries[] = { LIM_ALGORITHMS(LIM_AS_ENTRY) &queue_entry, NULL };

const lim_entry *lim_find_entry(const char *name)
{
    for (size_t i = 0; lim_entries[i]; i++)
        if (strcmp(lim_entries[i]->name, name) == 0) return lim_entries[i];
    return NULL;
}

const lim_ops *lim_find(const char *name) { return lim_entry_limiter(lim_find_entry(name)); }

int lim_param_index(const lim_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n_params; i++)
        if (strcmp(e->params[i].name, name) == 0) return (int)i;
    return -1;
}

void lim_default_values(const lim_entry *e, double *values)
{
    for (size_t i = 0; i < LIM_MAX_PARAMS; i++)
        values[i] = i < e->n_params ? e->params[i].default_value : NAN;
}

int lim_range_check(double v, double min, double max, int integer, char *msg, size_t len)
{
    if (!isfinite(v)) snprintf(msg, len, "must be a finite number");
    else if (integer && v != floor(v)) snprintf(msg, len, "must be a whole number, got %.15g", v);
    else if (v < min && min > 0 && v <= 0) snprintf(msg, len, "must be > 0, got %.15g", v);
    else if (v < min) snprintf(msg, len, "must be >= %.15g, got %.15g", min, v);
    else if (v > max) snprintf(msg, len, "must be <= %.15g, got %.15g", max, v);
    else return 0;
    return -1;
}

int lim_configure_checked(const lim_entry *e, const double *values, const lim_rate *rates, lim_config *cfg,
                          char *msg, size_t len)
{
    for (size_t i = 0; i < e->n_params; i++) {
        const lim_param_spec *p = &e->params[i];
        double v = values[i];
        char why[200];
        if (isnan(v)) {
            if (!p->required && isnan(p->default_value)) continue;   /* derived by configure() */
            snprintf(msg, len, "%s: required", p->name);
            return -1;
        }
        if (p->kind == LIM_PARAM_CHOICE) {
            int n = 0;
            while (p->choices[n]) n++;
            if (v != floor(v) || v < 0 || v >= n) {
                snprintf(msg, len, "%s: not one of its choices", p->name);
                return -1;
            }
        } else if (lim_range_check(v, p->min, p->max, p->kind == LIM_PARAM_INTEGER, why, sizeof why) != 0) {
            snprintf(msg, len, "%s: %s", p->name, why);
            return -1;
        }
    }
    cfg->ops = lim_entry_limiter(e);
    return e->configure(values, rates, cfg, msg, len);
}

/* ---- rates ------------------------------------------------------------------------ */

static const struct { const char *name; int64_t us; } lim_units[] = {
    { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "min", 60000000 }, { "h", 3600000000LL }, { "d", 86400000000LL },
};

#define LIM_RATE_DECIMALS 9

int lim_exact_decimal(double v, int max_decimals, int64_t *num, int64_t *den)
{
    if (!isfinite(v) || v <= 0) return -1;
    double scale = 1;
    for (int k = 0; k <= max_decimals; k++, scale *= 10) {
        double c = round(v * scale);
        if (c >= 1 && c < 9007199254740992.0 && c / scale == v) {
            *num = (int64_t)c;
            *den = (int64_t)scale;
            return 0;
        }
    }
    return -1;
}

int lim_rate_from_number(double per_s, lim_rate *r, char *why, size_t len)
{
    if (!isfinite(per_s) || per_s <= 0) {
        snprintf(why, len, "must be > 0, got %.15g", per_s);
        return -1;
    }
    int64_t num, den;
    if (lim_exact_decimal(per_s, LIM_RATE_DECIMALS, &num, &den) == 0) {
        *r = (lim_rate){ num, den * 1000000, 1 };
        return 0;
    }
    snprintf(why, len, "%.15g/s has more than %d decimals, so it cannot be kept exactly; write it as a count per "
                       "period (\"1/3s\", \"20/min\") or round it (%.9f is exact)", per_s, LIM_RATE_DECIMALS, per_s);
    return -1;
}

int lim_rate_parse(const char *text, lim_rate *r, char *why, size_t len)
{
    const char *slash = strchr(text, '/');
    char *end;
    if (!slash) {
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end || errno == ERANGE || !isfinite(v)) {
            snprintf(why, len, "'%.40s' is not a rate: write requests per second (5, 0.5) or a count per period "
                               "(\"20/min\", \"1/3s\", \"100/1500ms\")", text);
            return -1;
        }
        return lim_rate_from_number(v, r, why, len);
    }
    int64_t count = 1;
    if (slash > text) {
        errno = 0;
        long long c = strtoll(text, &end, 10);
        if (end != slash || errno == ERANGE || c < 1 || c > 1000000000000LL) {
            snprintf(why, len, "'%.40s': the count before '/' must be a whole number from 1 to 1e12", text);
            return -1;
        }
        count = c;
    }
    const char *p = slash + 1;
    double amount = 1;
    if (*p && (*p == '.' || (*p >= '0' && *p <= '9'))) {
        errno = 0;
        amount = strtod(p, &end);
        if (errno == ERANGE || !(amount > 0)) {
            snprintf(why, len, "'%.40s': the period must be > 0", text);
            return -1;
        }
        p = end;
    }
    for (size_t i = 0; i < sizeof lim_units / sizeof lim_units[0]; i++) {
        if (strcmp(p, lim_units[i].name) != 0) continue;
        double us = amount * (double)lim_units[i].us;
        if (!(us >= 1 && us <= 1e15) || us != floor(us)) {
            snprintf(why, len, "'%.40s': the period must be a whole number of microseconds from 1 us to 1e15 us", text);
            return -1;
        }
        *r = (lim_rate){ count, (int64_t)us, 0 };
        return 0;
    }
    snprintf(why, len, "'%.40s': the period's unit must be one of us, ms, s, min, h, d", text);
    return -1;
}

double lim_rate_per_s(const lim_rate *r) { return (double)r->count * 1e6 / (double)r->per_us; }

void lim_rate_format(const lim_rate *r, char *buf, size_t len)
{
    if (r->plain) {
        snprintf(buf, len, "%.15g", lim_rate_per_s(r));
        return;
    }
    /* the largest unit the period is a whole number of */
    size_t u = sizeof lim_units / sizeof lim_units[0];
    while (u > 1 && r->per_us % lim_units[u - 1].us != 0) u--;
    int64_t n = r->per_us / lim_units[u - 1].us;
    if (n == 1) snprintf(buf, len, "%lld/%s", (long long)r->count, lim_units[u - 1].name);
    else snprintf(buf, len, "%lld/%lld%s", (long long)r->count, (long long)n, lim_units[u - 1].name);
}

int lim_param_parse(const lim_param_spec *p, const char *text, double *value, lim_rate *rate, char *why, size_t len)
{
    if (p->kind == LIM_PARAM_CHOICE) {
        for (int c = 0; p->choices[c]; c++)
            if (strcmp(p->choices[c], text) == 0) { *value = c; return 0; }
        snprintf(why, len, "'%.40s' is not one of its choices", text);
        return -1;
    }
    if (p->kind == LIM_PARAM_RATE) {
        if (lim_rate_parse(text, rate, why, len) != 0) return -1;
        *value = lim_rate_per_s(rate);
        return 0;
    }
    char *end;
    errno = 0;
    *value = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(*value)) {
        snprintf(why, len, "'%.40s' is not a finite number", text);
        return -1;
    }
    return 0;
}

void lim_format_params(const lim_entry *e, const double *values, const lim_rate *rates, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_params && used < len; i++) {
        const lim_param_spec *p = &e->params[i];
        double v = values[i];
        if (isnan(v)) continue;  /* derived (initial = capacity) */
        char rate[64];
        if (p->kind == LIM_PARAM_RATE) lim_rate_format(&rates[i], rate, sizeof rate);
        int w = p->kind == LIM_PARAM_CHOICE
                    ? snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", p->name, p->choices[(int)v])
                : p->kind == LIM_PARAM_RATE ? snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", p->name, rate)
                                            : snprintf(buf + used, len - used, "%s%s=%.15g", used ? " " : "", p->name, v);
        if (w < 0) break;
        used += (size_t)w;
    }
}
