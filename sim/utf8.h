/*
 * utf8.h -- whether bytes are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), so that text a user gave
 * can be copied into JSON and CSV outputs that stay valid.
 */
#ifndef RATELAB_UTF8_H
#define RATELAB_UTF8_H

#include <stddef.h>

/* The offset of the first byte of s[0..n) that does not begin a valid
 * UTF-8 sequence, or -1 when all of it is valid. */
long utf8_first_invalid(const char *s, size_t n);

/* Copies the string s into buf (len bytes, always terminated), each byte
 * that does not begin a valid sequence replaced by U+FFFD, and never cut
 * inside a character: a path or a command line, whatever its bytes, as
 * text a JSON or CSV output may hold. */
void utf8_copy_valid(const char *s, char *buf, size_t len);

#endif
