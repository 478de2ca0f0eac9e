/* support.c -- see support.h. */
#define _GNU_SOURCE
#include "support.h"

#include "../sim/backend_memory.h"
#include "../sim/fsutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

tsup_limiter tsup_make(const char *algo, const char *params)
{
    tsup_limiter l = { 0 };
    const lim_ops *ops = lim_find(algo);
    cr_assert(ops, "no algorithm %s", algo);
    double values[LIM_MAX_PARAMS];
    lim_rate rates[LIM_MAX_PARAMS] = { { 0, 0, 0 } };
    lim_default_values(&ops->entry, values);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", params);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        cr_assert(eq, "bad parameter %s", tok);
        *eq = '\0';
        int i = lim_param_index(&ops->entry, tok);
        cr_assert(i >= 0, "%s has no parameter %s", algo, tok);
        char why[300];
        cr_assert_eq(lim_param_parse(&ops->params[i], eq + 1, &values[i], &rates[i], why, sizeof why), 0, "%s: %s", tok,
                     why);
    }
    for (size_t i = 0; i < ops->n_params; i++)
        cr_assert(!(ops->params[i].required && isnan(values[i])), "%s needs %s", algo, ops->params[i].name);
    char err[256];
    l.cfg.ops = ops;
    cr_assert_eq(ops->configure(values, rates, &l.cfg, err, sizeof err), 0, "configure: %s", err);
    l.state = calloc(1, l.cfg.state_size);
    cr_assert(l.state);
    return l;
}

lim_decision tsup_at(tsup_limiter *l, int64_t t_us, int64_t cost)
{
    lim_decision d;
    memset(&d, 0xa5, sizeof d);  /* every field must be written */
    l->cfg.ops->decide(&l->cfg, l->state, !l->used, t_us, cost, &d);
    l->used = 1;
    return d;
}

int tsup_admit_n(tsup_limiter *l, int64_t t_us, int64_t cost, int n)
{
    int admitted = 0;
    for (int i = 0; i < n; i++) admitted += tsup_at(l, t_us, cost).allowed;
    return admitted;
}

int64_t tsup_level(const tsup_limiter *l, int64_t t_us)
{
    return l->cfg.ops->level(&l->cfg, l->used ? l->state : NULL, t_us);
}

void tsup_free(tsup_limiter *l)
{
    free(l->state);
    l->state = NULL;
}

int tsup_run(const char *const *argv, char *err, size_t errlen)
{
    tsup_child c;
    tsup_start(&c, argv);
    return tsup_finish(&c, 3600, err, errlen);
}

static void tsup_spawn(tsup_child *c, const char *const *argv, int keep_out);

/* argv with the ratelab binary ($RATELAB_BIN, default ./ratelab) in front, into args[64]. */
static void tsup_ratelab_argv(const char *const *argv, const char **args)
{
    const char *bin = getenv("RATELAB_BIN");
    size_t n = 0;
    args[n++] = bin ? bin : "./ratelab";
    for (size_t i = 0; argv[i] && n < 63; i++) args[n++] = argv[i];
    args[n] = NULL;
}

int tsup_run_out(const char *const *argv, char **out, char *err, size_t errlen)
{
    const char *args[64];
    tsup_ratelab_argv(argv, args);
    tsup_child c;
    tsup_spawn(&c, args, 1);
    int rc = tsup_finish(&c, 3600, err, errlen);
    *out = tsup_slurp(c.outfile);
    unlink(c.outfile);
    cr_assert(*out, "stdout kept");
    return rc;
}

void tsup_start(tsup_child *c, const char *const *argv)
{
    const char *args[64];
    tsup_ratelab_argv(argv, args);
    tsup_start_exec(c, args);
}

void tsup_start_exec(tsup_child *c, const char *const *argv)
{
    tsup_spawn(c, argv, 0);
}

