/* Chained limits (chain.h): each policy on hand-made streams, and whole
 * runs through chains. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/backend_memory.h"
#include "../sim/chain.h"
#include "../sim/runner.h"
#include "support.h"

/* A chain of a per-user bucket (capacity 2) and a global one (capacity 1),
 * both refilling too slowly to matter, with the states a caller keeps. */
typedef struct {
    scn_limiter tiers[2], chain;
    tsup_limiter made[2];
    void *kept[2], *scratch[2];
    int fresh[2];
    uint64_t refused[2];
} two_tiers;

static void two_tiers_init_user(two_tiers *c, scn_chain_policy policy, const char *user)
{
    memset(c, 0, sizeof *c);
    c->made[0] = tsup_make("token_bucket", user);
    c->made[1] = tsup_make("token_bucket", "rate=1/1000s capacity=1");
    for (int i = 0; i < 2; i++) {
        c->tiers[i].cfg = c->made[i].cfg;
        c->tiers[i].ops = c->made[i].cfg.ops;
        c->tiers[i].entry = &c->tiers[i].ops->entry;
        c->kept[i] = calloc(1, c->made[i].cfg.state_size);
        c->scratch[i] = calloc(1, c->made[i].cfg.state_size);
        c->fresh[i] = 1;
    }
    c->tiers[1].global = 1;
    snprintf(c->chain.name, sizeof c->chain.name, "checkout");
    c->chain.entry = &chain_entry;
    c->chain.tiers = c->tiers;
    c->chain.n_tiers = 2;
    c->chain.policy = policy;
}

static void two_tiers_init(two_tiers *c, scn_chain_policy policy)
{
    two_tiers_init_user(c, policy, "rate=1/1000s capacity=2");
}

/* One request at t_us: each tier decides on a copy, kept where the policy says. */
static lim_decision two_tiers_ask(two_tiers *c, int64_t t_us)
{
    int keep[2];
    lim_decision d;
    for (int i = 0; i < 2; i++) memcpy(c->scratch[i], c->kept[i], c->made[i].cfg.state_size);
    chain_decide(&c->chain, c->scratch, c->fresh, t_us, 1, &d, keep, c->refused);
    for (int i = 0; i < 2; i++)
        if (keep[i]) {
            memcpy(c->kept[i], c->scratch[i], c->made[i].cfg.state_size);
            c->fresh[i] = 0;
        }
    return d;
}

static int64_t two_tiers_level(two_tiers *c, int i, int64_t t_us)
{
    return c->tiers[i].ops->level(&c->tiers[i].cfg, c->fresh[i] ? NULL : c->kept[i], t_us);
}

static void two_tiers_free(two_tiers *c)
{
    for (int i = 0; i < 2; i++) {
        free(c->kept[i]);
        free(c->scratch[i]);
        tsup_free(&c->made[i]);
    }
}

Test(chain, in_order_refund_gives_the_user_tier_its_token_back)
{
    two_tiers c;
    two_tiers_init(&c, SCN_CHAIN_IN_ORDER_REFUND);
    cr_assert(two_tiers_ask(&c, 0).allowed, "both have tokens");
    cr_assert_not(two_tiers_ask(&c, 1).allowed, "the global bucket is empty");
    cr_assert_eq(two_tiers_level(&c, 0, 1), 1, "the user tier's token was given back");
    cr_assert_eq(c.refused[0], 0);
    cr_assert_eq(c.refused[1], 1);
    two_tiers_free(&c);
}

Test(chain, in_order_no_refund_leaks_the_user_tiers_tokens)
{
    two_tiers c;
    two_tiers_init(&c, SCN_CHAIN_IN_ORDER_NO_REFUND);
    cr_assert(two_tiers_ask(&c, 0).allowed);
    cr_assert_not(two_tiers_ask(&c, 1).allowed);
    cr_assert_eq(two_tiers_level(&c, 0, 1), 0, "the refused request still took the user's last token");
    lim_decision d = two_tiers_ask(&c, 2);
    cr_assert_not(d.allowed);
    cr_assert_eq(c.refused[0], 1, "now the user tier itself refuses: it was drained by refusals");
    two_tiers_free(&c);
}

Test(chain, all_or_nothing_never_consumes_on_a_refusal_and_counts_every_refusing_tier)
{
    two_tiers c;
    two_tiers_init(&c, SCN_CHAIN_ALL_OR_NOTHING);
    cr_assert(two_tiers_ask(&c, 0).allowed);
    for (int64_t t = 1; t <= 3; t++) cr_assert_not(two_tiers_ask(&c, t).allowed);
    cr_assert_eq(two_tiers_level(&c, 0, 3), 1, "three refusals took nothing from the user tier");
    cr_assert_eq(c.refused[1], 3);
    cr_assert_eq(c.refused[0], 0);
    two_tiers_free(&c);
    /* both refuse: both are counted, and the longest wait is the answer */
    two_tiers_init_user(&c, SCN_CHAIN_ALL_OR_NOTHING, "rate=1/1000s capacity=1");
    cr_assert(two_tiers_ask(&c, 0).allowed, "each tier's one token");
    lim_decision d = two_tiers_ask(&c, 1);
    cr_assert_not(d.allowed);
    cr_assert_eq(c.refused[0] + c.refused[1], 2, "each refusing tier counted: %llu + %llu",
                 (unsigned long long)c.refused[0], (unsigned long long)c.refused[1]);
    cr_assert_geq(d.retry_after_us, 999999000, "about 1000 s until a token");
    two_tiers_free(&c);
}

