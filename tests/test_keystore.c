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
    cr_assert_eq(ks_bytes(ks), n * 16 + (n + 63) / 64 * 8, "16 bytes and a bit per key");
    /* in an order other than the ids', as a Zipf stream visits them */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = (uint32_t)(((uint64_t)i * 7919) % n);
        int is_new;
        uint64_t *state = ks_get(ks, id, &is_new);
        cr_assert(state && is_new);
        cr_assert(state[0] == 0 && state[1] == 0, "a new key's state is zero");
        state[0] = id;
        state[1] = ~(uint64_t)id;
    }
    cr_assert_eq(ks_count(ks), n);
    for (uint32_t id = 0; id < n; id += 997) {
        int is_new;
        uint64_t *state = ks_get(ks, id, &is_new);
        cr_assert_eq(is_new, 0);
        cr_assert_eq(state[0], id);
        cr_assert_eq(state[1], ~(uint64_t)id);
        cr_assert_eq(ks_peek(ks, id), state);
    }
    cr_assert_eq(ks_count(ks), n, "a key seen again is counted once");
    ks_destroy(ks);
}

Test(keystore, peek_does_not_create_and_a_key_outside_the_store_says_so)
{
    ks_store *ks = ks_create(2, 8);
    cr_assert_null(ks_peek(ks, 1));
    cr_assert_null(ks_peek(ks, 5));
    cr_assert_eq(ks_count(ks), 0, "peeking creates nothing");
    int is_new;
    cr_assert(ks_get(ks, 1, &is_new));
    cr_assert(is_new);
    cr_assert(ks_get(ks, 0, &is_new));
    cr_assert_neq(ks_peek(ks, 0), ks_peek(ks, 1), "two keys, two states");
    cr_assert_null(ks_get(ks, 2, &is_new), "id 2 is outside a store for two keys");
    cr_assert_null(ks_peek(ks, 2));
    cr_assert_eq(ks_count(ks), 2);
    ks_destroy(ks);
}
