/* sweep.c -- see sweep.h. */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"
#include "fleet.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "columns.h"
#include "backend_memory.h"
#include "drive.h"
#include "generator.h"
#include "interrupt.h"
#include "runner.h"

/* ---- the grid ------------------------------------------------------------------------- */

static int swp_number(const char *text, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end || !isfinite(*out) ? -1 : 0;
}

int swp_parse(const char *spec, const scn_limiter *l, swp_grid *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    const lim_entry *ops = l->entry;
    g->n_points = 1;
    const char *p = spec;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t len = strcspn(p, " ");
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)(len < 255 ? len : 255), p);
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p || eq == p + len - 1) {
            snprintf(err, errlen, "sweep '%s': expected name=from:to:step, name=v1,v2,... or name=value", part);
            goto bad;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - p < 63 ? eq - p : 63), p);
        int idx = lim_param_index(ops, name);
        if (idx < 0 || ops->params[idx].kind == LIM_PARAM_CHOICE) {
            char list[200] = "";
            for (size_t i = 0; i < ops->n_params; i++) {
                if (ops->params[i].kind == LIM_PARAM_CHOICE) continue;
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", ops->params[i].name);
            }
            snprintf(err, errlen, "sweep '%s': %s has no numeric parameter '%s' (sweepable: %s)", part, ops->name, name,
                     list);
            goto bad;
        }
        for (size_t k = 0; k < g->n_params; k++)
            if (g->param[k] == idx) {
                snprintf(err, errlen, "sweep '%s': %s is swept twice", part, name);
                goto bad;
            }
        if (g->n_params == SWP_MAX_PARAMS) { snprintf(err, errlen, "sweep: at most %d parameters", SWP_MAX_PARAMS); goto bad; }
        const char *v = eq + 1, *end = p + len;
        size_t k = g->n_params;
        double *vals = NULL;
        size_t n = 0;
        if (memchr(v, ':', (size_t)(end - v))) {
            const char *c1 = memchr(v, ':', (size_t)(end - v)), *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
            double from, to, step;
            if (!c2 || swp_number(v, (size_t)(c1 - v), &from) || swp_number(c1 + 1, (size_t)(c2 - c1 - 1), &to) ||
                swp_number(c2 + 1, (size_t)(end - c2 - 1), &step)) {
                snprintf(err, errlen, "sweep '%s': a range is from:to:step with three numbers", part);
                goto bad;
            }
            if (step <= 0 || to < from) {
                snprintf(err, errlen, "sweep '%s': a range needs step > 0 and from <= to", part);
                goto bad;
            }
            double count = floor((to - from) / step + 1e-9) + 1;
            if (count > SWP_MAX_POINTS) { snprintf(err, errlen, "sweep '%s': more than %d values", part, SWP_MAX_POINTS); goto bad; }
            n = (size_t)count;
            vals = malloc(n * sizeof *vals);
            if (!vals) { snprintf(err, errlen, "out of memory"); goto bad; }
            /* from + i*step drifts in doubles (0.1 + 2*0.1 is 0.30000000000000004):
             * each value is read back from 12 significant digits, the decimal meant */
            for (size_t i = 0; i < n; i++) {
                char text[32];
                snprintf(text, sizeof text, "%.12g", from + (double)i * step);
                vals[i] = strtod(text, NULL);
            }
        } else {
            n = 1;
            for (const char *c = v; c < end; c++) n += *c == ',';
            vals = malloc(n * sizeof *vals);
            if (!vals) { snprintf(err, errlen, "out of memory"); goto bad; }
            const char *q = v;
            for (size_t i = 0; i < n; i++) {
                const char *comma = memchr(q, ',', (size_t)(end - q));
                const char *stop = comma ? comma : end;
                if (swp_number(q, (size_t)(stop - q), &vals[i]) != 0) {
                    snprintf(err, errlen, "sweep '%s': '%.*s' is not a number", part, (int)(stop - q), q);
                    free(vals);
                    goto bad;
                }
                q = stop + 1;
            }
        }
        g->param[k] = idx;
        g->values[k] = vals;
        g->n_values[k] = n;
        g->n_params++;
        /* every value must be one the scenario itself would accept */
        const lim_param_spec *ps = &ops->params[idx];
        for (size_t i = 0; i < n; i++) {
            double x = vals[i];
            if (x < ps->min || x > ps->max || (ps->kind == LIM_PARAM_INTEGER && x != floor(x))) {
                snprintf(err, errlen, "sweep '%s': %s = %.15g is outside %s's range (%g to %g%s)", part, name, x,
                         ops->name, ps->min, ps->max, ps->kind == LIM_PARAM_INTEGER ? ", whole numbers" : "");
                goto bad;
            }
        }
        g->n_points *= n;
        if (g->n_points > SWP_MAX_POINTS) {
            snprintf(err, errlen, "sweep: the grid has more than %d points", SWP_MAX_POINTS);
            goto bad;
        }
        p += len;
    }
    if (g->n_params == 0) { snprintf(err, errlen, "sweep: no parameters given"); goto bad; }
    return 0;
