/*
 * redis_url.h -- where a Redis server is: redis://[user:password@]host:port[/db],
 * redis+cluster://[user:password@]host:port (any node of a Redis Cluster) or
 * unix:///path/to/socket[?db=N]. Parsing only; nothing connects here.
 */
#ifndef RATELAB_REDIS_URL_H
#define RATELAB_REDIS_URL_H

#include <stddef.h>

typedef struct {
    int is_unix;
    char host[256];          /* TCP host, or the socket path for unix:// */
    int port;
    char user[128];          /* empty: no user (AUTH password alone) */
    char password[256];      /* empty: no AUTH */
    int db;                  /* SELECT db when > 0 */
    int is_cluster;          /* redis+cluster://: a node of a Redis Cluster */
} rurl;

/* Parses `url` into *out. Returns 0, or -1 with a message saying what is
 * wrong with it (the password is never repeated). */
int rurl_parse(const char *url, rurl *out, char *err, size_t errlen);

/* "host:port" or the socket path, for messages (no credentials). */
void rurl_describe(const rurl *u, char *buf, size_t len);

#endif
