/* Fleets (fleet.h): a limit shared across gateway nodes, on hand-computed
 * streams and against the bounds the strategies are known for. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/backend_memory.h"
#include "../sim/runner.h"
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "../sim/redis_server.h"
#include "support.h"

/* The 0-based column of `name` in the CSV's header, or -1. */
static int csv_col_of(const char *csv, const char *name)
{
    size_t want = strlen(name);
    int col = 0;
    for (const char *h = csv; *h && *h != '\n'; col++) {
        size_t n = strcspn(h, ",\n");
        if (n == want && strncmp(h, name, n) == 0) return col;
        h += n + (h[n] == ',');
    }
    return -1;
}

/* A column of a CSV row (0-based), as a number. */
static double csv_field(const char *row, int col)
{
    for (int i = 0; i < col && row; i++) row = strchr(row, ',') + 1;
    return atof(row);
}

/* By hand (fleet_split.json): per second, round robin gives each node 10
 * requests; node 0 (7 of the window) admits requests 0, 2, ..., 12 and
 * node 1 (2 of it) requests 1 and 3, where the shared window admits 0-9:
 * 9 a second, 3 of the shared window's refused (5, 7, 9), 2 admitted
 * that it refuses (10, 12) -- never more than the limit. */
Test(fleet, a_local_split_refuses_what_a_hand_count_says)
{
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/fleet_split.json", NULL, 0, 1, &s);
    cr_assert_eq(r.summary.offered, 40);
    cr_assert_eq(r.summary.admitted, 18);
    cr_assert_eq(r.fleet.nodes, 2);
    cr_assert_eq(r.fleet.offered[0], 20);
    cr_assert_eq(r.fleet.admitted[0], 14);
    cr_assert_eq(r.fleet.admitted[1], 4);
    cr_assert_eq(r.oracle.wrongly_blocked, 6, "against the exact window on the same stream");
    cr_assert_eq(r.oracle.over_admitted, 0);
    cr_assert_eq(r.bound_breaches, 0);
    cr_assert_eq(r.oracle.violations, 0, "nothing lost");
    cr_assert_eq(r.fleet.store_calls, 0, "local nodes never ask the store");
    run_result_free(&r);
    scn_free(&s);
}

/* central is the shared limiter, paying the link: the plain limiter's
 * decisions, one store call per request, a round trip of 2 x 0.5 ms. */
Test(fleet, central_decides_like_the_shared_limiter)
{
    scn_scenario s, t;
    run_result plain = tsup_run_memory("tests/fixtures/good/fleet_small.json", NULL, 0, 0, &s);
    run_result central = tsup_run_memory("tests/fixtures/good/fleet_small.json", NULL, 0, 1, &t);
    cr_assert_eq(central.summary.admitted, plain.summary.admitted);
    cr_assert_eq(central.oracle.wrongly_blocked, 0);
    cr_assert_eq(central.oracle.wrongly_allowed, 0);
    cr_assert_eq(central.bound_breaches, 0);
    cr_assert_eq(central.fleet.store_calls, central.summary.offered);
    cr_assert_eq(central.fleet.added_p99_us, 1000);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < central.fleet.nodes; i++) sum += central.fleet.admitted[i];
    cr_assert_eq(sum, central.summary.admitted, "the nodes' admissions add up");
    run_result_free(&plain);
    run_result_free(&central);
    scn_free(&s);
    scn_free(&t);
}

/* Kong/wso2's bound: between syncs each node sees none of the others'
 * admissions, so the fleet passes at most (N - 1) x rate x (sync + the
 * link's round trip) plus a burst above the limit, in any window. Over
 * seeds: the bound holds, and the fleet does pass more than the limit. */
Test(fleet, local_sync_stays_within_its_known_bound_over_seeds, .timeout = 120)
{
    const char *path = "tests/fixtures/good/fleet_sync.json";
    for (uint64_t seed = 1; seed <= 6; seed++) {
        scn_scenario s;
        run_result r = tsup_run_memory_seeded(path, 1, seed, &s);
        const scn_limiter *f = r.limiter;
        double rate = 400, burst = 100, n = f->fleet->nodes;
        double sync_s = (double)f->fleet->sync_us / 1e6 + 2 * f->fleet->link_mean_ms / 1000;
        double bound = (n - 1) * rate * sync_s + burst;
        cr_assert_gt(r.bound_breaches, 0, "seed %llu: it does pass more than the limit", (unsigned long long)seed);
        cr_assert_leq(r.oracle.worst_excess, bound, "seed %llu: %.1f over, bound %.1f", (unsigned long long)seed,
                      r.oracle.worst_excess, bound);
        cr_assert_eq(r.oracle.violations, 0, "nothing lost");
        cr_assert_eq(r.fleet.store_calls, 2 * r.fleet.syncs + 2 * (r.fleet.syncs < r.fleet.store_calls / 2),
                     "a push and a pull per sync (one may be in flight at the end)");
        run_result_free(&r);
        scn_free(&s);
    }
}

