/*
 * registry.c -- the one list of algorithms. Adding one is a line here, its
 * .c file, its lua/<name>.lua twin and its tests. (An algorithm without a
 * twin runs on Redis client-side, read-decide-write: naive_token_bucket is
 * that on purpose.)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "limiter.h"

#define LIM_ALGORITHMS(X) \
    X(token_bucket)       \
    X(gcra)               \
    X(leaky_bucket)       \
    X(fixed_window)       \
    X(sliding_window_log) \
    X(sliding_window_counter) \
    X(naive_token_bucket) \
    X(queue)

#define LIM_DECLARE(name) extern const lim_ops name##_ops;
#define LIM_ENTRY(name) &name##_ops,

LIM_ALGORITHMS(LIM_DECLARE)

const lim_ops *const lim_registry[] = { LIM_ALGORITHMS(LIM_ENTRY) NULL };

const lim_ops *lim_find(const char *name)
{
    for (size_t i = 0; lim_registry[i]; i++)
        if (strcmp(lim_registry[i]->name, name) == 0) return lim_registry[i];
    return NULL;
}

int lim_param_index(const lim_ops *ops, const char *name)
{
    for (size_t i = 0; i < ops->n_params; i++)
        if (strcmp(ops->params[i].name, name) == 0) return (int)i;
    return -1;
}

void lim_default_values(const lim_ops *ops, double *values)
{
    for (size_t i = 0; i < LIM_MAX_PARAMS; i++)
        values[i] = i < ops->n_params ? ops->params[i].default_value : NAN;
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

int lim_configure_checked(const lim_ops *ops, const double *values, lim_config *cfg, char *msg, size_t len)
{
    for (size_t i = 0; i < ops->n_params; i++) {
        const lim_param_spec *p = &ops->params[i];
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
    cfg->ops = ops;
    return ops->configure(values, cfg, msg, len);
}
