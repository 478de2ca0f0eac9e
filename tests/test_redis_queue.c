/* The reliable queue on a redis-server each test starts for itself: a
 * consumer killed between LMOVE and LREM, a restart with and without the
 * AOF, poison and malformed messages, and a short chaos run that must
 * lose nothing. Every wait is a bounded poll. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../algorithms/queue.h"
#include "../sim/redis_queue.h"
#include "../sim/redis_queue_run.h"
#include "../sim/redis_server.h"
#include "support.h"

typedef struct {
    rsrv server;
    rq_setup setup;
    rq *q;
    int stop[2];
} tq;

static void tq_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* A server (with `args`), and a queue whose consumers take `batch` every
 * 20 ms and serve each message in `service_ms`. */
static void tq_up(tq *t, const char *args, double service_ms, double failure_prob, uint32_t max_attempts,
                  int64_t visibility_ms, uint32_t batch)
{
    char err[512];
    memset(t, 0, sizeof *t);
    cr_assert_eq(rsrv_start(&t->server, args, err, sizeof err), 0, "%s", err);
    rq_setup *s = &t->setup;
    snprintf(s->prefix, sizeof s->prefix, "ratelab:test-%d:{q}:", (int)getpid());
    snprintf(s->url.host, sizeof s->url.host, "127.0.0.1");
    s->url.port = t->server.port;
    s->timeout_ms = 2000;
    s->q = (qm_config){ batch, 20000, max_attempts, 0, 0 };
    s->visibility_us = visibility_ms * 1000;
    s->down = (scn_downstream){ .present = 1, .capacity_rps = 1e6, .concurrency = 1, .dist = SCN_SERVICE_FIXED,
                                .mean_ms = service_ms };
    s->failure_prob = failure_prob;
    s->seed = 1;
    s->t0_us = rq_now_us();
    t->q = rq_open(s, err, sizeof err);
    cr_assert(t->q, "%s", err);
    cr_assert_eq(pipe(t->stop), 0);
}

static void tq_down(tq *t)
{
    rq_close(t->q);
    close(t->stop[0]);
    close(t->stop[1]);
    rsrv_stop(&t->server);
}

/* Tells every consumer to stop after its batch, and waits (bounded). */
static void tq_stop(tq *t, pid_t pid)
{
    cr_assert_eq(write(t->stop[1], "x", 1), 1);
    for (int i = 0; i < 500 && waitpid(pid, NULL, WNOHANG) == 0; i++) tq_sleep_ms(10);
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_fail("the consumer did not stop within 5 s");
    }
}

typedef int (*tq_until)(const rq_levels *v);

/* Polls the levels until `done` holds, at most `seconds`. */
static rq_levels tq_wait(tq *t, tq_until done, int seconds, const char *what)
{
    rq_levels v = { 0 };
    for (int i = 0; i < seconds * 50; i++) {
        if (rq_levels_get(t->q, &v) == 0 && done(&v)) return v;
        tq_sleep_ms(20);
    }
    cr_assert_fail("%s did not happen within %d s (queued %llu, processing %llu, dead %llu, succeeded %llu)", what,
                   seconds, (unsigned long long)v.queued, (unsigned long long)v.processing,
                   (unsigned long long)v.dead, (unsigned long long)v.succeeded);
    return v;
}

static int one_in_processing(const rq_levels *v) { return v->processing == 1; }
static int one_succeeded(const rq_levels *v) { return v->succeeded == 1 && v->processing == 0; }
static int one_dead(const rq_levels *v) { return v->dead == 1 && v->processing == 0; }
static int one_dead_one_succeeded(const rq_levels *v) { return v->dead == 1 && v->succeeded == 1 && v->processing == 0; }
static int all_500_succeeded(const rq_levels *v) { return v->succeeded == 500 && v->processing == 0; }

/* The one dead letter, parsed. */
static cJSON *tq_dead_letter(tq *t)
{
    redisContext *c = redisConnect("127.0.0.1", t->server.port);
    cr_assert(c && !c->err);
    redisReply *r = redisCommand(c, "LRANGE %sdead 0 -1", t->setup.prefix);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    cJSON *m = cJSON_Parse(r->element[0]->str);
    cr_assert(m, "dead letter is not JSON: %s", r->element[0]->str);
    freeReplyObject(r);
    redisFree(c);
    return m;
}