/* With syncs far more often than requests come, a node's replica is the
 * store's when it decides: local_sync decides as the shared limiter does. */
Test(fleet, local_sync_at_a_tiny_interval_decides_like_central)
{
    scn_scenario s, t;
    run_result plain = tsup_run_memory("tests/fixtures/good/fleet_sync_fast.json", NULL, 0, 0, &s);
    run_result sync = tsup_run_memory("tests/fixtures/good/fleet_sync_fast.json", NULL, 0, 1, &t);
    cr_assert_lt(plain.summary.admitted, plain.summary.offered, "the bucket refuses some");
    cr_assert_eq(sync.summary.admitted, plain.summary.admitted);
    cr_assert_eq(sync.oracle.wrongly_blocked, 0);
    cr_assert_eq(sync.oracle.wrongly_allowed, 0);
    cr_assert_eq(sync.bound_breaches, 0);
    /* each node every millisecond until the last request (1.95 s), node 0 from 0 */
    cr_assert_eq(sync.fleet.syncs, 4 * 1950 + 1, "%llu syncs", (unsigned long long)sync.fleet.syncs);
    run_result_free(&plain);
    run_result_free(&sync);
    scn_free(&s);
    scn_free(&t);
}

/* Same scenario, same seed: the same fleet, node by node. */
Test(fleet, a_fleet_run_is_deterministic)
{
    scn_scenario s, t;
    run_result a = tsup_run_memory("tests/fixtures/good/fleet_small.json", NULL, 0, 3, &s);
    run_result b = tsup_run_memory("tests/fixtures/good/fleet_small.json", NULL, 0, 3, &t);
    cr_assert_eq(a.summary.admitted, b.summary.admitted);
    cr_assert_eq(a.bound_breaches, b.bound_breaches);
    cr_assert_eq(a.fleet.syncs, b.fleet.syncs);
    for (uint32_t i = 0; i < a.fleet.nodes; i++) cr_assert_eq(a.fleet.admitted[i], b.fleet.admitted[i]);
    run_result_free(&a);
    run_result_free(&b);
    scn_free(&s);
    scn_free(&t);
}

/* On Redis in virtual mode a fleet's shared state is the limiter's twin
 * (central's decisions; local_sync's pushes, charged by a negative cost,
 * and pulls, read back with GET): every decision of every fleet equals
 * memory's, cuts and fallbacks included. */
Test(fleet, every_fleet_decides_the_same_on_redis_as_in_memory, .timeout = 180)
{
    char *dir = tsup_tempdir(), out[600], logs[600], err[512];
    tsup_run_both("tests/fixtures/good/fleet_parity.json", dir, out, logs);
    scn_scenario s;
    scn_options opt = { NULL, 0, NULL };
    cr_assert_eq(scn_load("tests/fixtures/good/fleet_parity.json", &opt, &s, err, sizeof err), 0, "%s", err);
    size_t fleets = 0;
    for (size_t i = 0; i < s.n_limiters; i++) {
        if (s.limiters[i].entry->kind != LIM_KIND_FLEET) continue;
        cr_assert_gt(tsup_same_decisions(logs, s.limiters[i].name), 1000);
        fleets++;
    }
    cr_assert_eq(fleets, 11);
    scn_free(&s);
    tsup_rmtree(dir);
    free(dir);
}

/* In realtime mode each node is a thread with a connection of its own:
 * the balancer gives every node the requests it gives in virtual time;
 * central asks the twin for each, local decides alone, local_sync pushes
 * and pulls on its own connection. Close to virtual time's counts on a
 * busy machine, nothing lost (client clocks: the pairwise check reads -1). */
