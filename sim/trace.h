/*
 * trace.h -- a recorded arrival trace read from CSV: header `t_s`,
 * `t_s,key` or `t_s,key,cost`, one arrival per line, times in seconds
 * (non-decreasing). Keys are interned into the run's keyspace as they are
 * read. Every malformed line is an error naming file:line and the column.
 */
#ifndef RATELAB_TRACE_H
#define RATELAB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "keyspace.h"

#define TRACE_MAX_ROWS 100000000u
#define TRACE_MAX_BYTES (1u << 30)       /* the largest trace file read: 1 GiB */

typedef struct {
    size_t n;
    int64_t *t_us;          /* arrival times, microseconds from t_s = 0 */
    uint32_t *key;          /* keyspace ids; NULL without a key column */
    uint32_t *cost;         /* NULL without a cost column */
    uint64_t file_hash;     /* FNV-1a of the file's bytes, for run.json */
} trace;

/* Reads `path` into *t, interning keys into `keys`; costs must lie in
 * [1, max_cost]. Returns 0, or -1 with "path:line: ..." in err. */
int trace_load(const char *path, kspace *keys, double max_cost, trace *t, char *err, size_t errlen);

void trace_free(trace *t);

#endif