/* Every id 0..produced-1 accounted for. */
static rq_tally tq_tally(tq *t, uint64_t produced)
{
    rq_tally tally;
    char err[256];
    cr_assert_eq(rq_reconcile(t->q, produced, NULL, &tally, NULL, NULL, 0, 100000, NULL, 0, err, sizeof err), 0, "%s",
                 err);
    return tally;
}

Test(redis_queue, message_survives_a_consumer_killed_between_lmove_and_lrem, .timeout = 60)
{
    tq t;
    tq_up(&t, NULL, 3000, 0, 3, 300, 1);   /* a 3 s call: the kill lands while it is out */
    cr_assert_eq(rq_produce(t.q, 0, "k", 1, 0), 1);
    pid_t first = rq_consumer_spawn(&t.setup, 0, 0, 1, t.stop[0]);
    cr_assert_gt(first, 0);
    tq_wait(&t, one_in_processing, 10, "the take");
    kill(first, SIGKILL);
    waitpid(first, NULL, 0);
    tq_sleep_ms(350);   /* past the 300 ms visibility timeout */
    uint64_t back = 0, dead = 0;
    cr_assert_eq(rq_reap(t.q, &back, &dead), 0);
    cr_assert_eq(back, 1);
    cr_assert_eq(dead, 0);
    t.setup.down.mean_ms = 1;   /* the next consumer's downstream answers at once */
    pid_t second = rq_consumer_spawn(&t.setup, 0, 1, 1, t.stop[0]);
    rq_levels v = tq_wait(&t, one_succeeded, 10, "the redelivery");
    tq_stop(&t, second);
    cr_assert_eq(v.deliveries, 2);
    rq_tally tally = tq_tally(&t, 1);
    cr_assert_eq(tally.succeeded, 1);
    cr_assert_eq(tally.lost, 0);
    cr_assert_eq(tally.duplicates, 0);
    tq_down(&t);
}

static void produce_then_restart(tq *t, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) cr_assert_eq(rq_produce(t->q, i, "k", 1, 0), 1);
    char err[512];
    rsrv_kill(&t->server);
    cr_assert_eq(rsrv_restart(&t->server, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rq_recover(t->q), 0);
}

Test(redis_queue, restart_with_appendfsync_always_loses_nothing, .timeout = 60)
{
    tq t;
    tq_up(&t, rqr_server_args(QUEUE_DURABLE_ALWAYS), 1, 0, 3, 1000, 100);
    cr_assert_eq(rq_durability_get(t.q), QUEUE_DURABLE_ALWAYS);
    produce_then_restart(&t, 500);
    rq_tally tally = tq_tally(&t, 500);
    cr_assert_eq(tally.still_queued, 500);
    cr_assert_eq(tally.lost, 0);
    /* and they are all still deliverable */
    pid_t c = rq_consumer_spawn(&t.setup, 0, 0, 100, t.stop[0]);
    tq_wait(&t, all_500_succeeded, 20, "draining 500 messages");
    tq_stop(&t, c);
    tally = tq_tally(&t, 500);
    cr_assert_eq(tally.succeeded, 500);
    cr_assert_eq(tally.lost, 0);
    tq_down(&t);
}

Test(redis_queue, restart_without_persistence_reports_the_loss, .timeout = 60)
{
    tq t;
    tq_up(&t, NULL, 1, 0, 3, 1000, 100);
    cr_assert_eq(rq_durability_get(t.q), QUEUE_DURABLE_NONE);
    produce_then_restart(&t, 200);
    rq_tally tally = tq_tally(&t, 200);
    cr_assert_eq(tally.lost, 200);
    cr_assert_eq(tally.first_lost_id, 0);
    cr_assert_eq(tally.still_queued + tally.succeeded + tally.dead_lettered, 0);
    tq_down(&t);
}

Test(redis_queue, poison_message_is_dead_lettered_after_exactly_max_attempts, .timeout = 60)
{
    tq t;
    tq_up(&t, NULL, 1, 1.0, 3, 5000, 1);   /* every delivery fails */
    cr_assert_eq(rq_produce(t.q, 0, "poison", 1, 0), 1);
    pid_t c = rq_consumer_spawn(&t.setup, 0, 0, 1, t.stop[0]);
    rq_levels v = tq_wait(&t, one_dead, 10, "the dead letter");
    tq_sleep_ms(100);   /* a fourth delivery, if there were one, would show by now */
    cr_assert_eq(rq_levels_get(t.q, &v), 0);
    tq_stop(&t, c);
    cr_assert_eq(v.deliveries, 3);
    cr_assert_eq(v.retries, 2);
    cr_assert_eq(v.queued, 0);
    cJSON *m = tq_dead_letter(&t);
    cr_assert_eq(cJSON_GetObjectItem(m, "id")->valuedouble, 0);
    cr_assert_eq(cJSON_GetObjectItem(m, "attempts")->valuedouble, 3);
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(m, "last_error"));
    cr_assert(why && strstr(why, "attempt 3"), "last_error: %s", why ? why : "(none)");
    cJSON_Delete(m);
    tq_down(&t);
}

