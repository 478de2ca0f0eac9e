/*
 * csvfile.h -- reading back the CSVs ratelab writes: a header line and
 * rows of comma-separated fields, a field in double quotes when it holds a
 * comma (only accuracy.csv's published sources do). Empty lines and lines
 * starting with '#' (the goldens' explanations) are skipped.
 */
#ifndef RATELAB_CSVFILE_H
#define RATELAB_CSVFILE_H

#include <stddef.h>

/* The largest CSV read (goldens, summaries, sweep points): 256 MiB. */
#define CSV_MAX_BYTES (256u << 20)

typedef struct {
    size_t n_cols, n_rows;
    char **header;         /* n_cols names */
    char ***rows;          /* n_rows rows of n_cols fields */
    char *text;            /* the file, split in place */
} csv_table;

/* Loads `path`. Returns 0, or -1 with a message naming the file and the
 * line (a row with another number of fields than the header is refused). */
int csv_load(const char *path, csv_table *t, char *err, size_t errlen);

void csv_free(csv_table *t);

/* Index of column `name`, or -1. */
int csv_col(const csv_table *t, const char *name);

/* Row r's field in column c, or "" when c < 0. */
const char *csv_get(const csv_table *t, size_t r, int c);

#endif
