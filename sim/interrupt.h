/*
 * interrupt.h -- Ctrl-C and SIGTERM without a handler or a global flag:
 * the signals are blocked once the run has something to clean up, and
 * polled between steps, so a run stops where it can delete its keys, stop
 * its servers and write nothing half-done.
 */
#ifndef RATELAB_INTERRUPT_H
#define RATELAB_INTERRUPT_H

/* Blocks SIGINT and SIGTERM for the calling thread and the threads and
 * processes it creates afterwards (a child that must see them unblocks). */
void intr_block(void);

/* Undoes intr_block for the calling thread or process: a forked worker
 * that its parent stops with SIGTERM. */
void intr_unblock(void);

/* Nonzero when SIGINT or SIGTERM is pending. `ctx` is unused: the shape
 * fits every stop hook (run_options, gen_set_stop, bred_options). */
int intr_requested(void *ctx);

#endif
