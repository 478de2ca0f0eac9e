/*
 * keystore.c -- see keystore.h. Slot layout: a uint32 tag (key id + 1, 0 for
 * empty), padding to 8 bytes, then the key's state.
 */
#include "keystore.h"
#include "hugemem.h"

#include <stdlib.h>
#include <string.h>

struct ks_store {
    unsigned char *slots;
    size_t slot_size;
    size_t state_size;
    uint64_t mask;
    size_t max_keys;
    size_t count;
};

#define KS_HEADER 8

static size_t ks_slot_count(size_t max_keys)
{
    size_t want = max_keys + max_keys / 3 + 1;   /* load factor <= 0.75 */
    size_t n = 8;
    while (n < want) n <<= 1;
    return n;
}

size_t ks_bytes_for(size_t max_keys, size_t state_size)
{
    size_t slot = KS_HEADER + ((state_size + 7) & ~(size_t)7);
    size_t n = ks_slot_count(max_keys);
    if (slot != 0 && n > SIZE_MAX / slot) return 0;
    return n * slot;
}

ks_store *ks_create(size_t max_keys, size_t state_size)
{
    size_t bytes = ks_bytes_for(max_keys, state_size);
    if (bytes == 0) return NULL;
    ks_store *ks = calloc(1, sizeof *ks);
    if (!ks) return NULL;
    /* zeroed, faulted in now rather than on a key's first request inside a
     * timed decision, and on huge pages when large (hugemem.h) */
    ks->slots = hmem_alloc(bytes);
    if (!ks->slots) { free(ks); return NULL; }
    ks->slot_size = KS_HEADER + ((state_size + 7) & ~(size_t)7);
    ks->state_size = state_size;
    ks->mask = ks_slot_count(max_keys) - 1;
    ks->max_keys = max_keys;
    return ks;
}

void ks_destroy(ks_store *ks)
{
    if (!ks) return;
    hmem_free(ks->slots, ks_bytes(ks));
    free(ks);
}

static unsigned char *ks_slot(const ks_store *ks, uint64_t i)
{
    return ks->slots + (size_t)(i & ks->mask) * ks->slot_size;
}

static uint32_t ks_tag(const unsigned char *slot)
{
    uint32_t tag;
    memcpy(&tag, slot, sizeof tag);
    return tag;
}

/* Below this many slots (1.5 MiB of 24-byte slots) the table stays in the
 * caches and a prefetch is pure overhead (a one-key run was 7% slower with
 * it); above, the batch's lookups overlap their cache misses. */
#define KS_PREFETCH_SLOTS (1u << 16)

void ks_prefetch(const ks_store *ks, uint64_t hash)
{
    __builtin_prefetch(ks_slot(ks, hash), 1, 0);
}

int ks_worth_prefetching(const ks_store *ks)
{
    return ks->mask + 1 >= KS_PREFETCH_SLOTS;
}

void *ks_get(ks_store *ks, uint32_t id, uint64_t hash, int *is_new)
{
    uint32_t want = id + 1;
    for (uint64_t i = hash;; i++) {
        unsigned char *slot = ks_slot(ks, i);
        uint32_t tag = ks_tag(slot);
        if (tag == want) { *is_new = 0; return slot + KS_HEADER; }
        if (tag == 0) {
            if (ks->count >= ks->max_keys) return NULL;
            memcpy(slot, &want, sizeof want);
            memset(slot + KS_HEADER, 0, ks->state_size);
            ks->count++;
            *is_new = 1;
            return slot + KS_HEADER;
        }
    }
}

const void *ks_peek(const ks_store *ks, uint32_t id, uint64_t hash)
{
    uint32_t want = id + 1;
    for (uint64_t i = hash;; i++) {
        const unsigned char *slot = ks_slot(ks, i);
        uint32_t tag = ks_tag(slot);
        if (tag == want) return slot + KS_HEADER;
        if (tag == 0) return NULL;
    }
}

size_t ks_count(const ks_store *ks) { return ks->count; }

size_t ks_bytes(const ks_store *ks) { return (ks->mask + 1) * ks->slot_size; }

uint64_t ks_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    /* FNV's low bits mix poorly for short, similar names; fold the high half in. */
    return h ^ (h >> 29);
}
