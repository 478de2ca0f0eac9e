/* runner.c -- see runner.h. */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decisions.h"
#include "oracle.h"

#define RUN_MAX_BATCH 1024

int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_backend *b,
                const run_options *opt, run_result *out, char *err, size_t errlen)
{
    if (l->ops->kind == LIM_KIND_QUEUE) {
        if (!b->queue) {
            snprintf(err, errlen, "%s: the %s backend cannot run a queue", l->name, b->name);
            return -1;
        }
        return b->queue(b->ctx, s, g, l, out, err, errlen);
    }
    memset(out, 0, sizeof *out);
    out->limiter = l;
    out->backend = b->name;
    size_t n_ticks = scn_tick_count(s);
    size_t batch = b->batch < 1 ? 1 : b->batch > RUN_MAX_BATCH ? RUN_MAX_BATCH : b->batch;
    /* Everything that can fail comes before begin(), so that once a backend
     * has begun, end() always runs (it deletes Redis keys, frees state). */
    gen_request *reqs = malloc(batch * sizeof *reqs);
    lim_decision *dec = malloc(batch * sizeof *dec);
    size_t n_keys = l->global ? 1 : kspace_count(s->keys);
    orc_check *check = orc_check_create(l, n_keys);
    /* up to 1M queued releases pending at once; more are served a little early, and counted */
    dsm *down = s->downstream.present ? dsm_create(&s->downstream, s->seed, s->duration_us, 1 << 20) : NULL;
    int series = met_init(&out->series, n_ticks, s->tick_us, s->duration_us) == 0;
    if (!reqs || !dec || !check || (s->downstream.present && !down) || !series) {
        snprintf(err, errlen, "%s: out of memory for %zu ticks of metrics, the oracle or the downstream model",
                 l->name, n_ticks);
        goto fail;
    }
    if (b->begin(b->ctx, s, l, err, errlen) != 0) goto fail;
    met_series *m = &out->series;
    uint32_t level_key = l->global ? 0 : s->level_key;

    gen_rewind(g);
    size_t tick = 0;
    int64_t tick_end = s->tick_us < s->duration_us ? s->tick_us : s->duration_us;
    gen_request next;
    int have = 0, rc = 0;
    uint64_t decided = 0;
    int64_t started = clk_mono_ns();
    for (;;) {
        size_t n = 0;
        while (n < batch) {
            if (!have && !(have = gen_next(g, &next))) break;
            if (next.t_us >= tick_end && tick + 1 < n_ticks) break;
            reqs[n++] = next;
            have = 0;
        }
        if (n > 0) {
            if (b->decide(b->ctx, reqs, n, dec, m, err, errlen) != 0) { rc = -1; break; }
            for (size_t i = 0; i < n; i++) {
                met_record(m, tick, reqs[i].t_us, reqs[i].cost, &dec[i]);
                orc_check_add(check, l->global ? 0 : reqs[i].key, reqs[i].t_us, reqs[i].cost, &dec[i]);
                if (down && dec[i].allowed) dsm_admit(down, reqs[i].t_us, dec[i].delay_us);
                if (opt->log)
                    dlog_write(opt->log, reqs[i].t_us, l->global ? "global" : kspace_name(s->keys, reqs[i].key),
                               reqs[i].cost, &dec[i]);
            }
            uint64_t before = decided;
            decided += n;
            if (before >> 12 != decided >> 12) {
                if (opt->progress) opt->progress(opt->progress_ctx, (double)reqs[n - 1].t_us / (double)s->duration_us);
                if (opt->stop && opt->stop(opt->progress_ctx)) {
                    snprintf(err, errlen, "%s: interrupted", l->name);
                    rc = -1;
                    break;
                }
            }
        } else if (have) {
            met_close_tick(m, tick, b->level(b->ctx, level_key, tick_end));
            tick++;
            tick_end += s->tick_us;
            if (tick_end > s->duration_us) tick_end = s->duration_us;
        } else {
            break;
        }
    }
    if (rc == 0 && gen_stopped(g)) {
        snprintf(err, errlen, "%s: interrupted", l->name);
        rc = -1;
    }
    for (; rc == 0 && tick < n_ticks; tick++) {
        met_close_tick(m, tick, b->level(b->ctx, level_key, tick_end));
        tick_end += s->tick_us;
        if (tick_end > s->duration_us) tick_end = s->duration_us;
    }
    int64_t ended = clk_mono_ns();
    met_summarize(m, &out->summary);
    out->summary.wall_s = (double)(ended - started) / 1e9;
    b->end(b->ctx, &out->summary, out->note, sizeof out->note);
    if (down) {
        dsm_finish(down, &out->downstream);
        dsm_destroy(down);
        out->has_downstream = 1;
        out->overload_s = dsm_overload_seconds(&s->downstream, m->second_released, m->n_seconds);
    }
    orc_check_report(check, &out->oracle);
    orc_conservation(&out->oracle, out->summary.offered, out->summary.admitted, out->summary.dropped);
    out->summary.over_admitted = out->oracle.over_admitted;
    orc_check_destroy(check);
    free(reqs);
    free(dec);
    if (rc != 0) met_free(&out->series);
    return rc;
fail:
    dsm_destroy(down);
    orc_check_destroy(check);
    if (series) met_free(&out->series);
    free(reqs);
    free(dec);
    return -1;
}

void run_result_free(run_result *r)
{
    met_free(&r->series);
    free(r->queue.series);
    r->queue.series = NULL;
    free(r->queue.faults);
    r->queue.faults = NULL;
}
