/* The REDIS_URL parser. */
#include "fuzz.h"

#include "../../sim/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[4096], err[1024], where[300];
    rurl u;
    if (rurl_parse(fz_text(data, size, text, sizeof text), "REDIS_URL", &u, err, sizeof err) == 0)
        rurl_describe(&u, where, sizeof where);
    return 0;
}