Test(fleet, realtime_nodes_are_threads_with_their_own_connections, .timeout = 180)
{
    rsrv server = { 0 };
    char err[4096];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    char *dir = tsup_tempdir(), url[64], out[600];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    snprintf(out, sizeof out, "%s/rt", dir);
    const char *argv[] = { "run", "tests/fixtures/good/fleet_small.json", "--backend", "redis", "--mode", "realtime",
                           "--speed", "4", "--redis-url", url, "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    rsrv_stop(&server);
    char path[700];
    snprintf(path, sizeof path, "%s/fleet_nodes.csv", out);
    char *nodes = tsup_slurp(path);
    cr_assert(nodes);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    for (size_t e = 1; e <= 3; e++) {
        scn_scenario s;
        run_result v = tsup_run_memory("tests/fixtures/good/fleet_small.json", NULL, 0, e, &s);
        for (uint32_t i = 0; i < v.fleet.nodes; i++) {
            char want[160];
            snprintf(want, sizeof want, "\n%s,redis,%u,%llu,", v.limiter->name, i,
                     (unsigned long long)v.fleet.offered[i]);
            cr_assert(strstr(nodes, want), "%s node %u: the same requests as in virtual time", v.limiter->name, i);
        }
        char row[80];
        snprintf(row, sizeof row, "\n%s,fleet,redis,", v.limiter->name);
        const char *r = strstr(csv, row);
        cr_assert(r, "%s: a realtime row", v.limiter->name);
        double admitted = csv_field(r + 1, 6), virt = (double)v.summary.admitted;
        cr_assert(fabs(admitted - virt) <= 0.05 * virt, "%s: %.0f admitted in realtime, %.0f in virtual time",
                  v.limiter->name, admitted, virt);
        run_result_free(&v);
        scn_free(&s);
    }
    free(nodes);
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* Realtime gossip goes through Redis for real: the test subscribes to
 * the run's channel and counts the nodes' PUBLISHes (4 nodes, every
 * 500 ms of a 10 s run, when a request comes after the time: about 76),
 * and the shares follow the balancer's skew as in virtual time. */
Test(fleet, realtime_gossip_goes_through_publish_and_subscribe, .timeout = 180)
{
    rsrv server = { 0 };
    char err[4096];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    redisContext *sub = redisConnect("127.0.0.1", server.port);
    cr_assert(sub && !sub->err);
    redisReply *ok = redisCommand(sub, "SUBSCRIBE %s", "ratelab:gossiptest-gossiping:{global}:gossip");
    cr_assert(ok && ok->type == REDIS_REPLY_ARRAY);
    freeReplyObject(ok);
    char *dir = tsup_tempdir(), url[64], out[600];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    snprintf(out, sizeof out, "%s/rt", dir);
    const char *argv[] = { "run", "tests/fixtures/good/fleet_shares.json", "--only", "gossiping", "--backend", "redis",
                           "--mode", "realtime", "--speed", "4", "--redis-url", url, "--run-id", "gossiptest",
                           "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    struct timeval wait = { 0, 300000 };   /* what is left in the socket: read until it stays quiet */
    redisSetTimeout(sub, wait);
    int messages = 0, well_formed = 0;
    void *got;
    while (messages < 1000 && redisGetReply(sub, &got) == REDIS_OK) {
        redisReply *m = got;
        unsigned node;
        double demand;
        if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 && m->element[2]->type == REDIS_REPLY_STRING) {
            messages++;
            well_formed += sscanf(m->element[2]->str, "%u %lf", &node, &demand) == 2 && node < 4 && demand >= 0;
        }
        freeReplyObject(m);
    }
    redisFree(sub);
    rsrv_stop(&server);
    cr_assert_geq(messages, 60, "%d PUBLISHes heard", messages);
    cr_assert_leq(messages, 84);
    cr_assert_eq(well_formed, messages);
    char path[700];
    snprintf(path, sizeof path, "%s/fleet_nodes.csv", out);
    char *nodes = tsup_slurp(path);
    cr_assert(nodes);
    const char *hot = strstr(nodes, "\ngossiping,redis,2,");   /* key_hash sends node 2 about half */
    cr_assert(hot);
    double share = csv_field(hot + 1, 5);
    cr_assert(share > 0.4 && share < 0.6, "node 2's share %.3f", share);
    free(nodes);
    tsup_rmtree(dir);
    free(dir);
}

/* Every strategy in realtime, faults included: the controller a thread
 * of its own running rounds on Redis (fleet_control.lua), the lease
 * coordinator a script over its book in Redis (fleet_lease.lua), a cut
 * node's connection closed for its cut. Each fleet admits and falls back
 * about as in virtual time; a lease never breaks the bound. */
Test(fleet, realtime_strategies_and_faults_follow_virtual_time, .timeout = 240)
{
    rsrv server = { 0 };
    char err[4096];
    cr_assert_eq(rsrv_start(&server, NULL, err, sizeof err), 0, "%s", err);
    char *dir = tsup_tempdir(), url[64], out[2][600];
    const char *paths[2] = { "tests/fixtures/good/fleet_shares.json", "tests/fixtures/good/fleet_faults.json" };
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/rt%d", dir, k);
        /* speed 2, not 4: a 200 ms lease is then 100 ms of wall time, which a
         * node thread starved on a busy machine still renews in time (at 4,
         * a CI run with both cores kept busy saw lease_stops admit 989
         * against virtual time's 1153) */
        const char *argv[] = { "run", paths[k], "--backend", "redis", "--mode", "realtime", "--speed", "2",
                               "--redis-url", url, "--out", out[k], "--quiet", NULL };
        cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s: %s", paths[k], err);
    }
    rsrv_stop(&server);
    for (int k = 0; k < 2; k++) {
        char path[1300];
        snprintf(path, sizeof path, "%s/summary.csv", out[k]);
        char *csv = tsup_slurp(path);
        cr_assert(csv);
        int fallback_col = csv_col_of(csv, "fallback_decisions"), breaches_col = csv_col_of(csv, "bound_breaches");
        cr_assert(fallback_col > 0 && breaches_col > 0);
        scn_scenario s;
        char e2[512];
        scn_options opt = { NULL, 0, NULL };
        cr_assert_eq(scn_load(paths[k], &opt, &s, e2, sizeof e2), 0, "%s", e2);
        size_t n_entries = s.n_limiters;
        scn_free(&s);
        for (size_t e = 0; e < n_entries; e++) {
            run_result v = tsup_run_memory(paths[k], NULL, 0, e, &s);
            if (!v.fleet.nodes) {
                run_result_free(&v);
                scn_free(&s);
                continue;
            }
            char row[80];
            snprintf(row, sizeof row, "\n%s,fleet,redis,", v.limiter->name);
            const char *r = strstr(csv, row);
            cr_assert(r, "%s: a realtime row", v.limiter->name);
            double admitted = csv_field(r + 1, 6), virt = (double)v.summary.admitted;
            double fallbacks = csv_field(r + 1, fallback_col), vf = (double)v.fleet.fallbacks;
            /* A node whose share another gives it (a lease, a controller's
             * share, a gossiped one) refuses when that share comes late: on a
             * starved machine such a fleet admits less than in virtual time
             * (seen: lease 989 and 1033 against 1153 under CI load; controller
             * 3577 against 4043 at load 8), never more. */
            scn_fleet_strategy st = v.limiter->fleet->strategy;
            int lease = st == SCN_FLEET_LEASE || st == SCN_FLEET_CONTROLLER || st == SCN_FLEET_GOSSIP;
            cr_assert(admitted - virt <= 0.05 * virt + 20 && (lease || virt - admitted <= 0.05 * virt + 20),
                      "%s: %.0f admitted in realtime, %.0f in virtual time", v.limiter->name, admitted, virt);
            cr_assert(fabs(fallbacks - vf) <= 0.05 * vf + 20, "%s: %.0f fallbacks in realtime, %.0f in virtual time",
                      v.limiter->name, fallbacks, vf);
            if (v.limiter->fleet->strategy == SCN_FLEET_LEASE)
                cr_assert_eq(csv_field(r + 1, breaches_col), 0, "%s: a lease keeps the bound", v.limiter->name);
            run_result_free(&v);
            scn_free(&s);
        }
        free(csv);
    }
    tsup_rmtree(dir);
    free(dir);
}

/* What a store does with a synced delta (lim_ops.consume): it charges the
 * cost whatever the state holds, so a limit already spent elsewhere is
 * spent here too -- 7 charged to a limit of 5 leaves it 2 in debt: the
 * next request waits until 3 have come back (a bucket, GCRA) or for the
 * next window. */
Test(fleet, a_store_charges_a_synced_delta_beyond_the_limit)
{
    const struct { const char *algo, *params; int64_t back_us; } cases[] = {
        { "token_bucket", "rate=10 capacity=5", 300000 },   /* 3 tokens at 10/s */
        { "gcra", "rate=10 burst=5", 300000 },
        { "fixed_window", "limit=5 window_ms=1000", 1000000 },
        { "sliding_window_counter", "limit=5 window_ms=1000", 1428572 },   /* 7 x (1 - m) + 1 <= 5 from m = 3/7 s */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tsup_limiter l = tsup_make(cases[i].algo, cases[i].params);
        const lim_ops *ops = lim_find(cases[i].algo);
        cr_assert(ops && ops->consume, "%s can be synced", cases[i].algo);
        ops->consume(&l.cfg, l.state, 1, 0, 7);
        l.used = 1;
        cr_assert_eq(tsup_at(&l, 0, 1).allowed, 0, "%s: in debt", cases[i].algo);
        cr_assert_eq(tsup_at(&l, cases[i].back_us - 1000, 1).allowed, 0, "%s: not yet", cases[i].algo);
        cr_assert_eq(tsup_at(&l, cases[i].back_us, 1).allowed, 1, "%s: back at %lld us", cases[i].algo,
                     (long long)cases[i].back_us);
        tsup_free(&l);
    }
    /* the registry says who can be synced, and the loader reads it from there */
    size_t synced = 0;
    for (size_t i = 0; lim_registry[i]; i++) synced += lim_registry[i]->consume != NULL;
    cr_assert_eq(synced, 4);
}

/* The shares of controller and gossip follow demand: by the end (many
 * intervals after the step from the even start to a skewed balancer)
 * they sum to the limit and each is near its node's part of the requests
 * (the last interval's: about 60 requests, hence the 0.1). */
Test(fleet, controller_and_gossip_converge_to_shares_of_the_limit)
{
    for (size_t e = 2; e <= 3; e++) {
        scn_scenario s;
        run_result r = tsup_run_memory("tests/fixtures/good/fleet_shares.json", NULL, 0, e, &s);
        const flt_report *fl = &r.fleet;
        cr_assert(fl->share, "%s reports its shares", r.limiter->name);
        double sum = 0, offered = 0;
        for (uint32_t i = 0; i < fl->nodes; i++) {
            sum += fl->share[i];
            offered += (double)fl->offered[i];
        }
        /* the controller's add up exactly; each gossiping node divides by a view of its own, samples of
         * different intervals, so theirs miss by what one interval's count does (about 10% here) */
        cr_assert(fabs(sum - 1) < (e == 2 ? 1e-9 : 0.15), "%s: shares sum to %.6f", r.limiter->name, sum);
        for (uint32_t i = 0; i < fl->nodes; i++)
            cr_assert(fabs(fl->share[i] - (double)fl->offered[i] / offered) < 0.1, "%s: node %u holds %.3f for %.3f "
                      "of the requests", r.limiter->name, i, fl->share[i], (double)fl->offered[i] / offered);
        cr_assert_gt(fl->offered[0] + fl->offered[1] + fl->offered[2] + fl->offered[3], 0);
        run_result_free(&r);
        scn_free(&s);
    }
}

/* A lease never lets more through than the leased whole: what the nodes
 * may hold at once never passes the limit, so no window breaks the
 * bucket's promise, over seeds; it pays in requests refused. */
Test(fleet, a_lease_never_lets_more_than_the_leased_total_through, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        scn_scenario s;
        run_result r = tsup_run_memory_seeded("tests/fixtures/good/fleet_shares.json", 1, seed, &s);
        cr_assert_eq(r.bound_breaches, 0, "seed %llu: %llu breaches, worst %.2f", (unsigned long long)seed,
                     (unsigned long long)r.bound_breaches, r.oracle.worst_excess);
        cr_assert_eq(r.oracle.over_admitted, 0);
        double sum = 0;
        for (uint32_t i = 0; i < r.fleet.nodes; i++) sum += r.fleet.share[i];
        cr_assert_leq(sum, 1 + 1e-9, "seed %llu: shares sum to %.6f", (unsigned long long)seed, sum);
        cr_assert_gt(r.fleet.store_calls, 0);
        run_result_free(&r);
        scn_free(&s);
    }
}