bad:
    swp_free(g);
    return -1;
}

void swp_free(swp_grid *g)
{
    for (size_t k = 0; k < g->n_params; k++) free(g->values[k]);
    memset(g, 0, sizeof *g);
}

void swp_point(const swp_grid *g, const scn_limiter *l, size_t i, double *values)
{
    memcpy(values, l->values, sizeof l->values);
    for (size_t k = g->n_params; k-- > 0;) {
        values[g->param[k]] = g->values[k][i % g->n_values[k]];
        i /= g->n_values[k];
    }
}

/* ---- running a grid ------------------------------------------------------------------- */

typedef struct {
    uint64_t index;
    met_summary summary;
    orc_report oracle;
    int has_downstream;
    dsm_report downstream;
    uint64_t overload_s;
    int has_clients;
    run_client_stats clients;
    flt_report fleet;         /* a fleet's figures (its per-node arrays not kept) */
    uint64_t bound_breaches;
    char error[200];          /* empty: the point ran */
} swp_record;

/* The limiter of point i, configured; -1 with a message when refused. */
static int swp_limiter(const swp_grid *g, const scn_limiter *l, size_t i, scn_limiter *out, char *err, size_t errlen)
{
    if (l->entry->kind == LIM_KIND_FLEET) {   /* nodes and timers: a fleet of the point's own */
        double values[LIM_MAX_PARAMS];
        char msg[256];
        swp_point(g, l, i, values);
        if (flt_point(l, values, out, msg, sizeof msg) == 0) return 0;
        snprintf(err, errlen, "sweep point %zu: %s", i + 1, msg);
        return -1;
    }
    *out = *l;
    swp_point(g, l, i, out->values);
    char msg[256];
    for (size_t k = 0; k < g->n_params; k++) {   /* a swept rate is a plain number per second */
        size_t p = g->param[k];
        if (l->entry->params[p].kind == LIM_PARAM_RATE &&
            lim_rate_from_number(out->values[p], &out->rates[p], msg, sizeof msg) != 0) {
            snprintf(err, errlen, "sweep point %zu: %s: %s", i + 1, l->entry->params[p].name, msg);
            return -1;
        }
    }
    if (l->entry->configure(out->values, out->rates, &out->cfg, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "sweep point %zu: %s", i + 1, msg);
        return -1;
    }
    out->cfg.ops = l->ops;
    return 0;
}

