/*
 * scenario.c -- see scenario.h. Validation stops at the first error, so every
 * message can name one place exactly; field tables keep the checks uniform.
 */
#define _POSIX_C_SOURCE 200809L
#include "scenario.h"

#include "fsutil.h"
#include "utf8.h"
#include "chain.h"
#include "fleet.h"
#include "targets.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/keystore.h"

#define SCN_PATH 160

typedef struct {
    int limiter;            /* index in limiters[] */
    char param[64];
    const char *text;       /* the --set as given */
} scn_origin;

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    scn_origin origins[64];
    size_t n_origins;
} scn_ctx;

static int scn_fail(scn_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "file: path: message", plus where an overridden value came from. */
static int scn_fail(scn_ctx *c, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *from = NULL;
    for (size_t i = 0; i < c->n_origins; i++) {
        char p[SCN_PATH];
        snprintf(p, sizeof p, "limiters[%d].%s", c->origins[i].limiter, c->origins[i].param);
        if (strcmp(p, path) == 0) from = c->origins[i].text;
    }
    if (from)
        snprintf(c->err, c->errlen, "%s: %s: %s (from --set %s)", c->file, path, msg, from);
    else if (*path)
        snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
    return -1;
}

static void scn_join(char *out, const char *path, const char *name)
{
    snprintf(out, SCN_PATH, *path ? "%s.%s" : "%s%s", path, name);
}

static const char *scn_type_name(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* Rejects fields not in `allowed` (NULL-terminated) and fields given twice. */
static int scn_check_fields(scn_ctx *c, const cJSON *obj, const char *path,
                            const char *const *allowed, const char *what)
{
    for (const cJSON *f = obj->child; f; f = f->next) {
        char p[SCN_PATH];
        scn_join(p, path, f->string);
        int known = 0;
        for (size_t i = 0; allowed[i]; i++) known |= strcmp(allowed[i], f->string) == 0;
        if (!known) {
            char list[400] = "";
            for (size_t i = 0; allowed[i]; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
            }
            return scn_fail(c, p, "unknown field (%s takes: %s)", what, list);
        }
        for (const cJSON *g = f->next; g; g = g->next)
            if (strcmp(g->string, f->string) == 0) return scn_fail(c, p, "given twice");
    }
    return 0;
}

typedef struct {
    int required;
    double def;
    double min, max;        /* inclusive; a min > 0 reads "must be > 0" below 0 */
    int integer;
} scn_num;

static int scn_range(scn_ctx *c, const char *p, double v, double min, double max, int integer)
{
    char why[200];
    if (lim_range_check(v, min, max, integer, why, sizeof why) != 0) return scn_fail(c, p, "%s", why);
    return 0;
}

static int scn_number(scn_ctx *c, const cJSON *obj, const char *path, const char *name,
                      scn_num spec, double *out)
{
    char p[SCN_PATH];
    scn_join(p, path, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) {
        if (spec.required) return scn_fail(c, p, "required");
        *out = spec.def;
        return 0;
    }
    if (!cJSON_IsNumber(v)) return scn_fail(c, p, "must be a number, got %s", scn_type_name(v));
    if (scn_range(c, p, v->valuedouble, spec.min, spec.max, spec.integer) != 0) return -1;
    *out = v->valuedouble;
    return 0;
}

/* A string field; *out stays `def` when absent and not required. */
static int scn_string(scn_ctx *c, const cJSON *obj, const char *path, const char *name,
                      int required, const char *def, const char **out)
{
    char p[SCN_PATH];
    scn_join(p, path, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) {
        if (required) return scn_fail(c, p, "required");
        *out = def;
        return 0;
    }
    if (!cJSON_IsString(v)) return scn_fail(c, p, "must be a string, got %s", scn_type_name(v));
    long bad = utf8_first_invalid(v->valuestring, strlen(v->valuestring));
    if (bad >= 0)   /* it would make run.json invalid JSON */
        return scn_fail(c, p, "is not valid UTF-8 (byte 0x%02x at %ld)", (unsigned char)v->valuestring[bad], bad);
    *out = v->valuestring;
    return 0;
}

/* A rate parameter: a number of requests per second, or a count per period
 * as text ("20/min"), kept exactly (limiter.h lim_rate). */
static int scn_rate(scn_ctx *c, const cJSON *obj, const char *path, const lim_param_spec *ps, double *value,
                    lim_rate *rate)
{
    char p[SCN_PATH], why[300];
    scn_join(p, path, ps->name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, ps->name);
    if (!v) return scn_fail(c, p, "required");
    int bad;
    if (cJSON_IsNumber(v)) {
        if (scn_range(c, p, v->valuedouble, ps->min, ps->max, 0) != 0) return -1;
        bad = lim_rate_from_number(v->valuedouble, rate, why, sizeof why);
    } else if (cJSON_IsString(v)) {
        bad = lim_rate_parse(v->valuestring, rate, why, sizeof why);
    } else {
        return scn_fail(c, p, "must be a number of requests per second or a count per period such as \"20/min\", "
                              "got %s", scn_type_name(v));
    }
    if (bad) return scn_fail(c, p, "%s", why);
    *value = lim_rate_per_s(rate);
    return scn_range(c, p, *value, ps->min, ps->max, 0);
}

/* A string field that must be one of `choices` (NULL-terminated); *out is its index. */
static int scn_choice(scn_ctx *c, const cJSON *obj, const char *path, const char *name,
                      const char *const *choices, int def, int *out)
{
    const char *s;
    if (scn_string(c, obj, path, name, def < 0, NULL, &s) != 0) return -1;
    if (!s) { *out = def; return 0; }
    char list[300] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(s, choices[i]) == 0) { *out = i; return 0; }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    char p[SCN_PATH];
    scn_join(p, path, name);
    return scn_fail(c, p, "unknown value '%.60s' (expected one of: %s)", s, list);
}

static int scn_identifier(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max) return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* ---- phases ---------------------------------------------------------- */

static const char *const scn_shapes[] = { "constant", "ramp", "burst", "spike", "sine", "trace", NULL };


typedef struct {
    const char *name;
    size_t offset;
    scn_num spec;
} scn_field;

#define RATE_FIELD(n, req, def) { #n, offsetof(scn_phase, n), { req, def, 0, LIM_RATE_MAX, 0 } }
#define SECONDS_FIELD(n, req, def) { #n, offsetof(scn_phase, n), { req, def, 1e-6, SCN_MAX_DURATION_S, 0 } }

static const scn_field scn_constant_fields[] = { RATE_FIELD(rate, 1, 0), { 0 } };
static const scn_field scn_ramp_fields[] = { RATE_FIELD(from, 1, 0), RATE_FIELD(to, 1, 0), { 0 } };
static const scn_field scn_burst_fields[] = {
    RATE_FIELD(base, 1, 0), RATE_FIELD(peak, 1, 0), SECONDS_FIELD(period_s, 1, 0), SECONDS_FIELD(on_s, 1, 0), { 0 } };
static const scn_field scn_spike_fields[] = {
    RATE_FIELD(base, 1, 0), RATE_FIELD(peak, 1, 0), SECONDS_FIELD(decay_s, 1, 0),
    { "hold_s", offsetof(scn_phase, hold_s), { 0, 0, 0, SCN_MAX_DURATION_S, 0 } }, { 0 } };
static const scn_field scn_sine_fields[] = {
    RATE_FIELD(mean, 1, 0), RATE_FIELD(amplitude, 1, 0), SECONDS_FIELD(period_s, 1, 0), { 0 } };
static const scn_field scn_trace_fields[] = {
    { "time_scale", offsetof(scn_phase, time_scale), { 0, 1, 1e-6, 1e6, 0 } },
    { "skip_s", offsetof(scn_phase, skip_s), { 0, 0, 0, 1e9, 0 } }, { 0 } };

static const scn_field *const scn_shape_fields[] = {
    scn_constant_fields, scn_ramp_fields, scn_burst_fields, scn_spike_fields, scn_sine_fields, scn_trace_fields,
};

/* The highest rate a phase reaches, for the request-count guard. */
static double scn_phase_peak(const scn_phase *ph)
{
    switch (ph->shape) {
    case SCN_CONSTANT: return ph->rate;
    case SCN_RAMP: return fmax(ph->from, ph->to);
    case SCN_BURST:
    case SCN_SPIKE: return fmax(ph->base, ph->peak);
    case SCN_SINE: return ph->mean + ph->amplitude;
    case SCN_TRACE: return 0;
    }
    return 0;
}

static char *scn_dirname_join(const char *scenario_path, const char *file)
{
    if (file[0] == '/') return strdup(file);
    const char *slash = strrchr(scenario_path, '/');
    size_t dir = slash ? (size_t)(slash - scenario_path) + 1 : 0;
    char *out = malloc(dir + strlen(file) + 1);
    if (!out) return NULL;
    memcpy(out, scenario_path, dir);
    strcpy(out + dir, file);
    return out;
}

/* Names the scenario's numbered keys (ids 0..count-1), once: before the
 * first trace adds its own keys after them, or after the phases, so that
 * ten million keys are not named for a scenario refused for its phases. */
static int scn_number_keys(scn_ctx *c, scn_scenario *s)
{
    if (kspace_count(s->keys) > 0) return 0;
    if (kspace_add_numbered(s->keys, s->key_prefix, s->key_count) != 0)
        return scn_fail(c, "keys", "out of memory for %u keys", s->key_count);
    return 0;
}

static int scn_trace_phase(scn_ctx *c, const cJSON *obj, const char *path, scn_scenario *s, scn_phase *ph)
{
    if (scn_number_keys(c, s) != 0) return -1;
    /* replayed times are start + floor((t - skip) / time_scale), exactly:
     * the scale is kept as a fraction */
    if (lim_exact_decimal(ph->time_scale, 9, &ph->scale_num, &ph->scale_den) != 0) {
        char p[SCN_PATH];
        scn_join(p, path, "time_scale");
        return scn_fail(c, p, "%.17g has more than 9 decimals, so replayed times could not be computed exactly; "
                              "round it (%.9f)", ph->time_scale, ph->time_scale);
    }
    const char *file;
    if (scn_string(c, obj, path, "file", 1, NULL, &file) != 0) return -1;
    char *full = scn_dirname_join(c->file, file);
    if (!full) return scn_fail(c, path, "out of memory");
    for (size_t i = 0; i < s->n_traces; i++) {
        if (strcmp(s->trace_paths[i], full) == 0) {  /* the same file twice: read once */
            free(full);
            ph->trace = i;
            return 0;
        }
    }
    trace *tr = realloc(s->traces, (s->n_traces + 1) * sizeof *tr);
    char **paths = tr ? realloc(s->trace_paths, (s->n_traces + 1) * sizeof *paths) : NULL;
    if (tr) s->traces = tr;
    if (paths) s->trace_paths = paths;
    if (!tr || !paths) { free(full); return scn_fail(c, path, "out of memory"); }
    char msg[400];
    if (trace_load(full, s->keys, LIM_COUNT_MAX, &s->traces[s->n_traces], msg, sizeof msg) != 0) {
        free(full);
        char p[SCN_PATH];
        scn_join(p, path, "file");
        return scn_fail(c, p, "%s", msg);
    }
    s->trace_paths[s->n_traces] = full;
    ph->trace = s->n_traces++;
    return 0;
}

static int scn_phase_load(scn_ctx *c, const cJSON *obj, size_t i, scn_scenario *s, scn_phase *ph)
{
    char path[SCN_PATH];
    snprintf(path, sizeof path, "phases[%zu]", i);
    if (!cJSON_IsObject(obj)) return scn_fail(c, path, "must be an object, got %s", scn_type_name(obj));
    int shape;
    if (scn_choice(c, obj, path, "shape", scn_shapes, -1, &shape) != 0) return -1;
    ph->shape = (scn_shape)shape;

    const scn_field *fields = scn_shape_fields[shape];
    const char *allowed[16] = { "shape", "start_s", "end_s" };
    size_t n_allowed = 3;
    for (const scn_field *f = fields; f->name; f++) allowed[n_allowed++] = f->name;
    if (ph->shape == SCN_TRACE) allowed[n_allowed++] = "file";
    allowed[n_allowed] = NULL;
    char what[64];
    snprintf(what, sizeof what, "a %s phase", scn_shapes[shape]);
    if (scn_check_fields(c, obj, path, allowed, what) != 0) return -1;

    scn_num when = { 1, 0, 0, SCN_MAX_DURATION_S, 0 };
    if (scn_number(c, obj, path, "start_s", when, &ph->start_s) != 0) return -1;
    if (scn_number(c, obj, path, "end_s", when, &ph->end_s) != 0) return -1;
    for (const scn_field *f = fields; f->name; f++)
        if (scn_number(c, obj, path, f->name, f->spec, (double *)((char *)ph + f->offset)) != 0) return -1;

    char p[SCN_PATH];
    if (ph->end_s <= ph->start_s)
        return scn_fail(c, path, "empty: end_s (%.15g) must be after start_s (%.15g)", ph->end_s, ph->start_s);
    if (ph->end_s > s->duration_s) {
        scn_join(p, path, "end_s");
        return scn_fail(c, p, "%.15g is past duration_s (%.15g)", ph->end_s, s->duration_s);
    }
    if (i > 0 && ph->start_s < ph[-1].end_s)
        return scn_fail(c, path, "overlaps phases[%zu]: starts at %.15g s, before that one ends at %.15g s",
                        i - 1, ph->start_s, ph[-1].end_s);
    if (ph->shape == SCN_BURST && ph->on_s > ph->period_s) {
        scn_join(p, path, "on_s");
        return scn_fail(c, p, "must be <= period_s (%.15g), got %.15g", ph->period_s, ph->on_s);
    }
    if (ph->shape == SCN_SINE && ph->amplitude > ph->mean) {
        scn_join(p, path, "amplitude");
        return scn_fail(c, p, "must be <= mean (%.15g) so the rate stays >= 0, got %.15g", ph->mean, ph->amplitude);
    }
    if (ph->shape == SCN_TRACE && scn_trace_phase(c, obj, path, s, ph) != 0) return -1;
    return 0;
}

static int scn_phases(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "phases");
    if (!arr) return scn_fail(c, "phases", "required");
    if (!cJSON_IsArray(arr)) return scn_fail(c, "phases", "must be an array, got %s", scn_type_name(arr));
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return scn_fail(c, "phases", "must list at least one phase");
    s->phases = calloc(n, sizeof *s->phases);
    if (!s->phases) return scn_fail(c, "phases", "out of memory");
    size_t i = 0;
    double requests = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        s->n_phases = i + 1;
        if (scn_phase_load(c, e, i, s, &s->phases[i]) != 0) return -1;
        const scn_phase *ph = &s->phases[i];
        requests += ph->shape == SCN_TRACE ? (double)s->traces[ph->trace].n
                                           : scn_phase_peak(ph) * (ph->end_s - ph->start_s);
    }
    if (requests > SCN_MAX_REQUESTS)
        return scn_fail(c, "phases", "up to %.3g requests in all; a run is limited to %.0e", requests, SCN_MAX_REQUESTS);
    return 0;
}

