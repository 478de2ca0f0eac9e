/* generator.c -- see generator.h. */
#include "generator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/hugemem.h"
#include "rng.h"

#define GEN_PI 3.14159265358979323846
#define GEN_KEYS_AHEAD 64   /* a power of two */

/* One column of the alias table: keep the column when the draw's low 32
 * bits are below threshold, else take alias. Interleaved, so a draw reads
 * one 8-byte entry. */
typedef struct {
    uint32_t threshold, alias;
} gen_zipf_column;

struct gen {
    const scn_scenario *s;
    rng arrivals, keys, costs;
    rng_zig zig;              /* the exponential's tables */
    gen_zipf_column *zipf;    /* Zipf: Vose alias table over the generated keys */
    /* Zipf: the key stream's next draws, taken GEN_KEYS_AHEAD/2 at a time
     * with their columns prefetched, so a column is read 32 to 64 draws
     * after its prefetch (1M keys: an 8 MB table, read at random) */
    uint64_t ahead[GEN_KEYS_AHEAD];
    unsigned ahead_first, ahead_count;

    size_t phase;             /* current phase; n_phases at the end */
    int in_phase;             /* the phase's first step or row has been set up */
    double exposure;          /* exposure still to spend before the next arrival */
    double pos_us;            /* synthetic: where in the current step we are */
    double step_end_us;
    double step_rate;         /* arrivals per microsecond in the current step */
    size_t row;               /* trace: next row */
    int (*stop)(void *);      /* polled while steps produce no request */
    void *stop_ctx;
    uint16_t empty_steps;       /* wraps: the hook is polled every 65536 empty steps */
    int stopped;
};

/* The exposure until the next arrival, from the arrival stream `arrivals`. */
static inline __attribute__((always_inline)) double gen_draw_exposure(const gen *g, rng *arrivals)
{
    return g->s->arrival == SCN_POISSON ? rng_exp_zig(arrivals, &g->zig) : 1.0;
}

/* Vose's alias method (M. D. Vose, IEEE TSE 17(9), 1991) over weights
 * 1/rank^exponent: O(1) per draw with one 64-bit random number. */
static int gen_build_zipf(gen *g)
{
    uint32_t n = g->s->key_count;
    double *p = malloc(n * sizeof *p);
    uint32_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
    g->zipf = hmem_alloc(n * sizeof *g->zipf);   /* read at random: huge pages */
    int ok = p && small && large && g->zipf;
    if (ok) {
        double total = 0;
        for (uint32_t i = 0; i < n; i++) total += p[i] = pow((double)i + 1, -g->s->zipf_exponent);
        uint32_t ns = 0, nl = 0;
        for (uint32_t i = 0; i < n; i++) {
            p[i] *= (double)n / total;
            if (p[i] < 1.0) small[ns++] = i; else large[nl++] = i;
        }
        while (ns && nl) {
            uint32_t s = small[--ns], l = large[nl - 1];
            g->zipf[s] = (gen_zipf_column){ (uint32_t)fmin(p[s] * 4294967296.0, 4294967295.0), l };
            p[l] -= 1.0 - p[s];
            if (p[l] < 1.0) { nl--; small[ns++] = l; }
        }
        /* what is left is 1 up to rounding: always keep the column */
        while (nl) { uint32_t l = large[--nl]; g->zipf[l] = (gen_zipf_column){ UINT32_MAX, l }; }
        while (ns) { uint32_t s = small[--ns]; g->zipf[s] = (gen_zipf_column){ UINT32_MAX, s }; }
    }
    free(p);
    free(small);
    free(large);
    return ok ? 0 : -1;
}

gen *gen_create(const scn_scenario *s)
{
    gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->s = s;
    rng_zig_init(&g->zig);
    if (s->key_dist == SCN_KEYS_ZIPF && s->key_count > 1 && gen_build_zipf(g) != 0) {
        gen_destroy(g);
        return NULL;
    }
    gen_rewind(g);
    return g;
}

void gen_destroy(gen *g)
{
    if (!g) return;
    hmem_free(g->zipf, g->s->key_count * sizeof *g->zipf);
    free(g);
}

void gen_rewind(gen *g)
{
    rng_seed(&g->arrivals, g->s->seed, 1);
    rng_seed(&g->keys, g->s->seed, 2);
    rng_seed(&g->costs, g->s->seed, 3);
    g->phase = 0;
    g->in_phase = 0;
    g->row = 0;
    g->empty_steps = 0;
    g->stopped = 0;
    g->ahead_first = g->ahead_count = 0;
    g->exposure = gen_draw_exposure(g, &g->arrivals);
}

static uint32_t gen_zipf_column_of(uint64_t u, uint32_t n) { return (uint32_t)(((u >> 32) * n) >> 32); }

