/* redis_bounded.c -- see redis_bounded.h. */
#include "redis_bounded.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* hiredis 0.14 reads aggregates nested 7 deep (its task stack has 9 slots) */
#define RBND_MAX_DEPTH 7
/* what one element costs once hiredis has built it: its object and the slot in its parent */
#define RBND_ELEMENT_COST (sizeof(redisReply) + sizeof(void *))

/* An integer as hiredis reads one (Redis's string2ll): "0", or an
 * optional '-' and digits without a leading zero, within 64 bits. */
static int rbnd_integer(const char *p, const char *end)
{
    if (end - p == 1 && *p == '0') return 0;
    int neg = p < end && *p == '-';
    p += neg;
    if (p == end || *p < '1' || *p > '9' || end - p > 19) return -1;
    unsigned long long v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    return v > (neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX) ? -1 : 0;
}

/* The integer of a '$' or '*' header between p and end, as hiredis takes
 * it: -1 (nil), or 0 and up. */
static int rbnd_header_value(const char *p, const char *end, long long *out)
{
    if (rbnd_integer(p, end) != 0) return -1;
    long long v = 0;
    int neg = *p == '-';
    for (const char *c = p + neg; c < end && v < (1LL << 60); c++) v = v * 10 + (*c - '0');
    if (neg) v = -v;
    if (v < -1) return -1;
    *out = v;
    return 0;
}

long rbnd_measure(const char *p, size_t n, size_t cap)
{
    long long pending[RBND_MAX_DEPTH];   /* elements still to come in each open aggregate */
    int depth = 0;
    size_t at = 0, objects = 0;
    for (;;) {
        if (at >= n) return n >= cap ? RBND_TOO_LARGE : 0;
        const char *line = p + at, *cr = memchr(line, '\r', n - at);
        if (!cr || (size_t)(cr - p) + 1 >= n) return n >= cap ? RBND_TOO_LARGE : 0;
        if (cr[1] != '\n') return RBND_MALFORMED;
        size_t next = (size_t)(cr - p) + 2;
        objects += RBND_ELEMENT_COST;
        long long v = 0;
        switch (*line) {
        case ':':
            if (rbnd_integer(line + 1, cr) != 0) return RBND_MALFORMED;
            break;
        case '+': case '-':
            objects += (size_t)(cr - line);
            break;
        case '$': case '*':
            if (rbnd_header_value(line + 1, cr, &v) != 0) return RBND_MALFORMED;
            if (*line == '$' && v >= 0) {
                if ((unsigned long long)v >= cap) return RBND_TOO_LARGE;
                if (n - next < (size_t)v + 2) return next + (size_t)v + 2 > cap ? RBND_TOO_LARGE : 0;
                if (p[next + v] != '\r' || p[next + v + 1] != '\n') return RBND_MALFORMED;
                next += (size_t)v + 2;
                objects += (size_t)v + 1;
            } else if (*line == '*' && v > 0) {
                if (depth == RBND_MAX_DEPTH) return RBND_MALFORMED;
                if ((unsigned long long)v > cap / RBND_ELEMENT_COST) return RBND_TOO_LARGE;
                pending[depth++] = v;
                at = next;
                if (at > cap || objects > cap) return RBND_TOO_LARGE;
                continue;
            }
            break;   /* a nil, or an empty array: whole already */
        default:
            return RBND_MALFORMED;
        }
        at = next;
        if (at > cap || objects > cap) return RBND_TOO_LARGE;
        /* an element ended: so may the aggregates it closes */
        while (depth > 0 && --pending[depth - 1] == 0) depth--;
        if (depth == 0) return (long)at;
    }
}

static int rbnd_fail(redisContext *c, const char *why)
{
    c->err = REDIS_ERR_PROTOCOL;
    snprintf(c->errstr, sizeof c->errstr, "%s", why);
    return REDIS_ERR;
}

int rbnd_get_reply(redisContext *c, redisReply **reply)
{
    *reply = NULL;
    if (c->err) return REDIS_ERR;
    for (int done = 0; !done;)
        if (redisBufferWrite(c, &done) != REDIS_OK) return REDIS_ERR;
    for (;;) {
        redisReader *r = c->reader;
        long whole = r->buf ? rbnd_measure(r->buf + r->pos, r->len - r->pos, RBND_MAX_REPLY) : 0;
        if (whole == RBND_TOO_LARGE)
            return rbnd_fail(c, "a reply of more than 16 MiB: not one ratelab asked for");
        if (whole == RBND_MALFORMED) return rbnd_fail(c, "not the Redis protocol");
        if (whole > 0) {
            void *got = NULL;
            if (redisGetReplyFromReader(c, &got) != REDIS_OK) return REDIS_ERR;
            *reply = got;
            return REDIS_OK;
        }
        if (redisBufferRead(c) != REDIS_OK) return REDIS_ERR;
    }
}

redisReply *rbnd_command(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int appended = redisvAppendCommand(c, format, ap);
    va_end(ap);
    redisReply *reply = NULL;
    if (appended != REDIS_OK || rbnd_get_reply(c, &reply) != REDIS_OK) return NULL;
    return reply;
}

redisReply *rbnd_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
    redisReply *reply = NULL;
    if (redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK || rbnd_get_reply(c, &reply) != REDIS_OK)
        return NULL;
    return reply;
}
