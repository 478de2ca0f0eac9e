/*
 * cluster_output.h -- what a pass on a Redis Cluster adds to the results:
 * cluster_nodes.csv (keys, calls, share and latency per node, and what
 * routing met), cluster_faults.csv (the faults made during each pass) and
 * the table printed under the run's. output.c and main.c
 * call these.
 */
#ifndef RATELAB_CLUSTER_OUTPUT_H
#define RATELAB_CLUSTER_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

/* Whether any of the results ran on a cluster. */
int cout_any(const run_result *r, size_t n);

/* cluster_nodes.csv: one row per cluster pass and node. */
void cout_nodes_csv(FILE *f, const run_result *r, size_t n);

/* The table per node of every cluster pass, and a line per pass of what
 * routing met (redirects, retries, windows without answers). */
void cout_print(FILE *f, const run_result *r, size_t n);

/* Whether any pass met a fault (cluster_faults.csv is written). */
int cout_any_fault(const run_result *r, size_t n);

/* cluster_faults.csv: one row per fault of every pass, beside the pass's
 * errors and its longest window without answers. */
void cout_faults_csv(FILE *f, const run_result *r, size_t n);

#endif
