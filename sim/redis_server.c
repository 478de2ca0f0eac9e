/* redis_server.c -- see redis_server.h. */
#define _GNU_SOURCE
#include "redis_server.h"
#include "redis_bounded.h"

#include "interrupt.h"

#include "clock.h"
#include "fsutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void rsrv_sleep_ms(long ms) { clk_sleep_ns((int64_t)ms * 1000000); }

/* Binds a loopback socket to a port the kernel chooses (port 0); -1 on failure. */
static int rsrv_bind_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Ports nobody listens on right now: the client port and, for a cluster
 * node, a distinct bus port. Both sockets are held until both are chosen so
 * the two differ. Redis's default bus port (client port + 10000) is not
 * used: the kernel's ephemeral range reaches 60999 and Redis refuses a
 * client port above 55535 in cluster mode. 0, or -1. */
static int rsrv_free_ports(rsrv *s, int with_bus)
{
    int fd = rsrv_bind_any(&s->port);
    if (fd < 0) return -1;
    int bus_fd = with_bus ? rsrv_bind_any(&s->bus_port) : -1;
    if (!with_bus) s->bus_port = 0;
    close(fd);
    if (bus_fd >= 0) close(bus_fd);
    return with_bus && bus_fd < 0 ? -1 : 0;
}

/* Appends "; the last line of DIR/redis.log: ..." to an error message, so
 * that a server which will not start says why. */
static void rsrv_append_log_tail(const rsrv *s, char *err, size_t errlen)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "%s/redis.log", s->dir);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
        n = fread(buf, 1, sizeof buf - 1, f);
    }
    if (f) fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    buf[n] = '\0';
    const char *start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    size_t used = strlen(err);
    if (used < errlen) snprintf(err + used, errlen - used, "; the last line of %s: %s", path, start[0] ? start : "(none)");
}

static int rsrv_spawn(rsrv *s)
{
    const char *bin = getenv("RATELAB_REDIS_SERVER");
    if (!bin) bin = "redis-server";
    char port[16], bus_port[16], log[300];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(bus_port, sizeof bus_port, "%d", s->bus_port);
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    char extra[sizeof s->extra];
    snprintf(extra, sizeof extra, "%s", s->extra);
    const char *argv[48] = { bin, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir, "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--logfile", log, "--protected-mode", "yes" };
    size_t n = 17;
    if (s->bus_port > 0) { argv[n++] = "--cluster-port"; argv[n++] = bus_port; }
    for (char *save = NULL, *tok = strtok_r(extra, " ", &save); tok && n < 46; tok = strtok_r(NULL, " ", &save))
        argv[n++] = tok;
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);  /* ratelab blocks SIGINT/SIGTERM to poll them */
        /* its own process group: a terminal's Ctrl-C goes to ratelab,
         * which then stops the server itself after cleaning up its keys */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);  /* the parent died before prctl */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
        execvp(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    return 0;
}

/* Waits until the server answers PING with PONG (or NOAUTH), or it exits, or 10 s pass. */
static int rsrv_wait_ready(rsrv *s)
{
    for (int i = 0; i < 200; i++) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) { s->pid = 0; return -1; }
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        if (c && !c->err) {
            /* PONG, or NOAUTH with requirepass: it listens and has loaded
             * its data (while an AOF loads, PING gets LOADING: not yet) */
            redisReply *r = rbnd_command(c, "PING");
            int ok = r && (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOAUTH", 6) == 0);
            freeReplyObject(r);
            redisFree(c);
            if (ok) return 0;
        } else if (c) {
            redisFree(c);
        }
        rsrv_sleep_ms(50);
    }
    return -1;
}

#define RSRV_DIR_PREFIX "ratelab-redis-"

/* Removes the directories of private servers whose ratelab died without
 * cleaning up (SIGKILL): /tmp/ratelab-redis-<pid>-* of this user whose pid
 * is gone. */
static void rsrv_remove_orphans(void)
{
    DIR *d = opendir("/tmp");
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, RSRV_DIR_PREFIX, strlen(RSRV_DIR_PREFIX)) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + strlen(RSRV_DIR_PREFIX), &end, 10);
        if (pid <= 0 || *end != '-') continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[300];
        struct stat st;
        snprintf(path, sizeof path, "/tmp/%s", e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid()) fs_remove_tree(path);
    }
    closedir(d);
}

