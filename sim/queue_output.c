/* queue_output.c -- see queue_output.h. */
#include "queue_output.h"

#include <string.h>

void qout_summary_header(FILE *f)
{
    fputs(",queue_produced,queue_succeeded,queue_dead_lettered,queue_still_queued,queue_lost,queue_deliveries,"
          "queue_retries,queue_duplicates,queue_reaped,queue_max_len,queue_max_processing,queue_block_max_us,"
          "queue_drained_s,queue_durability,queue_msgs_per_s_durable,queue_msgs_per_s_no_aof,queue_consumer_kills,"
          "queue_server_restarts", f);
}

void qout_summary_fields(FILE *f, const run_result *r)
{
    if (!r->queue) {
        fputs(",,,,,,,,,,,,,,,,,,", f);
        return;
    }
    const run_queue_result *q = r->queue;
    const qm_report *p = &q->report;
    fprintf(f, ",%llu,%llu,%llu,%llu,%lld,%llu,%llu,%llu,%llu,%llu,%llu,%lld,%.3f,%s,",
            (unsigned long long)p->produced, (unsigned long long)p->succeeded, (unsigned long long)p->dead_lettered,
            (unsigned long long)p->still_queued, (long long)p->lost, (unsigned long long)p->deliveries,
            (unsigned long long)p->retries, (unsigned long long)p->duplicates, (unsigned long long)q->reaped,
            (unsigned long long)p->max_queue_len, (unsigned long long)p->max_processing, (long long)p->block_max_us,
            (double)p->drained_at_us / 1e6, strcmp(q->durability, "n/a") == 0 ? "" : q->durability);
    /* empty: not measured (in memory, or on a server ratelab did not start) */
    if (q->msgs_per_s_durable > 0 && q->msgs_per_s_volatile > 0)
        fprintf(f, "%.0f,%.0f", q->msgs_per_s_durable, q->msgs_per_s_volatile);
    else
        fputc(',', f);
    fprintf(f, ",%llu,%llu", (unsigned long long)q->consumer_kills, (unsigned long long)q->server_restarts);
}

int qout_any(const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].queue) return 1;
    return 0;
}

void qout_series_csv(FILE *f, const run_result *r, size_t n)
{
    fputs("limiter,backend,t_s,queued,processing,blocked,arrived,rejected,delivered,succeeded,dead_lettered,"
          "e2e_p50_us,e2e_p99_us,e2e_max_us\n", f);
    for (size_t i = 0; i < n; i++) {
        if (!r[i].queue) continue;
        for (size_t t = 0; t < r[i].series.n_ticks; t++) {
            const qm_tick *k = &r[i].queue->series[t];
            int64_t at_ms = (int64_t)t * (r[i].series.tick_us / 1000);
            fprintf(f, "%s,%s,%lld.%03lld,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%lld,%lld,%lld\n",
                    r[i].limiter->name, r[i].backend, (long long)(at_ms / 1000), (long long)(at_ms % 1000),
                    (unsigned long long)k->queued, (unsigned long long)k->processing, (unsigned long long)k->blocked,
                    (unsigned long long)k->arrived, (unsigned long long)k->rejected,
                    (unsigned long long)k->delivered, (unsigned long long)k->succeeded,
                    (unsigned long long)k->dead_lettered, (long long)k->e2e_p50_us, (long long)k->e2e_p99_us,
                    (long long)k->e2e_max_us);
        }
    }
}

