/* plots.c -- see plots.h. */
#define _GNU_SOURCE
#include "plots.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* scripts/<script> beside the binary (an installed or built tree), else
 * relative to the working directory. */
static void plot_script_path(const char *script, char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if ((size_t)snprintf(buf, len, "%s/scripts/%s", exe, script) < len && access(buf, R_OK) == 0) return;
        }
    }
    snprintf(buf, len, "scripts/%s", script);
}

int plot_draw(const char *script, const char *dir, char *err, size_t errlen)
{
    char path[4400];
    plot_script_path(script, path, sizeof path);
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read the plotting script: %s", path, strerror(errno));
        return -1;
    }
    char *argv[] = { "sh", path, (char *)dir, NULL };
    fflush(NULL);   /* what was printed before comes before the script's lines */
    /* ratelab polls SIGINT and SIGTERM with them blocked: the script gets
     * them unblocked, so Ctrl-C stops gnuplot too */
    posix_spawnattr_t attr;
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, errlen, "/bin/sh %s: cannot start: %s", path, strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "%s: lost track of the plotting script: %s", path, strerror(errno));
            return -1;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "%s %s: the plots were not drawn (status %d)", path, dir,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return -1;
    }
    return 0;
}
