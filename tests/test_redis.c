/* The Redis backend against a redis-server (or a Redis Cluster) each test
 * starts for itself: decision-by-decision parity with memory, script
 * reloading, key hygiene, faults, and URL handling. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/backend_memory.h"
#include "../sim/backend_redis.h"
#include "../sim/redis_bounded.h"
#include "../sim/redis_scripts.h"
#include "../sim/redis_url.h"
#include "../sim/redis_server.h"
#include "../sim/rng.h"
#include "support.h"

typedef struct {
    rsrv server;
    rsrv_cluster cluster;     /* n 0: a standalone server */
    rurl url;
} test_redis;

static void redis_up(test_redis *t)
{
    char err[512];
    memset(t, 0, sizeof *t);
    cr_assert_eq(rsrv_start(&t->server, NULL, err, sizeof err), 0, "%s", err);
    snprintf(t->url.host, sizeof t->url.host, "127.0.0.1");
    t->url.port = t->server.port;
}

/* A private cluster of 3 masters with `replicas` replicas each; the URL is its first node's. */
static void cluster_up(test_redis *t, int replicas)
{
    char err[512];
    memset(t, 0, sizeof *t);
    cr_assert_eq(rsrv_cluster_start(&t->cluster, 3, replicas, err, sizeof err), 0, "%s", err);
    snprintf(t->url.host, sizeof t->url.host, "127.0.0.1");
    t->url.port = t->cluster.node[0].port;
    t->url.is_cluster = 1;
}

static void engine_up(test_redis *t, int cluster)
{
    if (cluster) cluster_up(t, 0);
    else redis_up(t);
}

/* Stops whatever the test started, by PID. */
static void engine_down(test_redis *t)
{
    rsrv_stop(&t->server);
    rsrv_cluster_stop(&t->cluster);
}

static redisContext *redis_client(const test_redis *t)
{
    redisContext *c = redisConnect("127.0.0.1", t->url.port ? t->url.port : t->server.port);
    cr_assert(c && !c->err);
    return c;
}

static long long redis_int(redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand(c, cmd);
    cr_assert(r && r->type == REDIS_REPLY_INTEGER, "%s", cmd);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* A backend that decides quickly on a lost server: for the fault tests. */
static bred *redis_backend(test_redis *t, const char *run_id, run_backend *b)
{
    bred_options o = { .run_id = run_id, .pipeline = 64, .timeout_ms = 500, .ttl_ms = 86400000 };
    char err[512];
    bred *r = bred_create(&t->url, &o, b, err, sizeof err);
    cr_assert(r, "%s", err);
    return r;
}

/* A backend for parity: a busy machine may be slow, never a decision, so
 * commands wait 10 s and a lost connection is waited out for a minute. */
static bred *patient_backend(test_redis *t, const char *run_id, run_backend *b)
{
    bred_options o = { .run_id = run_id, .pipeline = 64, .timeout_ms = 10000, .ttl_ms = 86400000,
                       .outage_wait_ms = 60000, .cluster = t->url.is_cluster };
    char err[512];
    bred *r = bred_create(&t->url, &o, b, err, sizeof err);
    cr_assert(r, "%s", err);
    return r;
}

/* Every request of the pass got an answer; a timeout or an error reply is
 * named as such, never read as the limiter's "deny". */
static void expect_answered(const scn_limiter *l, const bred *br, const run_backend_report *sum)
{
    cr_assert_eq(sum->errors, 0, "%s: %llu request(s) got no decision from Redis (last: %s), not a limiter's deny",
                 l->name, (unsigned long long)sum->errors, bred_last_error(br));
}

/* Decides reqs[0..n-1] through limiter l on backend b, in batches of 64. */
static void decide_all(const scn_scenario *s, const scn_limiter *l, run_backend *b, const gen_request *reqs,
                       size_t n, lim_decision *out, run_backend_report *sum)
{
    int64_t latency[1024];   /* the most requests one decide() call gets here */
    char err[512];
    cr_assert_eq(b->begin(b->ctx, s, l, err, sizeof err), 0, "%s", err);
    for (size_t done = 0; done < n; done += 64) {
        size_t k = n - done < 64 ? n - done : 64;
        cr_assert_eq(b->decide(b->ctx, reqs + done, k, out + done, latency, err, sizeof err), 0, "%s", err);
    }
    run_backend_report local;
    char note[400];
    b->end(b->ctx, sum ? sum : &local, note, sizeof note);
}

static void expect_same(const scn_limiter *l, const gen_request *reqs, size_t n, const lim_decision *a,
                        const lim_decision *b)
{
    for (size_t i = 0; i < n; i++) {
        int same = a[i].allowed == b[i].allowed && a[i].remaining == b[i].remaining &&
                   a[i].retry_after_us == b[i].retry_after_us && a[i].delay_us == b[i].delay_us;
        cr_assert(same,
                  "%s, request %zu (t=%lld us, key %u, cost %u): memory {%d, %lld, %lld, %lld} redis {%d, %lld, %lld, %lld}",
                  l->name, i, (long long)reqs[i].t_us, reqs[i].key, reqs[i].cost, a[i].allowed,
                  (long long)a[i].remaining, (long long)a[i].retry_after_us, (long long)a[i].delay_us, b[i].allowed,
                  (long long)b[i].remaining, (long long)b[i].retry_after_us, (long long)b[i].delay_us);
    }
}

/* ---- parity on every shipped scenario ------------------------------------- */

typedef struct { char name[32]; int cluster; } shipped;

ParameterizedTestParameters(redis, parity_with_memory_on_every_shipped_scenario)
{
    static shipped names[] = { { "steady", 0 }, { "burst", 0 }, { "promotion_ramp", 0 }, { "danmaku_spike", 0 },
                               { "nasa_replay", 0 }, { "llm_tokens", 0 },
                               { "steady", 1 }, { "burst", 1 }, { "promotion_ramp", 1 }, { "danmaku_spike", 1 },
                               { "nasa_replay", 1 }, { "llm_tokens", 1 } };
    return cr_make_param_array(shipped, names, sizeof names / sizeof names[0]);
}

ParameterizedTest(shipped *p, redis, parity_with_memory_on_every_shipped_scenario, .timeout = 600)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "scenarios/%s.json", p->name);
    scn_scenario s;
    cr_assert_eq(scn_load(path, NULL, &s, err, sizeof err), 0, "%s", err);
    gen *g = gen_create(&s);
    size_t cap = 1 << 16, n = 0;
    gen_request *reqs = malloc(cap * sizeof *reqs);
    for (gen_request r; gen_next(g, &r);) {
        if (n == cap) reqs = realloc(reqs, (cap *= 2) * sizeof *reqs);
        reqs[n++] = r;
    }
    lim_decision *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    test_redis t;
    engine_up(&t, p->cluster);
    run_backend mem, red;
    bmem *bm = bmem_create(16, &mem);
    bred *br = patient_backend(&t, "parity", &red);
    pid_t busy[2];   /* the machine is busy with other work: slow is fine, a timeout read as a deny is not */
    tsup_spin_up(busy, 500);
    for (size_t i = 0; i < s.n_limiters; i++) {
        decide_all(&s, &s.limiters[i], &mem, reqs, n, a, NULL);
        run_backend_report sum;
        decide_all(&s, &s.limiters[i], &red, reqs, n, b, &sum);
        expect_answered(&s.limiters[i], br, &sum);
        expect_same(&s.limiters[i], reqs, n, a, b);
    }
    tsup_spin_down(busy);
    cr_assert_eq(bred_count_keys(br), 0, "every limiter deleted its keys, on every master");
    bred_destroy(br);
    bmem_destroy(bm);
    engine_down(&t);
    free(a), free(b), free(reqs);
    gen_destroy(g);
    scn_free(&s);
}

/* ---- parity on random streams ----------------------------------------------- */