void qout_print(FILE *f, const run_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!r[i].queue) continue;
        const run_queue_result *q = r[i].queue;
        const qm_report *p = &q->report;
        fprintf(f, "queue %s (%s): %llu produced = %llu succeeded + %llu dead-lettered + %llu still queued + %llu "
                   "rejected + %lld lost; %llu deliveries, %llu retries, %llu duplicates; peak %llu/s in, %llu/s "
                   "delivered; e2e p50 %.1f ms, p99 %.1f ms; most waiting %llu; drained at %.2f s\n",
                r[i].limiter->name, r[i].backend, (unsigned long long)p->produced, (unsigned long long)p->succeeded,
                (unsigned long long)p->dead_lettered, (unsigned long long)p->still_queued,
                (unsigned long long)p->rejected, (long long)p->lost, (unsigned long long)p->deliveries,
                (unsigned long long)p->retries, (unsigned long long)p->duplicates,
                (unsigned long long)p->peak_offered_rps, (unsigned long long)p->peak_delivered_rps,
                (double)p->e2e_p50_us / 1e3, (double)p->e2e_p99_us / 1e3, (unsigned long long)p->max_queue_len,
                (double)p->drained_at_us / 1e6);
        if (strcmp(r[i].backend, "memory") != 0)
            fprintf(f, "queue %s (%s): producer lag behind the schedule p99 %.1f ms, max %.1f ms%s%s%s\n",
                    r[i].limiter->name, r[i].backend, (double)q->lag_p99_us / 1e3, (double)q->lag_max_us / 1e3,
                    q->server_refused ? "; " : "", q->server_refused ? "messages refused by the server: " : "",
                    q->server_refused ? "see above" : "");
        if (q->has_effects)
            fprintf(f, "queue %s (%s): effects: %llu applied exactly once, %llu duplicate(s) suppressed, %llu "
                       "balance(s) compensated to their log, %llu key(s) off the succeeded messages' costs%s%s\n",
                    r[i].limiter->name, r[i].backend, (unsigned long long)q->effects_applied,
                    (unsigned long long)q->effects_suppressed, (unsigned long long)q->effects_compensated,
                    (unsigned long long)q->effects_wrong, q->effects_wrong ? "; first: " : "",
                    q->effects_wrong ? q->effects_first_wrong : "");
        for (uint32_t k = 0; k < q->n_faults; k++) {
            const run_queue_fault *x = &q->faults[k];
            char what[48], held[48] = "";
            if (x->is_restart) snprintf(what, sizeof what, "server restart");
            else {
                snprintf(what, sizeof what, "kill of c%u", x->consumer);
                snprintf(held, sizeof held, " (%ld held by the victim)", x->held);
            }
            /* the windows of faults close together overlap: a reaped delivery counts in each */
            fprintf(f, "queue %s (%s): fault %u, %s: planned %+.3f s, landed %+.3f s; %ld in processing%s; %llu "
                       "returned by the reaper in the window after it\n",
                    r[i].limiter->name, r[i].backend, k + 1, what, (double)x->planned_us / 1e6, (double)x->at_us / 1e6,
                    x->processing, held, (unsigned long long)x->reaped_after);
        }
        if (q->consumer_kills || q->server_restarts || q->reaped || q->consumer_crashes)
            fprintf(f, "queue %s (%s): faults survived: %llu consumer kill(s), %llu server restart(s), %llu consumer "
                       "crash(es); %llu delivery(ies) returned by the reaper\n",
                    r[i].limiter->name, r[i].backend, (unsigned long long)q->consumer_kills,
                    (unsigned long long)q->server_restarts, (unsigned long long)q->consumer_crashes,
                    (unsigned long long)q->reaped);
        if (q->msgs_per_s_durable > 0 && q->msgs_per_s_volatile > 0)
            fprintf(f, "queue %s (%s): durability %s: %.0f msg/s produced+taken+acked vs %.0f msg/s without the "
                       "AOF (%+.0f%%), one client, medians of 3 rounds side by side\n",
                    r[i].limiter->name, r[i].backend, q->durability, q->msgs_per_s_durable, q->msgs_per_s_volatile,
                    100.0 * (q->msgs_per_s_durable / q->msgs_per_s_volatile - 1));
        else if (strcmp(q->durability, "n/a") != 0)
            fprintf(f, "queue %s (%s): durability %s\n", r[i].limiter->name, r[i].backend, q->durability);
    }
}
