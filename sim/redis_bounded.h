/*
 * redis_bounded.h -- hiredis's blocking calls with a bound on what a reply
 * may cost. hiredis (0.14 in Debian 12) keeps a reply in its buffer until
 * the last byte arrives and allocates an array's element table as soon as
 * its header is read, so a peer that streams one endless reply, or sends
 * "*1234567890", takes memory without bound. Here a reply is handed to
 * hiredis only once it is whole and measured: at most RBND_MAX_REPLY bytes
 * read and as much again in the reply objects hiredis will build from
 * them. hiredis has no such limit (its maxelements came in 1.0, and bounds
 * one array, not a reply), which is why this scanner is written here.
 */
#ifndef RATELAB_REDIS_BOUNDED_H
#define RATELAB_REDIS_BOUNDED_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#define RBND_MAX_REPLY (16u << 20)

enum { RBND_MALFORMED = -1, RBND_TOO_LARGE = -2 };

/* How long the whole RESP2 reply at the start of p[0..n) is: its length
 * in bytes; 0 when more bytes are needed; RBND_MALFORMED when it is not
 * RESP2 or is nested deeper than hiredis reads (7 levels); RBND_TOO_LARGE
 * when it would cost more than `cap`, in bytes read or in the reply
 * objects hiredis builds (told as soon as a header says so). Pure. */
long rbnd_measure(const char *p, size_t n, size_t cap);

/* redisGetReply, bounded: the next reply (flushing what was appended
 * first), or REDIS_ERR with c->err and c->errstr set (a reply beyond the
 * bound is a protocol error that leaves the connection unusable). */
int rbnd_get_reply(redisContext *c, redisReply **reply);

/* redisCommand and redisCommandArgv, bounded: the reply (free it with
 * freeReplyObject), or NULL with c->err and c->errstr set. */
redisReply *rbnd_command(redisContext *c, const char *format, ...);
redisReply *rbnd_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen);

#endif