/* A one-limiter scenario with `keys` keys, configured from text. */
static void make_scenario(scn_scenario *s, const char *algo, const char *params, uint32_t keys)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "random");
    s->duration_us = INT64_MAX / 4;
    s->keys = kspace_create();
    cr_assert_eq(kspace_add_numbered(s->keys, "k", keys), 0);
    s->limiters = calloc(1, sizeof *s->limiters);
    s->n_limiters = 1;
    tsup_limiter t = tsup_make(algo, params);
    scn_limiter *l = &s->limiters[0];
    snprintf(l->name, sizeof l->name, "%s", algo);
    l->ops = t.cfg.ops;
    l->entry = &l->ops->entry;
    l->cfg = t.cfg;
    tsup_free(&t);
}

/* The random-stream parity cases: every algorithm of the registry that
 * decides requests has some (a test below walks the registry). */
static const struct { const char *algo, *params; } parity_cases[] = {
    { "token_bucket", "rate=0.5 capacity=3" },
    { "token_bucket", "rate=3 capacity=7 initial=2" },
    { "token_bucket", "rate=2500000 capacity=40" },
    { "gcra", "rate=3 burst=4" },
    { "gcra", "rate=0.7 burst=1" },
    { "gcra", "rate=1e9 burst=4000000" },
    { "leaky_bucket", "rate=3 capacity=5" },
    { "leaky_bucket", "rate=0.5 capacity=0" },
    { "leaky_bucket", "rate=7 capacity=4 mode=meter" },
    { "leaky_bucket", "rate=0.25 capacity=0 mode=meter" },
    { "token_bucket", "rate=1/3s capacity=4" },
    { "token_bucket", "rate=20/min capacity=1000000" },
    { "gcra", "rate=100/1500ms burst=7" },
    { "gcra", "rate=7/d burst=3" },
    { "leaky_bucket", "rate=1/3s capacity=2" },
    { "leaky_bucket", "rate=20/min capacity=3 mode=meter" },
    { "token_bucket", "rate=0.123456789 capacity=2" },
    { "fixed_window", "limit=5 window_ms=333.333" },
    { "fixed_window", "limit=1 window_ms=0.001" },
    { "sliding_window_log", "limit=6 window_ms=700" },
    { "sliding_window_log", "limit=1 window_ms=1.5" },
    { "sliding_window_counter", "limit=9 window_ms=1000" },
    { "sliding_window_counter", "limit=4000000 window_ms=2000" },
    { "naive_token_bucket", "rate=2 capacity=5" },
};

Test(redis, every_algorithm_has_an_oracle_family_a_twin_or_the_flag_a_perf_and_a_parity_case)
{
    for (size_t i = 0; lim_registry[i]; i++) {
        const lim_ops *o = lim_registry[i];
        cr_assert_neq(o->facts.family, LIM_ORACLE_NONE, "%s: no oracle family in its registry facts", o->name);
        if (o->facts.family == LIM_ORACLE_BUCKET)
            cr_assert(o->facts.burst_param && lim_param_index(&o->entry, o->facts.burst_param) >= 0,
                      "%s: its burst parameter is not one of its parameters", o->name);
        if (o->facts.approximates) cr_assert(lim_find(o->facts.approximates), "%s approximates an unknown algorithm", o->name);
        cr_assert(rscript_find(o->name) || o->facts.client_side, "%s: no Lua twin and not marked client_side", o->name);
        cr_assert(!(rscript_find(o->name) && o->facts.client_side), "%s: has a twin yet is marked client_side", o->name);
        cr_assert(o->facts.perf && o->facts.perf[0].one_key && o->facts.perf[0].many_keys,
                  "%s: no case for ratelab perf in its registry facts", o->name);
        int cased = 0;
        for (size_t c = 0; c < sizeof parity_cases / sizeof parity_cases[0]; c++)
            cased |= strcmp(parity_cases[c].algo, o->name) == 0;
        cr_assert(cased, "%s: no case in the random-stream parity test", o->name);
    }
}

ParameterizedTestParameters(redis, parity_with_memory_on_random_streams)
{
    static int engines[] = { 0, 1 };   /* a standalone server, a cluster */
    return cr_make_param_array(int, engines, 2);
}

ParameterizedTest(int *cluster, redis, parity_with_memory_on_random_streams, .timeout = 600)
{
    test_redis t;
    engine_up(&t, *cluster);
    run_backend mem, red;
    bmem *bm = bmem_create(16, &mem);
    bred *br = patient_backend(&t, "random", &red);
    const size_t n = 2000;
    gen_request *reqs = malloc(n * sizeof *reqs);
    lim_decision *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t c = 0; c < sizeof parity_cases / sizeof parity_cases[0]; c++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            scn_scenario s;
            make_scenario(&s, parity_cases[c].algo, parity_cases[c].params, 3);
            rng r;
            rng_seed(&r, seed * 1000 + c, 0);
            /* seed 2 starts at today's wall clock in microseconds: large timestamps */
            int64_t t_us = seed == 2 ? 1763800000000000LL : 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t kind = rng_below(&r, 100);
                int64_t early = 0;   /* a client whose clock is behind: stamped before the last request */
                if (kind < 55) t_us += (int64_t)rng_below(&r, 400000);        /* busy */
                else if (kind < 85) t_us += 0;                               /* same microsecond */
                else if (kind < 90) early = (int64_t)rng_below(&r, 300000);   /* skewed */
                else if (kind < 99) t_us += (int64_t)rng_below(&r, 5000000);  /* a pause */
                else t_us += (int64_t)rng_below(&r, 3000000000000LL);         /* a month idle */
                reqs[i].t_us = t_us > early ? t_us - early : 0;
                reqs[i].key = (uint32_t)rng_below(&r, 3);
                reqs[i].cost = rng_below(&r, 10) == 0 ? (uint32_t)(1 + rng_below(&r, 12)) : 1;
            }
            decide_all(&s, &s.limiters[0], &mem, reqs, n, a, NULL);
            run_backend_report sum;
            decide_all(&s, &s.limiters[0], &red, reqs, n, b, &sum);
            expect_answered(&s.limiters[0], br, &sum);
            expect_same(&s.limiters[0], reqs, n, a, b);
            scn_free(&s);
        }
    }
    bred_destroy(br);
    bmem_destroy(bm);
    engine_down(&t);
    free(a), free(b), free(reqs);
}

/* ---- scripts and keys -------------------------------------------------------- */

static void steady_requests(gen_request *reqs, size_t n, uint32_t keys)
{
    for (size_t i = 0; i < n; i++) reqs[i] = (gen_request){ (int64_t)i * 20000, (uint32_t)(i % keys), 1 };
}

Test(redis, noscript_after_script_flush_is_reloaded)
{
    test_redis t;
    redis_up(&t);
    scn_scenario s;
    make_scenario(&s, "token_bucket", "rate=10 capacity=5", 4);
    run_backend mem, red;
    bmem *bm = bmem_create(16, &mem);
    bred *br = redis_backend(&t, "flush", &red);
    enum { N = 640 };
    gen_request reqs[N];
    lim_decision a[N], b[N];
    steady_requests(reqs, N, 4);
    decide_all(&s, &s.limiters[0], &mem, reqs, N, a, NULL);

    int64_t latency[1024];   /* the most requests one decide() call gets here */
    char err[256];
    cr_assert_eq(red.begin(red.ctx, &s, &s.limiters[0], err, sizeof err), 0, "%s", err);
    redisContext *c = redis_client(&t);
    for (size_t done = 0; done < N; done += 64) {
        if (done == 320) freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
        cr_assert_eq(red.decide(red.ctx, reqs + done, 64, b + done, latency, err, sizeof err), 0);
    }
    run_backend_report sum;
    char note[400];
    red.end(red.ctx, &sum, note, sizeof note);
    cr_assert_eq(sum.errors, 0, "NOSCRIPT is answered by loading the script again, not counted as an error");
    expect_same(&s.limiters[0], reqs, N, a, b);
    redisFree(c);
    bred_destroy(br);
    bmem_destroy(bm);
    scn_free(&s);
    rsrv_stop(&t.server);
}

