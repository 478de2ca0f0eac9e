/* atomicfile.c -- see atomicfile.h. */
#define _POSIX_C_SOURCE 200809L
#include "atomicfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int af_open(af_file *a, const char *path, char *err, size_t errlen)
{
    if (strlen(path) >= sizeof a->path) {
        snprintf(err, errlen, "%.60s...: path too long", path);
        a->f = NULL;
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(a->f = fopen(a->tmp, "w"))) {
        snprintf(err, errlen, "%s: %s", a->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int af_commit(af_file *a, char *err, size_t errlen)
{
    /* a failed write leaves ferror set but not errno: flushing again
     * brings the reason (ENOSPC...) back */
    int bad = ferror(a->f), why = 0;
    if (fflush(a->f) != 0) { bad = 1; why = errno; }
    if (fclose(a->f) != 0) { bad = 1; if (!why) why = errno; }
    a->f = NULL;
    if (!bad && rename(a->tmp, a->path) != 0) { bad = 1; why = errno; }
    if (bad) {
        snprintf(err, errlen, "%s: write failed: %s", a->path, strerror(why ? why : EIO));
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

void af_abandon(af_file *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
