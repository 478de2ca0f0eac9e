/*
 * registry.c -- the one list of algorithms. Adding one is a line here, its
 * .c file, its lua/<name>.lua twin and its tests. (An algorithm without a
 * twin runs on Redis client-side, read-decide-write: naive_token_bucket is
 * that on purpose.)
 */
#include <math.h>
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
