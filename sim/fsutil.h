/*
 * fsutil.h -- the file-system steps several modules need, in one place:
 * mkdir -p, a recursive delete that never follows links, lexical absolute
 * paths, and the check that a directory is one ratelab may replace.
 */
#ifndef RATELAB_FSUTIL_H
#define RATELAB_FSUTIL_H

#include <stddef.h>

/* The file every results directory carries: its presence is what lets
 * ratelab replace the directory later. */
#define FS_RESULTS_MARKER ".ratelab-results"

/* mkdir -p: dir and every missing parent; 0, or -1 with errno set. */
int fs_mkdirs(const char *dir);

/* Reads the whole file at `path` into a NUL-terminated buffer (caller
 * frees) and its length into *len. Refuses, with the reason in err (the
 * caller names the file and what it is):
 * a directory, a file over max_bytes (read no further: /dev/zero and
 * endless FIFOs end too), a read error (with errno's text). A FIFO or a
 * device is read like a file. NULL on failure; *missing (if given) is set
 * when the path does not exist. */
char *fs_read_file(const char *path, size_t max_bytes, size_t *len, int *missing, char *err, size_t errlen);

/* Removes path and everything below it, without following symbolic links;
 * an absent path is fine. */
void fs_remove_tree(const char *path);

/* Writes `path` as an absolute path with ".", ".." and repeated or
 * trailing slashes resolved lexically (links are not followed). 0, or -1
 * when it does not fit or the working directory is unknown. */
int fs_absolute(const char *path, char *out, size_t len);

/* 1 when `inner` is `outer` or lies below it (both absolute, as
 * fs_absolute writes them), else 0. */
int fs_within(const char *inner, const char *outer);

/* Checks that `given` may become a results directory and writes it
 * without trailing slashes into dir. Allowed: a path that does not exist,
 * an empty directory, or a directory that holds FS_RESULTS_MARKER (ratelab
 * wrote it). Refused, with a message naming the path and what is there:
 * "/", ".", "..", a symbolic link, a file, any other directory (even one
 * holding only names a run writes: index.html, plots/), and the working
 * directory or one that holds it, however it is named. Returns 0 or -1.
 * Nothing is created or removed. */
int fs_results_target(const char *given, char *dir, size_t len, char *err, size_t errlen);

#endif
