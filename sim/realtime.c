/* realtime.c -- see realtime.h. */
#define _GNU_SOURCE
#include "realtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "pass.h"

typedef struct {
    const scn_limiter *l;
    const rt_options *o;
    const gen_request *reqs;
    size_t n;
    lim_decision *dec;
    int64_t *at_us;            /* time the limiter decided at */
    int64_t *latency_ns;       /* from the scheduled time */
    unsigned char *failed;
    int64_t start_ns;          /* monotonic time of virtual 0 */
    _Atomic int stop;
} rt_shared;

typedef struct {
    rt_shared *sh;
    bred_client *client;
    unsigned index;
    int64_t skew_us;
    uint64_t errors;
} rt_client;

/* The scenario's time now, in microseconds: wall time since virtual 0,
 * times the speed. */
static int64_t rt_scenario_us(const rt_shared *sh)
{
    return (int64_t)((double)(clk_mono_ns() - sh->start_ns) / 1000.0 * sh->o->speed);
}

/* Sleeps until mono_ns in slices of at most 100 ms; 0 when stop was set. */
static int rt_sleep_unless_stopped(int64_t mono_ns, _Atomic int *stop)
{
    for (;;) {
        if (atomic_load(stop)) return 0;
        int64_t now = clk_mono_ns();
        if (now >= mono_ns) return 1;
        clk_sleep_until_ns(mono_ns - now > 100000000 ? now + 100000000 : mono_ns);
    }
}

/* Monotonic time at which virtual time t_us is due. */
static int64_t rt_due(const rt_shared *sh, int64_t t_us)
{
    return sh->start_ns + (int64_t)((double)t_us * 1000.0 / sh->o->speed);
}

static void *rt_client_main(void *arg)
{
    rt_client *c = arg;
    rt_shared *sh = c->sh;
    unsigned stride = sh->o->clients;
    for (size_t k = c->index; k < sh->n && !atomic_load(&sh->stop); k += stride) {
        const gen_request *q = &sh->reqs[k];
        int64_t due = rt_due(sh, q->t_us);
        if (!rt_sleep_unless_stopped(due, &sh->stop)) break;
        int64_t now_us = sh->o->server_clock ? -1 : rt_scenario_us(sh) + c->skew_us;
        uint32_t key = sh->l->global ? 0 : q->key;
        if (bred_client_decide(c->client, key, now_us, q->cost, &sh->dec[k], &sh->at_us[k]) != 0) {
            sh->dec[k] = (lim_decision){ sh->o->on_error_allow, 0, 0, 0 };
            sh->failed[k] = 1;
            c->errors++;
        }
        sh->latency_ns[k] = clk_mono_ns() - due;
    }
    return NULL;
}

typedef struct {
    size_t i;
    const int64_t *at;
} rt_order;

static int rt_by_time(const void *a, const void *b)
{
    const rt_order *x = a, *y = b;
    int64_t p = x->at[x->i], q = y->at[y->i];
    int by_time = (p > q) - (p < q);
    return by_time ? by_time : (x->i > y->i) - (x->i < y->i);
}

