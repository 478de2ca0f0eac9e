/* redis_url.c -- see redis_url.h. */
#include "redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rurl_form[] = "expected redis://[user:password@]host[:port][/db][?timeout=T&db=N], "
                                "redis+cluster://[user:password@]host[:port] or unix:///path[?db=N]";

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

static int rurl_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Copies n bytes of src, percent-decoded (RFC 3986 section 2.1) when
 * `decode`, into dst. -1 when it does not fit or a %XX is malformed. */
static int rurl_copy(char *dst, size_t cap, const char *src, size_t n, int decode)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (decode && c == '%') {
            if (i + 2 >= n) return -1;
            int h = rurl_hex(src[i + 1]), l = h < 0 ? -1 : rurl_hex(src[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (used + 1 >= cap) return -1;
        dst[used++] = c;
    }
    dst[used] = '\0';
    return 0;
}

/* A duration: a number with an optional unit (ms, s, m; seconds when
 * none), the form Lettuce's URLs use for ?timeout=. */
static int rurl_duration_ms(const char *s, size_t n, int *out)
{
    size_t digits = 0;
    while (digits < n && ((s[digits] >= '0' && s[digits] <= '9') || s[digits] == '.')) digits++;
    char num[32];
    if (digits == 0 || digits >= sizeof num) return -1;
    memcpy(num, s, digits);
    num[digits] = '\0';
    char *end;
    double v = strtod(num, &end);
    if (*end) return -1;
    const char *unit = s + digits;
    size_t un = n - digits;
    double scale = un == 0 || (un == 1 && unit[0] == 's') ? 1000
                   : un == 2 && strncmp(unit, "ms", 2) == 0 ? 1
                   : un == 1 && unit[0] == 'm' ? 60000 : -1;
    if (scale < 0) return -1;
    double ms = v * scale;
    if (!(ms >= 10 && ms <= 600000)) return -1;
    *out = (int)(ms + 0.5);
    return 0;
}

/* The query after '?': db=N and timeout=T, separated by '&'. */
static int rurl_query(const char *q, const char *source, rurl *u, int db_allowed, char *err, size_t errlen)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        size_t key = eq ? (size_t)(eq - q) : n;
        const char *val = eq ? eq + 1 : q + n;
        size_t vn = (size_t)(q + n - val);
        long db;
        if (key == 2 && strncmp(q, "db", 2) == 0 && db_allowed) {
            if (rurl_number(val, vn, 0, 1000000, &db) != 0) {
                snprintf(err, errlen, "%s: ?db='%.*s' is not a database number", source, (int)(vn > 20 ? 20 : vn), val);
                return -1;
            }
            u->db = (int)db;
        } else if (key == 2 && strncmp(q, "db", 2) == 0) {
            snprintf(err, errlen, "%s: a Redis Cluster has only database 0: drop the db", source);
            return -1;
        } else if (key == 7 && strncmp(q, "timeout", 7) == 0) {
            if (rurl_duration_ms(val, vn, &u->timeout_ms) != 0) {
                snprintf(err, errlen, "%s: ?timeout='%.*s' is not a duration from 10ms to 10m (a number of seconds, "
                                      "or with ms, s or m)", source, (int)(vn > 20 ? 20 : vn), val);
                return -1;
            }
        } else {
            snprintf(err, errlen, "%s: unknown query parameter '%.*s' (db and timeout are understood)", source,
                     (int)(key > 30 ? 30 : key), q);
            return -1;
        }
        q += n + (q[n] == '&');
    }
    return 0;
}

static int rurl_unix(const char *url, const char *source, rurl *u, char *err, size_t errlen)
{
    const char *path = url + 7, *q = strchr(path, '?');
    size_t n = q ? (size_t)(q - path) : strlen(path);
    if (n == 0 || path[0] != '/') {
        snprintf(err, errlen, "%s '%s': the socket path must be absolute (unix:///path)", source, url);
        return -1;
    }
    if (rurl_copy(u->host, sizeof u->host, path, n, 0) != 0) {
        snprintf(err, errlen, "%s: socket path longer than %zu bytes", source, sizeof u->host - 1);
        return -1;
    }
    u->is_unix = 1;
    return q ? rurl_query(q + 1, source, u, 1, err, errlen) : 0;
}