/* ---- keys and cost --------------------------------------------------- */

static int scn_keys(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    s->key_count = 1;
    s->key_dist = SCN_KEYS_UNIFORM;
    s->zipf_exponent = 1.0;
    snprintf(s->key_prefix, sizeof s->key_prefix, "key:");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (k) {
        if (!cJSON_IsObject(k)) return scn_fail(c, "keys", "must be an object, got %s", scn_type_name(k));
        static const char *const allowed[] = { "count", "distribution", "exponent", "prefix", NULL };
        if (scn_check_fields(c, k, "keys", allowed, "keys") != 0) return -1;
        double count;
        if (scn_number(c, k, "keys", "count", (scn_num){ 0, 1, 1, KSPACE_MAX_KEYS, 1 }, &count) != 0) return -1;
        s->key_count = (uint32_t)count;
        static const char *const dists[] = { "uniform", "zipf", NULL };
        int dist;
        if (scn_choice(c, k, "keys", "distribution", dists, SCN_KEYS_UNIFORM, &dist) != 0) return -1;
        s->key_dist = (scn_key_dist)dist;
        if (cJSON_GetObjectItemCaseSensitive(k, "exponent") && s->key_dist != SCN_KEYS_ZIPF)
            return scn_fail(c, "keys.exponent", "only for distribution zipf");
        if (scn_number(c, k, "keys", "exponent", (scn_num){ 0, 1.0, 0.01, 10, 0 }, &s->zipf_exponent) != 0) return -1;
        const char *prefix;
        if (scn_string(c, k, "keys", "prefix", 0, "key:", &prefix) != 0) return -1;
        if (strlen(prefix) >= 48) return scn_fail(c, "keys.prefix", "longer than 47 bytes");
        char why[120];
        if (kspace_check_name(prefix, strlen(prefix), why, sizeof why) != 0) return scn_fail(c, "keys.prefix", "%s", why);
        snprintf(s->key_prefix, sizeof s->key_prefix, "%s", prefix);
    }
    return 0;   /* named by scn_number_keys, once the phases are known to be good */
}

