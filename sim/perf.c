/* perf.c -- see perf.h. */
#define _POSIX_C_SOURCE 200809L
#include "perf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../algorithms/keystore.h"
#include "backend_memory.h"
#include "generator.h"
#include "runner.h"
#include "scenario.h"

typedef struct {
    const char *label;
    const char *one_key;      /* limiter JSON for 1 key at the offered rate */
    const char *many_keys;    /* limiter JSON per key for 1M Zipf keys */
} perf_case;

static const perf_case perf_cases[] = {
    { "token_bucket", "\"algorithm\":\"token_bucket\",\"rate\":1e7,\"capacity\":1000",
      "\"algorithm\":\"token_bucket\",\"rate\":10,\"capacity\":20" },
    { "gcra", "\"algorithm\":\"gcra\",\"rate\":1e7,\"burst\":1000", "\"algorithm\":\"gcra\",\"rate\":10,\"burst\":20" },
    { "leaky_bucket queue", "\"algorithm\":\"leaky_bucket\",\"rate\":1e7,\"capacity\":1000",
      "\"algorithm\":\"leaky_bucket\",\"rate\":10,\"capacity\":20" },
    { "leaky_bucket meter", "\"algorithm\":\"leaky_bucket\",\"mode\":\"meter\",\"rate\":1e7,\"capacity\":1000",
      "\"algorithm\":\"leaky_bucket\",\"mode\":\"meter\",\"rate\":10,\"capacity\":20" },
    { "fixed_window", "\"algorithm\":\"fixed_window\",\"limit\":10000,\"window_ms\":1",
      "\"algorithm\":\"fixed_window\",\"limit\":20,\"window_ms\":1000" },
    { "sliding_window_log", "\"algorithm\":\"sliding_window_log\",\"limit\":1000,\"window_ms\":0.1",
      "\"algorithm\":\"sliding_window_log\",\"limit\":10,\"window_ms\":1000" },
    { "sliding_window_counter", "\"algorithm\":\"sliding_window_counter\",\"limit\":10000,\"window_ms\":1",
      "\"algorithm\":\"sliding_window_counter\",\"limit\":20,\"window_ms\":1000" },
};

/* Writes a one-limiter scenario to a temporary file and loads it. */
static int perf_scenario(const char *limiter, unsigned keys, double requests, scn_scenario *s)
{
    char path[] = "/tmp/ratelab-perf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(path); return -1; }
    fprintf(f, "{\"name\":\"perf\",\"duration_s\":1,\"seed\":7,\"tick_ms\":10,"
               "\"phases\":[{\"shape\":\"constant\",\"start_s\":0,\"end_s\":1,\"rate\":%.0f}],"
               "\"keys\":{\"count\":%u,\"distribution\":\"zipf\",\"exponent\":1.0},"
               "\"limiters\":[{%s}]}", requests, keys, limiter);
    fclose(f);
    char err[512];
    int rc = scn_load(path, NULL, s, err, sizeof err);
    unlink(path);
    if (rc != 0) fprintf(stderr, "ratelab perf: %s\n", err);
    return rc;
}

static int perf_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double perf_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, perf_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per decision: store lookup + decide over requests generated beforehand. */
static double perf_decide_ns(const scn_scenario *s, const gen_request *reqs, size_t n)
{
    const scn_limiter *l = &s->limiters[0];
    ks_store *store = ks_create(kspace_count(s->keys), l->cfg.state_size);
    if (!store) return -1;
    const uint64_t *hashes = kspace_hashes(s->keys);
    lim_decision d;
    uint64_t admitted = 0;
    int64_t t0 = run_now_ns();
    for (size_t i = 0; i < n; i++) {
        int is_new;
        void *state = ks_get(store, reqs[i].key, hashes[reqs[i].key], &is_new);
        l->ops->decide(&l->cfg, state, is_new, reqs[i].t_us, reqs[i].cost, &d);
        admitted += (uint64_t)d.allowed;
    }
    int64_t t1 = run_now_ns();
    ks_destroy(store);
    /* the admitted count keeps the loop from being optimized away */
    return admitted <= n ? (double)(t1 - t0) / (double)n : -1;
}

int perf_main(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else { fprintf(stderr, "ratelab perf: unknown option %s (try --quick)\n", argv[i]); return 2; }
    }
    const double requests = quick ? 2e6 : 2e7;
    const int reps = quick ? 3 : 5;
    const unsigned keysets[] = { 1, 1000000 };
    printf("ratelab perf: %.0f requests per run, median of %d runs%s\n", requests, reps, quick ? " (--quick)" : "");
    printf("%-24s %9s %14s %18s %12s\n", "algorithm", "keys", "decide ns/req", "end-to-end Mreq/s", "state MiB");
    for (size_t c = 0; c < sizeof perf_cases / sizeof perf_cases[0]; c++) {
        for (size_t k = 0; k < 2; k++) {
            scn_scenario s;
            if (perf_scenario(k ? perf_cases[c].many_keys : perf_cases[c].one_key, keysets[k], requests, &s) != 0)
                return 1;
            gen *g = gen_create(&s);
            size_t cap = (size_t)(requests * 1.1) + 1000, n = 0;
            gen_request *reqs = malloc(cap * sizeof *reqs);
            if (!g || !reqs) { fprintf(stderr, "ratelab perf: out of memory\n"); return 1; }
            while (n < cap && gen_next(g, &reqs[n])) n++;
            double decide[9], e2e[9];
            size_t state_bytes = 0;
            for (int r = 0; r < reps; r++) {
                decide[r] = perf_decide_ns(&s, reqs, n);
                run_result res;
                char err[256];
                run_options opt = { NULL, NULL, NULL };
                run_backend mem;
                bmem *m = bmem_create(16, &mem);
                if (!m || run_limiter(&s, g, &s.limiters[0], &mem, &opt, &res, err, sizeof err) != 0) {
                    fprintf(stderr, "ratelab perf: %s\n", err);
                    return 1;
                }
                bmem_destroy(m);
                e2e[r] = (double)res.summary.offered / res.summary.wall_s / 1e6;
                state_bytes = res.summary.state_bytes;
                run_result_free(&res);
            }
            printf("%-24s %9u %14.1f %18.1f %12.1f\n", perf_cases[c].label, keysets[k], perf_median(decide, reps),
                   perf_median(e2e, reps), (double)state_bytes / (1 << 20));
            fflush(stdout);
            free(reqs);
            gen_destroy(g);
            scn_free(&s);
        }
    }
    return 0;
}