/* The requests node 1 receives over [4 s, 7 s) (round robin: every 4th). */
static uint64_t node1_in_cut(const char *path)
{
    scn_scenario s;
    char err[512];
    scn_options opt = { NULL, 0, NULL };
    cr_assert_eq(scn_load(path, &opt, &s, err, sizeof err), 0, "%s", err);
    gen *g = gen_create(&s);
    uint64_t n = 0, k = 0;
    for (gen_request q; gen_next(g, &q); k++) n += k % 4 == 1 && q.t_us >= 4000000 && q.t_us < 7000000;
    gen_destroy(g);
    scn_free(&s);
    return n;
}

/* A node cut off from the store decides by on_cut, and only while cut:
 * fail_open lets all its requests through above the limit, fail_closed
 * none, local at most its even share (a burst of 25 and 100/s for 3 s)
 * above it. */
Test(fleet, a_node_cut_off_from_the_store_decides_by_on_cut)
{
    const char *path = "tests/fixtures/good/fleet_faults.json";
    uint64_t cut = node1_in_cut(path);
    cr_assert_gt(cut, 1000);
    scn_scenario s[3];
    run_result open = tsup_run_memory(path, NULL, 0, 1, &s[0]);
    run_result closed = tsup_run_memory(path, NULL, 0, 2, &s[1]);
    run_result local = tsup_run_memory(path, NULL, 0, 3, &s[2]);
    cr_assert_eq(open.fleet.fallbacks, cut);
    cr_assert_eq(closed.fleet.fallbacks, cut);
    cr_assert_eq(local.fleet.fallbacks, cut);
    cr_assert_gt(open.oracle.over_admitted, (int64_t)(cut * 9 / 10), "fail_open: %lld over",
                 (long long)open.oracle.over_admitted);
    cr_assert_eq(closed.oracle.over_admitted, 0);
    cr_assert_eq(closed.bound_breaches, 0);
    cr_assert_gt(local.oracle.over_admitted, 0);
    cr_assert_leq(local.oracle.over_admitted, 25 + 100 * 3, "local: %lld over", (long long)local.oracle.over_admitted);
    for (int i = 0; i < 3; i++) {
        run_result *r = i == 0 ? &open : i == 1 ? &closed : &local;
        cr_assert_eq(r->oracle.violations, 0, "nothing lost");
        run_result_free(r);
        scn_free(&s[i]);
    }
}

