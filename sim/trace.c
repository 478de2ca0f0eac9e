/* trace.c -- see trace.h. */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/keystore.h"
#include "fsutil.h"

/* Splits line [p, end) at commas into at most 4 fields; returns the count. */
static int trace_fields(char *p, char *end, char **field, size_t *flen)
{
    int n = 0;
    while (n < 4) {
        char *comma = memchr(p, ',', (size_t)(end - p));
        char *stop = comma ? comma : end;
        field[n] = p;
        flen[n] = (size_t)(stop - p);
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static int trace_grow(trace *t, size_t *cap)
{
    size_t c = *cap ? *cap * 2 : 4096;
    int64_t *tt = realloc(t->t_us, c * sizeof *tt);
    if (!tt) return -1;
    t->t_us = tt;
    if (t->key) {
        uint32_t *k = realloc(t->key, c * sizeof *k);
        if (!k) return -1;
        t->key = k;
    }
    if (t->cost) {
        uint32_t *co = realloc(t->cost, c * sizeof *co);
        if (!co) return -1;
        t->cost = co;
    }
    *cap = c;
    return 0;
}

int trace_load(const char *path, kspace *keys, double max_cost, trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    size_t len;
    char why[200];
    char *buf = fs_read_file(path, TRACE_MAX_BYTES, &len, NULL, why, sizeof why);
    if (!buf) {
        snprintf(err, errlen, "%s: cannot read trace: %s", path, why);
        return -1;
    }
    t->file_hash = ks_hash(buf, len);

    int rc = -1;
    char *p = buf, *end = buf + len;
    size_t line = 0, cap = 0;
    int columns = 0;
    double last_t = -1;
    char *field[4] = { 0 };
    size_t flen[4] = { 0 };
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        line++;
        if (eol > p && eol[-1] == '\r') eol--;
        if (eol == p) {
            if (line == 1) { snprintf(err, errlen, "%s:1: empty header line (expected t_s[,key[,cost]])", path); goto out; }
            p = next;
            continue;  /* blank lines are allowed */
        }
        if (memchr(p, '\0', (size_t)(eol - p))) {
            snprintf(err, errlen, "%s:%zu: a NUL byte in the line: not a text CSV", path, line);
            goto out;
        }
        int nf = trace_fields(p, eol, field, flen);
        if (line == 1) {
            static const char *const names[] = { "t_s", "key", "cost" };
            for (int i = 0; i < nf; i++) {
                if (i >= 3 || flen[i] != strlen(names[i]) || memcmp(field[i], names[i], flen[i]) != 0) {
                    snprintf(err, errlen, "%s:1: header must be t_s, t_s,key or t_s,key,cost; column %d is '%.*s'",
                             path, i + 1, (int)(flen[i] > 40 ? 40 : flen[i]), field[i]);
                    goto out;
                }
            }
            columns = nf;
            if (columns >= 2 && !(t->key = malloc(sizeof *t->key))) goto oom;
            if (columns >= 3 && !(t->cost = malloc(sizeof *t->cost))) goto oom;
            p = next;
            continue;
        }
        if (nf != columns) {
            snprintf(err, errlen, "%s:%zu: expected %d column%s, found %d", path, line, columns, columns > 1 ? "s" : "", nf);
            goto out;
        }
        if (t->n >= TRACE_MAX_ROWS) {
            snprintf(err, errlen, "%s:%zu: more than %u rows", path, line, TRACE_MAX_ROWS);
            goto out;
        }
        if (t->n == cap && trace_grow(t, &cap) != 0) goto oom;

        char num[64];
        if (flen[0] == 0 || flen[0] >= sizeof num) goto bad_time;
        memcpy(num, field[0], flen[0]);
        num[flen[0]] = '\0';
        char *stop;
        errno = 0;
        double ts = strtod(num, &stop);
        if (*stop != '\0' || errno == ERANGE || !isfinite(ts) || ts < 0 || ts > 1e9) goto bad_time;
        if (ts < last_t) {
            snprintf(err, errlen, "%s:%zu: t_s %s is earlier than the line before (%.6f): traces must be sorted by time",
                     path, line, num, last_t);
            goto out;
        }
        last_t = ts;
        t->t_us[t->n] = (int64_t)llround(ts * 1e6);

        if (columns >= 2) {
            if (flen[1] == 0) { snprintf(err, errlen, "%s:%zu: key: empty", path, line); goto out; }
            char why[120];
            if (kspace_check_name(field[1], flen[1], why, sizeof why) != 0) {
                snprintf(err, errlen, "%s:%zu: key: %s", path, line, why);
                goto out;
            }
            int64_t id = kspace_intern(keys, field[1], flen[1]);
            if (id < 0) {
                snprintf(err, errlen, "%s:%zu: key: longer than %d bytes, or more than %u distinct keys",
                         path, line, KSPACE_MAX_NAME, KSPACE_MAX_KEYS);
                goto out;
            }
            t->key[t->n] = (uint32_t)id;
        }
        if (columns >= 3) {
            if (flen[2] == 0 || flen[2] >= sizeof num) goto bad_cost;
            memcpy(num, field[2], flen[2]);
            num[flen[2]] = '\0';
            errno = 0;
            long long c = strtoll(num, &stop, 10);
            if (*stop != '\0' || errno == ERANGE || c < 1 || (double)c > max_cost) goto bad_cost;
            t->cost[t->n] = (uint32_t)c;
        }
        t->n++;
        p = next;
    }
    if (columns == 0) { snprintf(err, errlen, "%s:1: empty file (expected a header t_s[,key[,cost]])", path); goto out; }
    if (t->n == 0) { snprintf(err, errlen, "%s: no arrivals after the header", path); goto out; }
    rc = 0;
    goto out;

bad_time:
    snprintf(err, errlen, "%s:%zu: t_s: '%.*s' is not a time in seconds (a number from 0 to 1e9)",
             path, line, (int)(flen[0] > 40 ? 40 : flen[0]), field[0]);
    goto out;
bad_cost:
    snprintf(err, errlen, "%s:%zu: cost: '%.*s' is not a whole number from 1 to %.0f",
             path, line, (int)(flen[2] > 40 ? 40 : flen[2]), field[2], max_cost);
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory reading the trace", path);
out:
    free(buf);
    if (rc != 0) trace_free(t);
    return rc;
}

void trace_free(trace *t)
{
    free(t->t_us);
    free(t->key);
    free(t->cost);
    memset(t, 0, sizeof *t);
}
