/* cluster_faults.c -- see cluster_faults.h. */
#define _POSIX_C_SOURCE 200809L
#include "cluster_faults.h"
#include "redis_bounded.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "redis_cluster.h"

#define CFAULT_WAIT_NS (60 * 1000000000LL)

struct cfault;

typedef struct {
    struct cfault *owner;
    cfault_spec spec;
    cfault_result result;
    pthread_t thread;
    int started;
    int victim_port;             /* kill: the master killed */
    rsrv *victim;
    int64_t killed_ns;
} cfault_job;

struct cfault {
    rsrv_cluster *cluster;
    cfault_spec specs[CFAULT_MAX];
    size_t n;
    pthread_mutex_t lock;
    _Atomic int64_t next_at_us;  /* the next fault's time; INT64_MAX: none left */
    size_t next;
    unsigned hot_slot;
    cfault_job jobs[CFAULT_MAX];
    size_t n_jobs;
};

int cfault_parse(const char *text, cfault_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *at = strchr(text, '@');
    size_t kind_len = at ? (size_t)(at - text) : 0;
    char *end = NULL;
    double t = at ? strtod(at + 1, &end) : -1;
    if (at && kind_len == 11 && strncmp(text, "kill-master", 11) == 0 && end != at + 1 && *end == '\0') {
        out->kind = CFAULT_KILL_MASTER;
    } else if (at && kind_len == 7 && strncmp(text, "reshard", 7) == 0 && end != at + 1 && *end == ':') {
        char *rest;
        long n = strtol(end + 1, &rest, 10);
        if (rest == end + 1 || *rest || n < 1 || n > RCLU_SLOTS) {
            snprintf(err, errlen, "--cluster-fault '%s': reshard@T:N moves N slots, 1 to %d", text, RCLU_SLOTS);
            return -1;
        }
        out->kind = CFAULT_RESHARD;
        out->slots = (unsigned)n;
    } else {
        snprintf(err, errlen, "--cluster-fault '%s': expected kill-master@T or reshard@T:N (T in scenario seconds)",
                 text);
        return -1;
    }
    if (!(t >= 0 && t < 1e9)) {
        snprintf(err, errlen, "--cluster-fault '%s': the time must be a number of seconds, 0 or more", text);
        return -1;
    }
    out->at_us = (int64_t)(t * 1e6);
    return 0;
}

static int cfault_by_time(const void *a, const void *b)
{
    const cfault_spec *x = a, *y = b;
    return x->at_us < y->at_us ? -1 : x->at_us > y->at_us;
}

cfault *cfault_create(rsrv_cluster *c, const cfault_spec *specs, size_t n)
{
    cfault *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->cluster = c;
    f->n = n < CFAULT_MAX ? n : CFAULT_MAX;
    memcpy(f->specs, specs, f->n * sizeof *specs);
    qsort(f->specs, f->n, sizeof *f->specs, cfault_by_time);
    pthread_mutex_init(&f->lock, NULL);
    atomic_store(&f->next_at_us, INT64_MAX);
    return f;
}

void cfault_destroy(cfault *f)
{
    if (!f) return;
    cfault_result ignored[CFAULT_MAX];
    cfault_end(f, ignored);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void cfault_begin(cfault *f, const char *hot_key, size_t len)
{
    pthread_mutex_lock(&f->lock);
    f->hot_slot = rclu_key_slot(hot_key, len);
    f->next = 0;
    f->n_jobs = 0;
    atomic_store(&f->next_at_us, f->n ? f->specs[0].at_us : INT64_MAX);
    pthread_mutex_unlock(&f->lock);
}

/* ---- talking to the servers ------------------------------------------------------ */

static redisContext *cfault_connect(int port)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, (struct timeval){ 10, 0 });
    return c;
}

/* The port of the master that owns `slot`, asked of any live node but
 * avoid_port; -1. */
static int cfault_owner(const rsrv_cluster *cl, unsigned slot, int avoid_port)
{
    rurl seeds[RSRV_CLUSTER_MAX];
    size_t n = 0;
    for (int i = 0; i < cl->n; i++) {
        if (cl->node[i].pid <= 0 || cl->node[i].port == avoid_port) continue;
        seeds[n] = (rurl){ .port = cl->node[i].port, .is_cluster = 1 };
        snprintf(seeds[n++].host, sizeof seeds[0].host, "127.0.0.1");
    }
    rurl owner;
    char err[256];
    return rclu_locate_slot(seeds, n, 2000, slot, &owner, err, sizeof err) == 0 ? owner.port : -1;
}

static int cfault_ok(redisContext *c, redisReply *r)
{
    (void)c;
    int ok = r && r->type != REDIS_REPLY_ERROR;
    freeReplyObject(r);
    return ok;
}

/* ---- kill-master ------------------------------------------------------------------- */

/* Waits for the replica's promotion: the hot slot served by another port,
 * and the cluster ok again. */
