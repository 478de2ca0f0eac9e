/* drive.c -- see drive.h. */
#include "drive.h"

#include <stdio.h>

#include "queue_run.h"

int drv_decides(const scn_limiter *l) { return l->entry->kind != LIM_KIND_QUEUE; }

int drv_run(const scn_scenario *s, gen *g, const scn_limiter *l, const drv_target *t, const run_options *opt,
            run_result *out, char *err, size_t errlen)
{
    if (!drv_decides(l)) {
        if (!t->redis) return qrun_memory(s, g, l, out, err, errlen);
        if (!t->queue) {
            snprintf(err, errlen, "%s: no Redis queue options given for a queue entry", l->name);
            return -1;
        }
        return rqr_run(t->queue, s, g, l, out, err, errlen);
    }
    if (t->realtime && t->redis) return rt_run(s, g, l, t->redis, t->backend, t->realtime, opt, out, err, errlen);
    return run_limiter(s, g, l, t->backend, opt, out, err, errlen);
}