/* A coordinator that stops: a controller's nodes keep their last shares
 * for stale_ms (1 s) and then fail closed; a lease's nodes, once their
 * leases (200 ms) run out. Nothing is admitted after that. */
Test(fleet, nodes_fail_closed_once_their_coordinator_stopped)
{
    const struct { size_t entry; int64_t quiet_from_us; } cases[] = { { 4, 4100000 }, { 5, 3300000 } };
    for (size_t c = 0; c < 2; c++) {
        scn_scenario s;
        run_result r = tsup_run_memory("tests/fixtures/good/fleet_faults.json", NULL, 0, cases[c].entry, &s);
        uint64_t before = 0, after = 0;
        for (size_t t = 0; t < r.series.n_ticks; t++) {
            int64_t at = (int64_t)t * s.tick_us;
            if (at < 2900000) before += r.series.admitted[t];
            if (at >= cases[c].quiet_from_us) after += r.series.admitted[t];
        }
        cr_assert_gt(before, 500, "%s admits while its coordinator runs", r.limiter->name);
        cr_assert_eq(after, 0, "%s: %llu admitted after its shares ran out", r.limiter->name,
                     (unsigned long long)after);
        cr_assert_gt(r.fleet.fallbacks, 0);
        run_result_free(&r);
        scn_free(&s);
    }
}