static int scn_cost_load(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    scn_cost *co = &s->cost;
    co->dist = SCN_COST_FIXED;
    co->value = 1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "cost");
    if (!v) return 0;
    scn_num count = { 1, 0, 1, LIM_COUNT_MAX, 1 };
    double x;
    if (cJSON_IsNumber(v)) {
        if (scn_range(c, "cost", v->valuedouble, 1, LIM_COUNT_MAX, 1) != 0) return -1;
        co->value = (uint32_t)v->valuedouble;
        return 0;
    }
    if (!cJSON_IsObject(v)) return scn_fail(c, "cost", "must be a number or an object, got %s", scn_type_name(v));
    static const char *const dists[] = { "fixed", "uniform", "weighted", NULL };
    int dist;
    if (scn_choice(c, v, "cost", "dist", dists, -1, &dist) != 0) return -1;
    co->dist = (scn_cost_dist)dist;
    static const char *const fixed[] = { "dist", "value", NULL };
    static const char *const uniform[] = { "dist", "min", "max", NULL };
    static const char *const weighted[] = { "dist", "values", "weights", NULL };
    static const char *const *const allowed[] = { fixed, uniform, weighted };
    char what[32];
    snprintf(what, sizeof what, "cost %s", dists[dist]);
    if (scn_check_fields(c, v, "cost", allowed[dist], what) != 0) return -1;
    if (co->dist == SCN_COST_FIXED) {
        if (scn_number(c, v, "cost", "value", count, &x) != 0) return -1;
        co->value = (uint32_t)x;
    } else if (co->dist == SCN_COST_UNIFORM) {
        if (scn_number(c, v, "cost", "min", count, &x) != 0) return -1;
        co->min = (uint32_t)x;
        if (scn_number(c, v, "cost", "max", count, &x) != 0) return -1;
        co->max = (uint32_t)x;
        if (co->max < co->min) return scn_fail(c, "cost.max", "must be >= min (%u), got %u", co->min, co->max);
    } else {
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(v, "values");
        const cJSON *wts = cJSON_GetObjectItemCaseSensitive(v, "weights");
        if (!vals) return scn_fail(c, "cost.values", "required");
        if (!wts) return scn_fail(c, "cost.weights", "required");
        if (!cJSON_IsArray(vals)) return scn_fail(c, "cost.values", "must be an array, got %s", scn_type_name(vals));
        if (!cJSON_IsArray(wts)) return scn_fail(c, "cost.weights", "must be an array, got %s", scn_type_name(wts));
        int n = cJSON_GetArraySize(vals);
        if (n < 1 || n > SCN_MAX_WEIGHTED)
            return scn_fail(c, "cost.values", "must hold 1 to %d values, got %d", SCN_MAX_WEIGHTED, n);
        if (cJSON_GetArraySize(wts) != n)
            return scn_fail(c, "cost.weights", "must hold one weight per value (%d), got %d", n, cJSON_GetArraySize(wts));
        double total = 0;
        for (int i = 0; i < n; i++) {
            char p[SCN_PATH];
            const cJSON *a = cJSON_GetArrayItem(vals, i), *b = cJSON_GetArrayItem(wts, i);
            snprintf(p, sizeof p, "cost.values[%d]", i);
            if (!cJSON_IsNumber(a)) return scn_fail(c, p, "must be a number, got %s", scn_type_name(a));
            if (scn_range(c, p, a->valuedouble, 1, LIM_COUNT_MAX, 1) != 0) return -1;
            snprintf(p, sizeof p, "cost.weights[%d]", i);
            if (!cJSON_IsNumber(b)) return scn_fail(c, p, "must be a number, got %s", scn_type_name(b));
            if (scn_range(c, p, b->valuedouble, 1e-12, 1e12, 0) != 0) return -1;
            co->values[i] = (uint32_t)a->valuedouble;
            co->weights[i] = b->valuedouble;
            total += b->valuedouble;
        }
        for (int i = 0; i < n; i++) co->weights[i] /= total;
        co->n = (size_t)n;
    }
    return 0;
}

/* A distribution of durations in ms, {dist, mean, p99}, at path.name:
 * fixed or exponential with a mean, or lognormal with a mean and a p99. */
static int scn_duration_dist(scn_ctx *c, const cJSON *parent, const char *path, const char *name, int required,
                             scn_service_dist *dist_out, double *mean, double *p99)
{
    char at[SCN_PATH], q[SCN_PATH];
    scn_join(at, path, name);
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(parent, name);
    if (!svc) return required ? scn_fail(c, at, "required") : 0;
    if (!cJSON_IsObject(svc)) return scn_fail(c, at, "must be an object, got %s", scn_type_name(svc));
    static const char *const svc_allowed[] = { "dist", "mean", "p99", NULL };
    if (scn_check_fields(c, svc, at, svc_allowed, name) != 0) return -1;
    static const char *const dists[] = { "fixed", "exponential", "lognormal", NULL };
    int dist;
    if (scn_choice(c, svc, at, "dist", dists, -1, &dist) != 0) return -1;
    *dist_out = (scn_service_dist)dist;
    if (scn_number(c, svc, at, "mean", (scn_num){ 1, 0, 1e-3, 3.6e6, 0 }, mean) != 0) return -1;
    if (*dist_out == SCN_SERVICE_LOGNORMAL) {
        if (scn_number(c, svc, at, "p99", (scn_num){ 1, 0, 1e-3, 3.6e7, 0 }, p99) != 0) return -1;
        /* a lognormal with this mean reaches at most mean * e^(z99^2/2) at p99 */
        double ratio = *p99 / *mean;
        scn_join(q, at, "p99");
        if (ratio <= 1 || ratio >= 14.9)
            return scn_fail(c, q, "must lie between mean (%.15g) and 14.9 x mean for a lognormal, got %.15g", *mean,
                            *p99);
    } else if (cJSON_GetObjectItemCaseSensitive(svc, "p99")) {
        scn_join(q, at, "p99");
        return scn_fail(c, q, "only for dist lognormal");
    }
    return 0;
}

/* ---- downstream --------------------------------------------------------- */

static int scn_downstream_load(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "downstream");
    scn_downstream *ds = &s->downstream;
    if (!d) return 0;
    if (!cJSON_IsObject(d)) return scn_fail(c, "downstream", "must be an object, got %s", scn_type_name(d));
    static const char *const allowed[] = { "capacity_rps", "concurrency", "service_ms", "failure_prob",
                                           "timeout_ms", NULL };
    if (scn_check_fields(c, d, "downstream", allowed, "downstream") != 0) return -1;
    double conc, timeout_ms;
    if (scn_number(c, d, "downstream", "capacity_rps", (scn_num){ 1, 0, 1e-3, LIM_RATE_MAX, 0 }, &ds->capacity_rps) != 0 ||
        scn_number(c, d, "downstream", "concurrency", (scn_num){ 1, 0, 1, 100000, 1 }, &conc) != 0 ||
        scn_number(c, d, "downstream", "failure_prob", (scn_num){ 0, 0, 0, 1, 0 }, &ds->failure_prob) != 0 ||
        scn_number(c, d, "downstream", "timeout_ms", (scn_num){ 0, 0, 1e-3, 3.6e6, 0 }, &timeout_ms) != 0)
        return -1;
    ds->concurrency = (uint32_t)conc;
    ds->timeout_us = llround(timeout_ms * 1000);
    if (scn_duration_dist(c, d, "downstream", "service_ms", 1, &ds->dist, &ds->mean_ms, &ds->p99_ms) != 0) return -1;
    ds->present = 1;
    return 0;
}

/* ---- clients -------------------------------------------------------- */

/* A duration in milliseconds as whole microseconds. */
static int scn_ms(scn_ctx *c, const cJSON *obj, const char *path, const char *name, scn_num spec, int64_t *out)
{
    double ms;
    if (scn_number(c, obj, path, name, spec, &ms) != 0) return -1;
    *out = llround(ms * 1000);
    return 0;
}

