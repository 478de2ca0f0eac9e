/*
 * queue -- peak shaving with a reliable queue (see queue.h): the parameters
 * and their checks. Nothing here decides a request; the queue's behaviour
 * is in sim/queue_model.c (virtual time) and sim/redis_queue.c (Redis).
 */
#include <math.h>
#include <stdio.h>

#include "limiter.h"
#include "queue.h"

static const char *const queue_full_choices[] = { "reject", "block", NULL };
static const char *const queue_durability_choices[] = { "none", "everysec", "always", NULL };

static const lim_param_spec queue_params[] = {
    { "drain_rps", LIM_PARAM_NUMBER, 0, NAN, LIM_RATE_MIN, LIM_RATE_MAX, NULL,
      "messages per second the consumers take (sets batch = drain_rps x interval); or give batch" },
    { "batch", LIM_PARAM_INTEGER, 0, NAN, 1, 1000000, NULL, "messages the consumers take per run, all together" },
    { "interval_ms", LIM_PARAM_NUMBER, 0, 100, 1, 3600000, NULL, "between consumer runs" },
    { "max_attempts", LIM_PARAM_INTEGER, 0, 3, 1, 1000, NULL, "deliveries before a message is dead-lettered" },
    { "visibility_timeout_ms", LIM_PARAM_NUMBER, 0, 30000, 1, 86400000, NULL,
      "a delivery not finished by then is returned to the queue by the reaper (Redis)" },
    { "max_queue", LIM_PARAM_INTEGER, 0, 0, 0, 1e9, NULL, "waiting messages at most; 0: unbounded" },
    { "full", LIM_PARAM_CHOICE, 0, 0, 0, 0, queue_full_choices, "when max_queue is reached: reject or block the producer" },
    { "durability", LIM_PARAM_CHOICE, 0, 2, 0, 0, queue_durability_choices,
      "the private redis-server's AOF: none, appendfsync everysec or always (Redis)" },
    { "consumers", LIM_PARAM_INTEGER, 0, 2, 1, 64, NULL, "consumer processes sharing each batch (Redis)" },
};

const char *queue_durability_name(int d)
{
    return d >= 0 && d <= QUEUE_DURABLE_ALWAYS ? queue_durability_choices[d] : "?";
}

static int queue_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    double drain = values[0], batch = values[1], interval_ms = values[2];
    if (!isnan(drain) && !isnan(batch)) {
        snprintf(err, errlen, "drain_rps: give drain_rps or batch, not both");
        return -1;
    }
    if (isnan(drain) && isnan(batch)) {
        snprintf(err, errlen, "drain_rps: required (or batch, with interval_ms)");
        return -1;
    }
    if (!isnan(drain)) {
        /* the consumers take whole messages per run: the rate must be one */
        double per_run = drain * interval_ms / 1000;
        batch = round(per_run);
        if (batch < 1 || fabs(batch - per_run) > 1e-9 * per_run) {
            snprintf(err, errlen, "drain_rps: %.15g/s is %.15g messages per %.15g ms run; the consumers take whole "
                     "messages: choose a drain_rps that makes a whole number, or give batch and interval_ms",
                     drain, per_run, interval_ms);
            return -1;
        }
    }
    if (values[8] > batch) {
        snprintf(err, errlen, "consumers: %.0f consumers cannot share a batch of %.0f", values[8], batch);
        return -1;
    }
    cfg->v[QUEUE_V_BATCH] = (int64_t)batch;
    cfg->v[QUEUE_V_INTERVAL_US] = llround(interval_ms * 1000);
    cfg->v[QUEUE_V_MAX_ATTEMPTS] = (int64_t)values[3];
    cfg->v[QUEUE_V_VISIBILITY_US] = llround(values[4] * 1000);
    cfg->v[QUEUE_V_MAX_QUEUE] = (int64_t)values[5];
    cfg->v[QUEUE_V_BLOCK] = (int64_t)values[6];
    cfg->v[QUEUE_V_DURABILITY] = (int64_t)values[7];
    cfg->v[QUEUE_V_CONSUMERS] = (int64_t)values[8];
    cfg->state_size = 0;
    return 0;
}

const lim_entry queue_entry = {
    .name = "queue",
    .kind = LIM_KIND_QUEUE,
    .summary = "reliable queue: accepts every request (up to max_queue), consumers deliver `batch` per interval, "
               "retry, then dead-letter",
    .level_name = "queued",
    .params = queue_params,
    .n_params = sizeof queue_params / sizeof queue_params[0],
    .configure = queue_configure,
};
