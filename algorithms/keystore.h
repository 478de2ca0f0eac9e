/*
 * keystore.h -- per-key limiter state in one fixed block of memory.
 *
 * An open-addressing hash table (linear probing) sized once, at creation,
 * for the largest number of distinct keys a run can produce; it never grows
 * and never allocates after ks_create. Memory is
 *     slots * (8 + state_size rounded up to 8) bytes,
 * with slots the power of two at or above max_keys / 0.75: for 1M keys of
 * 16-byte state (token bucket), 2^21 slots * 24 B = 48 MiB.
 *
 * Keys are small integers (the run's interned key ids) with a 64-bit hash
 * of the key's name computed once at interning, so a lookup probes from
 * the name's hash and compares ids exactly.
 */
#ifndef RATELAB_KEYSTORE_H
#define RATELAB_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ks_store ks_store;

/* Bytes a store for max_keys keys of state_size would take (0 on overflow). */
size_t ks_bytes_for(size_t max_keys, size_t state_size);

/* A store for up to max_keys keys, all absent; NULL when memory is short. */
ks_store *ks_create(size_t max_keys, size_t state_size);

void ks_destroy(ks_store *ks);

/* The state of key `id`, created zeroed (and *is_new = 1) on first use.
 * NULL only when max_keys distinct keys are already present. */
void *ks_get(ks_store *ks, uint32_t id, uint64_t hash, int *is_new);

/* Asks the CPU to fetch the slot a lookup of `hash` starts at (a hint:
 * nothing changes). Worth it over a batch when the store outgrows the
 * caches; see ks_worth_prefetching. */
void ks_prefetch(const ks_store *ks, uint64_t hash);

/* 1 when the store is large enough (2^16 slots or more) that prefetching
 * a batch's slots pays. */
int ks_worth_prefetching(const ks_store *ks);

/* The state of key `id`, or NULL if it was never used. */
const void *ks_peek(const ks_store *ks, uint32_t id, uint64_t hash);

/* Keys present, and bytes held. */
size_t ks_count(const ks_store *ks);
size_t ks_bytes(const ks_store *ks);

/* 64-bit FNV-1a of n bytes: the hash ratelab gives key names. */
uint64_t ks_hash(const void *data, size_t n);

#endif