Test(redis_queue, malformed_json_is_dead_lettered_with_a_reason, .timeout = 60)
{
    tq t;
    tq_up(&t, NULL, 1, 0, 3, 5000, 10);
    const char *broken = "{\"id\": 1, \"attempts\": oops";
    cr_assert_eq(rq_push_raw(t.q, broken), 0);
    cr_assert_eq(rq_produce(t.q, 0, "k", 1, 0), 1);
    pid_t c = rq_consumer_spawn(&t.setup, 0, 0, 10, t.stop[0]);
    tq_wait(&t, one_dead_one_succeeded, 10, "the dead letter and the good message's success");
    cr_assert_eq(waitpid(c, NULL, WNOHANG), 0, "the consumer died on the malformed message");
    tq_stop(&t, c);
    cJSON *m = tq_dead_letter(&t);
    const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(m, "reason"));
    cr_assert(reason && strncmp(reason, "malformed JSON", 14) == 0, "reason: %s", reason ? reason : "(none)");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m, "raw")), broken);
    cJSON_Delete(m);
    rq_tally tally = tq_tally(&t, 1);
    cr_assert_eq(tally.succeeded, 1);
    cr_assert_eq(tally.dead_unreadable, 1);
    tq_down(&t);
}

/* The chaos run, short, with both cores kept busy by other work:
 * consumers killed and the server restarted while a durable queue takes a
 * burst. Every fault must land inside the load and strike messages in
 * processing, the reaper must return what dead consumers held, and every
 * id must be accounted for. */
