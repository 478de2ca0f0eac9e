/*
 * hugemem.h -- large tables read at random (a key store, the oracle's
 * entries and rings, the Zipf table) on huge pages where the system allows.
 *
 * At 1M keys those tables are 8 MB to 512 MB, and every request reads a
 * few of them at a random place: with 4 KiB pages nearly every such read
 * is also a TLB miss and a page walk. Debian's kernel gives huge pages
 * only to memory that asks (transparent_hugepage=madvise), so this asks.
 * Measured side by side at 1M Zipf keys (ratelab perf --quick): token_bucket
 * 74 -> 55 ns per request, fixed_window 190 -> 94 ns.
 */
#ifndef RATELAB_HUGEMEM_H
#define RATELAB_HUGEMEM_H

#include <stddef.h>

/* Below this a table is ordinary heap memory: a huge page would mostly be waste. */
#define HMEM_HUGE_FROM ((size_t)4 << 20)

/* `bytes` of zeroed memory, aligned to 64 bytes (to 2 MiB, on huge pages
 * when the kernel grants them, from HMEM_HUGE_FROM up), every page
 * faulted in now rather than inside a timed request. NULL when short. */
void *hmem_alloc(size_t bytes);

/* Frees what hmem_alloc(bytes) returned (the same bytes); NULL is nothing. */
void hmem_free(void *p, size_t bytes);

#endif