Test(redis, every_key_has_a_ttl_and_the_run_deletes_its_keys)
{
    test_redis t;
    redis_up(&t);
    redisContext *c = redis_client(&t);
    freeReplyObject(redisCommand(c, "SET someone:else keep"));
    scn_scenario s;
    make_scenario(&s, "sliding_window_log", "limit=3 window_ms=100", 10);
    run_backend red;
    bred *br = redis_backend(&t, "ttl", &red);
    enum { N = 200 };
    gen_request reqs[N];
    lim_decision out[N];
    steady_requests(reqs, N, 10);
    int64_t latency[1024];   /* the most requests one decide() call gets here */
    char err[256];
    cr_assert_eq(red.begin(red.ctx, &s, &s.limiters[0], err, sizeof err), 0, "%s", err);
    cr_assert_eq(red.decide(red.ctx, reqs, N, out, latency, err, sizeof err), 0);
    cr_assert_eq(bred_count_keys(br), 10);
    redisReply *keys = redisCommand(c, "KEYS ratelab:ttl-*");
    cr_assert_eq(keys->elements, 10);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *ttl = redisCommand(c, "PTTL %s", keys->element[i]->str);
        cr_assert(ttl->integer > 0, "%s has no TTL", keys->element[i]->str);
        cr_assert(strstr(keys->element[i]->str, ":{k") && keys->element[i]->str[keys->element[i]->len - 1] == '}',
                  "hash-tagged key %s", keys->element[i]->str);
        freeReplyObject(ttl);
    }
    freeReplyObject(keys);
    run_backend_report sum;
    char note[400];
    red.end(red.ctx, &sum, note, sizeof note);
    cr_assert_eq(sum.keys_seen, 10);
    cr_assert_gt(sum.state_bytes, 0, "MEMORY USAGE sampled");
    cr_assert_eq(bred_count_keys(br), 0, "the run deleted its keys");
    cr_assert_eq(redis_int(c, "EXISTS someone:else"), 1, "and nothing else");
    redisFree(c);
    bred_destroy(br);
    scn_free(&s);
    rsrv_stop(&t.server);
}

Test(redis, refuses_to_start_when_its_prefix_holds_keys)
{
    test_redis t;
    redis_up(&t);
    redisContext *c = redis_client(&t);
    freeReplyObject(redisCommand(c, "SET ratelab:taken-token_bucket:{k1} old"));
    scn_scenario s;
    make_scenario(&s, "token_bucket", "rate=1 capacity=1", 2);
    run_backend red;
    bred *br = redis_backend(&t, "taken", &red);
    char err[512] = "";
    cr_assert_eq(red.begin(red.ctx, &s, &s.limiters[0], err, sizeof err), -1);
    cr_assert(strstr(err, "keys matching ratelab:taken-token_bucket:* already exist; refusing to touch them"), "%s", err);
    redisReply *r = redisCommand(c, "GET ratelab:taken-token_bucket:{k1}");
    cr_assert_str_eq(r->str, "old");
    freeReplyObject(r);
    redisFree(c);
    bred_destroy(br);
    scn_free(&s);
    rsrv_stop(&t.server);
}

/* ---- faults -------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

Test(redis, a_server_killed_and_restarted_mid_run_costs_counted_errors_only, .timeout = 120)
{
    test_redis t;
    redis_up(&t);
    scn_scenario s;
    make_scenario(&s, "gcra", "rate=1000 burst=50", 5);
    run_backend red;
    bred *br = redis_backend(&t, "fault", &red);
    enum { N = 64 };
    gen_request reqs[N];
    lim_decision out[N];
    int64_t latency[1024];   /* the most requests one decide() call gets here */
    char err[256];
    cr_assert_eq(red.begin(red.ctx, &s, &s.limiters[0], err, sizeof err), 0, "%s", err);
    int64_t t_us = 0;
    int batches_ok = 0, batches_failed = 0;
    for (int round = 0; round < 400; round++) {
        if (round == 10) rsrv_kill(&t.server);
        if (round == 20) cr_assert_eq(rsrv_restart(&t.server, err, sizeof err), 0, "%s", err);
        for (int i = 0; i < N; i++) reqs[i] = (gen_request){ t_us += 500, (uint32_t)(i % 5), 1 };
        cr_assert_eq(red.decide(red.ctx, reqs, N, out, latency, err, sizeof err), 0, "the run goes on");
        int allowed = 0;
        for (int i = 0; i < N; i++) allowed += out[i].allowed;
        if (round >= 10 && round < 20) {
            batches_failed++;
            cr_assert_eq(allowed, 0, "on-error deny: nothing passes while Redis is away");
        } else if (round > 20 && allowed > 0) {
            batches_ok++;
            if (batches_ok >= 5) break;
        }
        if (round >= 20) sleep_ms(20);  /* give the backoff its time, boundedly */
    }
    cr_assert_geq(batches_ok, 5, "decisions resume after the restart");
    run_backend_report sum;
    char note[400];
    red.end(red.ctx, &sum, note, sizeof note);
    cr_assert_geq(sum.errors, (uint64_t)batches_failed * N, "every unanswered request counted");
    cr_assert(strstr(note, "gcra: Redis connection lost 1 time(s)"), "the pass says so: %s", note);
    bred_destroy(br);
    scn_free(&s);
    rsrv_stop(&t.server);
}

/* Keys under `pattern` on the test's own connection (reconnecting when the
 * server went away); -1 while it does not answer. */
static long count_keys(test_redis *t, const char *pattern)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", t->server.port, tv);
    if (!c || c->err) { if (c) redisFree(c); return -1; }
    redisSetTimeout(c, (struct timeval){ 10, 0 });
    long n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!r || r->type != REDIS_REPLY_ARRAY) { freeReplyObject(r); redisFree(c); return -1; }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        n += (long)r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(c);
    return n;
}

/* EVALSHA calls the server has run so far (INFO commandstats). */
static long long evalsha_calls(test_redis *t)
{
    redisContext *c = redis_client(t);
    redisReply *r = redisCommand(c, "INFO commandstats");
    cr_assert(r && r->type == REDIS_REPLY_STRING);
    const char *at = strstr(r->str, "cmdstat_evalsha:calls=");
    long long calls = at ? atoll(at + strlen("cmdstat_evalsha:calls=")) : 0;
    freeReplyObject(r);
    redisFree(c);
    return calls;
}

/* A long pass (promotion_ramp's global bucket: 600k requests, 8 to a
 * round trip, a 300 ms timeout) on t's server, into dir/ramp, under
 * run_id: started, and waited for until its keys are there (60 s at most). */
static void start_long_pass(test_redis *t, const char *dir, const char *run_id, tsup_child *run, char *out, size_t len)
{
    static char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", t->server.port);
    snprintf(out, len, "%s/ramp", dir);
    const char *argv[] = { "run", "scenarios/promotion_ramp.json", "--only", "global_token_bucket", "--backend",
                           "redis", "--redis-url", url, "--pipeline", "8", "--redis-timeout-ms", "300",
                           "--redis-wait-s", "30", "--run-id", run_id, "--out", out, "--quiet", NULL };
    tsup_start(run, argv);
    char pattern[80];
    snprintf(pattern, sizeof pattern, "ratelab:%s-*", run_id);
    long keys = 0;
    for (int i = 0; i < 6000 && keys <= 0; i++) {
        keys = count_keys(t, pattern);
        if (keys <= 0) sleep_ms(10);
    }
    cr_assert_gt(keys, 0, "the run started");
}

