/*
 * fuzz.h -- what the fuzz harnesses share. Each harness is one file
 * defining LLVMFuzzerTestOneInput over one of ratelab's readers; it is
 * built twice: with libFuzzer for `make fuzz` (clang), and with replay.c
 * for `make test`, which runs it over the committed corpus under
 * ASan+UBSan.
 */
#ifndef RATELAB_FUZZ_H
#define RATELAB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the input to a file of this process (the readers take paths) and
 * puts its path in `path`; 0, or -1 when it cannot be written. */
static inline int fz_file(const uint8_t *data, size_t size, const char *suffix, char *path, size_t len)
{
    snprintf(path, len, "/tmp/ratelab-fuzz-%ld%s", (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The input as a NUL-terminated string (cut at the first NUL), in buf. */
static inline const char *fz_text(const uint8_t *data, size_t size, char *buf, size_t len)
{
    size_t n = size < len - 1 ? size : len - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (char)data[i];
    buf[n] = '\0';
    return buf;
}

#endif
