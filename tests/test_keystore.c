/* The per-key state store: a million keys, each its own state, fixed memory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../algorithms/keystore.h"

Test(keystore, holds_a_million_keys_apart_in_bounded_memory)
{
    const size_t n = 1000000;
    ks_store *ks = ks_create(n, 16);
    cr_assert(ks);
    cr_assert_eq(ks_bytes(ks), ks_bytes_for(n, 16));
    cr_assert_leq(ks_bytes(ks), 2u * 1024 * 1024 * 24, "2^21 slots of 24 bytes");
    char name[32];
    for (uint32_t id = 0; id < n; id++) {
        int len = snprintf(name, sizeof name, "user:%u", id);
        int is_new;
        uint64_t *state = ks_get(ks, id, ks_hash(name, (size_t)len), &is_new);
        cr_assert(state && is_new);
        state[0] = id;
        state[1] = ~(uint64_t)id;
    }
    cr_assert_eq(ks_count(ks), n);
    for (uint32_t id = 0; id < n; id += 997) {
        int len = snprintf(name, sizeof name, "user:%u", id);
        int is_new;
        uint64_t *state = ks_get(ks, id, ks_hash(name, (size_t)len), &is_new);
        cr_assert_eq(is_new, 0);
        cr_assert_eq(state[0], id);
        cr_assert_eq(state[1], ~(uint64_t)id);
    }
    ks_destroy(ks);
}

Test(keystore, peek_does_not_create_and_a_full_store_says_so)
{
    ks_store *ks = ks_create(2, 8);
    cr_assert_null(ks_peek(ks, 5, 99));
    int is_new;
    cr_assert(ks_get(ks, 1, 42, &is_new));
    cr_assert(ks_get(ks, 2, 42, &is_new), "same hash, another key: probed past");
    cr_assert_null(ks_get(ks, 3, 7, &is_new), "a third key does not fit in a store for two");
    cr_assert(ks_peek(ks, 2, 42));
    cr_assert_eq(ks_count(ks), 2);
    ks_destroy(ks);
}