Test(redis_queue, short_chaos_run_loses_nothing_with_appendfsync_always, .timeout = 240)
{
    char *dir = tsup_tempdir();
    char out[512], err[16384];
    snprintf(out, sizeof out, "%s/chaos", dir);
    const char *argv[] = { "chaos", "tests/fixtures/chaos_small.json", "--kills", "6", "--restarts", "1",
                           "--out", out, NULL };
    pid_t busy[2];
    tsup_spin_up(busy, 200);
    int rc = tsup_run(argv, err, sizeof err);
    tsup_spin_down(busy);
    cr_assert_eq(rc, 0, "ratelab chaos exited %d:\n%s", rc, err);
    cr_assert(strstr(err, "kill -9 redis-server"), "no server restart in:\n%s", err);
    /* each kill's line: "... (kill K; planned at +P s): N in processing, M of them its own" */
    int kills = 0, struck = 0;
    for (const char *p = err; (p = strstr(p, "kill -9 consumer")); p++) {
        double planned, landed;
        long in_processing, held;
        const char *line = p;
        while (line > err && line[-1] != '\n') line--;
        const char *at = strstr(p, "planned at ");
        cr_assert(at && sscanf(line, "chaos %lf s:", &landed) == 1 &&
                  sscanf(at, "planned at %lf s): %ld in processing, %ld of them its own", &planned, &in_processing,
                         &held) == 3, "unreadable fault line in:\n%s", err);
        /* on time, give or take a stall of this busy machine; chaos itself
         * exits 1 if one lands after the last message was produced */
        cr_assert_lt(landed - planned, 10.0, "a kill landed %.3f s late", landed - planned);
        kills++;
        struck += held > 0;
    }
    cr_assert_eq(kills, 6, "%s", err);
    cr_assert_geq(struck, 1, "no kill struck a consumer holding messages:\n%s", err);
    char path[600];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    char v[64];
    long long produced = atoll(tsup_field(csv, 0, "queue_produced", v, sizeof v));
    long long succeeded = atoll(tsup_field(csv, 0, "queue_succeeded", v, sizeof v));
    long long dead = atoll(tsup_field(csv, 0, "queue_dead_lettered", v, sizeof v));
    long long queued = atoll(tsup_field(csv, 0, "queue_still_queued", v, sizeof v));
    long long lost = atoll(tsup_field(csv, 0, "queue_lost", v, sizeof v));
    cr_assert_gt(produced, 1000);
    cr_assert_eq(lost, 0, "lost %lld of %lld", lost, produced);
    cr_assert_eq(succeeded + dead + queued, produced);
    cr_assert_str_eq(tsup_field(csv, 0, "queue_durability", v, sizeof v), "always");
    cr_assert_eq(atoll(tsup_field(csv, 0, "queue_consumer_kills", v, sizeof v)), 6);
    cr_assert_eq(atoll(tsup_field(csv, 0, "queue_server_restarts", v, sizeof v)), 1);
    cr_assert_geq(atoll(tsup_field(csv, 0, "queue_reaped", v, sizeof v)), 1,
                  "the reaper returned what the killed consumers held");
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* A server out of memory answers OOM at once: that is a refusal to count,
 * not an outage to wait 30 s for; and a message with a long key fits. */
Test(redis_queue, an_oom_reply_is_a_refusal_and_long_keys_fit, .timeout = 60)
{
    tq t;
    tq_up(&t, "--maxmemory 1mb --maxmemory-policy noeviction", 1, 0, 3, 1000, 10);
    char key[257];
    memset(key, 'k', 256);
    key[256] = '\0';
    cr_assert_eq(rq_produce(t.q, 0, key, 1, 0), 1, "a 256-byte key fits a message");
    int got = 1;
    uint64_t id = 1;
    for (; id < 100000 && got == 1; id++) got = rq_produce(t.q, id, key, 1, 0);
    cr_assert_eq(got, -2, "at maxmemory the server refuses (got %d after %llu messages)", got,
                 (unsigned long long)id);
    cr_assert(strstr(rq_refusal(t.q), "OOM"), "the refusal says why: %s", rq_refusal(t.q));
    tq_down(&t);
}

/* The effect ledger: a message delivered twice applies its cost once; the
 * compensation pass finds a balance tampered with and sets it back to the
 * log; a key whose log is off the producer's record is named. */
Test(redis_queue, effects_apply_once_and_the_compensation_pass_restores_the_log, .timeout = 60)
{
    tq t;
    tq_up(&t, NULL, 1, 0, 3, 1000, 10);
    cr_assert_eq(rq_produce(t.q, 0, "alice", 3, 0), 1);
    cr_assert_eq(rq_produce(t.q, 1, "bob", 5, 0), 1);
    cr_assert_eq(rq_take_ack(t.q, "t0", 10), 2, "both delivered and acknowledged");
    /* a second delivery of message 0, as after a reaped lease */
    cr_assert_eq(rq_push_raw(t.q, "{\"id\":0,\"key\":\"alice\",\"cost\":3,\"enqueued_us\":0,\"attempts\":1}"), 0);
    cr_assert_eq(rq_take_ack(t.q, "t0", 10), 1);
    rq_expected exp[] = { { "alice", 3 }, { "bob", 5 } };
    rq_effects fx;
    char err[256];
    cr_assert_eq(rq_effects_check(t.q, exp, 2, &fx, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fx.applied, 2);
    cr_assert_eq(fx.suppressed, 1, "the duplicate applied nothing");
    cr_assert_eq(fx.compensated, 0);
    cr_assert_eq(fx.wrong, 0, "%s", fx.first_wrong);
    cr_assert_eq(fx.balance_total, 8);
    /* someone adds 4 to alice's balance behind the ledger's back */
    redisContext *c = redisConnect("127.0.0.1", t.server.port);
    char key[300];
    snprintf(key, sizeof key, "%sbalances", t.setup.prefix);
    redisReply *r = redisCommand(c, "HINCRBY %s alice 4", key);
    freeReplyObject(r);
    cr_assert_eq(rq_effects_check(t.q, exp, 2, &fx, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fx.compensated, 1, "the balance disagreed with its log");
    r = redisCommand(c, "HGET %s alice", key);
    cr_assert(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "3") == 0, "set back to the log's 3");
    freeReplyObject(r);
    redisFree(c);
    /* the producer expected more for bob than was ever applied */
    rq_expected more[] = { { "alice", 3 }, { "bob", 6 } };
    cr_assert_eq(rq_effects_check(t.q, more, 2, &fx, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fx.wrong, 1);
    cr_assert(strstr(fx.first_wrong, "bob: logged 5, expected 6"), "%s", fx.first_wrong);
    tq_down(&t);
}