/* Half a ring of draws more, their columns prefetched. */
static void gen_draw_keys_ahead(gen *g)
{
    uint32_t n = g->s->key_count;
    for (unsigned i = 0; i < GEN_KEYS_AHEAD / 2; i++) {
        uint64_t u = rng_next(&g->keys);
        g->ahead[(g->ahead_first + g->ahead_count++) & (GEN_KEYS_AHEAD - 1)] = u;
        __builtin_prefetch(&g->zipf[gen_zipf_column_of(u, n)]);
    }
}

static inline __attribute__((always_inline)) uint32_t gen_key(gen *g)
{
    uint32_t n = g->s->key_count;
    if (n == 1) return 0;
    if (!g->zipf) return (uint32_t)rng_below(&g->keys, n);
    while (g->ahead_count <= GEN_KEYS_AHEAD / 2) gen_draw_keys_ahead(g);
    uint64_t u = g->ahead[g->ahead_first];
    g->ahead_first = (g->ahead_first + 1) & (GEN_KEYS_AHEAD - 1);
    g->ahead_count--;
    const gen_zipf_column *c = &g->zipf[gen_zipf_column_of(u, n)];
    return (uint32_t)u < c->threshold ? gen_zipf_column_of(u, n) : c->alias;
}

static inline __attribute__((always_inline)) uint32_t gen_cost(gen *g)
{
    const scn_cost *c = &g->s->cost;
    switch (c->dist) {
    case SCN_COST_FIXED: return c->value;
    case SCN_COST_UNIFORM: return c->min + (uint32_t)rng_below(&g->costs, (uint64_t)c->max - c->min + 1);
    case SCN_COST_WEIGHTED: {
        double u = rng_uniform(&g->costs);
        for (size_t i = 0; i + 1 < c->n; i++) {
            if (u < c->weights[i]) return c->values[i];
            u -= c->weights[i];
        }
        return c->values[c->n - 1];
    }
    }
    return 1;
}

static double gen_us(double s) { return s * 1e6; }

double gen_expected(const scn_phase *ph, double a, double b)
{
    double S = gen_us(ph->start_s), E = gen_us(ph->end_s);
    double dt = (b - a) / 1e6;
    switch (ph->shape) {
    case SCN_CONSTANT: return ph->rate * dt;
    case SCN_RAMP: {
        double mid = (a + b) / 2;
        return (ph->from + (ph->to - ph->from) * (mid - S) / (E - S)) * dt;
    }
    case SCN_BURST: {
        /* only called within one on or off segment */
        double period = gen_us(ph->period_s), into = fmod((a + b) / 2 - S, period);
        return (into < gen_us(ph->on_s) ? ph->peak : ph->base) * dt;
    }
    case SCN_SPIKE: {
        double t0 = S + gen_us(ph->hold_s);
        if (b <= t0) return ph->peak * dt;
        double tau = gen_us(ph->decay_s), lo = fmax(a, t0);
        double decay = (ph->peak - ph->base) * tau * (exp(-(lo - t0) / tau) - exp(-(b - t0) / tau)) / 1e6;
        return ph->peak * (lo - a) / 1e6 + ph->base * (b - lo) / 1e6 + decay;
    }
    case SCN_SINE: {
        double w = 2 * GEN_PI / gen_us(ph->period_s);
        return ph->mean * dt + ph->amplitude * (cos(w * (a - S)) - cos(w * (b - S))) / w / 1e6;
    }
    case SCN_TRACE: return 0;
    }
    return 0;
}

/* Where the step starting at a_us ends: a rate change, or a step length. */
static double gen_step_end(const scn_phase *ph, double a)
{
    double S = gen_us(ph->start_s), E = gen_us(ph->end_s), step = 0;
    switch (ph->shape) {
    case SCN_CONSTANT: return E;
    case SCN_BURST: {
        double period = gen_us(ph->period_s), on = gen_us(ph->on_s);
        double cycle = S + floor((a - S) / period) * period;
        double next = a < cycle + on ? cycle + on : cycle + period;
        if (next <= a) next = a + 1;  /* rounding at a boundary: move on */
        return fmin(next, E);
    }
    case SCN_RAMP: step = (E - S) / 2000; break;
    case SCN_SPIKE: {
        double t0 = S + gen_us(ph->hold_s);
        if (a < t0) return fmin(t0, E);
        step = gen_us(ph->decay_s) / 2000;
        break;
    }
    case SCN_SINE: step = gen_us(ph->period_s) / 2000; break;
    case SCN_TRACE: return E;
    }
    return fmin(a + fmax(step, 1000.0), E);
}

