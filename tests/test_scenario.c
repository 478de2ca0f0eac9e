#define _POSIX_C_SOURCE 200809L
/* The scenario loader: every shipped scenario loads; every bad fixture is
 * refused with a message that names the file and the place. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/scenario.h"

/* Strings inline, not pointers: Criterion hands parameters to a freshly
 * started worker process, where the parent's addresses mean nothing. */
typedef struct {
    char fixture[48];      /* tests/fixtures/bad/<fixture>.json */
    char message[160];     /* must appear in the error */
} bad_case;

static const bad_case bad_cases[] = {
    { "syntax_trailing_comma", "syntax_trailing_comma.json:4:2: JSON syntax error in '}'" },
    { "syntax_unterminated", "syntax_unterminated.json:4:1: JSON syntax error: unexpected end of file" },
    { "empty_file", "empty_file.json:1:1: JSON syntax error: unexpected end of file" },
    { "top_not_object", "the top level must be an object, got an array" },
    { "missing_name", "missing_name.json: name: required" },
    { "missing_duration", ": duration_s: required" },
    { "negative_duration", ": duration_s: must be > 0, got -5" },
    { "huge_duration", ": duration_s: must be a finite number" },
    { "unknown_top_field", ": durations: unknown field (a scenario takes: name, description," },
    { "seed_is_string", ": seed: must be a number, got a string" },
    { "fractional_tick", ": tick_ms: must be a whole number, got 1.5" },
    { "unknown_shape", ": phases[0].shape: unknown value 'square' (expected one of: constant, ramp, burst, spike, sine, trace)" },
    { "empty_phase", ": phases[1]: empty: end_s (30) must be after start_s (30)" },
    { "overlapping_phases", ": phases[1]: overlaps phases[0]: starts at 20 s, before that one ends at 30 s" },
    { "phase_past_duration", ": phases[1].end_s: 90 is past duration_s (60)" },
    { "no_phases", ": phases: must list at least one phase" },
    { "phase_unknown_field", ": phases[0].peak: unknown field (a constant phase takes: shape, start_s, end_s, rate)" },
    { "phase_missing_rate", ": phases[0].rate: required" },
    { "burst_on_longer_than_period", ": phases[0].on_s: must be <= period_s (2), got 3" },
    { "sine_amplitude_above_mean", ": phases[0].amplitude: must be <= mean (10)" },
    { "unknown_algorithm", ": limiters[0].algorithm: unknown algorithm 'token-bucket' (known: token_bucket, gcra," },
    { "negative_rate", ": limiters[2].rate: must be > 0, got -1" },
    { "zero_capacity", ": limiters[0].capacity: must be > 0, got 0" },
    { "unknown_param", ": limiters[0].capcity: unknown field (token_bucket takes: algorithm, name, scope, sweep, rate, capacity, initial)" },
    { "missing_param", ": limiters[1].rate: required" },
    { "duplicate_limiter_name", ": limiters[1].name: 'tb' is already the name of limiters[0]" },
    { "initial_above_capacity", ": limiters[0].initial: must be <= capacity (10), got 20" },
    { "bad_mode", ": limiters[2].mode: unknown value 'drip' (expected one of: queue, meter)" },
    { "huge_rate", ": limiters[0].rate: must be <= 1000000000, got 1000000000000" },
    { "nan_like_rate", ": limiters[0].rate: 'NaN' is not a rate: write requests per second (5, 0.5) or a count per period" },
    { "no_limiters", ": limiters: must list at least one limiter" },
    { "exponent_without_zipf", ": keys.exponent: only for distribution zipf" },
    { "weighted_cost_mismatch", ": cost.weights: must hold one weight per value (2), got 1" },
    { "cost_zero", ": cost: must be > 0, got 0" },
    { "too_many_requests", ": phases: up to 3e+10 requests in all; a run is limited to 1e+10" },
    { "state_budget", ": limiters[0]: sliding_window_log state for 1000000 keys of 8024 bytes needs" },
    { "window_overflow", ": limiters[0].window_ms: limit x window must stay below 2^53" },
    { "trace_missing", ": phases[0].file: tests/fixtures/bad/traces/nope.csv: cannot read trace: No such file or directory" },
    { "trace_bad_time", "bad_time.csv:3: t_s: 'abc' is not a time in seconds" },
    { "trace_unsorted", "unsorted.csv:4: t_s 1.5 is earlier than the line before" },
    { "trace_bad_header", "bad_header.csv:1: header must be t_s, t_s,key or t_s,key,cost; column 1 is 'time'" },
    { "trace_bad_cost", "bad_cost.csv:3: cost: '0' is not a whole number from 1 to 4000000" },
    { "trace_wrong_columns", "wrong_columns.csv:3: expected 2 columns, found 3" },
    { "downstream_p99_for_fixed", ": downstream.service_ms.p99: only for dist lognormal" },
    { "downstream_p99_too_wide", ": downstream.service_ms.p99: must lie between mean (5) and 14.9 x mean for a lognormal, got 500" },
    { "downstream_no_service", ": downstream.service_ms: required" },
    { "targets_bad_number", ": targets: target 'p99_ms<<200': '<200' is not a number" },
    { "targets_overload_without_downstream", ": targets: target 'overload_s=0': overload_s needs a \"downstream\" in the scenario" },
    { "queue_drain_and_batch", ": limiters[0].drain_rps: give drain_rps or batch, not both" },
    { "queue_drain_not_whole", ": limiters[0].drain_rps: 333/s is 33.3 messages per 100 ms run; the consumers take whole messages" },
    { "queue_consumers_exceed_batch", ": limiters[0].consumers: 4 consumers cannot share a batch of 2" },
    { "downstream_failure_prob_above_1", ": downstream.failure_prob: must be <= 1, got 1.5" },
    { "syntax_nul_byte", "syntax_nul_byte.json:3:8: JSON syntax error: NUL byte in the file" },
    { "trace_nul_key", "traces/nul_key.csv:3: a NUL byte in the line" },
    { "trace_bad_utf8_key", "traces/bad_utf8_key.csv:3: key: is not valid UTF-8 (byte 0xff at 1)" },
    { "trace_is_directory", "traces/a_directory: cannot read trace: is a directory" },
    { "seed_above_2_53", ": seed: must be a whole number from 0 to 2^53 - 1 (9007199254740991)" },
    { "description_bad_utf8", ": description: is not valid UTF-8 (byte 0xff at 5)" },
    { "key_prefix_comma", ": keys.prefix: holds a comma (at 4)" },
    { "key_prefix_newline", ": keys.prefix: holds a control character (byte 0x0a at 4)" },
    { "clients_budget_no_ratio", ": clients[0].budget.ratio: required" },
    { "clients_cap_below_base", ": clients[0].retry.cap_ms: must be >= base_ms (100), got 10" },
    { "leaky_hourly_huge_cost", ": limiters[0].rate: kept exactly, one request is 3600000000 units, so capacity + the largest cost may be at most 1250999 (got 4000010)" },
    { "clients_cap_below_base_constant", ": clients[0].retry.cap_ms: must be >= base_ms (100), got 10" },
    { "key_prefix_nul", "key_prefix_nul.json:2:39: a string holds \\u0000 (a NUL byte)" },
    /* refused for its phases before ten million keys are named */
    { "huge_keys_no_phases", ": phases: must list at least one phase" },
    { "clients_duplicate_name", ": clients[1].name: 'a' names clients[0] already" },
    { "clients_failed_without_failures", ": clients[0].retry_on: \"failed\" needs a downstream with a failure_prob above 0" },
    { "clients_honor_not_bool", ": clients[0].retry.honor_retry_after: must be true or false, got a string" },
    { "clients_no_weight", ": clients[0].weight: required" },
    { "clients_not_array", ": clients: must be an array of client classes, got an object" },
    { "clients_retry_on_timeout", ": clients[0].retry_on: \"timeout\" needs a downstream with a timeout_ms" },
    { "downstream_timeout_zero", ": downstream.timeout_ms: must be > 0, got 0" },
    { "fleet_per_key_limiter", ": fleets[0].limiter: 'k' is per key: a fleet shares one global limit" },
    { "fleet_split_not_local", ": fleets[0].split: only for strategy local" },
    { "fleet_sync_ms_missing", ": fleets[0].sync_ms: required" },
    { "fleet_sync_without_consume", ": fleets[0].strategy: local_sync needs an algorithm a store can charge a synced count to (token_bucket, gcra" },
    { "fleet_too_many_nodes", ": fleets[0].nodes: must be <= 1024, got 2000" },
    { "fleet_unknown_limiter", ": fleets[0].limiter: 'nope' names no rate limiter of this scenario" },
    { "fleet_unknown_strategy", ": fleets[0].strategy: unknown value 'raft' (expected one of: central, local, local_sync, lease, controller, gossip)" },
    { "fleet_interval_missing", ": fleets[0].interval_ms: required" },
    { "fleet_cut_local", ": fleets[0].cuts: a local fleet never talks to a store to be cut from" },
    { "fleet_stale_below_interval", ": fleets[0].stale_ms: must be longer than interval_ms (100)" },
    { "fleet_local_fallback_without_rate", ": fleets[0].on_cut: local falls back to the node's even share of a rate" },
    { "fleet_cut_unknown_node", ": fleets[0].cuts[0].node: must be <= 1, got 2" },
    { "fleet_lease_without_rate", ": fleets[0].strategy: lease shares out a rate and a burst: sliding_window_log has no rate" },
    { "fleet_weights_count", ": fleets[0].weights: must hold one number per node (3), got 2" },
    { "clients_unknown_backoff", ": clients[0].retry.backoff: unknown value 'fibonacci' (expected one of: none, constant, exponential, decorrelated)" },
    { "clients_unknown_field", ": clients[0].retries: unknown field (a client class takes: name, weight, retry, retry_on, abandon, budget)" },
    { "clients_zero_attempts", ": clients[0].retry.max_attempts: must be > 0, got 0" },
    { "chain_bad_policy", ": chains[0].policy: unknown value 'best_effort' (expected one of: all_or_nothing, in_order_refund, in_order_no_refund)" },
    { "chain_name_taken", ": chains[0].name: 'b' is already the name of a limiter, chain or fleet" },
    { "chain_one_tier", ": chains[0].tiers: must name 2 to 4 limiters, got 1" },
    { "chain_queue_tier", ": chains[0].tiers[1]: 'q' is a queue, not a rate limiter" },
    { "chain_same_tier_twice", ": chains[0].tiers[2]: 'a' is a tier of this chain already" },
    { "chain_unknown_tier", ": chains[0].tiers[1]: 'nope' names no limiter of this scenario" },
    { "targets_unknown_metric", ": targets: target 'drops<=5': unknown metric 'drops' (drop_pct, admit_pct, peak_rps, overload_s, delay_p99_ms, e2e_p99_ms, p99_ms)" },
};

