/*
 * keystore.c -- see keystore.h. The states of all keys in one array, in id
 * order, and beside it one bit per key: seen or not.
 */
#include "keystore.h"
#include "hugemem.h"

#include <stdlib.h>
#include <string.h>

struct ks_store {
    unsigned char *states;
    uint64_t *seen;       /* bit id: key id has a state */
    size_t stride;        /* state_size rounded up to 8 */
    size_t max_keys;
    size_t count;
};

static size_t ks_stride(size_t state_size) { return (state_size + 7) & ~(size_t)7; }

static size_t ks_seen_bytes(size_t max_keys) { return (max_keys + 63) / 64 * sizeof(uint64_t); }

size_t ks_bytes_for(size_t max_keys, size_t state_size)
{
    size_t stride = ks_stride(state_size);
    if (stride != 0 && max_keys > (SIZE_MAX - ks_seen_bytes(max_keys)) / stride) return 0;
    return max_keys * stride + ks_seen_bytes(max_keys);
}

ks_store *ks_create(size_t max_keys, size_t state_size)
{
    if (ks_bytes_for(max_keys, state_size) == 0) return NULL;
    ks_store *ks = calloc(1, sizeof *ks);
    if (!ks) return NULL;
    ks->stride = ks_stride(state_size);
    ks->max_keys = max_keys;
    /* zeroed, faulted in now rather than on a key's first request inside a
     * timed decision, and on huge pages when large (hugemem.h): a state
     * is zero until its key's first use, so handing it out needs no clearing */
    ks->states = hmem_alloc(max_keys * ks->stride);
    ks->seen = hmem_alloc(ks_seen_bytes(max_keys));
    if (!ks->states || !ks->seen) { ks_destroy(ks); return NULL; }
    return ks;
}

void ks_destroy(ks_store *ks)
{
    if (!ks) return;
    hmem_free(ks->states, ks->max_keys * ks->stride);
    hmem_free(ks->seen, ks_seen_bytes(ks->max_keys));
    free(ks);
}

void ks_prefetch(const ks_store *ks, uint32_t id)
{
    if (id >= ks->max_keys) return;
    /* the state's first 64 bytes, which straddle two lines when the state
     * does not start one (a window log's header and its first entries) */
    const unsigned char *state = ks->states + (size_t)id * ks->stride;
    __builtin_prefetch(state, 1);
    if (ks->stride > 8) __builtin_prefetch(state + (ks->stride < 64 ? ks->stride : 64) - 1, 1);
    __builtin_prefetch(&ks->seen[id / 64], 1);
}

int ks_worth_prefetching(const ks_store *ks)
{
    return ks->max_keys * ks->stride >= ((size_t)1 << 20);
}

void *ks_get(ks_store *ks, uint32_t id, int *is_new)
{
    if (id >= ks->max_keys) return NULL;
    uint64_t bit = (uint64_t)1 << (id % 64), *word = &ks->seen[id / 64];
    *is_new = !(*word & bit);
    if (*is_new) { *word |= bit; ks->count++; }
    return ks->states + (size_t)id * ks->stride;
}

const void *ks_peek(const ks_store *ks, uint32_t id)
{
    if (id >= ks->max_keys || !(ks->seen[id / 64] & ((uint64_t)1 << (id % 64)))) return NULL;
    return ks->states + (size_t)id * ks->stride;
}

size_t ks_count(const ks_store *ks) { return ks->count; }

size_t ks_bytes(const ks_store *ks) { return ks->max_keys * ks->stride + ks_seen_bytes(ks->max_keys); }

uint64_t ks_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    /* FNV's low bits mix poorly for short, similar names; fold the high half in. */
    return h ^ (h >> 29);
}
