/* fsutil.c -- see fsutil.h. */
#define _GNU_SOURCE
#include "fsutil.h"

#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

char *fs_read_file(const char *path, size_t max_bytes, size_t *len, int *missing, char *err, size_t errlen)
{
    if (missing) *missing = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (missing) *missing = errno == ENOENT;
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    int stated = fstat(fileno(f), &st) == 0;
    if (stated && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "is a directory");
        return NULL;
    }
    /* a regular file says its size: one that is too large costs nothing,
     * and one that fits is read into one buffer of its size. A stream
     * (FIFO, device) grows its buffer, never past max_bytes + 1 bytes
     * read: what tells it is too large. */
    int too_big = stated && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes;
    size_t cap = stated && S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 65536, n = 0;
    if (cap > max_bytes + 2) cap = max_bytes + 2;
    char *buf = too_big ? NULL : malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        if (n > max_bytes) { too_big = 1; break; }
        size_t grown = cap * 2 > max_bytes + 2 ? max_bytes + 2 : cap * 2;
        char *bigger = realloc(buf, grown);
        if (!bigger) { free(buf); buf = NULL; break; }
        buf = bigger;
        cap = grown;
    }
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || read_errno || too_big || n > max_bytes) {
        if (too_big) snprintf(err, errlen, "larger than %zu MiB, the most ratelab reads", max_bytes >> 20);
        else if (!buf) snprintf(err, errlen, "out of memory");
        else if (read_errno) snprintf(err, errlen, "read error: %s", strerror(read_errno));
        else snprintf(err, errlen, "larger than %zu MiB, the most ratelab reads", max_bytes >> 20);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int fs_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void fs_remove_tree(const char *path)
{
    nftw(path, fs_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fs_absolute(const char *path, char *out, size_t len)
{
    char joined[8192];
    if (path[0] == '/') {
        if (snprintf(joined, sizeof joined, "%s", path) >= (int)sizeof joined) return -1;
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) return -1;
        if (snprintf(joined, sizeof joined, "%s/%s", cwd, path) >= (int)sizeof joined) return -1;
    }
    /* Walk the components, keeping a stack of where each kept one starts. */
    size_t used = 0, starts[1024], depth = 0;
    for (const char *p = joined; *p;) {
        while (*p == '/') p++;
        const char *end = p + strcspn(p, "/");
        size_t n = (size_t)(end - p);
        if (n == 0) break;
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0) used = starts[--depth];
        } else {
            if (depth == sizeof starts / sizeof starts[0] || used + 1 + n + 1 > len) return -1;
            starts[depth++] = used;
            out[used++] = '/';
            memcpy(out + used, p, n);
            used += n;
        }
        p = end;
    }
    if (used == 0) {
        if (len < 2) return -1;
        out[used++] = '/';
    }
    out[used] = '\0';
    return 0;
}

int fs_within(const char *inner, const char *outer)
{
    size_t n = strlen(outer);
    if (n == 1 && outer[0] == '/') return 1;
    return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

int fs_results_target(const char *given, char *dir, size_t len, char *err, size_t errlen)
{
    size_t n = strlen(given);
    while (n > 1 && given[n - 1] == '/') n--;
    if (n == 0) {
        snprintf(err, errlen, "the results directory is an empty path");
        return -1;
    }
    if (n >= len || n >= 4000) {
        snprintf(err, errlen, "%.60s...: output path too long", given);
        return -1;
    }
    memmove(dir, given, n);   /* given may be dir itself */
    dir[n] = '\0';
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (strcmp(dir, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        snprintf(err, errlen, "%s: name the results directory itself (ratelab replaces it whole), not '%s'", given,
                 *base ? base : "/");
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "%s: is a symbolic link; ratelab replaces its results directory whole and would put a "
                              "directory in the link's place: give the directory it points to", dir);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a directory; ratelab will not replace it", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    /* Only the marker says ratelab wrote it: a user's own index.html or
     * plots/ carry names a run writes too, and are theirs all the same. */
    char stranger[256] = "";
    int marked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (strcmp(e->d_name, FS_RESULTS_MARKER) == 0) marked = 1;
        else if (!stranger[0]) snprintf(stranger, sizeof stranger, "%s", e->d_name);
    }
    closedir(d);
    if (!marked && stranger[0]) {
        snprintf(err, errlen, "%s: exists and is not a ratelab results directory (it holds '%s', and no %s); ratelab "
                              "replaces only what it wrote: give a new or empty directory", dir, stranger,
                 FS_RESULTS_MARKER);
        return -1;
    }
    /* Replacing the working directory, or one that holds it, would pull the
     * ground from under the shell that ran us, however it was named. */
    char real[PATH_MAX], cwd[PATH_MAX];
    if (realpath(dir, real) && getcwd(cwd, sizeof cwd) && fs_within(cwd, real)) {
        snprintf(err, errlen, "%s: is the working directory%s; ratelab replaces its results directory whole: give "
                              "another directory", dir, strcmp(cwd, real) == 0 ? "" : " or holds it");
        return -1;
    }
    return 0;
}
