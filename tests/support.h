/*
 * support.h -- helpers the tests share: a configured limiter with its own
 * state for one key, and running the ratelab binary.
 */
#ifndef RATELAB_TEST_SUPPORT_H
#define RATELAB_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../algorithms/limiter.h"
#include "../sim/runner.h"

typedef struct {
    lim_config cfg;
    void *state;
    int used;
} tsup_limiter;

/* Configures `algo` from "name=value name=value" (choices by name); the
 * test fails on a bad parameter. */
tsup_limiter tsup_make(const char *algo, const char *params);

/* Decides one request of the single key at t_us. */
lim_decision tsup_at(tsup_limiter *l, int64_t t_us, int64_t cost);

/* Requests of `cost` at t_us admitted out of n. */
int tsup_admit_n(tsup_limiter *l, int64_t t_us, int64_t cost, int n);

int64_t tsup_level(const tsup_limiter *l, int64_t t_us);

void tsup_free(tsup_limiter *l);

/* Runs the ratelab binary ($RATELAB_BIN, default ./ratelab) with argv
 * (NULL-terminated, without the program), capturing stderr into err.
 * Returns the exit status, or -1 if it did not exit normally. */
int tsup_run(const char *const *argv, char *err, size_t errlen);

/* As tsup_run, keeping stdout too: *out is what it printed (caller frees). */
int tsup_run_out(const char *const *argv, char **out, char *err, size_t errlen);

/* Runs the ratelab binary (by its absolute path) with `args`, a shell
 * word list, from the working directory `dir`: `--out "$PWD"` and names
 * looked up there. Returns its exit status, stderr in err. */
int tsup_run_in(const char *dir, const char *args, char *err, size_t errlen);

/* Runs argv[0] (a path) with argv, capturing stderr as tsup_run does. */
int tsup_exec(const char *const *argv, char *err, size_t errlen);

/* A program started in the background, its stderr kept in a file. */
typedef struct {
    pid_t pid;
    int status;
    char errfile[64];
    char outfile[64];   /* where stdout goes when kept ("": /dev/null) */
} tsup_child;

/* Starts the ratelab binary with argv as tsup_run would, without waiting. */
void tsup_start(tsup_child *c, const char *const *argv);

/* Starts argv[0] (a path) with argv, without waiting. */
void tsup_start_exec(tsup_child *c, const char *const *argv);

/* 1 while the child runs. */
int tsup_running(tsup_child *c);

/* Waits for the child, polling, at most timeout_s (then kills it and
 * fails the test); stderr goes to err ("killed by signal N; ..." when a
 * signal ended it). Returns the exit status, or -1 after a signal. */
int tsup_finish(tsup_child *c, int timeout_s, char *err, size_t errlen);

/* Starts two processes that keep both cores busy (other work on the
 * machine), each for at most `seconds`; tsup_spin_down stops them by PID. */
void tsup_spin_up(pid_t pid[2], int seconds);
void tsup_spin_down(pid_t pid[2]);

/* A fresh empty directory under /tmp; caller frees the path. */
char *tsup_tempdir(void);

/* Removes a directory tree. */
void tsup_rmtree(const char *path);

/* Field `column` of data row `row` (0-based, after the header) of the CSV
 * text `csv`, copied into buf (empty when the field is; the test fails
 * when the column or the row is missing). Returns buf. */
const char *tsup_field(const char *csv, size_t row, const char *column, char *buf, size_t len);

/* The DOM of dir/index.html after its load event, as Debian's headless
 * chromium serialises it (no network, a fresh profile). Caller frees. */
char *tsup_rendered(const char *dir);

/* The integer attribute `name` the page's script set on <body>. */
int tsup_dom_attr(const char *dom, const char *name);

/* Screenshots of dir/index.html 1400 and 800 px wide, kept for a person
 * to look at: build/test-screenshots/<name>-<width>.png. */
void tsup_screenshots(const char *dir, const char *name);

/* 1 when the file at path starts with the PNG signature. */
int tsup_is_png(const char *path);

/* The whole file, NUL-terminated, or NULL. Caller frees. */
char *tsup_slurp(const char *path);

/* Loads scenario `path` (with "limiter.param=value" sets) into *s and
 * runs its entry `entry` in memory; the test fails on any error. The
 * caller frees the result and the scenario. */
run_result tsup_run_memory(const char *path, const char *const *sets, size_t n_sets, size_t entry, scn_scenario *s);

/* Runs scenario `path` on memory and on a private Redis, into dir/out
 * (results) and dir/logs (decision logs), whose paths go to out and logs
 * (600 bytes each); the test fails if the run does. */
void tsup_run_both(const char *path, const char *dir, char *out, char *logs);

/* The same on the backends named ("memory,cluster": a private Redis Cluster). */
void tsup_run_backends(const char *path, const char *backends, const char *dir, char *out, char *logs);

/* Fails the test unless logs/<name>.memory.csv and logs/<name>.redis.csv
 * hold the same decisions (every line from "# params" on: the header
 * names the backend); returns how many decisions they hold. */
size_t tsup_same_decisions(const char *logs, const char *name);

/* The same against logs/<name>.<backend>.csv. */
size_t tsup_same_decisions_on(const char *logs, const char *name, const char *backend);

/* tsup_run_memory with the scenario's seed replaced by `seed`. */
run_result tsup_run_memory_seeded(const char *path, size_t entry, uint64_t seed, scn_scenario *s);

#endif