Test(redis, a_pause_and_a_restart_mid_run_are_waited_out_counted_and_cleaned_up, .timeout = 300)
{
    test_redis t;
    redis_up(&t);
    char err[4096], *dir = tsup_tempdir(), out[512];
    tsup_child run;
    start_long_pass(&t, dir, "outage", &run, out, sizeof out);
    redisContext *c = redis_client(&t);
    redisReply *r = redisCommand(c, "CLIENT PAUSE 1500");
    cr_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
    /* the pause ends when a command of ours is answered again; the run
     * has reconnected when its scripts run again */
    for (int i = 0; i < 600 && count_keys(&t, "ratelab:outage-*") < 0; i++) sleep_ms(10);
    long long before = evalsha_calls(&t), now = before;
    for (int i = 0; i < 6000 && now < before + 100; i++) {
        sleep_ms(10);
        now = evalsha_calls(&t);
    }
    cr_assert_geq(now, before + 100, "decisions resumed after the pause");
    cr_assert(tsup_running(&run), "the run outlasted the pause, so the restart lands inside it");
    rsrv_kill(&t.server);
    cr_assert_eq(rsrv_restart(&t.server, err, sizeof err), 0, "%s", err);
    int rc = tsup_finish(&run, 240, err, sizeof err);
    cr_assert_eq(rc, 0, "a pause and a restart are survived: %s", err);
    /* the pause (5 timeouts long) is a slow server, waited for on the same
     * connection; only the restart loses it */
    cr_assert(strstr(err, "global_token_bucket: Redis connection lost 1 time(s)"), "%s", err);
    cr_assert(strstr(err, "decided by on-error deny"), "%s", err);
    cr_assert_null(strstr(err, "could not delete"), "%s", err);
    cr_assert_eq(count_keys(&t, "ratelab:*"), 0, "the run deleted its keys after the restart");
    char path[600];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv, "results written");
    free(csv);
    tsup_rmtree(dir);
    free(dir);
    rsrv_stop(&t.server);
}

/* SIGTERM while a pass waits out an outage (the server killed, 30 s of
 * budget): the wait looks for it, and the run ends in a few seconds, not
 * when the budget is spent. */
