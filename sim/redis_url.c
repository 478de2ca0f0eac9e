/* redis_url.c -- see redis_url.h. */
#include "redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rurl_number(const char *s, size_t n, long min, long max, long *out)
{
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

static int rurl_copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int rurl_parse(const char *url, rurl *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *form = "expected redis://[user:password@]host:port[/db], redis+cluster://[user:password@]host:port "
                       "or unix:///path[?db=N]";
    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7, *q = strchr(path, '?');
        size_t n = q ? (size_t)(q - path) : strlen(path);
        if (n == 0 || path[0] != '/') {
            snprintf(err, errlen, "REDIS_URL '%s': the socket path must be absolute (unix:///path)", url);
            return -1;
        }
        if (rurl_copy(u->host, sizeof u->host, path, n) != 0) {
            snprintf(err, errlen, "REDIS_URL: socket path longer than %zu bytes", sizeof u->host - 1);
            return -1;
        }
        u->is_unix = 1;
        if (q) {
            long db;
            if (strncmp(q, "?db=", 4) != 0 || rurl_number(q + 4, strlen(q + 4), 0, 1000000, &db) != 0) {
                snprintf(err, errlen, "REDIS_URL '%s': after the path only ?db=N is understood", url);
                return -1;
            }
            u->db = (int)db;
        }
        return 0;
    }
    if (strncmp(url, "redis+cluster://", 16) == 0) {
        /* one node of a cluster; the rest is a redis:// URL without a database */
        char plain[1024];
        if (snprintf(plain, sizeof plain, "redis://%s", url + 16) >= (int)sizeof plain) {
            snprintf(err, errlen, "REDIS_URL: longer than %zu bytes", sizeof plain - 9);
            return -1;
        }
        if (rurl_parse(plain, u, err, errlen) != 0) return -1;
        if (u->db > 0) {
            snprintf(err, errlen, "REDIS_URL: a Redis Cluster has only database 0: drop the /%d", u->db);
            return -1;
        }
        u->is_cluster = 1;
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        /* name the scheme only: what follows it may hold a password */
        const char *colon = strstr(url, "://");
        int n = colon ? (int)(colon - url) : 0;
        if (n > 0 && n <= 16)
            snprintf(err, errlen, "REDIS_URL: unknown scheme '%.*s'%s; %s", n, url,
                     n == 6 && strncmp(url, "rediss", 6) == 0 ? " (TLS: this hiredis is built without it)" : "", form);
        else
            snprintf(err, errlen, "REDIS_URL: unknown scheme; %s", form);
        return -1;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pass = colon ? colon + 1 : p;
        size_t user_len = colon ? (size_t)(colon - p) : 0;
        if (rurl_copy(u->user, sizeof u->user, p, user_len) != 0 ||
            rurl_copy(u->password, sizeof u->password, pass, (size_t)(at - pass)) != 0) {
            snprintf(err, errlen, "REDIS_URL: user or password too long");
            return -1;
        }
        if (!u->password[0]) {
            snprintf(err, errlen, "REDIS_URL: empty password before '@'; %s", form);
            return -1;
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *hostport_end = slash ? slash : p + strlen(p);
    const char *colon = NULL;
    for (const char *c = p; c < hostport_end; c++)
        if (*c == ':') colon = c;
    if (!colon || colon == p) {
        snprintf(err, errlen, "REDIS_URL: missing %s; %s", colon ? "host" : "port", form);
        return -1;
    }
    if (rurl_copy(u->host, sizeof u->host, p, (size_t)(colon - p)) != 0) {
        snprintf(err, errlen, "REDIS_URL: host name too long");
        return -1;
    }
    long port;
    if (rurl_number(colon + 1, (size_t)(hostport_end - colon - 1), 1, 65535, &port) != 0) {
        snprintf(err, errlen, "REDIS_URL: port '%.*s' is not a number from 1 to 65535",
                 (int)(hostport_end - colon - 1 > 20 ? 20 : hostport_end - colon - 1), colon + 1);
        return -1;
    }
    u->port = (int)port;
    if (slash && slash[1]) {
        long db;
        if (rurl_number(slash + 1, strlen(slash + 1), 0, 1000000, &db) != 0) {
            snprintf(err, errlen, "REDIS_URL: database '%.20s' is not a number", slash + 1);
            return -1;
        }
        u->db = (int)db;
    }
    return 0;
}

void rurl_describe(const rurl *u, char *buf, size_t len)
{
    if (u->is_unix) snprintf(buf, len, "%s", u->host);
    else snprintf(buf, len, "%s:%d", u->host, u->port);
}