static void tsup_spawn(tsup_child *c, const char *const *argv, int keep_out)
{
    c->outfile[0] = '\0';
    if (keep_out) {
        snprintf(c->outfile, sizeof c->outfile, "/tmp/ratelab-test-out-XXXXXX");
        int out = mkstemp(c->outfile);
        cr_assert(out >= 0);
        close(out);
    }
    snprintf(c->errfile, sizeof c->errfile, "/tmp/ratelab-test-err-XXXXXX");
    int fd = mkstemp(c->errfile);
    cr_assert(fd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, c->outfile[0] ? c->outfile : "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&c->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    cr_assert_eq(rc, 0, "cannot run %s", argv[0]);
}

int tsup_running(tsup_child *c)
{
    return waitpid(c->pid, &c->status, WNOHANG) == 0;
}

int tsup_finish(tsup_child *c, int timeout_s, char *err, size_t errlen)
{
    int status = 0, done = 0;
    for (long waited_ms = 0; !done; waited_ms += 10) {
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid) done = 1;
        else if (w < 0) { status = c->status; done = 1; }   /* reaped by tsup_running */
        else if (waited_ms >= (long)timeout_s * 1000) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            unlink(c->errfile);
            cr_assert_fail("%s did not finish within %d s", "the child", timeout_s);
        } else {
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
    }
    char *text = tsup_slurp(c->errfile);
    unlink(c->errfile);
    if (WIFSIGNALED(status))
        snprintf(err, errlen, "killed by signal %d; stderr: %s", WTERMSIG(status), text ? text : "");
    else
        snprintf(err, errlen, "%s", text ? text : "");
    free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tsup_exec(const char *const *argv, char *err, size_t errlen)
{
    tsup_child c;
    tsup_start_exec(&c, argv);
    return tsup_finish(&c, 3600, err, errlen);
}

void tsup_spin_up(pid_t pid[2], int seconds)
{
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        cr_assert(pid[i] >= 0);
        if (pid[i] == 0) {
            time_t end = time(NULL) + seconds;
            volatile unsigned long x = 0;
            while (time(NULL) < end) x++;
            _exit(0);
        }
    }
}

void tsup_spin_down(pid_t pid[2])
{
    for (int i = 0; i < 2; i++) {
        kill(pid[i], SIGKILL);
        waitpid(pid[i], NULL, 0);
    }
}

char *tsup_tempdir(void)
{
    char *path = strdup("/tmp/ratelab-test-XXXXXX");
    cr_assert(path && mkdtemp(path));
    return path;
}

void tsup_rmtree(const char *path) { fs_remove_tree(path); }

int tsup_is_png(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[8] = { 0 };
    int ok = f && fread(head, 1, 8, f) == 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (f) fclose(f);
    return ok;
}

char *tsup_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads path (with sets) and runs entry `entry` in memory; seed: the
 * scenario's own when negative. */
static run_result tsup_run_entry(const char *path, const char *const *sets, size_t n_sets, size_t entry, int64_t seed,
                                 scn_scenario *s)
{
    char err[512];
    scn_options opt = { sets, n_sets, NULL };
    cr_assert_eq(scn_load(path, &opt, s, err, sizeof err), 0, "%s", err);
    if (seed >= 0) s->seed = (uint64_t)seed;
    cr_assert_lt(entry, s->n_limiters, "%s has no entry %zu", path, entry);
    gen *g = gen_create(s);
    run_backend mem;
    bmem *m = bmem_create(16, &mem);
    cr_assert(g && m, "out of memory");
    run_options ro = { NULL, NULL, NULL, NULL };
    run_result r;
    cr_assert_eq(run_limiter(s, g, &s->limiters[entry], &mem, &ro, &r, err, sizeof err), 0, "%s", err);
    bmem_destroy(m);
    gen_destroy(g);
    return r;
}

run_result tsup_run_memory(const char *path, const char *const *sets, size_t n_sets, size_t entry, scn_scenario *s)
{
    return tsup_run_entry(path, sets, n_sets, entry, -1, s);
}

run_result tsup_run_memory_seeded(const char *path, size_t entry, uint64_t seed, scn_scenario *s)
{
    return tsup_run_entry(path, NULL, 0, entry, (int64_t)seed, s);
}

size_t tsup_same_decisions(const char *logs, const char *name) { return tsup_same_decisions_on(logs, name, "redis"); }

size_t tsup_same_decisions_on(const char *logs, const char *name, const char *backend)
{
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/%s.memory.csv", logs, name);
    snprintf(b, sizeof b, "%s/%s.%s.csv", logs, name, backend);
    char *mem = tsup_slurp(a), *red = tsup_slurp(b);
    cr_assert(mem && red, "%s: no decision logs in %s", name, logs);
    const char *m = strstr(mem, "\n# params"), *r = strstr(red, "\n# params");
    cr_assert(m && r, "%s: logs without their header", name);
    cr_assert_str_eq(m, r, "%s: memory and %s decided differently", name, backend);
    size_t lines = 0;
    for (const char *p = m + 1; *p; p++) lines += *p == '\n';
    free(mem);
    free(red);
    return lines > 2 ? lines - 2 : 0;   /* less the params and column lines */
}

void tsup_run_both(const char *path, const char *dir, char *out, char *logs)
{
    tsup_run_backends(path, "memory,redis", dir, out, logs);
}