/* A local_sync node cut off keeps deciding on its replica, alone with the
 * whole limit for 3 s (at most a burst of 100 and 400/s above it); its
 * pushes wait, and once it is back the store is charged all it admitted. */
Test(fleet, a_cut_local_sync_node_catches_up_when_it_is_back)
{
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/fleet_faults.json", NULL, 0, 6, &s);
    cr_assert_gt(r.fleet.lost_messages, 0);
    cr_assert_eq(r.fleet.fallbacks, 0, "it never needs the store to decide");
    cr_assert_leq(r.oracle.over_admitted, 100 + 400 * 3);
    cr_assert_eq(r.oracle.violations, 0);
    run_result_free(&r);
    scn_free(&s);
}


/* A sweep over a fleet's nodes and sync interval: the point that is the
 * scenario's own fleet reads as its run does; the worst excess grows with
 * the interval and store calls fall with it (the price of coordination);
 * a fleet with weights per node cannot vary its nodes. */
Test(fleet, a_sweep_varies_nodes_and_the_sync_interval, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[600], err[4096];
    snprintf(out, sizeof out, "%s/sweep", dir);
    const char *argv[] = { "sweep", "tests/fixtures/good/fleet_sync.json", "--algo", "synced", "--params",
                           "nodes=2,4 sync_ms=10,50,500", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    char path[700];
    snprintf(path, sizeof path, "%s/synced.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    /* header: limiter,algorithm,point,nodes,sync_ms,...; find the columns by name */
    int admitted = -1, worst = -1, calls = -1, breaches = -1, col = 0;
    for (const char *h = csv; *h != '\n'; col++) {
        size_t n = strcspn(h, ",\n");
        if (n == 8 && strncmp(h, "admitted", 8) == 0) admitted = col;
        if (n == 12 && strncmp(h, "worst_excess", 12) == 0) worst = col;
        if (n == 23 && strncmp(h, "store_calls_per_request", 23) == 0) calls = col;
        if (n == 14 && strncmp(h, "bound_breaches", 14) == 0) breaches = col;
        h += n + (h[n] == ',');
        if (h[-1] == '\n' || !*h) break;
    }
    cr_assert(admitted > 0 && worst > 0 && calls > 0 && breaches > 0, "columns");
    const char *row[6];
    row[0] = strchr(csv, '\n') + 1;
    for (int i = 1; i < 6; i++) row[i] = strchr(row[i - 1], '\n') + 1;
    for (int nodes = 0; nodes < 2; nodes++)
        for (int k = 0; k < 2; k++) {
            const char *a = row[3 * nodes + k], *b = row[3 * nodes + k + 1];
            cr_assert_lt(csv_field(a, worst), csv_field(b, worst), "worst excess grows with the interval");
            cr_assert_gt(csv_field(a, calls), csv_field(b, calls), "store calls fall with it");
        }
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/fleet_sync.json", NULL, 0, 1, &s);   /* nodes 4, sync 50 */
    cr_assert_eq((uint64_t)csv_field(row[4], admitted), r.summary.admitted);
    cr_assert_eq((uint64_t)csv_field(row[4], breaches), r.bound_breaches);
    run_result_free(&r);
    scn_free(&s);
    free(csv);
    const char *weighted[] = { "sweep", "scenarios/fleet_flash.json", "--algo", "local_sync_100ms", "--params",
                               "nodes=2,4", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(weighted, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "has weights or a split per node, so its nodes cannot vary"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

/* A link far slower than the gossip: the fleet's queue holds what a link
 * of about that delay keeps in flight, and loses the rest, counted --
 * every node still publishes every interval. */
Test(fleet, messages_beyond_a_slow_links_room_are_lost_and_counted)
{
    scn_scenario s;
    run_result r = tsup_run_memory("tests/fixtures/good/fleet_slow_link.json", NULL, 0, 1, &s);
    cr_assert_gt(r.fleet.lost_messages, 0);
    /* 4 nodes publishing every 10 ms for 10 s */
    cr_assert_geq(r.fleet.store_calls, 4 * 990);
    cr_assert_eq(r.oracle.violations, 0);
    run_result_free(&r);
    scn_free(&s);
}

/* 1024 nodes over a burst of 500: a share of 0.488 of a request per node
 * admits nothing (lease) or is raised to one (local): said with the
 * arithmetic before the run; local_sync and 8 nodes are not named. */
Test(fleet, a_share_below_one_request_is_warned_with_its_arithmetic, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[600], err[8192];
    snprintf(out, sizeof out, "%s/thin", dir);
    const char *argv[] = { "run", "tests/fixtures/good/fleet_thin.json", "--quiet", "--out", out, NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(err, "warning: lease_1024: 1024 nodes share a burst of 500: the smallest node's share is "
                          "500 x 1/1024 = 0.488 of a request, so a node admits nothing"), "%s", err);
    cr_assert(strstr(err, "warning: local_1024: 1024 nodes share a burst of 500: the smallest node's share is "
                          "500 x 1/1024 = 0.488 of a request, raised to one request per node"), "%s", err);
    cr_assert_null(strstr(err, "sync_1024"), "local_sync decides on the whole limit: %s", err);
    cr_assert_null(strstr(err, "lease_8"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}