/* Per-user 5/s and global 150/s on Zipf users: each chain admits at most
 * what each tier alone would, keeps both promises, and leaking the global
 * tier's tokens to requests the user tier refuses costs admissions. */
Test(chain, a_chain_keeps_every_tiers_promise_and_the_leak_shows)
{
    scn_scenario s;
    char err[512];
    cr_assert_eq(scn_load("tests/fixtures/good/chains.json", NULL, &s, err, sizeof err), 0, "%s", err);
    size_t n = s.n_limiters;
    scn_free(&s);
    uint64_t admitted[8] = { 0 };
    for (size_t i = 0; i < n && i < 8; i++) {
        scn_scenario si;
        run_result r = tsup_run_memory("tests/fixtures/good/chains.json", NULL, 0, i, &si);
        admitted[i] = r.summary.admitted;
        cr_assert_eq(r.oracle.violations, 0, "%s: %llu violations", si.limiters[i].name,
                     (unsigned long long)r.oracle.violations);
        cr_assert_eq(r.clients.succeeded + r.clients.abandoned + r.clients.budget_refused + r.clients.unfinished,
                     r.clients.intents, "%s: every intent ends once", si.limiters[i].name);
        run_result_free(&r);
        scn_free(&si);
    }
    /* limiters: user_tb, global_tb; chains: aon, refund, leak_global_first */
    cr_assert_leq(admitted[2], admitted[0]);
    cr_assert_leq(admitted[2], admitted[1]);
    cr_assert_eq(admitted[3], admitted[2], "with one client at a time, refunds decide like all_or_nothing");
    cr_assert_lt(admitted[4], admitted[2], "global first without refunds: %llu, all or nothing: %llu",
                 (unsigned long long)admitted[4], (unsigned long long)admitted[2]);
}

/* On Redis a chain is one script of its tiers' twins: every decision,
 * retries included, and every tier's refusals equal memory's. */
Test(chain, chains_decide_the_same_on_redis_as_in_memory, .timeout = 180)
{
    char *dir = tsup_tempdir(), out[600], logs[600];
    tsup_run_both("tests/fixtures/good/chains.json", dir, out, logs);
    const char *chains[] = { "aon", "refund", "leak_global_first" };
    for (size_t i = 0; i < 3; i++) tsup_same_decisions(logs, chains[i]);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = tsup_slurp(path);
    cr_assert(csv);
    for (size_t i = 0; i < 3; i++) {
        char want[2][80];
        snprintf(want[0], sizeof want[0], "\n%s,chain,memory,", chains[i]);
        snprintf(want[1], sizeof want[1], "\n%s,chain,redis,", chains[i]);
        const char *row[2] = { strstr(csv, want[0]), strstr(csv, want[1]) };
        cr_assert(row[0] && row[1], "%s: rows", chains[i]);
        /* refused_by: per tier, name=count;... (the only column that names a tier) */
        const char *tier[2] = { strstr(row[0], "user_tb="), strstr(row[1], "user_tb=") };
        cr_assert(tier[0] && tier[1]);
        size_t la = strcspn(tier[0], ",\n"), lb = strcspn(tier[1], ",\n");
        cr_assert(la == lb && strncmp(tier[0], tier[1], la) == 0, "%s: refusals per tier %.*s vs %.*s", chains[i],
                  (int)la, tier[0], (int)lb, tier[1]);
    }
    free(csv);
    tsup_rmtree(dir);
    free(dir);
}

/* A results directory with chains and clients plots and reports whole. */
Test(chain, chains_and_clients_are_plotted_and_reported, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[600], err[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    const char *run[] = { "run", "tests/fixtures/good/chains.json", "--out", out, "--quiet", NULL };
    cr_assert_eq(tsup_run(run, err, sizeof err), 0, "%s", err);
    const char *plot[] = { "scripts/plot.sh", out, NULL };
    cr_assert_eq(tsup_exec(plot, err, sizeof err), 0, "%s", err);
    char path[700];
    snprintf(path, sizeof path, "%s/plots/attempts.png", out);
    cr_assert(tsup_is_png(path), "no %s", path);
    snprintf(path, sizeof path, "%s/plots/tts_cdf.png", out);
    cr_assert(tsup_is_png(path), "no %s", path);
    const char *report[] = { "report", out, NULL };
    cr_assert_eq(tsup_run(report, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/index.html", out);
    char *html = tsup_slurp(path);
    cr_assert(html && strstr(html, "<table id=\"clients\""), "the clients table");
    cr_assert(strstr(html, "user_tb=") && strstr(html, "global_tb="), "refusals per tier");
    free(html);
    tsup_rmtree(dir);
    free(dir);
}

/* A chain's decision log is written like a limiter's, and `ratelab check`
 * says why it cannot judge it alone instead of calling it unknown. */
Test(chain, check_says_why_a_chains_log_is_not_checked_alone, .timeout = 60)
{
    char *dir = tsup_tempdir(), out[600], logs[600], err[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    const char *run[] = { "run", "tests/fixtures/good/chains.json", "--only", "aon", "--out", out,
                          "--log-decisions", logs, "--quiet", NULL };
    cr_assert_eq(tsup_run(run, err, sizeof err), 0, "%s", err);
    char path[700];
    snprintf(path, sizeof path, "%s/aon.memory.csv", logs);
    const char *check[] = { "check", path, NULL };
    cr_assert_eq(tsup_run(check, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "a chain's log cannot be checked alone"), "%s", err);
    tsup_rmtree(dir);
    free(dir);
}