static int scn_client_class(scn_ctx *c, const cJSON *obj, size_t i, cli_class *k)
{
    char path[SCN_PATH], p[SCN_PATH];
    snprintf(path, sizeof path, "clients[%zu]", i);
    if (!cJSON_IsObject(obj)) return scn_fail(c, path, "must be an object, got %s", scn_type_name(obj));
    static const char *const allowed[] = { "name", "weight", "retry", "retry_on", "abandon", "budget", NULL };
    if (scn_check_fields(c, obj, path, allowed, "a client class") != 0) return -1;
    const char *name;
    char fallback[CLI_NAME_MAX];
    snprintf(fallback, sizeof fallback, "class%zu", i + 1);
    if (scn_string(c, obj, path, "name", 0, fallback, &name) != 0) return -1;
    scn_join(p, path, "name");
    if (!scn_identifier(name, CLI_NAME_MAX))
        return scn_fail(c, p, "must be a letter then letters, digits, '_' or '-' (at most %d), got '%.60s'",
                        CLI_NAME_MAX - 1, name);
    snprintf(k->name, sizeof k->name, "%s", name);
    if (scn_number(c, obj, path, "weight", (scn_num){ 1, 0, 1e-9, 1e9, 0 }, &k->weight) != 0) return -1;
    /* retry_on: one of refused, failed, timeout (or several, as an array) */
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(obj, "retry_on");
    scn_join(p, path, "retry_on");
    k->retry_on_refused = !on;
    int n_on = on && cJSON_IsArray(on) ? cJSON_GetArraySize(on) : on ? 1 : 0;
    if (on && !cJSON_IsArray(on) && !cJSON_IsString(on))
        return scn_fail(c, p, "must be \"refused\", \"failed\", \"timeout\" or an array of them, got %s",
                        scn_type_name(on));
    if (on && cJSON_IsArray(on) && n_on == 0)
        return scn_fail(c, p, "must name at least one of refused, failed, timeout");
    for (int i = 0; i < n_on; i++) {
        const cJSON *v = cJSON_IsArray(on) ? cJSON_GetArrayItem(on, i) : on;
        if (!cJSON_IsString(v)) return scn_fail(c, p, "must hold strings, got %s", scn_type_name(v));
        if (strcmp(v->valuestring, "refused") == 0) k->retry_on_refused = 1;
        else if (strcmp(v->valuestring, "failed") == 0) k->retry_on_failed = 1;
        else if (strcmp(v->valuestring, "timeout") == 0) k->retry_on_timeout = 1;
        else return scn_fail(c, p, "unknown value '%.40s' (expected refused, failed or timeout)", v->valuestring);
    }
    k->max_attempts = 1;
    k->backoff = CLI_BACKOFF_NONE;
    k->jitter = CLI_JITTER_NONE;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "retry");
    scn_join(p, path, "retry");
    if (r) {
        if (!cJSON_IsObject(r)) return scn_fail(c, p, "must be an object, got %s", scn_type_name(r));
        static const char *const rallowed[] = { "max_attempts", "backoff", "base_ms", "cap_ms", "jitter",
                                                "honor_retry_after", NULL };
        if (scn_check_fields(c, r, p, rallowed, "retry") != 0) return -1;
        double attempts;
        if (scn_number(c, r, p, "max_attempts", (scn_num){ 1, 0, 1, 1000, 1 }, &attempts) != 0) return -1;
        k->max_attempts = (uint32_t)attempts;
        static const char *const backoffs[] = { "none", "constant", "exponential", "decorrelated", NULL };
        static const char *const jitters[] = { "none", "full", "equal", NULL };
        int b, j;
        if (scn_choice(c, r, p, "backoff", backoffs, 0, &b) != 0 || scn_choice(c, r, p, "jitter", jitters, 0, &j) != 0)
            return -1;
        k->backoff = (cli_backoff)b;
        k->jitter = (cli_jitter)j;
        int needs_base = k->backoff != CLI_BACKOFF_NONE;
        if (scn_ms(c, r, p, "base_ms", (scn_num){ needs_base, 0, needs_base ? 1e-3 : 0, 3.6e6, 0 }, &k->base_us) != 0)
            return -1;
        int needs_cap = k->backoff == CLI_BACKOFF_EXPONENTIAL || k->backoff == CLI_BACKOFF_DECORRELATED;
        if (scn_ms(c, r, p, "cap_ms", (scn_num){ 0, 3.6e6, 1e-3, 3.6e6, 0 }, &k->cap_us) != 0) return -1;
        /* a cap given below the base is a mistake whatever the backoff reads of it */
        if ((needs_cap || cJSON_GetObjectItemCaseSensitive(r, "cap_ms")) && k->cap_us < k->base_us) {
            char q[SCN_PATH];
            scn_join(q, p, "cap_ms");
            return scn_fail(c, q, "must be >= base_ms (%.15g), got %.15g", (double)k->base_us / 1000,
                            (double)k->cap_us / 1000);
        }
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "honor_retry_after");
        if (h && !cJSON_IsBool(h)) {
            char q[SCN_PATH];
            scn_join(q, p, "honor_retry_after");
            return scn_fail(c, q, "must be true or false, got %s", scn_type_name(h));
        }
        k->honor_retry_after = h && cJSON_IsTrue(h);
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, "abandon");
    scn_join(p, path, "abandon");
    if (a) {
        if (!cJSON_IsObject(a)) return scn_fail(c, p, "must be an object, got %s", scn_type_name(a));
        static const char *const aallowed[] = { "after_s", NULL };
        if (scn_check_fields(c, a, p, aallowed, "abandon") != 0) return -1;
        double after;
        if (scn_number(c, a, p, "after_s", (scn_num){ 1, 0, 1e-6, SCN_MAX_DURATION_S, 0 }, &after) != 0) return -1;
        k->abandon_after_us = llround(after * 1e6);
    }
    const cJSON *bu = cJSON_GetObjectItemCaseSensitive(obj, "budget");
    scn_join(p, path, "budget");
    if (bu) {
        if (!cJSON_IsObject(bu)) return scn_fail(c, p, "must be an object, got %s", scn_type_name(bu));
        static const char *const ballowed[] = { "ratio", "min_per_s", "window_s", NULL };
        if (scn_check_fields(c, bu, p, ballowed, "budget") != 0) return -1;
        double window;
        if (scn_number(c, bu, p, "ratio", (scn_num){ 1, 0, 0, 1000, 0 }, &k->budget_ratio) != 0 ||
            scn_number(c, bu, p, "min_per_s", (scn_num){ 0, 0, 0, LIM_RATE_MAX, 0 }, &k->budget_min_per_s) != 0 ||
            scn_number(c, bu, p, "window_s", (scn_num){ 0, 10, 1, CLI_MAX_WINDOW_S, 1 }, &window) != 0)
            return -1;
        k->has_budget = 1;
        k->budget_window_s = (uint32_t)window;
        /* kept exactly as the decimals written (to 1e-9): 0.29 x 100 first
         * attempts allow 29 retries, not 28.999999999999996 */
        k->budget_ratio_nano = llround(k->budget_ratio * 1e9);
        k->budget_min_nano = llround(k->budget_min_per_s * 1e9);
    }
    return 0;
}

static int scn_clients(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "clients");
    if (!arr) return 0;
    if (!cJSON_IsArray(arr)) return scn_fail(c, "clients", "must be an array of client classes, got %s",
                                             scn_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > CLI_MAX_CLASSES)
        return scn_fail(c, "clients", "must hold 1 to %d client classes, got %d", CLI_MAX_CLASSES, n);
    cli_config *cc = &s->clients;
    for (int i = 0; i < n; i++) {
        cli_class *k = &cc->c[i];
        if (scn_client_class(c, cJSON_GetArrayItem(arr, i), (size_t)i, k) != 0) return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(cc->c[j].name, k->name) == 0) {
                char p[SCN_PATH];
                snprintf(p, sizeof p, "clients[%d].name", i);
                return scn_fail(c, p, "'%s' names clients[%d] already", k->name, j);
            }
        cc->total_weight += k->weight;
    }
    cc->n = (size_t)n;
    for (int i = 0; i < n; i++)
        if (cc->c[i].retry_on_failed && !(s->downstream.present && s->downstream.failure_prob > 0)) {
            char p[SCN_PATH];
            snprintf(p, sizeof p, "clients[%d].retry_on", i);
            return scn_fail(c, p, "\"failed\" needs a downstream with a failure_prob above 0");
        }
    for (int i = 0; i < n; i++)
        if (cc->c[i].retry_on_timeout && !(s->downstream.present && s->downstream.timeout_us > 0)) {
            char p[SCN_PATH];
            snprintf(p, sizeof p, "clients[%d].retry_on", i);
            return scn_fail(c, p, "\"timeout\" needs a downstream with a timeout_ms");
        }
    return 0;
}

/* ---- chains ---------------------------------------------------------- */

/* The required "name" of a chain or a fleet: an identifier no limiter,
 * chain or fleet before it has. */
static int scn_entry_name(scn_ctx *c, const cJSON *obj, const char *path, const scn_scenario *s, const char **name)
{
    char p[SCN_PATH];
    if (scn_string(c, obj, path, "name", 1, NULL, name) != 0) return -1;
    scn_join(p, path, "name");
    if (!scn_identifier(*name, 48))
        return scn_fail(c, p, "'%.60s' must start with a letter and hold only letters, digits, _ and - (at most 47)",
                        *name);
    for (size_t k = 0; k < s->n_limiters; k++)
        if (strcmp(s->limiters[k].name, *name) == 0)
            return scn_fail(c, p, "'%s' is already the name of a limiter, chain or fleet; give each its own name",
                            *name);
    return 0;
}

static int scn_chain_load(scn_ctx *c, const cJSON *obj, size_t i, scn_scenario *s, scn_limiter *ch)
{
    char path[SCN_PATH], p[SCN_PATH];
    snprintf(path, sizeof path, "chains[%zu]", i);
    if (!cJSON_IsObject(obj)) return scn_fail(c, path, "must be an object, got %s", scn_type_name(obj));
    static const char *const allowed[] = { "name", "tiers", "policy", NULL };
    if (scn_check_fields(c, obj, path, allowed, "a chain") != 0) return -1;
    const char *name;
    if (scn_entry_name(c, obj, path, s, &name) != 0) return -1;
    int policy;
    if (scn_choice(c, obj, path, "policy", chain_policy_names, SCN_CHAIN_ALL_OR_NOTHING, &policy) != 0) return -1;
    const cJSON *tiers = cJSON_GetObjectItemCaseSensitive(obj, "tiers");
    scn_join(p, path, "tiers");
    if (!tiers) return scn_fail(c, p, "required");
    if (!cJSON_IsArray(tiers)) return scn_fail(c, p, "must be an array of limiter names, got %s", scn_type_name(tiers));
    int n = cJSON_GetArraySize(tiers);
    if (n < 2 || n > SCN_MAX_TIERS) return scn_fail(c, p, "must name 2 to %d limiters, got %d", SCN_MAX_TIERS, n);
    size_t index[SCN_MAX_TIERS];
    for (int k = 0; k < n; k++) {
        char q[SCN_PATH];
        snprintf(q, sizeof q, "%.140s[%d]", p, k);
        const cJSON *t = cJSON_GetArrayItem(tiers, k);
        if (!cJSON_IsString(t)) return scn_fail(c, q, "must be a limiter's name, got %s", scn_type_name(t));
        size_t found = s->n_limiters;
        for (size_t j = 0; j < s->n_limiters; j++)
            if (s->limiters[j].entry->kind != LIM_KIND_CHAIN && strcmp(s->limiters[j].name, t->valuestring) == 0) found = j;
        if (found == s->n_limiters) return scn_fail(c, q, "'%.60s' names no limiter of this scenario", t->valuestring);
        if (!s->limiters[found].ops)
            return scn_fail(c, q, "'%s' is a %s, not a rate limiter", t->valuestring, s->limiters[found].entry->name);
        for (int j = 0; j < k; j++)
            if (index[j] == found) return scn_fail(c, q, "'%s' is a tier of this chain already", t->valuestring);
        index[k] = found;
    }
    memset(ch, 0, sizeof *ch);
    snprintf(ch->name, sizeof ch->name, "%s", name);
    ch->entry = &chain_entry;
    ch->policy = (scn_chain_policy)policy;
    ch->tiers = calloc((size_t)n, sizeof *ch->tiers);
    if (!ch->tiers) return scn_fail(c, path, "out of memory");
    ch->n_tiers = (size_t)n;
    ch->global = 1;
    for (int k = 0; k < n; k++) {
        ch->tiers[k] = s->limiters[index[k]];
        ch->global &= ch->tiers[k].global;   /* per key as soon as one tier is */
    }
    return 0;
}