ParameterizedTestParameters(scenario, bad_fixture_is_refused_with_its_place)
{
    return cr_make_param_array(bad_case, bad_cases, sizeof bad_cases / sizeof bad_cases[0]);
}

ParameterizedTest(const bad_case *c, scenario, bad_fixture_is_refused_with_its_place)
{
    char path[256], err[1024] = "";
    snprintf(path, sizeof path, "tests/fixtures/bad/%s.json", c->fixture);
    scn_scenario s;
    cr_assert_eq(scn_load(path, NULL, &s, err, sizeof err), -1, "%s loaded", path);
    cr_assert(strstr(err, c->message), "%s:\n  got      %s\n  expected %s", path, err, c->message);
    cr_assert(strncmp(err, path, strlen(path)) == 0, "the message starts with the file: %s", err);
}

Test(scenario, every_bad_fixture_has_a_case)
{
    DIR *d = opendir("tests/fixtures/bad");
    cr_assert(d);
    size_t files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
        files++;
        int found = 0;
        for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
            found |= strlen(bad_cases[i].fixture) == n - 5 && strncmp(bad_cases[i].fixture, e->d_name, n - 5) == 0;
        cr_assert(found, "fixture %s has no expected message", e->d_name);
    }
    closedir(d);
    cr_assert_geq(files, 20);
}