void tsup_run_backends(const char *path, const char *backends, const char *dir, char *out, char *logs)
{
    char err[4096];
    snprintf(out, 600, "%s/out", dir);
    snprintf(logs, 600, "%s/logs", dir);
    const char *argv[] = { "run", path, "--backend", backends, "--out", out, "--log-decisions", logs, "--quiet",
                           NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s: %s", path, err);
}

/* The k-th field of the line at p (fields split on ','; none is quoted in
 * the CSVs tests read this way), into buf. 0 when the line has fewer. */
static int tsup_nth(const char *p, size_t k, char *buf, size_t len)
{
    for (size_t i = 0; i < k; i++) {
        p += strcspn(p, ",\n");
        if (*p != ',') return 0;
        p++;
    }
    size_t n = strcspn(p, ",\n");
    snprintf(buf, len, "%.*s", (int)n, p);
    return 1;
}

const char *tsup_field(const char *csv, size_t row, const char *column, char *buf, size_t len)
{
    size_t col = 0, want = strlen(column);
    const char *h = csv;
    for (;;) {
        size_t n = strcspn(h, ",\n");
        if (n == want && strncmp(h, column, n) == 0) break;
        cr_assert(h[n] == ',', "no column %s in the CSV", column);
        h += n + 1;
        col++;
    }
    const char *line = strchr(csv, '\n');
    for (size_t r = 0; line && r < row; r++) line = strchr(line + 1, '\n');
    cr_assert(line && line[1], "no row %zu in the CSV", row);
    cr_assert(tsup_nth(line + 1, col, buf, len), "row %zu has no field %s", row, column);
    return buf;
}

/* The DOM of dir/index.html after load, as chromium serialises it (free it). */
char *tsup_rendered(const char *dir)
{
    const char *browser = getenv("RATELAB_CHROMIUM") ? getenv("RATELAB_CHROMIUM") : "chromium";
    char cmd[4096], err[4096], abs[1024], out[1100];
    cr_assert(realpath(dir, abs), "%s", dir);
    /* a fresh profile per page, outside the results (tests run in parallel; no network at all) */
    char *scratch = tsup_tempdir();
    snprintf(out, sizeof out, "%s/dom.html", scratch);
    snprintf(cmd, sizeof cmd,
             "command -v %s >/dev/null || { echo '%s not installed: make deps installs Debian chromium' >&2; exit 127; }; "
             "timeout 120 %s --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
             "--disable-background-networking --no-first-run --no-default-browser-check --disable-extensions "
             "--user-data-dir=%s/profile --proxy-server=127.0.0.1:9 --dump-dom file://%s/index.html >%s",
             browser, browser, browser, scratch, abs, out);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    int rc = tsup_exec(argv, err, sizeof err);
    cr_assert_eq(rc, 0, "chromium failed (%d): %s", rc, err);
    char *dom = tsup_slurp(out);
    tsup_rmtree(scratch);
    free(scratch);
    cr_assert(dom && strstr(dom, "</html>"), "no DOM from chromium: %s", err);
    return dom;
}

int tsup_dom_attr(const char *dom, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *p = strstr(dom, key);
    cr_assert(p, "no %s on <body>: the page's script did not run", name);
    return atoi(p + strlen(key));
}

/* chromium's screenshot of dir/index.html at `width` px into path */
static void tsup_screenshot(const char *dir, int width, const char *path)
{
    const char *browser = getenv("RATELAB_CHROMIUM") ? getenv("RATELAB_CHROMIUM") : "chromium";
    char cmd[4096], err[4096], abs[1024];
    cr_assert(realpath(dir, abs), "%s", dir);
    char *scratch = tsup_tempdir();
    snprintf(cmd, sizeof cmd,
             "timeout 120 %s --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "
             "--disable-background-networking --no-first-run --no-default-browser-check --disable-extensions "
             "--user-data-dir=%s/profile --proxy-server=127.0.0.1:9 --window-size=%d,1000 --screenshot=%s "
             "file://%s/index.html >/dev/null 2>&1",
             browser, scratch, width, path, abs);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    cr_assert_eq(tsup_exec(argv, err, sizeof err), 0, "chromium --screenshot failed: %s", err);
    tsup_rmtree(scratch);
    free(scratch);
    cr_assert(tsup_is_png(path), "no screenshot at %s", path);
}

void tsup_screenshots(const char *dir, const char *name)
{
    cr_assert_eq(system("mkdir -p build/test-screenshots"), 0);
    char cwd[512];
    cr_assert(getcwd(cwd, sizeof cwd));
    const int widths[] = { 1400, 800 };
    for (int k = 0; k < 2; k++) {
        char shot[1200];
        snprintf(shot, sizeof shot, "%s/build/test-screenshots/%s-%d.png", cwd, name, widths[k]);
        tsup_screenshot(dir, widths[k], shot);
    }
}

int tsup_run_in(const char *dir, const char *args, char *err, size_t errlen)
{
    char repo[2048], cmd[8192];
    cr_assert(getcwd(repo, sizeof repo));
    const char *bin = getenv("RATELAB_BIN");
    bin = bin ? bin : "./ratelab";
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s%s%s' %s", dir, bin[0] == '/' ? "" : repo, bin[0] == '/' ? "" : "/",
             bin, args);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return tsup_exec(argv, err, errlen);
}