/* Loads one entry of a section after the limiters (a chain, a fleet). */
typedef int (*scn_entry_loader)(scn_ctx *c, const cJSON *obj, size_t i, scn_scenario *s, scn_limiter *l);

/* Appends the entries of section `name` (an array) to the scenario's
 * limiters. An entry whose loader gave it a kind is the scenario's to
 * free from then on, whole or not. */
static int scn_more_entries(scn_ctx *c, const cJSON *root, scn_scenario *s, const char *name, scn_entry_loader load)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!arr) return 0;
    if (!cJSON_IsArray(arr)) return scn_fail(c, name, "must be an array of %s, got %s", name, scn_type_name(arr));
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (s->n_limiters + n > SCN_MAX_LIMITERS)
        return scn_fail(c, name, "at most %d limiters, chains and fleets together, got %zu", SCN_MAX_LIMITERS,
                        s->n_limiters + n);
    scn_limiter *more = realloc(s->limiters, (s->n_limiters + n) * sizeof *more);
    if (!more) return scn_fail(c, name, "out of memory");
    s->limiters = more;
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        scn_limiter *l = &s->limiters[s->n_limiters];
        l->entry = NULL;
        int rc = load(c, e, i, s, l);
        if (l->entry) s->n_limiters++;
        if (rc != 0) return -1;
    }
    return 0;
}

/* ---- fleets ------------------------------------------------------------ */

/* An array of `n` positive numbers at path.name (whole ones when `whole`). */
static int scn_per_node(scn_ctx *c, const cJSON *obj, const char *path, const char *name, uint32_t n, int whole,
                        double *out)
{
    char p[SCN_PATH];
    scn_join(p, path, name);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsArray(a)) return scn_fail(c, p, "must be an array of one number per node, got %s", scn_type_name(a));
    if ((uint32_t)cJSON_GetArraySize(a) != n)
        return scn_fail(c, p, "must hold one number per node (%u), got %d", n, cJSON_GetArraySize(a));
    uint32_t i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++) {
        char q[SCN_PATH];
        snprintf(q, sizeof q, "%.150s[%u]", p, i);
        if (!cJSON_IsNumber(v)) return scn_fail(c, q, "must be a number, got %s", scn_type_name(v));
        char why[120];
        if (lim_range_check(v->valuedouble, whole ? 1 : 1e-9, 1e6, whole, why, sizeof why) != 0)
            return scn_fail(c, q, "%s", why);
        out[i] = v->valuedouble;
    }
    return 0;
}

static int scn_fleet_load(scn_ctx *c, const cJSON *obj, size_t i, scn_scenario *s, scn_limiter *fl)
{
    char path[SCN_PATH], p[SCN_PATH];
    snprintf(path, sizeof path, "fleets[%zu]", i);
    if (!cJSON_IsObject(obj)) return scn_fail(c, path, "must be an object, got %s", scn_type_name(obj));
    static const char *const allowed[] = { "name", "limiter", "nodes", "balance", "weights", "strategy", "split",
                                           "sync_ms", "interval_ms", "lease_ms", "link_ms", "cuts", "on_cut",
                                           "coordinator_stops_s", "stale_ms", NULL };
    if (scn_check_fields(c, obj, path, allowed, "a fleet") != 0) return -1;
    const char *name, *base_name;
    if (scn_entry_name(c, obj, path, s, &name) != 0) return -1;
    if (scn_string(c, obj, path, "limiter", 1, NULL, &base_name) != 0) return -1;
    scn_join(p, path, "limiter");
    const scn_limiter *base = NULL;
    for (size_t k = 0; k < s->n_limiters; k++)
        if (s->limiters[k].entry->kind == LIM_KIND_LIMITER && strcmp(s->limiters[k].name, base_name) == 0)
            base = &s->limiters[k];
    if (!base) return scn_fail(c, p, "'%.60s' names no rate limiter of this scenario", base_name);
    if (!base->global)
        return scn_fail(c, p, "'%s' is per key: a fleet shares one global limit (give it \"scope\": \"global\")",
                        base_name);
    scn_fleet f = { 0 };
    double nodes, sync_ms;
    int strategy, balance;
    if (scn_number(c, obj, path, "nodes", (scn_num){ 1, 0, 1, SCN_MAX_NODES, 1 }, &nodes) != 0 ||
        scn_choice(c, obj, path, "strategy", flt_strategy_names, -1, &strategy) != 0 ||
        scn_choice(c, obj, path, "balance", flt_balance_names, SCN_BALANCE_ROUND_ROBIN, &balance) != 0)
        return -1;
    f.nodes = (uint32_t)nodes;
    f.strategy = (scn_fleet_strategy)strategy;
    f.balance = (scn_balance)balance;
    int is_sync = f.strategy == SCN_FLEET_LOCAL_SYNC;
    if (scn_number(c, obj, path, "sync_ms", (scn_num){ is_sync, 0, 1e-3, 3.6e6, 0 }, &sync_ms) != 0) return -1;
    scn_join(p, path, "sync_ms");
    if (!is_sync && cJSON_GetObjectItemCaseSensitive(obj, "sync_ms"))
        return scn_fail(c, p, "only for strategy local_sync");
    f.sync_us = llround(sync_ms * 1000);
    /* interval_ms for controller and gossip, lease_ms for lease: each only where it means something */
    int wants_interval = f.strategy == SCN_FLEET_CONTROLLER || f.strategy == SCN_FLEET_GOSSIP;
    int wants_lease = f.strategy == SCN_FLEET_LEASE;
    double interval_ms, lease_ms;
    if (scn_number(c, obj, path, "interval_ms", (scn_num){ wants_interval, 0, 1e-3, 3.6e6, 0 }, &interval_ms) != 0 ||
        scn_number(c, obj, path, "lease_ms", (scn_num){ wants_lease, 0, 1e-3, 3.6e6, 0 }, &lease_ms) != 0)
        return -1;
    scn_join(p, path, "interval_ms");
    if (!wants_interval && cJSON_GetObjectItemCaseSensitive(obj, "interval_ms"))
        return scn_fail(c, p, "only for strategy controller or gossip");
    scn_join(p, path, "lease_ms");
    if (!wants_lease && cJSON_GetObjectItemCaseSensitive(obj, "lease_ms"))
        return scn_fail(c, p, "only for strategy lease");
    f.interval_us = llround(interval_ms * 1000);
    f.lease_us = llround(lease_ms * 1000);
    if (f.strategy == SCN_FLEET_LEASE && f.lease_us < 2) {
        scn_join(p, path, "lease_ms");
        return scn_fail(c, p, "must be at least 0.002 (renewed at half of it)");
    }
    /* a share of the limit is a share of its rate and of its burst: the registry's split parameters */
    const char *const *split = base->ops->facts.split;
    int rate = -1, burst = -1;
    for (size_t k = 0; split && split[k]; k++) {
        int q = lim_param_index(base->entry, split[k]);
        if (q < 0) continue;
        if (base->entry->params[q].kind == LIM_PARAM_RATE) { if (rate < 0) rate = q; }
        else if (burst < 0) burst = q;
    }
    if (rate >= 0 && burst >= 0) {
        f.rate_per_s = base->values[rate];
        f.burst = base->values[burst];
    }
    int by_share = f.strategy == SCN_FLEET_LEASE || f.strategy == SCN_FLEET_CONTROLLER || f.strategy == SCN_FLEET_GOSSIP;
    if (by_share && f.rate_per_s <= 0) {
        scn_join(p, path, "strategy");
        return scn_fail(c, p, "%s shares out a rate and a burst: %s has no rate parameter to share",
                        flt_strategy_names[f.strategy], base->ops->name);
    }
    /* faults: cut nodes, a coordinator that stops, stale shares, and what a node does then */
    static const char *const on_cut_names[] = { "local", "fail_open", "fail_closed", NULL };
    int on_cut;
    if (scn_choice(c, obj, path, "on_cut", on_cut_names, SCN_ON_CUT_LOCAL, &on_cut) != 0) return -1;
    f.on_cut = (scn_on_cut)on_cut;
    const cJSON *cuts = cJSON_GetObjectItemCaseSensitive(obj, "cuts");
    scn_join(p, path, "cuts");
    if (cuts) {
        if (!cJSON_IsArray(cuts)) return scn_fail(c, p, "must be an array of {node, from_s, to_s}, got %s",
                                                  scn_type_name(cuts));
        if (f.strategy == SCN_FLEET_LOCAL) return scn_fail(c, p, "a local fleet never talks to a store to be cut from");
        if (cJSON_GetArraySize(cuts) > SCN_MAX_CUTS)
            return scn_fail(c, p, "at most %d cuts, got %d", SCN_MAX_CUTS, cJSON_GetArraySize(cuts));
        for (const cJSON *e = cuts->child; e; e = e->next) {
            char q[SCN_PATH];
            snprintf(q, sizeof q, "%.150s[%zu]", p, f.n_cuts);
            if (!cJSON_IsObject(e)) return scn_fail(c, q, "must be an object, got %s", scn_type_name(e));
            static const char *const cut_allowed[] = { "node", "from_s", "to_s", NULL };
            if (scn_check_fields(c, e, q, cut_allowed, "a cut") != 0) return -1;
            double node, from, to;
            if (scn_number(c, e, q, "node", (scn_num){ 1, 0, 0, f.nodes - 1, 1 }, &node) != 0 ||
                scn_number(c, e, q, "from_s", (scn_num){ 1, 0, 0, SCN_MAX_DURATION_S, 0 }, &from) != 0 ||
                scn_number(c, e, q, "to_s", (scn_num){ 1, 0, 0, SCN_MAX_DURATION_S, 0 }, &to) != 0)
                return -1;
            if (to <= from) {
                char r[SCN_PATH];
                scn_join(r, q, "to_s");
                return scn_fail(c, r, "must be after from_s (%.15g), got %.15g", from, to);
            }
            f.cuts[f.n_cuts++] = (scn_cut){ (uint32_t)node, llround(from * 1e6), llround(to * 1e6) };
        }
    }
    int stops = f.strategy == SCN_FLEET_CONTROLLER || f.strategy == SCN_FLEET_LEASE;
    int stales = f.strategy == SCN_FLEET_CONTROLLER || f.strategy == SCN_FLEET_GOSSIP;
    double stop_s, stale_ms;
    if (scn_number(c, obj, path, "coordinator_stops_s", (scn_num){ 0, -1, 0, SCN_MAX_DURATION_S, 0 }, &stop_s) != 0 ||
        scn_number(c, obj, path, "stale_ms", (scn_num){ 0, 0, 1e-3, 3.6e6, 0 }, &stale_ms) != 0)
        return -1;
    scn_join(p, path, "coordinator_stops_s");
    if (!stops && cJSON_GetObjectItemCaseSensitive(obj, "coordinator_stops_s"))
        return scn_fail(c, p, "only for strategy controller or lease");
    scn_join(p, path, "stale_ms");
    if (!stales && cJSON_GetObjectItemCaseSensitive(obj, "stale_ms"))
        return scn_fail(c, p, "only for strategy controller or gossip (a lease goes stale when it expires)");
    f.coordinator_stop_us = stop_s < 0 ? INT64_MAX : llround(stop_s * 1e6);
    f.stale_us = llround(stale_ms * 1000);
    if (f.stale_us && f.stale_us <= f.interval_us)
        return scn_fail(c, p, "must be longer than interval_ms (%.15g): a share is at least that old before the next",
                        (double)f.interval_us / 1000);
    /* who falls back: central cut off from its store, a lease run out, a share gone stale (not local_sync,
     * which goes on with its replica) */
    int may_fall_back = (f.n_cuts && f.strategy == SCN_FLEET_CENTRAL) || f.strategy == SCN_FLEET_LEASE ||
                        f.stale_us > 0 || (f.n_cuts && by_share);
    if (may_fall_back && f.on_cut == SCN_ON_CUT_LOCAL && f.rate_per_s <= 0) {
        scn_join(p, path, "on_cut");
        return scn_fail(c, p, "local falls back to the node's even share of a rate: %s has none; choose fail_open or "
                        "fail_closed", base->ops->name);
    }
    if (is_sync && !base->ops->consume) {
        char list[200] = "";
        for (size_t k = 0; lim_registry[k]; k++)
            if (lim_registry[k]->consume) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", lim_registry[k]->name);
            }
        scn_join(p, path, "strategy");
        return scn_fail(c, p, "local_sync needs an algorithm a store can charge a synced count to (%s), not %s",
                        list, base->ops->name);
    }
    if (scn_duration_dist(c, obj, path, "link_ms", 0, &f.link_dist, &f.link_mean_ms, &f.link_p99_ms) != 0) return -1;
    double per_node[SCN_MAX_NODES];
    scn_join(p, path, "weights");
    if (f.balance == SCN_BALANCE_WEIGHTED) {
        if (scn_per_node(c, obj, path, "weights", f.nodes, 0, per_node) != 0) return -1;
    } else if (cJSON_GetObjectItemCaseSensitive(obj, "weights")) {
        return scn_fail(c, p, "only for balance weighted");
    }
    int has_split = cJSON_GetObjectItemCaseSensitive(obj, "split") != NULL;
    double shares[SCN_MAX_NODES];
    scn_join(p, path, "split");
    if (has_split && f.strategy != SCN_FLEET_LOCAL) return scn_fail(c, p, "only for strategy local");
    if (has_split && scn_per_node(c, obj, path, "split", f.nodes, 1, shares) != 0) return -1;

    memset(fl, 0, sizeof *fl);
    snprintf(fl->name, sizeof fl->name, "%s", name);
    fl->entry = &fleet_entry;
    fl->global = 1;
    fl->base = malloc(sizeof *fl->base);
    fl->fleet = malloc(sizeof *fl->fleet);
    if (!fl->base || !fl->fleet) return scn_fail(c, path, "out of memory");
    *fl->base = *base;
    *fl->fleet = f;
    scn_fleet *g = fl->fleet;
    if (f.balance == SCN_BALANCE_WEIGHTED) {
        if (!(g->weights = malloc(f.nodes * sizeof *g->weights))) return scn_fail(c, path, "out of memory");
        memcpy(g->weights, per_node, f.nodes * sizeof *g->weights);
    }
    if (has_split) {
        if (!(g->split = malloc(f.nodes * sizeof *g->split))) return scn_fail(c, path, "out of memory");
        for (uint32_t k = 0; k < f.nodes; k++) g->split_total += g->split[k] = (uint32_t)shares[k];
    }
    /* each node's share, configured now so that a bad one is a load error */
    char why[400];
    if (flt_configure_nodes(base, g, why, sizeof why) != 0) return scn_fail(c, has_split ? p : path, "%s", why);
    flt_values(g, fl->values);
    return 0;
}

