/* The trace reader on arbitrary bytes. */
#include "fuzz.h"

#include "../../sim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], err[1024];
    if (fz_file(data, size, ".csv", path, sizeof path) != 0) return 0;
    kspace *keys = kspace_create();
    trace t;
    if (keys && trace_load(path, keys, 4000000, &t, err, sizeof err) == 0) trace_free(&t);
    kspace_destroy(keys);
    unlink(path);
    return 0;
}