/* rsrv_start, with a bus port of its own when `cluster_node`. */
static int rsrv_start_node(rsrv *s, const char *extra, int cluster_node, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    rsrv_remove_orphans();
    snprintf(s->extra, sizeof s->extra, "%s", extra ? extra : "");
    snprintf(s->dir, sizeof s->dir, "/tmp/" RSRV_DIR_PREFIX "%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(s->dir)) {
        snprintf(err, errlen, "cannot create a directory for redis-server: %s", strerror(errno));
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {  /* another process may take a free port first */
        if (rsrv_free_ports(s, cluster_node) == 0 && rsrv_spawn(s) == 0 && rsrv_wait_ready(s) == 0) return 0;
        if (s->pid > 0) { kill(s->pid, SIGKILL); waitpid(s->pid, NULL, 0); s->pid = 0; }
    }
    snprintf(err, errlen, "could not start redis-server on 127.0.0.1 (is it installed?)");
    rsrv_append_log_tail(s, err, errlen);
    return -1;
}

int rsrv_start(rsrv *s, const char *extra, char *err, size_t errlen) { return rsrv_start_node(s, extra, 0, err, errlen); }

void rsrv_kill(rsrv *s)
{
    if (s->pid <= 0) return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

int rsrv_restart(rsrv *s, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 50; attempt++) {  /* the port may linger a moment */
        if (rsrv_spawn(s) == 0 && rsrv_wait_ready(s) == 0) return 0;
        if (s->pid > 0) { kill(s->pid, SIGKILL); waitpid(s->pid, NULL, 0); s->pid = 0; }
        rsrv_sleep_ms(100);
    }
    snprintf(err, errlen, "could not restart redis-server on 127.0.0.1:%d", s->port);
    rsrv_append_log_tail(s, err, errlen);
    return -1;
}

void rsrv_stop(rsrv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int exited = 0;
        for (int i = 0; i < 100 && !exited; i++) {
            exited = waitpid(s->pid, NULL, WNOHANG) == s->pid;
            if (!exited) rsrv_sleep_ms(50);
        }
        if (!exited) { kill(s->pid, SIGKILL); waitpid(s->pid, NULL, 0); }
        s->pid = 0;
    }
    if (s->dir[0]) {
        fs_remove_tree(s->dir);
        s->dir[0] = '\0';
    }
}

/* ---- a private cluster --------------------------------------------------------- */

int rsrv_cluster_parse(const char *spec, int *masters, int *replicas, char *err, size_t errlen)
{
    char *end = (char *)spec;
    long m = -1, r = -1;
    /* digits only (strtol would take " 3" and "+3"), and each count checked
     * before the product, which must not overflow */
    if (*spec >= '0' && *spec <= '9') m = strtol(spec, &end, 10);
    if (m >= 0 && *end == 'x' && end[1] >= '0' && end[1] <= '9') {
        const char *rs = end + 1;
        r = strtol(rs, &end, 10);
    }
    if (r < 0 || *end || m < 3 || m > RSRV_CLUSTER_MAX || r > 4 || m * (1 + r) > RSRV_CLUSTER_MAX) {
        snprintf(err, errlen, "CLUSTER '%s': give masters x replicas of each, as 3x1: at least 3 masters "
                              "(redis-cli --cluster create needs them), at most 4 replicas each, %d servers in all",
                 spec, RSRV_CLUSTER_MAX);
        return -1;
    }
    *masters = (int)m;
    *replicas = (int)r;
    return 0;
}

/* Runs `redis-cli --cluster create` over the servers, its output in the
 * first server's directory. 0, or -1. */