/* Frees what a limiter entry owns (a chain's tiers, a fleet's parts). */
static void scn_limiter_free(scn_limiter *l)
{
    free(l->tiers);
    free(l->base);
    if (l->fleet) {
        free(l->fleet->weights);
        free(l->fleet->split);
        free(l->fleet->node_cfg);
        free(l->fleet);
    }
}

void scn_params(const scn_limiter *l, char *buf, size_t len)
{
    if (l->entry->kind == LIM_KIND_FLEET) {
        const scn_fleet *f = l->fleet;
        size_t used = (size_t)snprintf(buf, len, "limiter=%s strategy=%s nodes=%u balance=%s", l->base->name,
                                       flt_strategy_names[f->strategy], f->nodes, flt_balance_names[f->balance]);
        if (f->strategy == SCN_FLEET_LOCAL_SYNC && used < len)
            used += (size_t)snprintf(buf + used, len - used, " sync_ms=%g", (double)f->sync_us / 1000);
        if (f->interval_us && used < len)
            used += (size_t)snprintf(buf + used, len - used, " interval_ms=%g", (double)f->interval_us / 1000);
        if (f->lease_us && used < len)
            used += (size_t)snprintf(buf + used, len - used, " lease_ms=%g", (double)f->lease_us / 1000);
        if (f->link_mean_ms > 0 && used < len) snprintf(buf + used, len - used, " link_ms=%g", f->link_mean_ms);
        return;
    }
    if (l->entry->kind != LIM_KIND_CHAIN) {
        lim_format_params(l->entry, l->values, l->rates, buf, len);
        return;
    }
    size_t used = (size_t)snprintf(buf, len, "tiers=");
    for (size_t i = 0; i < l->n_tiers && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "+" : "", l->tiers[i].name);
    if (used < len) snprintf(buf + used, len - used, " policy=%s", chain_policy_names[l->policy]);
}

/* ---- limiters -------------------------------------------------------- */

/* The fields of a limiter object that are not its algorithm's parameters. */
static const char *const scn_limiter_fields[] = { "algorithm", "name", "scope", "sweep", NULL };