static int swp_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A worker: points w, w + jobs, ... into fd. Never returns. */
static void swp_worker(const scn_scenario *s, const scn_limiter *l, const swp_grid *g, unsigned w, unsigned jobs, int fd)
{
    gen *gn = gen_create(s);
    run_backend mem;
    bmem *m = bmem_create(16, &mem);
    run_options ro = { NULL, NULL, NULL, NULL };
    drv_target memory = { .backend = &mem };
    int status = gn && m ? 0 : 1;
    for (size_t i = w; status == 0 && i < g->n_points; i += jobs) {
        swp_record rec;
        memset(&rec, 0, sizeof rec);
        rec.index = i;
        scn_limiter point = { .fleet = NULL };
        run_result res;
        if (swp_limiter(g, l, i, &point, rec.error, sizeof rec.error) == 0 &&
            drv_run(s, gn, &point, &memory, &ro, &res, rec.error, sizeof rec.error) == 0) {
            rec.fleet = res.fleet;
            rec.fleet.offered = rec.fleet.admitted = NULL;   /* freed with res */
            rec.fleet.share = NULL;
            rec.bound_breaches = res.bound_breaches;
            rec.summary = res.summary;
            rec.oracle = res.oracle;
            rec.has_downstream = res.has_downstream;
            rec.downstream = res.downstream;
            rec.overload_s = res.overload_s;
            rec.has_clients = res.has_clients;
            rec.clients = res.clients;
            run_result_free(&res);
        }
        if (l->entry->kind == LIM_KIND_FLEET) flt_point_free(&point);
        if (swp_write_all(fd, &rec, sizeof rec) != 0) status = 1;
    }
    close(fd);
    _exit(status);
}

static int swp_write_csv(const char *path, const scn_limiter *l, const swp_grid *g, const swp_record *recs,
                         char *err, size_t errlen)
{
    af_file out;
    if (af_open(&out, path, err, errlen) != 0) return -1;
    FILE *f = out.f;
    fputs("limiter,algorithm,point", f);
    for (size_t k = 0; k < g->n_params; k++) fprintf(f, ",%s", l->entry->params[g->param[k]].name);
    col_sweep_header(f);
    fputc('\n', f);
    for (size_t i = 0; i < g->n_points; i++) {
        double values[LIM_MAX_PARAMS];
        swp_point(g, l, i, values);
        fprintf(f, "%s,%s,%zu", l->name, l->entry->name, i + 1);
        for (size_t k = 0; k < g->n_params; k++) fprintf(f, ",%.15g", values[g->param[k]]);
        col_row row = { &recs[i].summary, &recs[i].oracle, recs[i].has_downstream, &recs[i].downstream,
                        recs[i].overload_s, recs[i].has_clients, &recs[i].clients, NULL, &recs[i].fleet,
                        recs[i].bound_breaches };
        col_sweep_row(f, &row);
        fputc('\n', f);
    }
    return af_commit(&out, err, errlen);
}

