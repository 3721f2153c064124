/* kstring.c - freestanding mem and str functions (x86-64, rep movsb/stosb fast paths). */
#include <stddef.h>
#include <stdint.h>

/*
 * When KSTRING_TEST is defined (hosted unit tests include this file
 * directly), every function gets a k_ prefix so it does not collide with
 * the host libc.  Otherwise the standard names are exported, because gcc
 * may emit calls to memcpy/memset/memmove/memcmp on its own.
 */
#ifdef KSTRING_TEST
#define KS(name) k_##name
#else
#include "kstring.h"
#define KS(name) name
#endif

/* Keep gcc from recognising the byte loops below as memcpy/memset/strlen
 * idioms and turning them into (recursive) calls.  clang has no such
 * attribute; its loop-idiom pass already skips functions with these names. */
#if defined(__clang__)
#define KS_NOLIBCALL
#else
#define KS_NOLIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

void *KS(memcpy)(void *restrict dst, const void *restrict src, size_t n)
{
    void *ret = dst;
    __asm__ volatile("rep movsb"
                     : "+D"(dst), "+S"(src), "+c"(n)
                     :
                     : "memory");
    return ret;
}

void *KS(memset)(void *dst, int c, size_t n)
{
    void *ret = dst;
    __asm__ volatile("rep stosb"
                     : "+D"(dst), "+c"(n)
                     : "a"(c)
                     : "memory");
    return ret;
}

/* Unaligned, alias-anything 8-byte word used by the backward memmove path. */
typedef uint64_t __attribute__((may_alias, aligned(1))) ks_u64_unaligned;

KS_NOLIBCALL void *KS(memmove)(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (n == 0 || d == s)
        return dst;
    if ((uintptr_t)d - (uintptr_t)s >= n) {
        /* No harmful overlap: dst is below src, or dst starts past the end
         * of src, so a forward copy is safe. */
        __asm__ volatile("rep movsb"
                         : "+D"(d), "+S"(s), "+c"(n)
                         :
                         : "memory");
        return dst;
    }
    /* dst overlaps the tail of src (s < d < s + n): copy backwards.  This
     * avoids "std; rep movsb" so DF is never set while an interrupt could
     * arrive.  Each store at d+n only touches bytes at or above s+n, which
     * have already been read. */
    while (n >= 8) {
        n -= 8;
        *(ks_u64_unaligned *)(d + n) = *(const ks_u64_unaligned *)(s + n);
    }
    while (n > 0) {
        n--;
        d[n] = s[n];
    }
    return dst;
}

KS_NOLIBCALL int KS(memcmp)(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return (int)p[i] - (int)q[i];
    }
    return 0;
}

KS_NOLIBCALL size_t KS(strlen)(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

KS_NOLIBCALL size_t KS(strnlen)(const char *s, size_t maxlen)
{
    size_t i = 0;

    while (i < maxlen && s[i])
        i++;
    return i;
}

KS_NOLIBCALL int KS(strcmp)(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (*p && *p == *q) {
        p++;
        q++;
    }
    return (int)*p - (int)*q;
}

KS_NOLIBCALL int KS(strncmp)(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return (int)p[i] - (int)q[i];
        if (p[i] == '\0')
            break;
    }
    return 0;
}

KS_NOLIBCALL char *KS(strchr)(const char *s, int c)
{
    const char ch = (char)c;

    for (;; s++) {
        if (*s == ch)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

KS_NOLIBCALL char *KS(strrchr)(const char *s, int c)
{
    const char ch = (char)c;
    const char *last = NULL;

    for (;; s++) {
        if (*s == ch)
            last = s;
        if (*s == '\0')
            return (char *)last;
    }
}

size_t KS(strlcpy)(char *restrict dst, const char *restrict src, size_t size)
{
    size_t len = KS(strlen)(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        KS(memcpy)(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
