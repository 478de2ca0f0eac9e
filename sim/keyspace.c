/* keyspace.c -- see keyspace.h. Names live in one growing arena; a lookup
 * table (open addressing on the name hash) exists only to intern. */
#include "keyspace.h"

#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/keystore.h"

struct kspace {
    char *arena;            /* names, NUL-terminated, back to back */
    size_t arena_len, arena_cap;
    size_t *offset;         /* offset[id] into arena */
    uint64_t *hash;         /* hash[id] */
    size_t n, cap;
    uint32_t *table;        /* id + 1, 0 empty */
    size_t table_mask;
};

kspace *kspace_create(void)
{
    kspace *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->table = calloc(1024, sizeof *k->table);
    if (!k->table) { free(k); return NULL; }
    k->table_mask = 1023;
    return k;
}

void kspace_destroy(kspace *k)
{
    if (!k) return;
    free(k->arena);
    free(k->offset);
    free(k->hash);
    free(k->table);
    free(k);
}

static int kspace_grow_table(kspace *k)
{
    size_t size = (k->table_mask + 1) * 2;
    uint32_t *t = calloc(size, sizeof *t);
    if (!t) return -1;
    for (size_t id = 0; id < k->n; id++) {
        size_t i = k->hash[id] & (size - 1);
        while (t[i]) i = (i + 1) & (size - 1);
        t[i] = (uint32_t)id + 1;
    }
    free(k->table);
    k->table = t;
    k->table_mask = size - 1;
    return 0;
}

static int kspace_reserve(kspace *k, size_t name_bytes)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1024;
        size_t *off = realloc(k->offset, cap * sizeof *off);
        if (!off) return -1;
        k->offset = off;
        uint64_t *h = realloc(k->hash, cap * sizeof *h);
        if (!h) return -1;
        k->hash = h;
        k->cap = cap;
    }
    if (k->arena_len + name_bytes > k->arena_cap) {
        size_t cap = k->arena_cap ? k->arena_cap : 16384;
        while (cap < k->arena_len + name_bytes) cap *= 2;
        char *a = realloc(k->arena, cap);
        if (!a) return -1;
        k->arena = a;
        k->arena_cap = cap;
    }
    if ((k->n + 1) * 4 > (k->table_mask + 1) * 3 && kspace_grow_table(k) != 0) return -1;
    return 0;
}

int64_t kspace_intern(kspace *k, const char *name, size_t n)
{
    if (n > KSPACE_MAX_NAME) return -1;
    uint64_t h = ks_hash(name, n);
    size_t i = h & k->table_mask;
    for (; k->table[i]; i = (i + 1) & k->table_mask) {
        uint32_t id = k->table[i] - 1;
        const char *other = k->arena + k->offset[id];
        if (k->hash[id] == h && strlen(other) == n && memcmp(other, name, n) == 0) return id;
    }
    if (k->n >= KSPACE_MAX_KEYS || kspace_reserve(k, n + 1) != 0) return -1;
    /* the table may have grown: find the free slot again */
    for (i = h & k->table_mask; k->table[i]; i = (i + 1) & k->table_mask) {}
    memcpy(k->arena + k->arena_len, name, n);
    k->arena[k->arena_len + n] = '\0';
    k->offset[k->n] = k->arena_len;
    k->hash[k->n] = h;
    k->arena_len += n + 1;
    k->table[i] = (uint32_t)k->n + 1;
    return (int64_t)k->n++;
}

int64_t kspace_add_numbered(kspace *k, const char *prefix, uint32_t count)
{
    char name[KSPACE_MAX_NAME + 16];
    int64_t first = -1;
    if (k->n != 0) return -1;  /* ids must be 0..count-1 for the samplers */
    for (uint32_t r = 1; r <= count; r++) {
        int len = snprintf(name, sizeof name, "%s%u", prefix, r);
        if (len < 0 || (size_t)len >= sizeof name) return -1;
        int64_t id = kspace_intern(k, name, (size_t)len);
        if (id < 0) return -1;
        if (r == 1) first = id;
    }
    return first;
}

size_t kspace_count(const kspace *k) { return k->n; }
const char *kspace_name(const kspace *k, uint32_t id) { return k->arena + k->offset[id]; }
const uint64_t *kspace_hashes(const kspace *k) { return k->hash; }

int kspace_check_name(const char *name, size_t n, char *why, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7F) {
            snprintf(why, len, "holds a control character (byte 0x%02x at %zu)", c, i);
            return -1;
        }
        if (c == ',') {
            snprintf(why, len, "holds a comma (at %zu): keys are written to CSV unquoted", i);
            return -1;
        }
    }
    long bad = utf8_first_invalid(name, n);
    if (bad >= 0) {
        snprintf(why, len, "is not valid UTF-8 (byte 0x%02x at %ld)", (unsigned char)name[bad], bad);
        return -1;
    }
    return 0;
}