static void gen_set_step(gen *g, const scn_phase *ph, double a)
{
    g->pos_us = a;
    g->step_end_us = gen_step_end(ph, a);
    double len = g->step_end_us - a;
    g->step_rate = len > 0 ? fmax(0, gen_expected(ph, a, g->step_end_us) / len) : 0;
}

/* Uniform arrivals: how far below a whole microsecond a position still
 * counts as it. Far above the doubles' error accumulated over a day of
 * arrivals (the ulp at 2^37 us is 2^-15 us), far below a microsecond.
 * Poisson arrivals are truncated as they fall: no exact time to miss. */
#define GEN_SNAP_US 1e-3

/* Up to max arrivals of synthetic phase ph into out; *ended when the phase
 * has no more. The position, the exposure and the arrival stream's state
 * live in locals over the run: out's stores cannot then alias them, and
 * the compiler keeps them in registers from one arrival to the next. */
static size_t gen_synthetic(gen *g, const scn_phase *ph, gen_request *restrict out, size_t max, int *ended)
{
    if (!g->in_phase) {
        gen_set_step(g, ph, gen_us(ph->start_s));
        g->in_phase = 1;
    }
    size_t n = 0;
    rng arrivals = g->arrivals;
    double pos = g->pos_us, exposure = g->exposure, rate = g->step_rate, end = g->step_end_us;
    const double snap = g->s->arrival == SCN_POISSON ? 0 : GEN_SNAP_US;
    *ended = 0;
    while (n < max) {
        double room = rate * (end - pos);
        /* a whole microsecond the doubles missed by a rounding error is that
         * microsecond: 10/s lands at 100000, not 99999 (1/rate is
         * 99999.99999999999 as a double); one that lands on the step's end
         * belongs to what follows it */
        if (exposure <= room && rate > 0 && (snap == 0 || (double)(int64_t)(pos + exposure / rate + snap) < end)) {
            pos += exposure / rate;
            if (pos >= end) pos = nextafter(end, 0);
            exposure = gen_draw_exposure(g, &arrivals);
            out[n].t_us = (int64_t)(pos + snap);
            out[n].key = gen_key(g);
            out[n].cost = gen_cost(g);
            n++;
            continue;
        }
        exposure -= room;
        if (end >= gen_us(ph->end_s)) {
            *ended = 1;
            break;
        }
        /* a long silence (tiny burst segments, a near-zero rate) is many
         * steps without a request: let an interrupt end it */
        if (++g->empty_steps == 0 && g->stop && g->stop(g->stop_ctx)) {
            g->stopped = 1;
            *ended = 1;
            break;
        }
        gen_set_step(g, ph, end);
        pos = g->pos_us;
        rate = g->step_rate;
        end = g->step_end_us;
    }
    g->arrivals = arrivals;
    g->pos_us = pos;
    g->exposure = exposure;
    return n;
}

static int gen_trace(gen *g, const scn_phase *ph, gen_request *out)
{
    const trace *t = &g->s->traces[ph->trace];
    int64_t skip = llround(gen_us(ph->skip_s)), start = llround(gen_us(ph->start_s)), end = llround(gen_us(ph->end_s));
    if (!g->in_phase) {
        g->row = 0;
        while (g->row < t->n && t->t_us[g->row] < skip) g->row++;
        g->in_phase = 1;
    }
    if (g->row >= t->n) return 0;
    /* start + floor((t - skip) / time_scale), in integers: exact, and the
     * one rounding every backend and the oracle see */
    __int128 scaled = (__int128)(t->t_us[g->row] - skip) * ph->scale_den / ph->scale_num;
    int64_t at = start + (int64_t)scaled;
    if (at >= end) return 0;
    out->t_us = at;
    out->key = t->key ? t->key[g->row] : gen_key(g);
    out->cost = t->cost ? t->cost[g->row] : gen_cost(g);
    g->row++;
    return 1;
}

void gen_set_stop(gen *g, int (*stop)(void *), void *ctx)
{
    g->stop = stop;
    g->stop_ctx = ctx;
}

int gen_stopped(const gen *g) { return g->stopped; }

size_t gen_fill(gen *g, gen_request *restrict out, size_t max)
{
    size_t n = 0;
    while (n < max && g->phase < g->s->n_phases && !g->stopped) {
        const scn_phase *ph = &g->s->phases[g->phase];
        int ended;
        if (ph->shape == SCN_TRACE) {
            ended = !gen_trace(g, ph, &out[n]);
            n += !ended;
        } else {
            n += gen_synthetic(g, ph, out + n, max - n, &ended);
        }
        if (ended) {
            g->phase++;
            g->in_phase = 0;
        }
    }
    return n;
}

int gen_next(gen *g, gen_request *out) { return gen_fill(g, out, 1) == 1; }
