/* ratelab check's decision-log reader and the oracle behind it. */
#include "fuzz.h"

#include "../../sim/decisions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], err[1024], name[64], key[300];
    if (fz_file(data, size, ".log.csv", path, sizeof path) != 0) return 0;
    orc_report r;
    dlog_check(path, &r, name, key, err, sizeof err);
    unlink(path);
    return 0;
}
