/* redis_server.c -- see redis_server.h. */
#define _GNU_SOURCE
#include "redis_server.h"

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

/* A port nobody listens on right now (the kernel's choice for port 0). */
static int rsrv_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int rsrv_spawn(rsrv *s)
{
    const char *bin = getenv("RATELAB_REDIS_SERVER");
    if (!bin) bin = "redis-server";
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    char extra[sizeof s->extra];
    snprintf(extra, sizeof extra, "%s", s->extra);
    const char *argv[48] = { bin, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir, "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--logfile", log, "--protected-mode", "yes" };
    size_t n = 17;
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
            redisReply *r = redisCommand(c, "PING");
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

int rsrv_start(rsrv *s, const char *extra, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    rsrv_remove_orphans();
    snprintf(s->extra, sizeof s->extra, "%s", extra ? extra : "");
    snprintf(s->dir, sizeof s->dir, "/tmp/" RSRV_DIR_PREFIX "%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(s->dir)) {
        snprintf(err, errlen, "cannot create a directory for redis-server: %s", strerror(errno));
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = rsrv_free_port();
        if (s->port > 0 && rsrv_spawn(s) == 0 && rsrv_wait_ready(s) == 0) return 0;
        if (s->pid > 0) { kill(s->pid, SIGKILL); waitpid(s->pid, NULL, 0); s->pid = 0; }
    }
    snprintf(err, errlen, "could not start redis-server on 127.0.0.1 (is it installed? see %s/redis.log)", s->dir);
    return -1;
}

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