static int rurl_tcp(const char *p, const char *source, rurl *u, char *err, size_t errlen)
{
    const char *end = p + strcspn(p, "/?");   /* the authority: [user:password@]host[:port] */
    const char *at = NULL;
    for (const char *c = p; c < end; c++)
        if (*c == '@') at = c;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pass = colon ? colon + 1 : p;
        size_t user_len = colon ? (size_t)(colon - p) : 0;
        if (rurl_copy(u->user, sizeof u->user, p, user_len, 1) != 0 ||
            rurl_copy(u->password, sizeof u->password, pass, (size_t)(at - pass), 1) != 0) {
            snprintf(err, errlen, "%s: user or password too long, or a %% not followed by two hex digits "
                                  "(write a %% in a password as %%25)", source);
            return -1;
        }
        if (!u->password[0]) {
            snprintf(err, errlen, "%s: empty password before '@'; %s", source, rurl_form);
            return -1;
        }
        p = at + 1;
    }
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {   /* an IPv6 literal, RFC 3986 section 3.2.2 */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || close == p + 1) {
            snprintf(err, errlen, "%s: an IPv6 host is written in brackets, redis://[::1]:6379", source);
            return -1;
        }
        host = p + 1;
        host_end = close;
        if (close + 1 < end) {
            if (close[1] != ':') {
                snprintf(err, errlen, "%s: after the IPv6 host ']' comes ':port' or nothing", source);
                return -1;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        host_end = colon ? colon : end;
        port = colon ? colon + 1 : NULL;
        if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
            snprintf(err, errlen, "%s: an IPv6 host is written in brackets, redis://[::1]:6379", source);
            return -1;
        }
    }
    if (host_end == host) {
        snprintf(err, errlen, "%s: missing host; %s", source, rurl_form);
        return -1;
    }
    if (rurl_copy(u->host, sizeof u->host, host, (size_t)(host_end - host), 0) != 0) {
        snprintf(err, errlen, "%s: host name too long", source);
        return -1;
    }
    u->port = RURL_DEFAULT_PORT;
    long num;
    if (port) {
        if (rurl_number(port, (size_t)(end - port), 1, 65535, &num) != 0) {
            snprintf(err, errlen, "%s: port '%.*s' is not a number from 1 to 65535", source,
                     (int)(end - port > 20 ? 20 : end - port), port);
            return -1;
        }
        u->port = (int)num;
    }
    p = end;
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?");
        if (n > 0) {
            if (rurl_number(p + 1, n, 0, 1000000, &num) != 0) {
                snprintf(err, errlen, "%s: database '%.*s' is not a number", source, (int)(n > 20 ? 20 : n), p + 1);
                return -1;
            }
            if (u->is_cluster) {
                snprintf(err, errlen, "%s: a Redis Cluster has only database 0: drop the /%ld", source, num);
                return -1;
            }
            u->db = (int)num;
        }
        p += 1 + n;
    }
    return *p == '?' ? rurl_query(p + 1, source, u, !u->is_cluster, err, errlen) : 0;
}

int rurl_parse(const char *url, const char *source, rurl *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->source = source;   /* a literal at every call: it outlives the URL */
    if (strncmp(url, "unix://", 7) == 0) return rurl_unix(url, source, u, err, errlen);
    if (strncmp(url, "redis+cluster://", 16) == 0) {
        u->is_cluster = 1;
        return rurl_tcp(url + 16, source, u, err, errlen);
    }
    if (strncmp(url, "redis://", 8) == 0) return rurl_tcp(url + 8, source, u, err, errlen);
    /* name the scheme only: what follows it may hold a password */
    const char *colon = strstr(url, "://");
    int n = colon ? (int)(colon - url) : 0;
    if (n == 6 && strncmp(url, "rediss", 6) == 0)
        snprintf(err, errlen, "%s: rediss:// (TLS) is not supported: this ratelab's hiredis is built without TLS; "
                              "reach the server over redis:// or a unix:// socket", source);
    else if (n > 0 && n <= 16)
        snprintf(err, errlen, "%s: unknown scheme '%.*s'; %s", source, n, url, rurl_form);
    else
        snprintf(err, errlen, "%s: unknown scheme; %s", source, rurl_form);
    return -1;
}

void rurl_describe(const rurl *u, char *buf, size_t len)
{
    if (u->is_unix) snprintf(buf, len, "%s", u->host);
    else if (strchr(u->host, ':')) snprintf(buf, len, "[%s]:%d", u->host, u->port);
    else snprintf(buf, len, "%s:%d", u->host, u->port);
}

/* Appends n bytes of src to buf, as far as they fit. */
static void rurl_append(char *buf, size_t len, size_t *used, const char *src, size_t n)
{
    for (size_t i = 0; i < n && *used + 1 < len; i++) buf[(*used)++] = src[i];
}

void rurl_redact(const char *text, char *buf, size_t len)
{
    if (len == 0) return;
    size_t used = 0;
    const char *p = text;
    while (*p) {
        const char *sep = strstr(p, "://");
        if (!sep) {
            rurl_append(buf, len, &used, p, strlen(p));
            break;
        }
        const char *cred = sep + 3, *at = NULL;
        if (*cred != '/')   /* unix:///path has no credentials */
            for (const char *c = cred; *c && !strchr(" \t\n'\"", *c); c++)
                if (*c == '@') at = c;
        if (!at) {
            rurl_append(buf, len, &used, p, (size_t)(cred - p));
            p = cred;
            continue;
        }
        const char *colon = memchr(cred, ':', (size_t)(at - cred));
        const char *keep = colon ? colon + 1 : cred;   /* through the user name and its ':' */
        rurl_append(buf, len, &used, p, (size_t)(keep - p));
        rurl_append(buf, len, &used, "***", 3);
        p = at;
    }
    buf[used] = '\0';
}
