/*
 * redis_scripts.h -- the Lua twin of each algorithm (algorithms/lua/NAME.lua,
 * behind algorithms/lua/prelude.lua) and the reliable queue's scripts
 * (sim/lua/queue_*.lua, as they are), embedded at build time.
 */
#ifndef RATELAB_REDIS_SCRIPTS_H
#define RATELAB_REDIS_SCRIPTS_H

typedef struct {
    const char *algorithm;       /* or the queue script's name, e.g. "queue_take" */
    const char *source;
} rscript_source;

/* Every embedded script; ends with { 0, 0 }. */
extern const rscript_source rscript_sources[];

/* The script of `algorithm`, or NULL if it has none. */
const char *rscript_find(const char *algorithm);

#endif