Test(redis, sigterm_ends_a_pass_that_waits_out_an_outage, .timeout = 120)
{
    test_redis t;
    redis_up(&t);
    char err[4096], *dir = tsup_tempdir(), out[512];
    tsup_child run;
    start_long_pass(&t, dir, "outsig", &run, out, sizeof out);
    /* the signal is pending when the run meets the outage, or arrives
     * while it waits: either way the wait must see it */
    rsrv_kill(&t.server);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    kill(run.pid, SIGTERM);
    int rc = tsup_finish(&run, 60, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    cr_assert_neq(rc, 0, "an interrupted run is no success: %s", err);
    cr_assert_lt(took, 10, "SIGTERM to exit took %.1f s (the outage budget is 30 s): %s", took, err);
    tsup_rmtree(dir);
    free(dir);
    rsrv_stop(&t.server);
}

/* A socket listening on a free loopback port; the port in *port. */
static int loopback_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

Test(redis, peers_that_are_not_redis_are_named_and_exit_3, .timeout = 60)
{
    /* a loopback listener that answers like an HTTP server, then one that
     * wants a password */
    int port, fd = loopback_listener(&port);
    pid_t http = fork();
    cr_assert(http >= 0);
    if (http == 0) {
        for (int i = 0; i < 4; i++) {   /* bounded: a few connections, then gone */
            int conn = accept(fd, NULL, NULL);
            if (conn < 0) _exit(0);
            char buf[256];
            (void)!read(conn, buf, sizeof buf);
            const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
            (void)!write(conn, reply, sizeof reply - 1);
            close(conn);
        }
        _exit(0);
    }
    close(fd);
    char url[64], err[4096];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    const char *argv[] = { "run", "scenarios/burst.json", "--backend", "redis", "--redis-url", url, "--out",
                           "/tmp/ratelab-not-redis-should-not-exist", "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 3, "%s", err);
    cr_assert(strstr(err, "does not answer PING like a Redis server: not the Redis protocol"), "%s", err);
    kill(http, SIGKILL);
    waitpid(http, NULL, 0);

    rsrv server;
    cr_assert_eq(rsrv_start(&server, "--requirepass s3cret", err, sizeof err), 0, "%s", err);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    cr_assert_eq(tsup_run(argv, err, sizeof err), 3, "%s", err);
    cr_assert(strstr(err, "wants a password (NOAUTH): give it in the URL"), "%s", err);
    rsrv_stop(&server);
}

/* ---- the command line ------------------------------------------------------------- */

Test(redis, a_password_in_a_url_is_redacted_wherever_text_is_written)
{
    static const struct { const char *in, *out; } cases[] = {
        { "redis://:s3cretPW@127.0.0.1:6379", "redis://:***@127.0.0.1:6379" },
        { "--redis-url=redis://alice:s3cretPW@db:1/3", "--redis-url=redis://alice:***@db:1/3" },
        { "redis+cluster://s3cretPW@h:7000", "redis+cluster://***@h:7000" },
        { "redis://:p@ss/w?rd@h:1", "redis://:***@h:1" },   /* unescaped '@', '/' and '?' hidden too */
        { "a redis://:x1@h and rediss://u:x2@h2 both", "a redis://:***@h and rediss://u:***@h2 both" },
        { "unix:///run/r@dis.sock", "unix:///run/r@dis.sock" },
        { "redis://127.0.0.1:6379", "redis://127.0.0.1:6379" },
        { "no url at all", "no url at all" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        rurl_redact(cases[i].in, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].out, "%s", cases[i].in);
    }
    char small[12];   /* cut short, still terminated, and never the password */
    rurl_redact("redis://:s3cretPW@h", small, sizeof small);
    cr_assert_str_eq(small, "redis://:**");
}

/* RESP replies measured before hiredis sees them: whole, incomplete,
 * malformed, or beyond the bound as soon as a header says so. */
Test(redis, the_bounded_reader_measures_a_reply_before_hiredis_builds_it)
{
    static const struct { const char *bytes; long whole; } cases[] = {
        { "+OK\r\n", 5 }, { ":42\r\n", 5 }, { "$3\r\nabc\r\n", 9 }, { "$-1\r\n", 5 }, { "*0\r\n", 4 },
        { "*2\r\n:1\r\n*1\r\n$1\r\nx\r\n+next\r\n", 19 }, { "*2\r\n:1\r\n", 0 }, { "$3\r\nab", 0 }, { "+OK", 0 },
        { "*1234567890\r\n", RBND_TOO_LARGE }, { "$999999999\r\n", RBND_TOO_LARGE }, { "HTTP/1.1 400\r\n", RBND_MALFORMED },
        { "$3\r\nabcd\r\n", RBND_MALFORMED }, { "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", RBND_MALFORMED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(rbnd_measure(cases[i].bytes, strlen(cases[i].bytes), 1 << 20), cases[i].whole, "case %zu: %ld", i,
                     rbnd_measure(cases[i].bytes, strlen(cases[i].bytes), 1 << 20));
    /* small elements whose objects pass the bound long before their bytes do */
    static char nested[1 << 18];
    size_t n = (size_t)snprintf(nested, sizeof nested, "*2\r\n");
    for (int a = 0; a < 2; a++) {
        n += (size_t)snprintf(nested + n, sizeof nested - n, "*15000\r\n");
        for (int k = 0; k < 15000; k++) n += (size_t)snprintf(nested + n, sizeof nested - n, ":1\r\n");
    }
    cr_assert_lt(n, (size_t)(1 << 18) - 1);
    cr_assert_eq(rbnd_measure(nested, n, 1 << 20), RBND_TOO_LARGE);
}

/* A loopback peer that answers PING and streams an endless reply to any
 * other command: `endless` a bulk string without end, or an array header
 * of 1234567890 elements and then elements without end. Bounded: a few
 * connections, 64 MiB each at most. */
static pid_t endless_peer(int *port, int array)
{
    int fd = loopback_listener(port);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid != 0) {
        close(fd);
        return pid;
    }
    alarm(90);   /* gone by itself, whatever the test does */
    for (int i = 0; i < 4; i++) {
        int conn = accept(fd, NULL, NULL);
        if (conn < 0) _exit(0);
        char buf[4096];
        for (;;) {
            ssize_t got = read(conn, buf, sizeof buf - 1);
            if (got <= 0) break;
            buf[got] = '\0';
            if (strstr(buf, "PING")) {
                if (send(conn, "+PONG\r\n", 7, MSG_NOSIGNAL) != 7) break;
                continue;
            }
            if (strstr(buf, "INFO")) {   /* a cluster node in state ok, so that CLUSTER SLOTS is asked next */
                const char ok[] = "$18\r\ncluster_state:ok\r\n\r\n";
                if (send(conn, ok, sizeof ok - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof ok - 1)) break;
                continue;
            }
            const char *head = array ? "*1234567890\r\n" : "$999999999\r\n";
            if (send(conn, head, strlen(head), MSG_NOSIGNAL) < 0) break;
            char chunk[65536];
            for (size_t k = 0; k < sizeof chunk; k += 4) memcpy(chunk + k, ":1\r\n", 4);
            for (int k = 0; k < 1024 && send(conn, chunk, sizeof chunk, MSG_NOSIGNAL) > 0; k++) {}
            break;
        }
        close(conn);
    }
    _exit(0);
}

Test(redis, an_endless_reply_to_auth_select_or_cluster_slots_is_refused_at_16_mib, .timeout = 120)
{
    static const struct { const char *form, *backend; int array; } cases[] = {
        { "redis://:pw@127.0.0.1:%d", "redis", 0 },         /* AUTH */
        { "redis://127.0.0.1:%d/2", "redis", 1 },           /* SELECT */
        { "redis+cluster://127.0.0.1:%d", "cluster", 1 },   /* CLUSTER SLOTS */
        { "redis+cluster://127.0.0.1:%d", "cluster", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int port;
        pid_t peer = endless_peer(&port, cases[i].array);
        char url[96], err[4096];
        snprintf(url, sizeof url, cases[i].form, port);
        const char *argv[] = { "run", "scenarios/burst.json", "--backend", cases[i].backend, "--redis-url", url,
                               "--out", "/tmp/ratelab-endless-should-not-exist", "--quiet", NULL };
        tsup_child run;
        tsup_start(&run, argv);
        int rc = tsup_finish(&run, 60, err, sizeof err);
        kill(peer, SIGKILL);
        waitpid(peer, NULL, 0);
        cr_assert_eq(rc, 3, "%s: %s", url, err);
        cr_assert(strstr(err, "a reply of more than 16 MiB"), "%s: %s", url, err);
    }
}

Test(redis, bad_redis_urls_are_refused_clearly)
{
    struct { const char *url, *message; } cases[] = {
        { "http://localhost:6379", "REDIS_URL: unknown scheme 'http'" },
        { "rediss://alice:s3cret@localhost:6380", "rediss:// (TLS) is not supported: this ratelab's hiredis is built without TLS" },
        { "redis://:6379", "missing host" },
        { "redis://localhost:0", "port '0' is not a number from 1 to 65535" },
        { "redis://localhost:99999", "port '99999' is not a number from 1 to 65535" },
        { "redis://localhost:6379/x", "database 'x' is not a number" },
        { "redis://user:@localhost:6379", "empty password" },
        { "redis://alice:s3%2@localhost", "a % not followed by two hex digits" },
        { "redis://::1:6379", "an IPv6 host is written in brackets" },
        { "redis://[::1", "an IPv6 host is written in brackets" },
        { "redis://[::1]x", "after the IPv6 host ']' comes ':port' or nothing" },
        { "redis://localhost?timeout=soon", "?timeout='soon' is not a duration" },
        { "redis://localhost?timeout=1h", "?timeout='1h' is not a duration" },
        { "redis://localhost?db=x", "?db='x' is not a database number" },
        { "redis://localhost?tls=1", "unknown query parameter 'tls' (db and timeout are understood)" },
        { "redis+cluster://localhost/2", "a Redis Cluster has only database 0" },
        { "redis+cluster://localhost?db=1", "a Redis Cluster has only database 0" },
        { "unix://relative.sock", "the socket path must be absolute" },
        { "unix:///tmp/r.sock?bd=1", "unknown query parameter 'bd'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rurl u;
        char err[512] = "";
        cr_assert_eq(rurl_parse(cases[i].url, "REDIS_URL", &u, err, sizeof err), -1, "%s accepted", cases[i].url);
        cr_assert(strstr(err, cases[i].message), "%s: %s", cases[i].url, err);
        cr_assert_null(strstr(err, "s3cret"), "a password is never echoed: %s", err);
        cr_assert_null(strstr(err, "s3%2"), "a password is never echoed: %s", err);
    }

    const char *bad[] = { "run", "scenarios/burst.json", "--backend", "redis", "--redis-url", "redis://localhost:0", NULL };
    char err[2048];
    cr_assert_eq(tsup_run(bad, err, sizeof err), 2);
    cr_assert(strstr(err, "--redis-url: port '0'"), "the message names where the URL came from: %s", err);
}

Test(redis, redis_urls_as_users_write_them)
{
    rurl u;
    char err[256], where[300];
    cr_assert_eq(rurl_parse("redis://alice:s3cret@db.local:6380/2", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(strcmp(u.user, "alice") == 0 && strcmp(u.password, "s3cret") == 0 && strcmp(u.host, "db.local") == 0);
    cr_assert(u.port == 6380 && u.db == 2 && !u.is_unix && u.timeout_ms == 0);
    cr_assert_eq(rurl_parse("redis://localhost", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(strcmp(u.host, "localhost") == 0 && u.port == 6379, "the port defaults to 6379");
    cr_assert_eq(rurl_parse("redis://[::1]:6390", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    rurl_describe(&u, where, sizeof where);
    cr_assert(strcmp(u.host, "::1") == 0 && u.port == 6390 && strcmp(where, "[::1]:6390") == 0, "%s", where);
    cr_assert_eq(rurl_parse("redis://[fe80::1%25eth0]", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.port == 6379);
    cr_assert_eq(rurl_parse("redis://localhost:6379?timeout=1&db=3", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.timeout_ms == 1000 && u.db == 3 && u.port == 6379, "timeout %d db %d", u.timeout_ms, u.db);
    cr_assert_eq(rurl_parse("redis://h/1?timeout=250ms", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.timeout_ms == 250 && u.db == 1);
    cr_assert_eq(rurl_parse("redis://us%40er:p%40ss%3Aw%2Frd@h:1", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(strcmp(u.user, "us@er") == 0 && strcmp(u.password, "p@ss:w/rd") == 0, "%s / %s", u.user, u.password);
    cr_assert_eq(rurl_parse("redis://:p%20w@h", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.user[0] == '\0' && strcmp(u.password, "p w") == 0);
    cr_assert_eq(rurl_parse("redis+cluster://10.0.0.7?timeout=2s", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.is_cluster && u.port == 6379 && u.timeout_ms == 2000);
    cr_assert_eq(rurl_parse("unix:///run/redis.sock?db=3&timeout=5", "REDIS_URL", &u, err, sizeof err), 0, "%s", err);
    cr_assert(u.is_unix && strcmp(u.host, "/run/redis.sock") == 0 && u.db == 3 && u.timeout_ms == 5000);
}

Test(redis, a_url_with_a_query_reaches_its_server, .timeout = 120)
{
    rsrv server;
    char err[2048], url[128];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0?timeout=5s", server.port);
    char *dir = tsup_tempdir(), out[300];
    snprintf(out, sizeof out, "%s/out", dir);
    const char *argv[] = { "run", "tests/fixtures/good/poisson_1000.json", "--backend", "redis", "--redis-url", url,
                           "--out", out, "--quiet", NULL };
    int rc = tsup_run(argv, err, sizeof err);
    rsrv_stop(&server);
    cr_assert_eq(rc, 0, "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

Test(redis, unreachable_at_start_is_one_message_and_exit_3)
{
    char err[2048];
    const char *argv[] = { "run", "scenarios/burst.json", "--backend", "redis", "--redis-url",
                           "redis://127.0.0.1:1", "--out", "/tmp/ratelab-unreachable-should-not-exist", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 3);
    cr_assert(strstr(err, "cannot connect to Redis at 127.0.0.1:1"), "%s", err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
}

Test(redis, cli_both_backends_agree_and_leave_no_key_behind, .timeout = 120)
{
    test_redis t;
    redis_up(&t);
    char url[64], err[4096], path[600];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", t.server.port);
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/burst", dir);
    const char *argv[] = { "run", "scenarios/burst.json", "--backend", "memory,redis", "--redis-url", url,
                           "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    /* admitted and dropped of each limiter, memory row then redis row */
    int rows = 0;
    char prev[256] = "";
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        char name[64], backend[16];
        unsigned long long offered, admitted, dropped;
        cr_assert_eq(sscanf(line, "%63[^,],%*[^,],%15[^,],%*[^,],%*[^,],%llu,%llu,%llu", name, backend, &offered,
                            &admitted, &dropped), 5);
        char now[256];
        snprintf(now, sizeof now, "%s %llu %llu %llu", name, offered, admitted, dropped);
        if (rows % 2) cr_assert_str_eq(now, prev, "redis row differs from memory row");
        else snprintf(prev, sizeof prev, "%s", now);
    }
    cr_assert_eq(rows, 14);
    free(csv);
    /* one plot series per limiter and backend */
    const char *plot[] = { "/bin/sh", "scripts/plot.sh", out, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/plots/offered_admitted.svg", out);
    char *svg = tsup_slurp(path);
    cr_assert(svg && strstr(svg, "token_bucket@memory") && strstr(svg, "token_bucket@redis"), "series per backend");
    free(svg);
    redisContext *c = redis_client(&t);
    cr_assert_eq(redis_int(c, "DBSIZE"), 0, "no key left behind");
    redisFree(c);
    tsup_rmtree(dir);
    free(dir);
    rsrv_stop(&t.server);
}

Test(redis, auth_and_select_from_the_url, .timeout = 60)
{
    rsrv server;
    char err[4096];
    cr_assert_eq(rsrv_start(&server, "--requirepass s3cret", err, sizeof err), 0, "%s", err);
    char good[96], bad[96];
    snprintf(good, sizeof good, "redis://:s3cret@127.0.0.1:%d/3", server.port);
    snprintf(bad, sizeof bad, "redis://:wrong@127.0.0.1:%d/3", server.port);
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/burst", dir);
    const char *ok[] = { "run", "scenarios/burst.json", "--backend", "redis", "--only", "gcra", "--redis-url", good,
                         "--run-id", "authtest", "--out", out, "--quiet", NULL };
    char *printed = NULL;
    cr_assert_eq(tsup_run_out(ok, &printed, err, sizeof err), 0, "%s", err);
    /* the password is in no file the run wrote and nowhere it printed */
    static const char *const written[] = { "run.json", "summary.json", "index.html", "summary.csv" };
    for (size_t i = 0; i < sizeof written / sizeof written[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", out, written[i]);
        char *text = tsup_slurp(path);
        if (!text) continue;
        cr_assert_null(strstr(text, "s3cret"), "%s holds the password", written[i]);
        if (strcmp(written[i], "run.json") == 0)
            cr_assert(strstr(text, "redis://:***@127.0.0.1:"), "run.json keeps the command, redacted: %s", text);
        free(text);
    }
    cr_assert_null(strstr(printed, "s3cret"), "%s", printed);
    cr_assert_null(strstr(err, "s3cret"), "%s", err);
    free(printed);
    const char *refused[] = { "run", "scenarios/burst.json", "--backend", "redis", "--redis-url", bad, "--out", out,
                              "--quiet", NULL };
    cr_assert_eq(tsup_run(refused, err, sizeof err), 3);
    cr_assert(strstr(err, "AUTH with the password of --redis-url failed") && !strstr(err, "wrong"),
              "where the refused password came from, never the password: %s", err);
    /* the run used database 3 and left it empty; nothing went to database 0 */
    redisContext *c = redisConnect("127.0.0.1", server.port);
    freeReplyObject(redisCommand(c, "AUTH s3cret"));
    cr_assert_eq(redis_int(c, "DBSIZE"), 0);
    freeReplyObject(redisCommand(c, "SELECT 3"));
    cr_assert_eq(redis_int(c, "DBSIZE"), 0);
    redisFree(c);
    tsup_rmtree(dir);
    free(dir);
    rsrv_stop(&server);
}

/* ---- Redis Cluster: routing, keys on every master, the binary's own cluster ---- */

#include "../sim/redis_cluster.h"

/* A server that exits at once is retried, then reported with what it logged. */
Test(redis, a_server_that_cannot_start_is_reported_with_the_last_line_of_its_log)
{
    rsrv s;
    char err[1024];
    cr_assert_neq(rsrv_start(&s, "--loadmodule /nonexistent/ratelab-test.so", err, sizeof err), 0);
    cr_assert(strstr(err, "Can't load module from /nonexistent/ratelab-test.so"), "%s", err);
    cr_assert_eq(s.pid, 0, "no server left running");
    rsrv_stop(&s);
}

/* The kernel hands out client ports up to 60999 and Redis refuses a
 * cluster node above 55535 with the default bus port (port + 10000): each
 * node gets a bus port of its own, and every node sees every other on it. */
Test(cluster, every_node_has_a_bus_port_of_its_own_as_the_others_see_it, .timeout = 300)
{
    test_redis t;
    cluster_up(&t, 1);
    for (int i = 0; i < t.cluster.n; i++) {
        cr_assert_gt(t.cluster.node[i].bus_port, 0);
        cr_assert_neq(t.cluster.node[i].bus_port, t.cluster.node[i].port);
    }
    for (int i = 0; i < t.cluster.n; i++) {
        redisContext *c = redisConnect("127.0.0.1", t.cluster.node[i].port);
        cr_assert(c && !c->err);
        redisReply *r = redisCommand(c, "CLUSTER NODES");
        cr_assert(r && r->type == REDIS_REPLY_STRING);
        for (int j = 0; j < t.cluster.n; j++) {
            char addr[64];
            snprintf(addr, sizeof addr, "127.0.0.1:%d@%d", t.cluster.node[j].port, t.cluster.node[j].bus_port);
            cr_assert(strstr(r->str, addr), "node %d sees node %d at %s: %s", i, j, addr, r->str);
        }
        freeReplyObject(r);
        redisFree(c);
    }
    engine_down(&t);
}

Test(cluster, key_slots_equal_cluster_keyslot_for_10000_keys_with_and_without_tags, .timeout = 300)
{
    test_redis t;
    cluster_up(&t, 0);
    redisContext *c = redis_client(&t);
    static const char *edges[] = { "", "{}", "{}a", "a{}b", "{a}", "x{a}y", "{a}{b}", "{{a}}", "a{b", "a}b{c}",
                                   "{}{a}", "foo{bar}{zap}", "{user1000}.following", "ratelab:r-l:{global}:k1:1" };
    enum { N = 10000 };
    static char keys[N + 16][64];
    size_t lens[N + 16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++, n++) {
        snprintf(keys[n], sizeof keys[n], "%s", edges[i]);
        lens[n] = strlen(edges[i]);
    }
    rng r;
    rng_seed(&r, 15, 0);
    static const char alphabet[] = "abcxyz019{}:-_\x01\xff";
    for (; n < N + sizeof edges / sizeof edges[0]; n++) {
        size_t len = 1 + rng_below(&r, 40);
        for (size_t k = 0; k < len; k++) keys[n][k] = alphabet[rng_below(&r, sizeof alphabet - 1)];
        if (rng_below(&r, 2)) {   /* half of them carry a tag somewhere */
            size_t at = rng_below(&r, len);
            keys[n][at] = '{';
            if (at + 2 < len) keys[n][at + 1 + rng_below(&r, len - at - 1)] = '}';
        }
        lens[n] = len;
    }
    for (size_t i = 0; i < n; i++) redisAppendCommand(c, "CLUSTER KEYSLOT %b", keys[i], lens[i]);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep;
        cr_assert_eq(redisGetReply(c, (void **)&rep), REDIS_OK);
        cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
        cr_assert_eq((long long)rclu_key_slot(keys[i], lens[i]), rep->integer, "key %zu '%.*s': ours %u, Redis %lld",
                     i, (int)lens[i], keys[i], rclu_key_slot(keys[i], lens[i]), rep->integer);
        freeReplyObject(rep);
    }
    cr_assert_eq(rclu_crc16("123456789", 9), 0x31C3, "the specification's check value of CRC16-XMODEM");
    redisFree(c);
    engine_down(&t);
}

/* Keys matching `pattern` on each master of the test's cluster, into per[]; their sum. */
static long keys_per_master(test_redis *t, const char *pattern, long *per)
{
    long all = 0;
    for (int i = 0; i < t->cluster.n; i++) {
        test_redis one = { .server = t->cluster.node[i] };
        per[i] = count_keys(&one, pattern);
        cr_assert_geq(per[i], 0, "node %d answers", i);
        all += per[i];
    }
    return all;
}

Test(cluster, keys_spread_over_the_masters_and_are_deleted_on_every_one, .timeout = 300)
{
    test_redis t;
    cluster_up(&t, 0);
    scn_scenario s;
    make_scenario(&s, "token_bucket", "rate=10 capacity=5", 64);
    run_backend red;
    bred *br = patient_backend(&t, "spread", &red);
    enum { N = 640 };
    gen_request reqs[N];
    lim_decision out[N];
    int64_t latency[1024];
    steady_requests(reqs, N, 64);
    char err[256];
    cr_assert_eq(red.begin(red.ctx, &s, &s.limiters[0], err, sizeof err), 0, "%s", err);
    for (size_t done = 0; done < N; done += 64)
        cr_assert_eq(red.decide(red.ctx, reqs + done, 64, out + done, latency, err, sizeof err), 0, "%s", err);
    long per[RSRV_CLUSTER_MAX];
    cr_assert_eq(keys_per_master(&t, "ratelab:spread-*", per), 64, "one key per request key");
    for (int i = 0; i < 3; i++) cr_assert_gt(per[i], 0, "master %d holds some of the 64 keys", i);
    run_backend_report sum;
    char note[400];
    red.end(red.ctx, &sum, note, sizeof note);
    expect_answered(&s.limiters[0], br, &sum);
    cr_assert_eq(sum.keys_seen, 64);
    cr_assert_eq(sum.cluster.n, 3, "the report names the three masters");
    uint64_t calls = 0, keys = 0;
    for (int i = 0; i < sum.cluster.n; i++) calls += sum.cluster.shard[i].calls, keys += sum.cluster.shard[i].keys;
    cr_assert_eq(calls, N, "every call counted on the master that answered it");
    cr_assert_eq(keys, 64, "and every key on the master that held it (%llu, %llu, %llu)",
                 (unsigned long long)sum.cluster.shard[0].keys, (unsigned long long)sum.cluster.shard[1].keys,
                 (unsigned long long)sum.cluster.shard[2].keys);
    cr_assert_eq(keys_per_master(&t, "ratelab:spread-*", per), 0, "deleted on every master");
    bred_destroy(br);
    scn_free(&s);
    engine_down(&t);
}

Test(cluster, a_used_prefix_on_any_master_is_refused_and_named, .timeout = 300)
{
    test_redis t;
    cluster_up(&t, 0);
    /* a key of the prefix on a master that is not the seed */
    char key[80];
    int owner = -1;
    for (int tag = 0; owner <= 0; tag++) {
        snprintf(key, sizeof key, "ratelab:used-token_bucket:{t%d}", tag);
        for (int i = 0; i < t.cluster.n; i++) {
            test_redis one = { .server = t.cluster.node[i] };
            redisContext *c = redis_client(&one);
            redisReply *rep = redisCommand(c, "SET %s planted", key);
            int ok = rep && rep->type == REDIS_REPLY_STATUS;
            freeReplyObject(rep);
            redisFree(c);
            if (ok) { owner = i; break; }
        }
    }
    char url[80], err[4096], want[120];
    snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", t.url.port);
    const char *argv[] = { "run", "scenarios/burst.json", "--only", "token_bucket", "--backend", "cluster",
                           "--redis-url", url, "--run-id", "used", "--out", "/dev/null/never", "--quiet", NULL };
    char *dir = tsup_tempdir(), out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    argv[11] = out;
    cr_assert_neq(tsup_run(argv, err, sizeof err), 0, "a used prefix is refused");
    snprintf(want, sizeof want, "already exist on the master 127.0.0.1:%d", t.cluster.node[owner].port);
    cr_assert(strstr(err, want), "the master holding them is named: %s", err);
    long per[RSRV_CLUSTER_MAX];
    cr_assert_eq(keys_per_master(&t, "ratelab:used-*", per), 1, "the planted key is untouched, nothing else written");
    tsup_rmtree(dir);
    free(dir);
    engine_down(&t);
}

typedef struct { char path[64]; } cluster_run;

ParameterizedTestParameters(cluster, the_binary_on_its_own_cluster_decides_as_memory_and_stops_every_server)
{
    static cluster_run runs[] = { { "scenarios/danmaku_chain.json" }, { "scenarios/flash_sale_retry.json" },
                                  { "scenarios/fleet_flash.json" }, { "tests/fixtures/good/chains.json" } };
    return cr_make_param_array(cluster_run, runs, sizeof runs / sizeof runs[0]);
}

/* Directories of private servers started by process `pid` that still exist. */
static int servers_left_by(pid_t pid)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls -d /tmp/ratelab-redis-%ld-* 2>/dev/null | wc -l", (long)pid);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert(p && fscanf(p, "%d", &n) == 1);
    pclose(p);
    return n;
}

ParameterizedTest(cluster_run *p, cluster, the_binary_on_its_own_cluster_decides_as_memory_and_stops_every_server,
                  .timeout = 600)
{
    char *dir = tsup_tempdir(), out[600], logs[600], err[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    const char *argv[] = { "run", p->path, "--backend", "memory,cluster", "--cluster", "3x0", "--out", out,
                           "--log-decisions", logs, "--quiet", NULL };
    tsup_child run;
    tsup_start(&run, argv);
    cr_assert_eq(tsup_finish(&run, 500, err, sizeof err), 0, "%s: %s", p->path, err);
    cr_assert_null(strstr(err, "could not delete"), "every master's keys deleted: %s", err);
    cr_assert_eq(servers_left_by(run.pid), 0, "every server of the private cluster stopped, its directory gone");
    scn_scenario s;
    cr_assert_eq(scn_load(p->path, NULL, &s, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < s.n_limiters; i++) cr_assert_gt(tsup_same_decisions_on(logs, s.limiters[i].name, "cluster"), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/cluster_nodes.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv && strstr(csv, "limiter,backend,node,role"), "the per-node table is written");
    free(csv);
    scn_free(&s);
    tsup_rmtree(dir);
    free(dir);
}

/* ---- faults on the private cluster ------------------------------------------------ */

/* Field `col` (0-based) of the first line of `csv` whose first field is
 * `limiter` and whose third is `third` (NULL: any), as a double. */
static double csv_number(const char *csv, const char *limiter, const char *third, int col)
{
    for (const char *line = csv; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char row[1024];
        size_t len = strcspn(line, "\n");
        if (len >= sizeof row) continue;
        memcpy(row, line, len);
        row[len] = '\0';
        char *field[32];
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(row, ",", &save); tok && n < 32; tok = strtok_r(NULL, ",", &save))
            field[n++] = tok;
        if (n > col && strcmp(field[0], limiter) == 0 && (!third || strcmp(field[2], third) == 0))
            return atof(field[col]);
    }
    cr_assert_fail("no row for %s%s%s in:\n%s", limiter, third ? " " : "", third ? third : "", csv);
    return 0;
}

static char *results_file(const char *out, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", out, name);
    char *text = tsup_slurp(path);
    cr_assert(text, "%s written", path);
    return text;
}

Test(cluster, a_reshard_mid_run_loses_no_decision_and_makes_none_twice, .timeout = 600)
{
    char *dir = tsup_tempdir(), out[600], logs[600], err[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    const char *argv[] = { "run", "tests/fixtures/good/cluster_faults.json", "--backend", "memory,cluster",
                           "--cluster", "3x0", "--cluster-fault", "reshard@1:400", "--out", out, "--log-decisions",
                           logs, "--quiet", NULL };
    tsup_child run;
    tsup_start(&run, argv);
    cr_assert_eq(tsup_finish(&run, 500, err, sizeof err), 0, "%s", err);
    cr_assert_null(strstr(err, "could not delete"), "%s", err);
    cr_assert_eq(servers_left_by(run.pid), 0, "every server stopped");
    cr_assert_gt(tsup_same_decisions_on(logs, "global_bucket", "cluster"), 10000);
    cr_assert_gt(tsup_same_decisions_on(logs, "per_user_gcra", "cluster"), 10000);
    char *faults = results_file(out, "cluster_faults.csv"), *nodes = results_file(out, "cluster_nodes.csv");
    cr_assert_eq(csv_number(faults, "global_bucket", "reshard", 6), 400, "400 slots moved:\n%s", faults);
    cr_assert_eq(csv_number(faults, "per_user_gcra", "reshard", 6), 400, "%s", faults);
    cr_assert_gt(csv_number(faults, "per_user_gcra", "reshard", 7), 0, "keys of users moved with their slots");
    /* the global key's slot moved first, under its requests: they were redirected */
    double redirected = csv_number(nodes, "global_bucket", NULL, 10) + csv_number(nodes, "global_bucket", NULL, 11);
    cr_assert_gt(redirected, 0, "MOVED or ASK met:\n%s", nodes);
    cr_assert_eq(csv_number(nodes, "global_bucket", NULL, 15), 0, "no call went unanswered:\n%s", nodes);
    free(faults);
    free(nodes);
    tsup_rmtree(dir);
    free(dir);
}

typedef struct { int realtime; } failover_case;

ParameterizedTestParameters(cluster, a_master_killed_mid_run_fails_over_its_window_and_errors_reported)
{
    static failover_case cases[] = { { 0 }, { 1 } };
    return cr_make_param_array(failover_case, cases, 2);
}

ParameterizedTest(failover_case *c, cluster, a_master_killed_mid_run_fails_over_its_window_and_errors_reported,
                  .timeout = 600)
{
    char *dir = tsup_tempdir(), out[600], err[8192];
    snprintf(out, sizeof out, "%s/out", dir);
    int realtime = c->realtime;
    const char *argv[] = { "run", "tests/fixtures/good/cluster_faults.json", "--only", "global_bucket", "--backend",
                           "cluster", "--cluster", "3x1", "--cluster-fault", "kill-master@2", "--on-error", "deny",
                           "--out", out, "--quiet", realtime ? "--mode" : NULL, "realtime", "--clients", "4", NULL };
    tsup_child run;
    tsup_start(&run, argv);
    cr_assert_eq(tsup_finish(&run, 500, err, sizeof err), 0, "the run survives the kill: %s", err);
    cr_assert_null(strstr(err, "could not delete"), "%s", err);
    cr_assert_eq(servers_left_by(run.pid), 0, "every server stopped, the killed one restarted and stopped too");
    char *faults = results_file(out, "cluster_faults.csv"), *summary = results_file(out, "summary.csv");
    double took = csv_number(faults, "global_bucket", "kill-master", 8);
    double window = csv_number(faults, "global_bucket", "kill-master", 11);
    /* the node timeout is 2 s: nothing fails over sooner; 60 s is a hung cluster */
    cr_assert(took > 1.5 && took < 60, "the replica took over after %.3f s:\n%s", took, faults);
    cr_assert(window > 1.5 && window < 60, "calls went unanswered for %.3f s:\n%s", window, faults);
    if (realtime) {
        /* realtime clients do not wait: the window's calls are errors, denied */
        double errors = csv_number(faults, "global_bucket", "kill-master", 9);
        cr_assert_gt(errors, 500, "at 1500 requests/s, a window of %.1f s fails many: %.0f\n%s", window, errors, faults);
    }
    cr_assert(strstr(summary, "global_bucket"), "the pass has its results");
    free(faults);
    free(summary);
    tsup_rmtree(dir);
    free(dir);
}

/* ---- the reliable queue on the cluster ---------------------------------------------- */

Test(cluster, queues_of_one_scenario_each_live_in_one_slot_and_spread_over_the_masters, .timeout = 300)
{
    test_redis t;
    cluster_up(&t, 0);
    char url[80], err[4096], *dir = tsup_tempdir(), out[600];
    snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", t.url.port);
    snprintf(out, sizeof out, "%s/out", dir);
    const char *argv[] = { "run", "tests/fixtures/good/queues_cluster.json", "--backend", "cluster", "--redis-url", url,
                           "--run-id", "spreadq", "--out", out, "--quiet", NULL };
    tsup_child run;
    tsup_start(&run, argv);
    /* while the three queues run one after another, which masters hold their keys */
    int seen[RSRV_CLUSTER_MAX] = { 0 };
    for (int i = 0; i < 3000 && tsup_running(&run); i++) {   /* 60 s at most */
        long per[RSRV_CLUSTER_MAX];
        keys_per_master(&t, "ratelab:spreadq-*", per);
        int holding = 0;
        for (int k = 0; k < t.cluster.n; k++) {
            seen[k] |= per[k] > 0;
            holding += per[k] > 0;
        }
        cr_assert_leq(holding, 1, "a queue's keys share one hash tag: one master holds them at a time");
        sleep_ms(20);
    }
    cr_assert_eq(tsup_finish(&run, 300, err, sizeof err), 0, "%s", err);
    int masters = 0;
    for (int k = 0; k < t.cluster.n; k++) masters += seen[k];
    cr_assert_geq(masters, 2, "orders, payments and refunds hash to different masters (seen on %d)", masters);
    long per[RSRV_CLUSTER_MAX];
    cr_assert_eq(keys_per_master(&t, "ratelab:spreadq-*", per), 0, "every queue deleted its keys");
    char *summary = results_file(out, "summary.csv");
    for (const char *q = "orders\0payments\0refunds\0"; *q; q += strlen(q) + 1)
        cr_assert_eq(csv_number(summary, q, "cluster", 5), csv_number(summary, q, "cluster", 6),
                     "%s: every message offered was accepted:\n%s", q, summary);
    free(summary);
    tsup_rmtree(dir);
    free(dir);
    engine_down(&t);
}

Test(cluster, chaos_on_the_cluster_reconciles_every_message_across_master_kills, .timeout = 600)
{
    char *dir = tsup_tempdir(), out[600], err[16384];
    snprintf(out, sizeof out, "%s/chaos", dir);
    const char *argv[] = { "chaos", "tests/fixtures/good/queues_cluster.json", "--only", "orders", "--cluster", "3x1",
                           "--kills", "2", "--restarts", "1", "--wait-replicas", "1", "--seed", "3", "--out", out,
                           NULL };
    tsup_child run;
    tsup_start(&run, argv);
    cr_assert_eq(tsup_finish(&run, 500, err, sizeof err), 0, "every message reconciled: %s", err);
    cr_assert(strstr(err, "kill -9 of the queue's master"), "the master was killed: %s", err);
    cr_assert(strstr(err, "took over the queue's slot"), "and its replica took over: %s", err);
    cr_assert_eq(servers_left_by(run.pid), 0, "every server stopped");
    char *summary = results_file(out, "summary.csv");
    cr_assert(strstr(summary, "orders,queue,cluster"), "the pass ran on the cluster:\n%s", summary);
    free(summary);
    tsup_rmtree(dir);
    free(dir);
}
