/*
 * enc.h - byte encodings shared by ringctl and ringbridge: UTF-8
 * validation, JSON string escaping, base64. All write into caller buffers
 * and return the number of bytes written, or -1 when it does not fit; none
 * allocates. Output is not NUL-terminated unless stated.
 */
#ifndef SHMRING_ENC_H
#define SHMRING_ENC_H

#include <stdbool.h>
#include <stddef.h>

bool enc_utf8_valid(const void *p, size_t n);
/* Valid UTF-8 without NUL, LF or CR: fits one SSE data line as is. */
bool enc_utf8_line(const void *p, size_t n);
/* JSON string body (no quotes); worst case 6 bytes per input byte. */
long enc_json_escape(char *out, size_t cap, const void *p, size_t n);
/* Standard base64 with padding; exactly 4 * ((n + 2) / 3) bytes. */
long enc_base64(char *out, size_t cap, const void *p, size_t n);
#define ENC_BASE64_LEN(n)	(4 * (((n) + 2) / 3))

#endif
