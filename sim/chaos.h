/*
 * chaos.h -- `ratelab chaos`: a scenario's queue entries on a private
 * redis-server, run while consumers are killed with SIGKILL and the server
 * is killed and restarted, then every message id reconciled.
 */
#ifndef RATELAB_CHAOS_H
#define RATELAB_CHAOS_H

#include "cli.h"

/* The subcommand (argv[0] is "chaos"). Exit status: 0 when no message was
 * lost (or the loss is the expected one of a queue without persistence),
 * 1 when a durable queue lost messages or the run failed, 2 bad usage,
 * 3 no redis-server. */
int chaos_main(int argc, char **argv);

/* Its options, for `ratelab help chaos`. */
const cli_command *chaos_cli(void);

#endif
