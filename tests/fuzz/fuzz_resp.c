/* The bounded reader's measure of a RESP reply, against hiredis's own
 * reader on the same bytes: whatever the measure calls whole and within
 * the bound, hiredis reads as one reply of exactly that length. */
#include "fuzz.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>

#include "../../sim/redis_bounded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    long whole = rbnd_measure(p, size, 1 << 16);
    if (whole <= 0) return 0;
    if ((size_t)whole > size) abort();
    redisReader *r = redisReaderCreate();
    if (!r) return 0;
    void *reply = NULL;
    if (redisReaderFeed(r, p, (size_t)whole) != REDIS_OK || redisReaderGetReply(r, &reply) != REDIS_OK || !reply)
        abort();   /* measured whole, yet hiredis could not read it */
    freeReplyObject(reply);
    /* nothing of it is left over: the measure ended where hiredis did */
    if (r->pos != r->len) abort();
    redisReaderFree(r);
    return 0;
}