static int scn_limiter_load(scn_ctx *c, const cJSON *obj, size_t i, scn_scenario *s, scn_limiter *l)
{
    char path[SCN_PATH], p[SCN_PATH];
    snprintf(path, sizeof path, "limiters[%zu]", i);
    if (!cJSON_IsObject(obj)) return scn_fail(c, path, "must be an object, got %s", scn_type_name(obj));
    const char *algo;
    if (scn_string(c, obj, path, "algorithm", 1, NULL, &algo) != 0) return -1;
    l->entry = lim_find_entry(algo);
    l->ops = lim_entry_limiter(l->entry);
    if (!l->entry) {
        char list[300] = "";
        for (size_t k = 0; lim_entries[k]; k++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", lim_entries[k]->name);
        }
        scn_join(p, path, "algorithm");
        return scn_fail(c, p, "unknown algorithm '%.60s' (known: %s)", algo, list);
    }
    const char *allowed[LIM_MAX_PARAMS + 5];
    size_t n_allowed = 0;
    for (const char *const *f = scn_limiter_fields; *f; f++) allowed[n_allowed++] = *f;
    for (size_t k = 0; k < l->entry->n_params; k++) allowed[n_allowed++] = l->entry->params[k].name;
    allowed[n_allowed] = NULL;
    if (scn_check_fields(c, obj, path, allowed, l->entry->name) != 0) return -1;

    const char *name;
    if (scn_string(c, obj, path, "name", 0, l->entry->name, &name) != 0) return -1;
    scn_join(p, path, "name");
    if (!scn_identifier(name, 48))
        return scn_fail(c, p, "'%.60s' must start with a letter and hold only letters, digits, _ and - (at most 47)", name);
    for (size_t k = 0; k < i; k++)
        if (strcmp(s->limiters[k].name, name) == 0)
            return scn_fail(c, p, "'%s' is already the name of limiters[%zu]; give each limiter its own name", name, k);
    snprintf(l->name, sizeof l->name, "%s", name);
    const char *sweep;
    if (scn_string(c, obj, path, "sweep", 0, "", &sweep) != 0) return -1;
    scn_join(p, path, "sweep");
    if (strlen(sweep) >= sizeof l->sweep) return scn_fail(c, p, "longer than %zu characters", sizeof l->sweep - 1);
    snprintf(l->sweep, sizeof l->sweep, "%s", sweep);
    static const char *const scopes[] = { "key", "global", NULL };
    if (scn_choice(c, obj, path, "scope", scopes, 0, &l->global) != 0) return -1;

    lim_default_values(l->entry, l->values);
    for (size_t k = 0; k < l->entry->n_params; k++) {
        const lim_param_spec *ps = &l->entry->params[k];
        if (ps->kind == LIM_PARAM_CHOICE) {
            int idx;
            if (scn_choice(c, obj, path, ps->name, ps->choices, ps->required ? -1 : (int)ps->default_value, &idx) != 0)
                return -1;
            l->values[k] = idx;
        } else if (ps->kind == LIM_PARAM_RATE) {
            if (scn_rate(c, obj, path, ps, &l->values[k], &l->rates[k]) != 0) return -1;
        } else {
            scn_num spec = { ps->required, ps->default_value, ps->min, ps->max, ps->kind == LIM_PARAM_INTEGER };
            if (scn_number(c, obj, path, ps->name, spec, &l->values[k]) != 0) return -1;
        }
    }
    char msg[300];
    l->cfg.ops = l->ops;
    l->cfg.max_cost = s->max_cost;
    if (l->entry->configure(l->values, l->rates, &l->cfg, msg, sizeof msg) != 0) {
        /* configure() names the parameter first: "initial: must be ..." */
        char *colon = strchr(msg, ':');
        if (colon) {
            *colon = '\0';
            scn_join(p, path, msg);
            return scn_fail(c, p, "%s", colon + 2);
        }
        return scn_fail(c, path, "%s", msg);
    }
    size_t keys = l->global ? 1 : kspace_count(s->keys);
    size_t bytes = ks_bytes_for(keys, l->cfg.state_size);
    if (bytes == 0 || bytes > SCN_STATE_BUDGET)
        return scn_fail(c, path, "%s state for %zu keys of %zu bytes needs %.1f GiB (the key store's slots), above "
                        "the %.0f GiB budget; use fewer keys or a smaller limit", l->entry->name, keys, l->cfg.state_size,
                        bytes ? (double)bytes / (1 << 30) : (double)keys * (double)(l->cfg.state_size + 8) * 2 / (1 << 30),
                        (double)SCN_STATE_BUDGET / (1 << 30));
    return 0;
}

static int scn_limiters(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "limiters");
    if (!arr) return scn_fail(c, "limiters", "required");
    if (!cJSON_IsArray(arr)) return scn_fail(c, "limiters", "must be an array, got %s", scn_type_name(arr));
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return scn_fail(c, "limiters", "must list at least one limiter");
    if (n > SCN_MAX_LIMITERS) return scn_fail(c, "limiters", "at most %d limiters, got %zu", SCN_MAX_LIMITERS, n);
    s->limiters = calloc(n, sizeof *s->limiters);
    if (!s->limiters) return scn_fail(c, "limiters", "out of memory");
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        if (scn_limiter_load(c, e, i, s, &s->limiters[i]) != 0) return -1;
        s->n_limiters = i + 1;
    }
    return 0;
}

/* ---- options: --set and --only ---------------------------------------- */

static const char *scn_limiter_label(const cJSON *l)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(l, "name");
    if (cJSON_IsString(name)) return name->valuestring;
    const cJSON *algo = cJSON_GetObjectItemCaseSensitive(l, "algorithm");
    return cJSON_IsString(algo) ? algo->valuestring : "";
}

static int scn_matches(const cJSON *l, const char *target, size_t n, int by_algorithm)
{
    const char *s;
    if (by_algorithm) {
        const cJSON *algo = cJSON_GetObjectItemCaseSensitive(l, "algorithm");
        s = cJSON_IsString(algo) ? algo->valuestring : "";
    } else {
        s = scn_limiter_label(l);
    }
    return strlen(s) == n && strncmp(s, target, n) == 0;
}

static void scn_limiter_list(const cJSON *arr, char *out, size_t len)
{
    out[0] = '\0';
    for (const cJSON *l = arr ? arr->child : NULL; l; l = l->next) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? ", " : "", scn_limiter_label(l));
    }
}

/* Writes each --set into the matching limiter objects before validation,
 * so an overridden value is checked exactly like one in the file. */
static int scn_apply_sets(scn_ctx *c, cJSON *root, const scn_options *opt)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "limiters");
    for (size_t i = 0; i < opt->n_sets; i++) {
        const char *set = opt->sets[i];
        const char *dot = strchr(set, '.'), *eq = strchr(set, '=');
        if (!dot || !eq || eq < dot || dot == set || eq == dot + 1 || eq[1] == '\0' || (size_t)(eq - dot) > 63) {
            snprintf(c->err, c->errlen, "--set '%s': expected <limiter or algorithm>.<parameter>=<value>", set);
            return -1;
        }
        char param[64];
        snprintf(param, sizeof param, "%.*s", (int)(eq - dot - 1), dot + 1);
        size_t tlen = (size_t)(dot - set);
        int matched = 0;
        for (int by_algorithm = 0; by_algorithm < 2 && !matched; by_algorithm++) {
            int idx = 0;
            for (cJSON *l = cJSON_IsArray(arr) ? arr->child : NULL; l; l = l->next, idx++) {
                if (!cJSON_IsObject(l) || !scn_matches(l, set, tlen, by_algorithm)) continue;
                /* a parameter only: name, scope, algorithm are what the limiter is (a
                 * name unknown to both is refused with the fields it takes, below) */
                for (const char *const *f = scn_limiter_fields; *f; f++)
                    if (strcmp(*f, param) == 0) {
                        snprintf(c->err, c->errlen, "--set '%s': %s is not a parameter (--set changes a "
                                 "limiter's parameters: ratelab list names them)", set, param);
                        return -1;
                    }
                char *stop;
                double num = strtod(eq + 1, &stop);
                cJSON *v = *stop == '\0' ? cJSON_CreateNumber(num) : cJSON_CreateString(eq + 1);
                if (!v) { snprintf(c->err, c->errlen, "--set '%s': out of memory", set); return -1; }
                if (cJSON_GetObjectItemCaseSensitive(l, param))
                    cJSON_ReplaceItemInObjectCaseSensitive(l, param, v);
                else
                    cJSON_AddItemToObject(l, param, v);
                if (c->n_origins < sizeof c->origins / sizeof c->origins[0]) {
                    scn_origin *o = &c->origins[c->n_origins++];
                    o->limiter = idx;
                    snprintf(o->param, sizeof o->param, "%s", param);
                    o->text = set;
                }
                matched = 1;
            }
        }
        if (!matched) {
            char list[400];
            scn_limiter_list(cJSON_IsArray(arr) ? arr : NULL, list, sizeof list);
            snprintf(c->err, c->errlen, "--set '%s': no limiter or algorithm named '%.*s' in %s (limiters: %s)",
                     set, (int)tlen, set, c->file, list);
            return -1;
        }
    }
    return 0;
}

/* Keeps only the limiters --only names (by limiter name or algorithm). */
static int scn_apply_only(scn_ctx *c, scn_scenario *s, const char *only)
{
    int keep[SCN_MAX_LIMITERS] = { 0 };
    const char *p = only;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int matched = 0;
        for (size_t i = 0; i < s->n_limiters; i++) {
            const scn_limiter *l = &s->limiters[i];
            if ((strlen(l->name) == n && strncmp(l->name, p, n) == 0) ||
                (strlen(l->entry->name) == n && strncmp(l->entry->name, p, n) == 0)) {
                keep[i] = 1;
                matched = 1;
            }
        }
        if (!matched && n > 0) {
            char list[400] = "";
            for (size_t i = 0; i < s->n_limiters; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s (%s)", i ? ", " : "", s->limiters[i].name,
                         s->limiters[i].entry->name);
            }
            snprintf(c->err, c->errlen, "--only: '%.*s' matches no limiter in %s (limiters: %s)", (int)n, p, c->file, list);
            return -1;
        }
        p += n + (comma ? 1 : 0);
    }
    size_t out = 0;
    for (size_t i = 0; i < s->n_limiters; i++) {
        if (keep[i]) s->limiters[out++] = s->limiters[i];
        else scn_limiter_free(&s->limiters[i]);   /* a chain or fleet left out */
    }
    if (out == 0) { snprintf(c->err, c->errlen, "--only: selects no limiter"); return -1; }
    s->n_limiters = out;
    return 0;
}

/* ---- the whole file --------------------------------------------------- */