static void cfault_watch_failover(cfault_job *j)
{
    cfault *f = j->owner;
    j->killed_ns = clk_mono_ns();
    rsrv_kill(j->victim);   /* its directory and port stay, for the restart at the pass's end */
    while (clk_mono_ns() - j->killed_ns < CFAULT_WAIT_NS) {
        int owner = cfault_owner(f->cluster, f->hot_slot, j->victim_port);
        if (owner > 0 && owner != j->victim_port) {
            j->result.took_s = (double)(clk_mono_ns() - j->killed_ns) / 1e9;
            return;
        }
        clk_sleep_ns(20000000);
    }
    snprintf(j->result.error, sizeof j->result.error, "no replica took over within 60 s");
}

/* ---- reshard ------------------------------------------------------------------------ */

static int cfault_myid(int port, char *id, size_t len)
{
    redisContext *c = cfault_connect(port);
    redisReply *r = c ? rbnd_command(c, "CLUSTER MYID") : NULL;
    int ok = r && r->type == REDIS_REPLY_STRING;
    if (ok) snprintf(id, len, "%s", r->str);
    freeReplyObject(r);
    if (c) redisFree(c);
    return ok ? 0 : -1;
}

/* The masters' ports now, as CLUSTER SLOTS names them; their count. */
static int cfault_masters(const rsrv_cluster *cl, int *ports, int max)
{
    int n = 0;
    for (int i = 0; i < cl->n && n < max; i++) {
        if (cl->node[i].pid <= 0) continue;
        redisContext *c = cfault_connect(cl->node[i].port);
        redisReply *r = c ? rbnd_command(c, "ROLE") : NULL;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(r->element[0]->str, "master") == 0)
            ports[n++] = cl->node[i].port;
        freeReplyObject(r);
        if (c) redisFree(c);
    }
    return n;
}

/* Moves one slot from src to dst (the specification's live resharding). */
static int cfault_move_slot(cfault_job *j, unsigned slot, redisContext *src, redisContext *dst, int dst_port,
                            const char *src_id, const char *dst_id, const int *masters, int n_masters)
{
    if (!cfault_ok(dst, rbnd_command(dst, "CLUSTER SETSLOT %u IMPORTING %s", slot, src_id)) ||
        !cfault_ok(src, rbnd_command(src, "CLUSTER SETSLOT %u MIGRATING %s", slot, dst_id)))
        return -1;
    for (;;) {
        redisReply *keys = rbnd_command(src, "CLUSTER GETKEYSINSLOT %u 100", slot);
        if (!keys || keys->type != REDIS_REPLY_ARRAY) { freeReplyObject(keys); return -1; }
        size_t n = keys->elements;
        if (n) {
            const char **argv = malloc((n + 8) * sizeof *argv);
            size_t *lens = malloc((n + 8) * sizeof *lens);
            char port[16];
            snprintf(port, sizeof port, "%d", dst_port);
            const char *head[] = { "MIGRATE", "127.0.0.1", port, "", "0", "10000", "KEYS" };
            int ok = argv && lens;
            for (size_t k = 0; ok && k < 7; k++) argv[k] = head[k], lens[k] = strlen(head[k]);
            for (size_t k = 0; ok && k < n; k++) argv[7 + k] = keys->element[k]->str, lens[7 + k] = keys->element[k]->len;
            ok = ok && cfault_ok(src, rbnd_command_argv(src, (int)(n + 7), argv, lens));
            free(argv);
            free(lens);
            if (!ok) { freeReplyObject(keys); return -1; }
            j->result.keys_moved += n;
        }
        freeReplyObject(keys);
        if (!n) break;
    }
    /* a moment in which the keys are on dst and the slot still src's:
     * requests for them meet ASK */
    clk_sleep_ns(2000000);
    if (!cfault_ok(dst, rbnd_command(dst, "CLUSTER SETSLOT %u NODE %s", slot, dst_id)) ||
        !cfault_ok(src, rbnd_command(src, "CLUSTER SETSLOT %u NODE %s", slot, dst_id)))
        return -1;
    for (int m = 0; m < n_masters; m++) {
        redisContext *c = cfault_connect(masters[m]);
        if (c) cfault_ok(c, rbnd_command(c, "CLUSTER SETSLOT %u NODE %s", slot, dst_id));
        if (c) redisFree(c);
    }
    return 0;
}