Test(scenario, every_shipped_scenario_loads)
{
    const char *names[] = { "steady", "burst", "promotion_ramp", "danmaku_spike", "nasa_replay", "llm_tokens" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128], err[1024];
        snprintf(path, sizeof path, "scenarios/%s.json", names[i]);
        scn_scenario s;
        cr_assert_eq(scn_load(path, NULL, &s, err, sizeof err), 0, "%s", err);
        cr_assert_str_eq(s.name, names[i]);
        cr_assert_gt(s.n_limiters, 0);
        scn_free(&s);
    }
}

Test(scenario, danmaku_has_per_user_and_global_limits_over_zipf_users)
{
    char err[512];
    scn_scenario s;
    cr_assert_eq(scn_load("scenarios/danmaku_spike.json", NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.key_dist, SCN_KEYS_ZIPF);
    cr_assert_geq(s.key_count, 100000);
    int per_user = 0, global = 0;
    for (size_t i = 0; i < s.n_limiters; i++) {
        per_user += !s.limiters[i].global;
        global += s.limiters[i].global;
    }
    cr_assert(per_user && global);
    scn_free(&s);
}

Test(scenario, trace_keys_are_interned_and_the_busiest_reports_level)
{
    char err[512];
    scn_scenario s;
    cr_assert_eq(scn_load("scenarios/nasa_replay.json", NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n_traces, 1);
    cr_assert_eq(s.traces[0].n, 30969);
    cr_assert_eq(kspace_count(s.keys), 1 + 2365, "one generated key plus the trace's hosts");
    /* the most frequent host of the trace */
    const trace *t = &s.traces[0];
    size_t busiest = 0, other = 0;
    for (size_t r = 0; r < t->n; r++) {
        busiest += t->key[r] == s.level_key;
        other += t->key[r] == t->key[0];
    }
    cr_assert_geq(busiest, other);
    scn_free(&s);
}

/* A leaky bucket keeps its amounts exact up to capacity + the largest cost
 * the scenario can produce, not the largest any scenario could: "1/h" at
 * every cost 1 runs; a cost of 4M at "1/h" is still refused, and says why. */
Test(scenario, a_leaky_bucket_at_hourly_rates_is_sized_by_the_scenarios_costs)
{
    scn_scenario s;
    char err[1024];
    cr_assert_eq(scn_load("tests/fixtures/good/leaky_hourly.json", NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.max_cost, 1);
    cr_assert_eq(s.n_limiters, 5);
    scn_free(&s);
}

Test(scenario, set_overrides_by_limiter_name_or_algorithm)
{
    const char *sets[] = { "tb.capacity=200", "gcra.burst=7", "lq.mode=meter" };
    scn_options opt = { sets, 3, NULL };
    char err[512];
    scn_scenario s;
    cr_assert_eq(scn_load("tests/fixtures/bad/zero_capacity.json", &opt, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.limiters[0].values[1], 200, "the bad capacity 0 was overridden");
    cr_assert_eq(s.limiters[1].values[1], 7, "gcra matched by algorithm (the limiter is named gc)");
    cr_assert_eq(s.limiters[2].cfg.v[2], 1, "mode meter");
    scn_free(&s);
}

static void expect_set_refused(const char *set, const char *message)
{
    const char *sets[] = { set };
    scn_options opt = { sets, 1, NULL };
    char err[1024] = "";
    scn_scenario s;
    cr_assert_eq(scn_load("scenarios/burst.json", &opt, &s, err, sizeof err), -1, "--set %s accepted", set);
    cr_assert(strstr(err, message), "--set %s:\n  got      %s\n  expected %s", set, err, message);
}

Test(scenario, bad_set_is_refused_with_its_origin)
{
    expect_set_refused("token_bucket.capcity=5",
                       "scenarios/burst.json: limiters[0].capcity: unknown field (token_bucket takes:");
    expect_set_refused("token_bucket.rate=-3",
                       "limiters[0].rate: must be > 0, got -3 (from --set token_bucket.rate=-3)");
    expect_set_refused("gcra.rate=fast", "limiters[1].rate: 'fast' is not a rate: write requests per second (5, 0.5) "
                                         "or a count per period (\"20/min\", \"1/3s\", \"100/1500ms\") (from --set gcra.rate=fast)");
    expect_set_refused("nobody.rate=1", "--set 'nobody.rate=1': no limiter or algorithm named 'nobody' in "
                                        "scenarios/burst.json (limiters: token_bucket, gcra,");
    expect_set_refused("rate=1", "--set 'rate=1': expected <limiter or algorithm>.<parameter>=<value>");
    expect_set_refused("token_bucket.name=x", "--set 'token_bucket.name=x': name is not a parameter");
    expect_set_refused("token_bucket.scope=global", "--set 'token_bucket.scope=global': scope is not a parameter");
}

Test(scenario, only_narrows_by_name_or_algorithm)
{
    scn_options opt = { NULL, 0, "gcra,leaky_bucket" };
    char err[512];
    scn_scenario s;
    cr_assert_eq(scn_load("scenarios/burst.json", &opt, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n_limiters, 3, "gcra, and both leaky_bucket modes");
    cr_assert_str_eq(s.limiters[0].name, "gcra");
    cr_assert_str_eq(s.limiters[2].name, "leaky_meter");
    scn_free(&s);
    opt.only = "gcra,bogus";
    cr_assert_eq(scn_load("scenarios/burst.json", &opt, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "--only: 'bogus' matches no limiter in scenarios/burst.json"), "got %s", err);
}

/* A trace over the 1 GiB limit is refused from its size, before a byte is
 * read (a sparse 1.5 GiB file: reading it would take 2 GB of memory). */
Test(scenario, a_trace_over_the_limit_is_refused_from_its_size)
{
    char dir[] = "/tmp/ratelab-bigtrace-XXXXXX", trace[256], path[256], err[1024];
    cr_assert(mkdtemp(dir));
    snprintf(trace, sizeof trace, "%s/big.csv", dir);
    snprintf(path, sizeof path, "%s/big.json", dir);
    FILE *t = fopen(trace, "w");
    cr_assert(t);
    fputs("t_s\n", t);
    cr_assert_eq(ftruncate(fileno(t), (off_t)3 << 29), 0);
    fclose(t);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("{ \"name\": \"big\", \"duration_s\": 10, \"phases\": [ { \"shape\": \"trace\", \"start_s\": 0, \"end_s\": 10, "
          "\"file\": \"big.csv\" } ], \"limiters\": [ { \"algorithm\": \"token_bucket\", \"rate\": 10, \"capacity\": 20 } ] }\n",
          f);
    fclose(f);
    scn_scenario s;
    cr_assert_eq(scn_load(path, NULL, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "big.csv: cannot read trace: larger than 1024 MiB, the most ratelab reads"), "%s", err);
    unlink(trace);
    unlink(path);
    rmdir(dir);
}
