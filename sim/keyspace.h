/*
 * keyspace.h -- the keys of one run, interned: every distinct key name gets
 * a dense id (0, 1, ...) and a hash computed once, so the per-request path
 * carries an id and never touches strings. Generated keys are named
 * "<prefix><rank>" (rank 1 is id 0, the busiest under Zipf); trace keys are
 * interned as they are read.
 */
#ifndef RATELAB_KEYSPACE_H
#define RATELAB_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#define KSPACE_MAX_KEYS 10000000u
#define KSPACE_MAX_NAME 256

typedef struct kspace kspace;

/* An empty keyspace; NULL when memory is short. */
kspace *kspace_create(void);
void kspace_destroy(kspace *k);

/* The id of `name` (n bytes), adding it if new. Returns -1 when the name is
 * longer than KSPACE_MAX_NAME, the space holds KSPACE_MAX_KEYS already, or
 * memory is short. */
int64_t kspace_intern(kspace *k, const char *name, size_t n);

/* Adds `count` keys "<prefix>1".."<prefix><count>" to an empty keyspace, as
 * ids 0..count-1; returns 0, or -1 as kspace_intern (or if not empty). */
int64_t kspace_add_numbered(kspace *k, const char *prefix, uint32_t count);

/* Whether n bytes may name a key: valid UTF-8 without control characters
 * (NUL, newline...) or commas, so that every key prints whole in decision
 * logs, CSVs and JSON. 0, or -1 with the reason in why. */
int kspace_check_name(const char *name, size_t n, char *why, size_t len);

size_t kspace_count(const kspace *k);
const char *kspace_name(const kspace *k, uint32_t id);

/* The hash array, for the per-request path: hashes[id]. */
const uint64_t *kspace_hashes(const kspace *k);

#endif
