/* The CSV reader and the sweep reader on top of it. */
#include "fuzz.h"

#include <stdlib.h>

#include "../../sim/csvfile.h"
#include "../../sim/recommend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], err[1024];
    if (fz_file(data, size, ".sweep.csv", path, sizeof path) != 0) return 0;
    csv_table t;
    if (csv_load(path, &t, err, sizeof err) == 0) csv_free(&t);
    rec_point *p = NULL;
    size_t n = 0, cap = 0;
    rec_read_sweep(path, &p, &n, &cap, err, sizeof err);
    free(p);
    unlink(path);
    return 0;
}