int swp_run(const scn_scenario *s, const scn_limiter *l, const swp_grid *g, unsigned jobs, const char *csv,
            void (*progress)(void *ctx, size_t done, size_t total), void *ctx, char *err, size_t errlen)
{
    /* every point configured before anything runs: a refused one stops the sweep */
    size_t keys = l->global ? 1 : kspace_count(s->keys);
    for (size_t i = 0; i < g->n_points; i++) {
        scn_limiter point = { .fleet = NULL };
        if (swp_limiter(g, l, i, &point, err, errlen) != 0) return -1;
        if (l->entry->kind == LIM_KIND_FLEET) flt_point_free(&point);   /* only checked here; the workers make their own */
        if ((double)point.cfg.state_size * (double)keys > (double)SCN_STATE_BUDGET) {
            snprintf(err, errlen, "sweep point %zu: %zu keys of %zu bytes of state exceed the %.0f GiB budget", i + 1,
                     keys, point.cfg.state_size, (double)SCN_STATE_BUDGET / (1 << 30));
            return -1;
        }
    }
    if (jobs < 1) jobs = 1;
    if (jobs > 64) jobs = 64;   /* the poll set below */
    if (jobs > g->n_points) jobs = (unsigned)g->n_points;
    swp_record *recs = calloc(g->n_points, sizeof *recs);
    int *fds = calloc(jobs, sizeof *fds);
    pid_t *pids = calloc(jobs, sizeof *pids);
    unsigned char *have = calloc(g->n_points, 1);
    int rc = -1;
    unsigned started = 0;
    if (!recs || !fds || !pids || !have) { snprintf(err, errlen, "out of memory"); goto done; }
    fflush(NULL);
    pid_t parent = getpid();
    for (; started < jobs; started++) {
        int pipefd[2];
        if (pipe(pipefd) != 0) { snprintf(err, errlen, "pipe: %s", strerror(errno)); goto reap; }
        pid_t pid = fork();
        if (pid < 0) {
            close(pipefd[0]);
            close(pipefd[1]);
            snprintf(err, errlen, "fork: %s", strerror(errno));
            goto reap;
        }
        if (pid == 0) {
            /* a worker ends with the sweep: stopped by its SIGTERM, or by
             * the kernel if the sweep itself died */
            intr_unblock();
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) _exit(1);
            for (unsigned k = 0; k < started; k++) close(fds[k]);
            close(pipefd[0]);
            swp_worker(s, l, g, started, jobs, pipefd[1]);
        }
        close(pipefd[1]);
        fds[started] = pipefd[0];
        pids[started] = pid;
    }
    size_t done_points = 0, open = jobs;
    struct pollfd pfd[64];
    size_t fill[64] = { 0 };
    swp_record partial[64];
    while (open) {
        nfds_t n = 0;
        unsigned map[64];
        for (unsigned k = 0; k < jobs && n < 64; k++)
            if (fds[k] >= 0) { pfd[n] = (struct pollfd){ fds[k], POLLIN, 0 }; map[n++] = k; }
        /* woken every 100 ms to look for Ctrl-C and SIGTERM (blocked, polled) */
        int ready = poll(pfd, n, 100);
        if (ready < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            goto reap;
        }
        if (intr_requested(NULL)) {
            snprintf(err, errlen, "interrupted: the sweep's workers are stopped");
            goto reap;
        }
        if (ready <= 0) continue;
        for (nfds_t q = 0; q < n; q++) {
            if (!pfd[q].revents) continue;
            unsigned k = map[q];
            ssize_t got = read(fds[k], (char *)&partial[k] + fill[k], sizeof partial[k] - fill[k]);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) { close(fds[k]); fds[k] = -1; open--; continue; }
            fill[k] += (size_t)got;
            if (fill[k] < sizeof partial[k]) continue;
            fill[k] = 0;
            uint64_t i = partial[k].index;
            if (i < g->n_points && !have[i]) {
                recs[i] = partial[k];
                have[i] = 1;
                done_points++;
                if (progress) progress(ctx, done_points, g->n_points);
            }
        }
    }
    rc = 0;
reap:
    for (unsigned k = 0; k < started; k++) {
        int status;
        if (rc != 0) kill(pids[k], SIGTERM);
        if (fds[k] >= 0 && rc != 0) close(fds[k]);
        waitpid(pids[k], &status, 0);
        if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            snprintf(err, errlen, "sweep worker %u failed", k);
            rc = -1;
        }
    }
    for (size_t i = 0; rc == 0 && i < g->n_points; i++) {
        if (!have[i]) { snprintf(err, errlen, "sweep point %zu never came back", i + 1); rc = -1; }
        else if (recs[i].error[0]) { snprintf(err, errlen, "sweep point %zu: %s", i + 1, recs[i].error); rc = -1; }
    }
    if (rc == 0) rc = swp_write_csv(csv, l, g, recs, err, errlen);
done:
    free(recs);
    free(fds);
    free(pids);
    free(have);
    return rc;
}

int swp_write_traffic(const scn_scenario *s, const char *csv, char *err, size_t errlen)
{
    size_t ticks = scn_tick_count(s);
    uint64_t *count = calloc(ticks, sizeof *count);
    gen *g = gen_create(s);
    if (!count || !g) {
        free(count);
        gen_destroy(g);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    gen_request r;
    while (gen_next(g, &r)) {
        size_t tick = (size_t)(r.t_us / s->tick_us);
        count[tick < ticks ? tick : ticks - 1]++;
    }
    gen_destroy(g);
    af_file out;
    if (af_open(&out, csv, err, errlen) != 0) {
        free(count);
        return -1;
    }
    fputs("t_s,offered\n", out.f);
    for (size_t i = 0; i < ticks; i++)
        fprintf(out.f, "%.3f,%llu\n", (double)((int64_t)i * s->tick_us) / 1e6, (unsigned long long)count[i]);
    free(count);
    return af_commit(&out, err, errlen);
}
