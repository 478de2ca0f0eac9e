/* The scenario loader on arbitrary bytes: refused with a message or loaded, never a crash. */
#include "fuzz.h"

#include "../../sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], err[1024];
    if (fz_file(data, size, ".json", path, sizeof path) != 0) return 0;
    scn_scenario s;
    if (scn_load(path, NULL, &s, err, sizeof err) == 0) scn_free(&s);
    unlink(path);
    return 0;
}
