/* kstring.h - freestanding memory and string primitives for the guest kernel. */
#ifndef LBVM_GUEST_KSTRING_H
#define LBVM_GUEST_KSTRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

/* Copy at most size-1 bytes of src into dst, NUL-terminating when size > 0.
 * Returns strlen(src); truncation occurred if the result is >= size. */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

#endif /* LBVM_GUEST_KSTRING_H */
