/*
 * perf.h -- `ratelab perf`: how fast each algorithm decides and how fast the
 * whole simulation runs, on one key and on 1M Zipf keys, as medians of
 * repeated runs made side by side in one process.
 */
#ifndef RATELAB_PERF_H
#define RATELAB_PERF_H

#include "cli.h"

/* Runs the benchmark; argv[0] is "perf". Prints a table; returns an exit status. */
int perf_main(int argc, char **argv);

/* `ratelab perf-redis`: decisions per second of every algorithm's Lua twin
 * at pipeline depth 1 and 64 on one fresh private redis-server, beside
 * redis-benchmark running a trivial EVALSHA at the same depth (the ceiling),
 * and the naive client-side bucket. */
int perf_redis_main(int argc, char **argv);

/* Their options, for `ratelab help perf`. */
const cli_command *perf_cli(void);
const cli_command *perf_redis_cli(void);

#endif
