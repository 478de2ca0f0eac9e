/* redis_scripts.c -- see redis_scripts.h; the table is generated. */
#include "redis_scripts.h"

#include <string.h>

const char *rscript_find(const char *algorithm)
{
    for (const rscript_source *s = rscript_sources; s->algorithm; s++)
        if (strcmp(s->algorithm, algorithm) == 0) return s->source;
    return NULL;
}