static void cfault_reshard(cfault_job *j)
{
    cfault *f = j->owner;
    int64_t started = clk_mono_ns();
    int masters[RSRV_CLUSTER_MAX];
    int n_masters = cfault_masters(f->cluster, masters, RSRV_CLUSTER_MAX);
    int src_port = cfault_owner(f->cluster, f->hot_slot, -1), dst_port = -1;
    /* the next master by port, else the lowest: another master, always the same one */
    int lowest = -1;
    for (int m = 0; m < n_masters; m++) {
        if (masters[m] == src_port) continue;
        if (lowest < 0 || masters[m] < lowest) lowest = masters[m];
        if (masters[m] > src_port && (dst_port < 0 || masters[m] < dst_port)) dst_port = masters[m];
    }
    if (dst_port < 0) dst_port = lowest;
    char src_id[64], dst_id[64];
    redisContext *src = NULL, *dst = NULL;
    if (src_port < 0 || dst_port < 0 || cfault_myid(src_port, src_id, sizeof src_id) != 0 ||
        cfault_myid(dst_port, dst_id, sizeof dst_id) != 0 || !(src = cfault_connect(src_port)) ||
        !(dst = cfault_connect(dst_port))) {
        snprintf(j->result.error, sizeof j->result.error, "could not reach the masters to reshard");
        goto done;
    }
    snprintf(j->result.victim, sizeof j->result.victim, "127.0.0.1:%d -> 127.0.0.1:%d", src_port, dst_port);
    for (unsigned k = 0, slot = f->hot_slot; k < RCLU_SLOTS && j->result.slots_moved < j->spec.slots; k++) {
        unsigned s = (slot + k) % RCLU_SLOTS;
        if (k && cfault_owner(f->cluster, s, -1) != src_port) continue;
        if (cfault_move_slot(j, s, src, dst, dst_port, src_id, dst_id, masters, n_masters) != 0) {
            snprintf(j->result.error, sizeof j->result.error, "slot %u: %s", s,
                     src->err ? src->errstr : dst->err ? dst->errstr : "refused");
            break;
        }
        j->result.slots_moved++;
    }
done:
    if (src) redisFree(src);
    if (dst) redisFree(dst);
    j->result.took_s = (double)(clk_mono_ns() - started) / 1e9;
}

/* ---- landing ------------------------------------------------------------------------ */

static void *cfault_worker(void *arg)
{
    cfault_job *j = arg;
    if (j->spec.kind == CFAULT_RESHARD) cfault_reshard(j);
    else cfault_watch_failover(j);
    return NULL;
}

static void cfault_land(cfault *f, const cfault_spec *spec, int64_t t_us)
{
    cfault_job *j = &f->jobs[f->n_jobs++];
    memset(j, 0, sizeof *j);
    j->owner = f;
    j->spec = *spec;
    j->result.is_reshard = spec->kind == CFAULT_RESHARD;
    j->result.planned_us = spec->at_us;
    j->result.landed_us = t_us;
    if (spec->kind == CFAULT_KILL_MASTER) {
        int port = cfault_owner(f->cluster, f->hot_slot, -1);
        rsrv *victim = NULL;
        for (int i = 0; i < f->cluster->n; i++)
            if (f->cluster->node[i].port == port && f->cluster->node[i].pid > 0) victim = &f->cluster->node[i];
        if (!victim) {
            snprintf(j->result.error, sizeof j->result.error, "no live master owns slot %u", f->hot_slot);
            return;
        }
        snprintf(j->result.victim, sizeof j->result.victim, "127.0.0.1:%d", port);
        j->victim_port = port;
        j->victim = victim;   /* killed by the worker, at once: it lands while requests are in flight, as a crash does */
    }
    j->started = pthread_create(&j->thread, NULL, cfault_worker, j) == 0;
    if (!j->started) snprintf(j->result.error, sizeof j->result.error, "could not start a thread");
}

void cfault_tick(cfault *f, int64_t t_us)
{
    if (!f || t_us < atomic_load_explicit(&f->next_at_us, memory_order_relaxed)) return;
    pthread_mutex_lock(&f->lock);
    while (f->next < f->n && f->specs[f->next].at_us <= t_us) cfault_land(f, &f->specs[f->next++], t_us);
    atomic_store(&f->next_at_us, f->next < f->n ? f->specs[f->next].at_us : INT64_MAX);
    pthread_mutex_unlock(&f->lock);
}

size_t cfault_end(cfault *f, cfault_result *out)
{
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->next_at_us, INT64_MAX);
    size_t n = f->n_jobs;
    for (size_t i = 0; i < n; i++) {
        cfault_job *j = &f->jobs[i];
        if (j->started) pthread_join(j->thread, NULL);
        j->started = 0;
        out[i] = j->result;
    }
    f->n_jobs = 0;
    pthread_mutex_unlock(&f->lock);
    int restarted = 0;
    for (int i = 0; i < f->cluster->n; i++) {
        rsrv *s = &f->cluster->node[i];
        char err[256];
        if (s->pid > 0) continue;
        if (rsrv_restart(s, err, sizeof err) == 0) restarted++;
        else if (n) snprintf(out[n - 1].error, sizeof out[n - 1].error, "%.150s", err);
    }
    char err[256];
    if (restarted && rsrv_cluster_wait_ok(f->cluster, 60, err, sizeof err) != 0 && n)
        snprintf(out[n - 1].error, sizeof out[n - 1].error, "%.150s", err);
    return n;
}
