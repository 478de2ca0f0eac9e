/*
 * keystore.h -- per-key limiter state in one fixed block of memory.
 *
 * Keys are the run's interned key ids (sim/keyspace.h): dense, 0 to the
 * key count less one, each name hashed and looked up once, when it is
 * interned. So the store is an array indexed by id, sized once at
 * creation for every key the run can produce; it never grows and never
 * allocates after ks_create, and a request's state is one address away,
 * with no probing. Memory is
 *     max_keys * (state_size rounded up to 8) + max_keys / 8 bytes
 * (the states, and one bit per key saying it was seen): for 1M keys of
 * 16-byte state (token bucket), 16 MB + 125 kB.
 */
#ifndef RATELAB_KEYSTORE_H
#define RATELAB_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ks_store ks_store;

/* Bytes a store for max_keys keys of state_size would take (0 on overflow). */
size_t ks_bytes_for(size_t max_keys, size_t state_size);

/* A store for keys 0 to max_keys - 1, all absent; NULL when memory is short. */
ks_store *ks_create(size_t max_keys, size_t state_size);

void ks_destroy(ks_store *ks);

/* The state of key `id`, zeroed (and *is_new = 1) on its first use.
 * NULL only when id is not below max_keys. */
void *ks_get(ks_store *ks, uint32_t id, int *is_new);

/* Asks the CPU to fetch key id's state and its seen bit (a hint: nothing
 * changes). Worth it over a batch when the store outgrows the caches;
 * see ks_worth_prefetching. */
void ks_prefetch(const ks_store *ks, uint32_t id);

/* 1 when the store is large enough (1 MiB of states or more) that
 * prefetching a batch's states pays. */
int ks_worth_prefetching(const ks_store *ks);

/* The state of key `id`, or NULL if it was never used. */
const void *ks_peek(const ks_store *ks, uint32_t id);

/* Keys present, and bytes held. */
size_t ks_count(const ks_store *ks);
size_t ks_bytes(const ks_store *ks);

/* 64-bit FNV-1a of n bytes: the hash ratelab gives key names. */
uint64_t ks_hash(const void *data, size_t n);

#endif