int rt_run(const scn_scenario *s, gen *g, const scn_limiter *l, bred *r, const run_backend *b,
           const rt_options *o, const run_options *ropt, run_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);   /* a failure before the recorder opens still leaves a clean note */
    rt_shared sh = { .l = l, .o = o };
    size_t cap = 1 << 16;
    gen_request *reqs = malloc(cap * sizeof *reqs);
    gen_rewind(g);
    for (gen_request q; reqs && gen_next(g, &q);) {
        if (sh.n == RT_MAX_REQUESTS) {
            snprintf(err, errlen, "%s: realtime mode replays at most %d requests", l->name, RT_MAX_REQUESTS);
            free(reqs);
            return -1;
        }
        if (sh.n == cap) {
            gen_request *bigger = realloc(reqs, (cap *= 2) * sizeof *reqs);
            if (!bigger) { free(reqs); reqs = NULL; break; }
            reqs = bigger;
        }
        reqs[sh.n++] = q;
    }
    if (gen_stopped(g)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        free(reqs);
        return -1;
    }
    size_t n = sh.n, n_ticks = scn_tick_count(s);
    sh.reqs = reqs;
    sh.dec = calloc(n + 1, sizeof *sh.dec);
    sh.at_us = calloc(n + 1, sizeof *sh.at_us);
    sh.latency_ns = calloc(n + 1, sizeof *sh.latency_ns);
    sh.failed = calloc(n + 1, 1);
    int64_t *levels = calloc(n_ticks, sizeof *levels);
    rt_client *clients = calloc(o->clients, sizeof *clients);
    pthread_t *threads = calloc(o->clients, sizeof *threads);
    int rc = -1;
    unsigned started = 0;
    int begun = 0;
    if (!reqs || !sh.dec || !sh.at_us || !sh.latency_ns || !sh.failed || !levels || !clients || !threads) {
        snprintf(err, errlen, "%s: out of memory for %zu requests", l->name, n);
        goto done;
    }
    if (b->begin(b->ctx, s, l, err, errlen) != 0) goto done;
    begun = 1;
    for (unsigned i = 0; i < o->clients; i++) {
        clients[i].sh = &sh;
        clients[i].index = i;
        /* a skew is a wall-clock offset: on the scenario's clock it scales with the speed */
        double skew_ms = o->clients > 1 ? -o->skew_ms + 2 * o->skew_ms * i / (o->clients - 1) : o->skew_ms;
        clients[i].skew_us = (int64_t)(skew_ms * 1000 * o->speed);
        if (!(clients[i].client = bred_client_open(r, err, errlen))) goto done;
    }
    sh.start_ns = clk_mono_ns() + 50000000;   /* every client connected; start together */
    int64_t wall_started = clk_mono_ns();
    for (; started < o->clients; started++)
        if (pthread_create(&threads[started], NULL, rt_client_main, &clients[started]) != 0) {
            snprintf(err, errlen, "%s: cannot start client thread %u", l->name, started);
            atomic_store(&sh.stop, 1);
            goto join;
        }
    uint32_t level_key = l->global ? 0 : s->level_key;
    for (size_t t = 0; t < n_ticks; t++) {
        int64_t end_us = (int64_t)(t + 1) * s->tick_us < s->duration_us ? (int64_t)(t + 1) * s->tick_us : s->duration_us;
        int64_t due = rt_due(&sh, end_us);
        while (clk_mono_ns() < due && !(ropt->stop && ropt->stop(ropt->progress_ctx)))
            clk_sleep_until_ns(due - clk_mono_ns() > 100000000 ? clk_mono_ns() + 100000000 : due);
        levels[t] = b->level(b->ctx, level_key, o->server_clock ? -1 : rt_scenario_us(&sh));
        if (ropt->progress) ropt->progress(ropt->progress_ctx, (double)end_us / (double)s->duration_us);
        if (ropt->stop && ropt->stop(ropt->progress_ctx)) {
            atomic_store(&sh.stop, 1);
            snprintf(err, errlen, "%s: interrupted", l->name);
            break;
        }
    }
join:
    for (unsigned i = 0; i < started; i++) pthread_join(threads[i], NULL);
    int64_t wall_ended = clk_mono_ns();
    uint64_t errors = 0;
    for (unsigned i = 0; i < o->clients; i++) errors += clients[i].errors;
    bred_add_errors(r, errors);
    if (atomic_load(&sh.stop)) goto done;

    /* Metrics in arrival order, each latency in its request's tick. */
    pass *p = pass_open(s, l, "redis", ropt->log, out, err, errlen);
    rt_order *order = malloc(n * sizeof *order + 1);
    if (!p || !order) {
        if (p) snprintf(err, errlen, "%s: out of memory for the oracle's order", l->name);
        pass_abort(p);
        free(order);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        while (!pass_in_tick(p, reqs[k].t_us)) pass_close_tick(p, levels[n_ticks - pass_ticks_left(p)]);
        pass_count(p, &reqs[k], &sh.dec[k]);
        pass_single_attempt(p, &reqs[k], &sh.dec[k]);   /* realtime clients do not retry (yet) */
        pass_latency(p, sh.latency_ns[k]);
    }
    while (pass_ticks_left(p)) pass_close_tick(p, levels[n_ticks - pass_ticks_left(p)]);

    /* The oracle, on the times the limiter decided at, in their order. */
    for (size_t k = 0; k < n; k++) order[k] = (rt_order){ k, sh.at_us };
    qsort(order, n, sizeof *order, rt_by_time);
    for (size_t j = 0; j < n; j++) {
        size_t k = order[j].i;
        if (sh.failed[k]) pass_unanswered(p, &sh.dec[k]);
        else pass_judge(p, &reqs[k], sh.at_us[k], &sh.dec[k]);
    }
    free(order);
    run_backend_report said;
    b->end(b->ctx, &said, out->note, sizeof out->note);
    begun = 0;
    /* The server's TIME follows execution; client clocks may reach it out
     * of their order (pass.h). */
    pass_finish(p, (double)(wall_ended - wall_started) / 1e9, o->server_clock, &said);
    rc = 0;
done:
    if (begun) {
        run_backend_report ignored;
        b->end(b->ctx, &ignored, out->note, sizeof out->note);  /* still delete the keys */
    }
    for (unsigned i = 0; clients && i < o->clients; i++) bred_client_close(clients[i].client);
    free(clients);
    free(threads);
    free(levels);
    free(sh.dec);
    free(sh.at_us);
    free(sh.latency_ns);
    free(sh.failed);
    free(reqs);
    return rc;
}
