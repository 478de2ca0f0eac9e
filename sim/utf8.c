/* utf8.c -- see utf8.h. */
#include "utf8.h"

#include <string.h>

long utf8_first_invalid(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;   /* the allowed range of the second byte */
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return (long)i;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return (long)i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return (long)i;
        i += len;
    }
    return -1;
}

void utf8_copy_valid(const char *s, char *buf, size_t len)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    if (len == 0) return;
    size_t used = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        long bad = utf8_first_invalid(s + i, n - i);
        size_t good = bad < 0 ? n - i : (size_t)bad;
        /* the valid run, as far as it fits, ending on a character's first byte */
        size_t fit = good < len - 1 - used ? good : len - 1 - used;
        while (fit < good && fit > 0 && ((unsigned char)s[i + fit] & 0xC0) == 0x80) fit--;
        memcpy(buf + used, s + i, fit);
        used += fit;
        if (fit < good || bad < 0 || used + sizeof replacement > len) break;
        memcpy(buf + used, replacement, sizeof replacement - 1);
        used += sizeof replacement - 1;
        i += good + 1;
    }
    buf[used] = '\0';
}
