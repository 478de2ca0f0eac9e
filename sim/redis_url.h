/*
 * redis_url.h -- where a Redis server is, written as users write it:
 * redis://[user:password@]host[:port][/db][?timeout=T&db=N],
 * redis+cluster://[user:password@]host[:port][?timeout=T] (any node of a
 * Redis Cluster) or unix:///path/to/socket[?db=N&timeout=T]. The port
 * defaults to 6379, a host may be an IPv6 literal in brackets, user and
 * password are percent-decoded. Parsing only; nothing connects here.
 */
#ifndef RATELAB_REDIS_URL_H
#define RATELAB_REDIS_URL_H

#include <stddef.h>

#define RURL_DEFAULT_PORT 6379

typedef struct {
    int is_unix;
    char host[256];          /* TCP host (an IPv6 literal without brackets), or the socket path for unix:// */
    int port;
    char user[128];          /* empty: no user (AUTH password alone) */
    char password[256];      /* empty: no AUTH */
    int db;                  /* SELECT db when > 0 */
    int is_cluster;          /* redis+cluster://: a node of a Redis Cluster */
    int timeout_ms;          /* ?timeout=: connect and command timeout; 0 when not given */
    const char *source;      /* where the URL came from ("REDIS_URL", "--redis-url"), for messages; NULL: unknown */
} rurl;

/* Parses `url` into *out. `source` names where the URL came from
 * ("REDIS_URL", "--redis-url") and starts every message. Returns 0, or -1
 * with a message saying what is wrong (the password is never repeated). */
int rurl_parse(const char *url, const char *source, rurl *out, char *err, size_t errlen);

/* "host:port" ("[::1]:6379" for IPv6) or the socket path, for messages
 * (no credentials). */
void rurl_describe(const rurl *u, char *buf, size_t len);

/* Copies `text` into buf (len bytes, always terminated) with the password
 * of every URL in it ("scheme://user:password@", or "scheme://password@")
 * replaced by "***": a command line, a URL or a message may be written and
 * printed as it comes out. Everything up to the last '@' before a space or
 * quote counts as the credentials, so a password with an unescaped '/', '?'
 * or '@' is hidden too. */
void rurl_redact(const char *text, char *buf, size_t len);

#endif