static char *scn_read_file(scn_ctx *c, const char *path, size_t *len)
{
    char why[200];
    char *buf = fs_read_file(path, SCN_MAX_FILE_BYTES, len, NULL, why, sizeof why);
    if (!buf) snprintf(c->err, c->errlen, "%s: cannot read scenario: %s", path, why);
    return buf;
}

static int scn_syntax_error(scn_ctx *c, const char *text, size_t len, const char *at)
{
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : len;
    if (strlen(text) != len) off = strlen(text);   /* point at the NUL itself, not where cJSON gave up */
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') { line++; col = 1; } else col++;
    }
    if (strlen(text) != len)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: JSON syntax error: NUL byte in the file", c->file, line, col);
    else if (off >= len)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: JSON syntax error: unexpected end of file", c->file, line, col);
    else {
        /* cJSON stops where it gave up, often at a line's end: quote the line */
        size_t start = off - (col - 1);
        while (start < off && (text[start] == ' ' || text[start] == '\t')) start++;
        size_t n = strcspn(text + start, "\r\n");
        snprintf(c->err, c->errlen, "%s:%zu:%zu: JSON syntax error in '%.*s'%s", c->file, line, col,
                 (int)(n > 48 ? 48 : n), text + start, n > 48 ? "..." : "");
    }
    return -1;
}

/* s->max_cost: the largest cost the distribution or a trace can give a
 * request, which sizes the limiters' exact amounts. Always 0. */
static int scn_find_max_cost(scn_scenario *s)
{
    const scn_cost *c = &s->cost;
    uint32_t most = c->dist == SCN_COST_FIXED ? c->value : c->dist == SCN_COST_UNIFORM ? c->max : 1;
    for (size_t i = 0; c->dist == SCN_COST_WEIGHTED && i < c->n; i++)
        if (c->values[i] > most) most = c->values[i];
    for (size_t t = 0; t < s->n_traces; t++)
        for (size_t r = 0; s->traces[t].cost && r < s->traces[t].n; r++)
            if (s->traces[t].cost[r] > most) most = s->traces[t].cost[r];
    s->max_cost = most ? most : 1;
    return 0;
}

/* A \u0000 in a string would end it early wherever it is read (a key
 * prefix cut short, a name that is not the one written): refused with its
 * place. Only a backslash that is not itself escaped starts an escape. */
static int scn_nul_escape(scn_ctx *c, const char *text, size_t len)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < len; i++, col++) {
        if (text[i] == '\n') { line++; col = 0; continue; }
        if (text[i] != '\\') continue;
        if (i + 5 < len && text[i + 1] == 'u' && strncmp(text + i + 2, "0000", 4) == 0) {
            snprintf(c->err, c->errlen, "%s:%zu:%zu: a string holds \\u0000 (a NUL byte), which no name, prefix "
                     "or text may hold", c->file, line, col);
            return -1;
        }
        i++, col++;   /* the escaped character */
    }
    return 0;
}

/* After the downstream: whether one exists decides what p99_ms means and
 * whether overload_s can be a target. */
static int scn_targets_load(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    const char *spec;
    if (scn_string(c, root, "", "targets", 0, "", &spec) != 0) return -1;
    if (strlen(spec) >= sizeof s->targets) return scn_fail(c, "targets", "longer than %zu characters", sizeof s->targets - 1);
    tgt_targets t;
    char msg[256];
    if (tgt_parse(spec, s->downstream.present, &t, msg, sizeof msg) != 0) return scn_fail(c, "targets", "%s", msg);
    snprintf(s->targets, sizeof s->targets, "%s", spec);
    return 0;
}

static int scn_top(scn_ctx *c, const cJSON *root, scn_scenario *s)
{
    if (!cJSON_IsObject(root)) return scn_fail(c, "", "the top level must be an object, got %s", scn_type_name(root));
    static const char *const allowed[] = { "name", "description", "duration_s", "seed", "tick_ms", "arrival",
                                           "phases", "keys", "cost", "limiters", "downstream", "targets", "clients",
                                           "chains", "fleets", NULL };
    if (scn_check_fields(c, root, "", allowed, "a scenario") != 0) return -1;
    const char *name, *desc;
    if (scn_string(c, root, "", "name", 1, NULL, &name) != 0) return -1;
    if (!scn_identifier(name, 48))
        return scn_fail(c, "name", "'%.60s' must start with a letter and hold only letters, digits, _ and - (at most 47)", name);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (scn_string(c, root, "", "description", 0, "", &desc) != 0) return -1;
    if (!(s->description = strdup(desc))) return scn_fail(c, "description", "out of memory");
    if (scn_number(c, root, "", "duration_s", (scn_num){ 1, 0, 1e-3, SCN_MAX_DURATION_S, 0 }, &s->duration_s) != 0)
        return -1;
    s->duration_us = (int64_t)llround(s->duration_s * 1e6);
    double seed, tick;
    /* JSON numbers are doubles: above 2^53 - 1 a seed is not the one written */
    const cJSON *given_seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (cJSON_IsNumber(given_seed) && !(fabs(given_seed->valuedouble) <= 9007199254740991.0))
        return scn_fail(c, "seed", "must be a whole number from 0 to 2^53 - 1 (9007199254740991), the largest a JSON "
                                   "number holds exactly; got about %.17g", given_seed->valuedouble);
    if (scn_number(c, root, "", "seed", (scn_num){ 0, 1, 0, 9007199254740991.0, 1 }, &seed) != 0) return -1;
    s->seed = (uint64_t)seed;
    if (scn_number(c, root, "", "tick_ms", (scn_num){ 0, 100, 1, SCN_MAX_DURATION_S * 1000, 1 }, &tick) != 0) return -1;
    s->tick_us = (int64_t)tick * 1000;
    if ((double)s->duration_us / (double)s->tick_us > SCN_MAX_TICKS)
        return scn_fail(c, "tick_ms", "%.0f ms over %.15g s gives more than %.0f ticks", tick, s->duration_s, SCN_MAX_TICKS);
    static const char *const arrivals[] = { "poisson", "uniform", NULL };
    int arrival;
    if (scn_choice(c, root, "", "arrival", arrivals, SCN_POISSON, &arrival) != 0) return -1;
    s->arrival = (scn_arrival)arrival;
    return 0;
}

/* The busiest key: a generated key unless every phase replays a trace with
 * keys, then that trace's most frequent key. */
static void scn_pick_level_key(scn_scenario *s)
{
    s->level_key = 0;
    for (size_t i = 0; i < s->n_phases; i++)
        if (s->phases[i].shape != SCN_TRACE || !s->traces[s->phases[i].trace].key) return;
    const trace *t = &s->traces[s->phases[0].trace];
    size_t n = kspace_count(s->keys);
    uint32_t *freq = calloc(n, sizeof *freq);
    if (!freq) return;
    uint32_t best = t->key[0];
    for (size_t r = 0; r < t->n; r++)
        if (++freq[t->key[r]] > freq[best] || (freq[t->key[r]] == freq[best] && t->key[r] < best)) best = t->key[r];
    free(freq);
    s->level_key = best;
}

int scn_load(const char *path, const scn_options *opt, scn_scenario *s, char *err, size_t errlen)
{
    static const scn_options none = { 0 };
    if (!opt) opt = &none;
    memset(s, 0, sizeof *s);
    scn_ctx c = { .file = path, .err = err, .errlen = errlen };
    size_t len;
    char *text = scn_read_file(&c, path, &len);
    if (!text) return -1;
    s->file_hash = ks_hash(text, len);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    int rc = -1;
    if (!root || strlen(text) != len) {
        scn_syntax_error(&c, text, len, end);
        goto out;
    }
    if (scn_nul_escape(&c, text, len) != 0) goto out;
    if (!(s->path = strdup(path)) || !(s->keys = kspace_create())) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    if (cJSON_IsObject(root) && scn_apply_sets(&c, root, opt) != 0) goto out;
    if (scn_top(&c, root, s) != 0 || scn_keys(&c, root, s) != 0 || scn_cost_load(&c, root, s) != 0 ||
        scn_phases(&c, root, s) != 0 || scn_number_keys(&c, s) != 0 || scn_find_max_cost(s) != 0 ||
        scn_limiters(&c, root, s) != 0 ||
        scn_downstream_load(&c, root, s) != 0)
        goto out;
    if (scn_targets_load(&c, root, s) != 0 || scn_clients(&c, root, s) != 0 ||
        scn_more_entries(&c, root, s, "chains", scn_chain_load) != 0 ||
        scn_more_entries(&c, root, s, "fleets", scn_fleet_load) != 0)
        goto out;
    if (opt->only && scn_apply_only(&c, s, opt->only) != 0) goto out;
    scn_pick_level_key(s);
    rc = 0;
out:
    cJSON_Delete(root);
    free(text);
    if (rc != 0) scn_free(s);
    return rc;
}

void scn_free(scn_scenario *s)
{
    for (size_t i = 0; i < s->n_traces; i++) {
        trace_free(&s->traces[i]);
        free(s->trace_paths[i]);
    }
    free(s->traces);
    free(s->trace_paths);
    free(s->phases);
    for (size_t i = 0; i < s->n_limiters; i++) scn_limiter_free(&s->limiters[i]);
    free(s->limiters);
    free(s->description);
    free(s->path);
    kspace_destroy(s->keys);
    memset(s, 0, sizeof *s);
}

size_t scn_tick_count(const scn_scenario *s)
{
    return (size_t)((s->duration_us + s->tick_us - 1) / s->tick_us);
}
