#define _POSIX_C_SOURCE 200809L
/* Ctrl-C and SIGTERM end a run wherever it waits: in a generator that
 * produces nothing for a long time, in realtime mode before a long gap,
 * in the Redis queue pass, and while a trace is read from a FIFO that
 * nobody writes. Each waits on an observed condition, never a fixed
 * sleep: the run's blocked-signal mask (set once the scenario is loaded),
 * or the kernel's wait channel. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The line of /proc/<pid>/status that starts with `field`, as a number
 * (hex for masks); -1 when it cannot be read. */
static long long proc_status(pid_t pid, const char *field, int base)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) v = strtoll(line + strlen(field), NULL, base);
    fclose(f);
    return v;
}

/* Polls (10 s at most) until the run has blocked SIGINT and SIGTERM: it
 * has loaded its scenario and begun. */
static void wait_until_running(tsup_child *c)
{
    long long blocked = 0;
    const long long both = (1LL << (SIGINT - 1)) | (1LL << (SIGTERM - 1));
    for (int i = 0; i < 1000 && (blocked & both) != both; i++) {
        cr_assert(tsup_running(c), "the run ended before it was interrupted");
        blocked = proc_status(c->pid, "SigBlk:", 16);
        if ((blocked & both) != both) nap_ms(10);
    }
    cr_assert_eq(blocked & both, both, "the run never began");
}

static void interrupted_and_nothing_written(const char *const *argv, const char *out, int sig)
{
    tsup_child c;
    tsup_start(&c, argv);
    wait_until_running(&c);
    kill(c.pid, sig);
    char err[4096];
    int rc = tsup_finish(&c, 60, err, sizeof err);
    cr_assert_eq(rc, 130, "exit 130 after signal %d: %s", sig, err);
    cr_assert(strstr(err, "interrupted"), "%s", err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "no results written: %s", out);
}

Test(signals, a_generator_step_without_requests_is_interruptible, .timeout = 120)
{
    /* a week of 2 us bursts at 0.001/s: 3e11 steps, almost no request */
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/o", dir);
    const char *argv[] = { "run", "tests/fixtures/signals/tiny_burst.json", "--out", out, "--quiet", NULL };
    interrupted_and_nothing_written(argv, out, SIGINT);
    tsup_rmtree(dir);
    free(dir);
}

Test(signals, realtime_waiting_for_a_request_an_hour_away_is_interruptible, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/o", dir);
    const char *argv[] = { "run", "tests/fixtures/signals/gap.json", "--mode", "realtime", "--out", out, "--quiet",
                           NULL };
    interrupted_and_nothing_written(argv, out, SIGTERM);
    tsup_rmtree(dir);
    free(dir);
}

Test(signals, the_redis_queue_pass_is_interruptible, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/o", dir);
    const char *argv[] = { "run", "scenarios/burst_queue.json", "--only", "order_queue", "--backend", "redis",
                           "--out", out, "--quiet", NULL };
    interrupted_and_nothing_written(argv, out, SIGINT);
    tsup_rmtree(dir);
    free(dir);
}

Test(signals, a_trace_fifo_that_nobody_writes_does_not_hold_the_run, .timeout = 60)
{
    char *dir = tsup_tempdir(), fifo[512], scenario[512], out[512];
    snprintf(fifo, sizeof fifo, "%s/trace.csv", dir);
    snprintf(scenario, sizeof scenario, "%s/fifo.json", dir);
    snprintf(out, sizeof out, "%s/o", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(scenario, "w");
    cr_assert(f);
    fputs("{ \"name\": \"fifo\", \"duration_s\": 10, \"seed\": 1, \"tick_ms\": 1000, \"arrival\": \"poisson\",\n"
          "  \"phases\": [ { \"shape\": \"trace\", \"start_s\": 0, \"end_s\": 10, \"file\": \"trace.csv\" } ],\n"
          "  \"keys\": { \"count\": 1 },\n"
          "  \"limiters\": [ { \"name\": \"tb\", \"algorithm\": \"token_bucket\", \"rate\": 10, \"capacity\": 20 } ] }\n",
          f);
    fclose(f);
    const char *argv[] = { "run", scenario, "--out", out, "--quiet", NULL };
    tsup_child c;
    tsup_start(&c, argv);
    /* until it waits in open() for a writer */
    char path[64], chan[64] = "";
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)c.pid);
    for (int i = 0; i < 1000 && !strstr(chan, "partner") && !strstr(chan, "fifo"); i++) {
        FILE *w = fopen(path, "r");
        if (w) {
            if (!fgets(chan, sizeof chan, w)) chan[0] = '\0';
            fclose(w);
        }
        if (!strstr(chan, "partner") && !strstr(chan, "fifo")) nap_ms(10);
    }
    cr_assert(strstr(chan, "partner") || strstr(chan, "fifo"), "waiting in open(): wchan '%s'", chan);
    kill(c.pid, SIGTERM);
    char err[4096];
    int rc = tsup_finish(&c, 30, err, sizeof err);
    cr_assert_eq(rc, -1, "ended by SIGTERM, as nothing was started yet: %s", err);
    cr_assert(strstr(err, "killed by signal 15"), "%s", err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "nothing written");
    tsup_rmtree(dir);
    free(dir);
}

/* The processes whose command line holds `needle`: the sweep's forked
 * workers carry its --out path. */
static int processes_holding(const char *needle)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], cmd[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            if (!cmd[i]) cmd[i] = ' ';
        cmd[len] = '\0';
        n += strstr(cmd, needle) != NULL;
    }
    closedir(d);
    return n;
}

/* Ctrl-C during a sweep: exit 130 at once, its workers stopped with it,
 * and the --out directory it created gone. */
Test(signals, a_sweep_stops_its_workers_and_leaves_no_directory, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/sweep-out", dir);
    const char *argv[] = { "sweep", "scenarios/promotion_ramp.json", "--algo", "token_bucket", "--params",
                           "rate=100:20000:100", "--jobs", "2", "--out", out, "--quiet", NULL };
    tsup_child c;
    tsup_start(&c, argv);
    wait_until_running(&c);
    for (int i = 0; i < 1000 && processes_holding(out) < 3; i++) nap_ms(10);   /* the sweep and its 2 workers */
    kill(c.pid, SIGINT);
    char err[4096];
    int rc = tsup_finish(&c, 60, err, sizeof err);
    cr_assert_eq(rc, 130, "%s", err);
    cr_assert(strstr(err, "interrupted"), "%s", err);
    cr_assert_eq(processes_holding(out), 0, "no worker outlives the sweep");
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "the directory it created is gone: %s", out);
    tsup_rmtree(dir);
    free(dir);
}

/* Ctrl-C while the private Redis Cluster is being created: the creation
 * looks for it between its steps (it took 15.7 s to reach cluster_state:ok
 * before the run could see the signal), stops its servers, exit 130. */
Test(signals, ctrl_c_while_a_private_cluster_is_created_ends_the_run, .timeout = 120)
{
    char *dir = tsup_tempdir(), out[512];
    snprintf(out, sizeof out, "%s/o", dir);
    const char *argv[] = { "run", "scenarios/steady.json", "--backend", "cluster", "--out", out, "--quiet", NULL };
    tsup_child c;
    tsup_start(&c, argv);
    wait_until_running(&c);
    kill(c.pid, SIGINT);
    char err[4096];
    int rc = tsup_finish(&c, 90, err, sizeof err);
    cr_assert_eq(rc, 130, "%s", err);
    cr_assert(strstr(err, "interrupted while the private Redis Cluster was being created"), "%s", err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "no results written");
    tsup_rmtree(dir);
    free(dir);
}
