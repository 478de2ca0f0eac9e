/*
 * atomicfile.h -- writing a file so that readers see the old one or the
 * whole new one, never a part: write beside it, then rename over it.
 */
#ifndef RATELAB_ATOMICFILE_H
#define RATELAB_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;                 /* write here */
    char path[4096];
    char tmp[4200];          /* path.tmp.<pid> */
} af_file;

/* Opens a temporary file beside `path`. Returns 0, or -1 with a message. */
int af_open(af_file *a, const char *path, char *err, size_t errlen);

/* Closes it and renames it over `path`. Returns 0; or -1 with a message
 * when any write, the close or the rename failed, and then the temporary
 * file is removed and `path` is untouched. */
int af_commit(af_file *a, char *err, size_t errlen);

/* Closes and removes the temporary file: `path` is untouched. */
void af_abandon(af_file *a);

#endif
