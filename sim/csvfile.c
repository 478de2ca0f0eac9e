/* csvfile.c -- see csvfile.h. */
#define _POSIX_C_SOURCE 200809L
#include "csvfile.h"

#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits one line at commas in place into at most max fields (field may
 * be NULL to count); the count. A field in double quotes may hold commas
 * and "" for a quote; it is unquoted in place. */
static size_t csv_split(char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *end;
        if (*p == '"') {
            char *w = p;
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"') p++;
                else if (*p == '"') { p++; break; }
                if (field) *w++ = *p;
            }
            end = w;
        } else {
            p += strcspn(p, ",");
            end = p;
        }
        if (field && n < max) field[n] = start;
        n++;
        if (*p != ',') {
            if (field) *end = '\0';
            break;
        }
        p++;
        if (field) *end = '\0';
    }
    return n;
}

static char *csv_read(const char *path, char *err, size_t errlen)
{
    size_t len;
    char why[200];
    char *buf = fs_read_file(path, CSV_MAX_BYTES, &len, NULL, why, sizeof why);
    if (!buf) {
        snprintf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    if (strlen(buf) != len) {
        free(buf);
        snprintf(err, errlen, "%s: holds a NUL byte: not a CSV", path);
        return NULL;
    }
    return buf;
}

int csv_load(const char *path, csv_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!(t->text = csv_read(path, err, errlen))) return -1;
    size_t lines = 1;
    for (const char *p = t->text; *p; p++) lines += *p == '\n';
    if (!(t->rows = malloc(lines * sizeof *t->rows))) goto oom;
    char *next = t->text;
    for (size_t lineno = 1; *next; lineno++) {
        char *line = next;
        next = line + strcspn(line, "\n");
        if (*next) *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        if (!*line || *line == '#') continue;
        if (!t->header) {
            t->n_cols = csv_split(line, NULL, 0);
            if (!(t->header = malloc(t->n_cols * sizeof *t->header))) goto oom;
            csv_split(line, t->header, t->n_cols);
            continue;
        }
        char **row = malloc(t->n_cols * sizeof *row);
        if (!row) goto oom;
        size_t n = csv_split(line, row, t->n_cols);
        if (n != t->n_cols) {
            free(row);
            snprintf(err, errlen, "%s:%zu: %zu columns where the header has %zu", path, lineno, n, t->n_cols);
            goto bad;
        }
        t->rows[t->n_rows++] = row;
    }
    if (!t->header) {
        snprintf(err, errlen, "%s: no header line", path);
        goto bad;
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
bad:
    csv_free(t);
    return -1;
}

void csv_free(csv_table *t)
{
    for (size_t r = 0; r < t->n_rows; r++) free(t->rows[r]);
    free(t->rows);
    free(t->header);
    free(t->text);
    memset(t, 0, sizeof *t);
}

int csv_col(const csv_table *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols; c++)
        if (strcmp(t->header[c], name) == 0) return (int)c;
    return -1;
}

const char *csv_get(const csv_table *t, size_t r, int c)
{
    return c < 0 || (size_t)c >= t->n_cols ? "" : t->rows[r][c];
}
