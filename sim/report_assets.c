/* report_assets.c -- see report_assets.h. */
#include "report_assets.h"

#include <stdio.h>
#include <string.h>

const char *rasset_get(const char *name)
{
    for (const rasset *a = rasset_all; a->name; a++)
        if (strcmp(a->name, name) == 0) return a->text;
    return "";
}

void rasset_colour(size_t k, char *buf)
{
    /* the colours of palette.gp's "set linetype N lc rgb '#rrggbb'" lines, in order */
    const char *p = rasset_get("palette.gp");
    size_t n = 0;
    for (const char *q = p; (q = strstr(q, "lc rgb '#")); q += 9) n++;
    snprintf(buf, 8, "#777777");
    if (!n) return;
    size_t want = k % n, i = 0;
    for (const char *q = p; (q = strstr(q, "lc rgb '#")); q += 9, i++)
        if (i == want) {
            snprintf(buf, 8, "%.7s", q + 8);
            return;
        }
}