static int rsrv_cluster_create(rsrv_cluster *c)
{
    const char *bin = getenv("RATELAB_REDIS_CLI");
    if (!bin) bin = "redis-cli";
    char addr[RSRV_CLUSTER_MAX][32], reps[8], log[300];
    const char *argv[RSRV_CLUSTER_MAX + 8];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--cluster";
    argv[n++] = "create";
    for (int i = 0; i < c->n; i++) {
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d", c->node[i].port);
        argv[n++] = addr[i];
    }
    snprintf(reps, sizeof reps, "%d", c->replicas);
    argv[n++] = "--cluster-replicas";
    argv[n++] = reps;
    argv[n++] = "--cluster-yes";
    argv[n] = NULL;
    snprintf(log, sizeof log, "%s/cluster-create.log", c->node[0].dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        execvp(bin, (char *const *)argv);
        _exit(127);
    }
    /* polled, so that Ctrl-C ends the wait (and redis-cli) at once */
    int status = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR)) break;
        if (intr_requested(NULL)) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            return -1;
        }
        rsrv_sleep_ms(20);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* 1 when node i says cluster_state:ok and, a replica, that its link to its master is up. */
static int rsrv_cluster_node_ready(const rsrv *s)
{
    struct timeval tv = { 1, 0 };
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!ctx || ctx->err) { if (ctx) redisFree(ctx); return 0; }
    redisReply *info = rbnd_command(ctx, "CLUSTER INFO");
    int ok = info && info->type == REDIS_REPLY_STRING && strstr(info->str, "cluster_state:ok");
    freeReplyObject(info);
    redisReply *repl = ok ? rbnd_command(ctx, "INFO replication") : NULL;
    ok = ok && repl && repl->type == REDIS_REPLY_STRING &&
         (strstr(repl->str, "role:master") || strstr(repl->str, "master_link_status:up"));
    freeReplyObject(repl);
    redisFree(ctx);
    return ok;
}

/* 1, with the message, when SIGINT or SIGTERM is pending: creating a
 * cluster takes seconds, and a Ctrl-C should not wait for it. */
static int rsrv_interrupted(char *err, size_t errlen)
{
    if (!intr_requested(NULL)) return 0;
    snprintf(err, errlen, "interrupted while the private Redis Cluster was being created");
    return 1;
}

int rsrv_cluster_start(rsrv_cluster *c, int masters, int replicas, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->masters = masters;
    c->replicas = replicas;
    char extra[200];
    snprintf(extra, sizeof extra, "--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout %d",
             RSRV_CLUSTER_NODE_TIMEOUT_MS);
    for (int i = 0; i < masters * (1 + replicas); i++) {
        if (rsrv_start_node(&c->node[i], extra, 1, err, errlen) != 0 || rsrv_interrupted(err, errlen)) {
            c->n = c->node[i].pid ? i + 1 : i;
            rsrv_cluster_stop(c);
            return -1;
        }
        c->n = i + 1;
    }
    if (rsrv_cluster_create(c) != 0) {
        if (rsrv_interrupted(err, errlen)) {
            rsrv_cluster_stop(c);
            return -1;
        }
        snprintf(err, errlen, "redis-cli --cluster create failed on %d servers (is redis-tools installed? see "
                              "%s/cluster-create.log)", c->n, c->node[0].dir);
        rsrv_cluster_stop(c);
        return -1;
    }
    if (rsrv_cluster_wait_ok(c, 60, err, errlen) == 0) return 0;
    rsrv_cluster_stop(c);
    return -1;
}

int rsrv_cluster_is_ok(const rsrv_cluster *c)
{
    int ready = 1;
    for (int i = 0; i < c->n && ready; i++) ready = rsrv_cluster_node_ready(&c->node[i]);
    return ready;
}

int rsrv_cluster_wait_ok(const rsrv_cluster *c, int seconds, char *err, size_t errlen)
{
    for (int wait = 0; wait < seconds * 20; wait++) {
        if (rsrv_cluster_is_ok(c)) return 0;
        if (rsrv_interrupted(err, errlen)) return -1;
        rsrv_sleep_ms(50);
    }
    snprintf(err, errlen, "the private Redis Cluster of %d servers did not reach cluster_state:ok with every "
                          "replica attached within %d s", c->n, seconds);
    return -1;
}

void rsrv_cluster_stop(rsrv_cluster *c)
{
    for (int i = 0; i < c->n; i++) rsrv_stop(&c->node[i]);
    c->n = 0;
}
