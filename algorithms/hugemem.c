/* hugemem.c -- see hugemem.h. */
#define _DEFAULT_SOURCE
#include "hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HMEM_HUGE_PAGE ((size_t)2 << 20)

static size_t hmem_mapped(size_t bytes) { return (bytes + HMEM_HUGE_PAGE - 1) / HMEM_HUGE_PAGE * HMEM_HUGE_PAGE; }

void *hmem_alloc(size_t bytes)
{
    if (bytes < HMEM_HUGE_FROM) {
        void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + (bytes == 0) * 64);
        if (p) memset(p, 0, bytes);
        return p;
    }
    size_t len = hmem_mapped(bytes);
    if (len > SIZE_MAX - HMEM_HUGE_PAGE) return NULL;
    /* map a huge page more, then trim to a 2 MiB boundary at both ends */
    unsigned char *raw = mmap(NULL, len + HMEM_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t at = ((uintptr_t)raw + HMEM_HUGE_PAGE - 1) & ~(uintptr_t)(HMEM_HUGE_PAGE - 1);
    unsigned char *p = (unsigned char *)at;
    if (p > raw) munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + len + HMEM_HUGE_PAGE - (p + len));
    if (tail) munmap(p + len, tail);
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);   /* a refusal leaves ordinary pages: the same memory, slower */
#endif
    /* anonymous pages are zero; a write per page maps them now (volatile:
     * a compiler may not drop stores to memory it cannot see read) */
    volatile unsigned char *touch = p;
    for (size_t i = 0; i < len; i += 4096) touch[i] = 0;
    return p;
}

void hmem_free(void *p, size_t bytes)
{
    if (!p) return;
    if (bytes < HMEM_HUGE_FROM) free(p);
    else munmap(p, hmem_mapped(bytes));
}
