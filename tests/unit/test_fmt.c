/* test_fmt.c - cmocka tests comparing the guest ksnprintf against the host libc snprintf. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "guest/lib/fmt.h"

/* Truncation is exactly what the truncation cases test. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define BUFSZ 512

static char kbuf[BUFSZ];
static char hbuf[BUFSZ];
static int ncases;

/* Compare return values and the whole buffers (including bytes past the
 * requested size, which must keep their sentinel value). */
static void check_one(int line, const char *what, size_t size, int kr, int hr)
{
    ncases++;
    if (kr != hr || memcmp(kbuf, hbuf, BUFSZ) != 0) {
        size_t show = size < BUFSZ ? size : BUFSZ;
        print_error("line %d: (%s) size %zu\n  ksnprintf -> %d \"%.*s\"\n"
                    "  snprintf  -> %d \"%.*s\"\n",
                    line, what, size, kr, (int)show, kbuf, hr, (int)show,
                    hbuf);
        fail();
    }
}

#define CHECKN(sz, ...)                                                        \
    do {                                                                       \
        memset(kbuf, 0xAA, BUFSZ);                                             \
        memset(hbuf, 0xAA, BUFSZ);                                             \
        int kr_ = ksnprintf(kbuf, (sz), __VA_ARGS__);                          \
        int hr_ = snprintf(hbuf, (sz), __VA_ARGS__);                           \
        check_one(__LINE__, #__VA_ARGS__, (sz), kr_, hr_);                     \
    } while (0)

#define CHECK(...) CHECKN(BUFSZ, __VA_ARGS__)

static void test_integers(void **state)
{
    (void)state;
    CHECK("hello, world");
    CHECK("%d", 0);
    CHECK("%d", INT_MIN);
    CHECK("%d", INT_MAX);
    CHECK("%i", -42);
    CHECK("%u", UINT_MAX);
    CHECK("%ld", LONG_MIN);
    CHECK("%lu", ULONG_MAX);
    CHECK("%lld", LLONG_MIN);
    CHECK("%lld", LLONG_MAX);
    CHECK("%llu", ULLONG_MAX);
    CHECK("%llx", ULLONG_MAX);
    CHECK("%llo", ULLONG_MAX);
    CHECK("%x", 0xdeadbeefu);
    CHECK("%X", 0xdeadbeefu);
    CHECK("%o", 0777u);
    CHECK("%hhd", 300);
    CHECK("%hhu", 300);
    CHECK("%hhd", 200);
    CHECK("%hhx", -1);
    CHECK("%hd", 70000);
    CHECK("%hu", 70000);
    CHECK("%hd", -32768);
    CHECK("%zu", (size_t)SIZE_MAX);
    CHECK("%zu", (size_t)12345);
    CHECK("%zx", (size_t)0xabcdef);
    CHECK("%zd", (ptrdiff_t)-5);
    CHECK("%jd", INTMAX_MIN);
    CHECK("%ju", UINTMAX_MAX);
    CHECK("%td", (ptrdiff_t)-100);
    CHECK("%tu", (ptrdiff_t)100);
    CHECK("100%%");
    CHECK("%%%d%%", 7);
}

static void test_flags_width_precision(void **state)
{
    (void)state;
    CHECK("[%5d]", 42);
    CHECK("[%-5d]", 42);
    CHECK("[%05d]", -42);
    CHECK("[%05d]", 42);
    CHECK("[%+d]", 5);
    CHECK("[%+d]", -5);
    CHECK("[% d]", 5);
    CHECK("[% d]", -5);
    CHECK("[% 05d]", 7);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    /* Redundant flags that gcc warns about but C defines. */
    CHECK("[%+ d]", 5);
    CHECK("[%08.3d]", 7);
    CHECK("[%-05d]", 7);
#pragma GCC diagnostic pop
    CHECK("[%+05d]", 7);
    CHECK("[%.5d]", 42);
    CHECK("[%.5d]", -42);
    CHECK("[%8.3d]", -7);
    CHECK("[%-8.3d]", -7);
    CHECK("[%.0d]", 0);
    CHECK("[%5.0d]", 0);
    CHECK("[%+.0d]", 0);
    CHECK("[%.0x]", 0u);
    CHECK("[%#x]", 0u);
    CHECK("[%#x]", 255u);
    CHECK("[%#X]", 255u);
    CHECK("[%#o]", 8u);
    CHECK("[%#o]", 0u);
    CHECK("[%#.0o]", 0u);
    CHECK("[%#.5o]", 8u);
    CHECK("[%#08x]", 0x1fu);
    CHECK("[%-#10x]", 0x1fu);
    CHECK("[%#10.4x]", 0x1fu);
    CHECK("[%#llx]", ULLONG_MAX);
    CHECK("[%*d]", 6, 12);
    CHECK("[%-*d]", 6, 12);
    CHECK("[%*d]", -6, 12);
    CHECK("[%.*d]", 4, 3);
    CHECK("[%.*d]", -1, 3);
    CHECK("[%*.*d]", 8, 4, -3);
    CHECK("[%300d]", 1);
    CHECK("[%-300d]", 1);
    CHECK("[%.300d]", -1);
    CHECK("%d %s %c %x %u", -1, "mix", 'z', 0x10u, 99u);
}

static void test_chars_strings(void **state)
{
    const char *volatile null_str = NULL;

    (void)state;
    CHECK("%c", 'A');
    CHECK("[%3c][%-3c]", 'x', 'y');
    CHECK("%s", "str");
    CHECK("[%10s]", "right");
    CHECK("[%-10s]", "left");
    CHECK("[%.2s]", "abcdef");
    CHECK("[%.*s]", 3, "abcdef");
    CHECK("[%.*s]", -3, "abcdef");
    CHECK("[%5.1s]", "abcdef");
    CHECK("[%.10s]", "abc");
    CHECK("[%s]", "");
    CHECK("[%s]", null_str);
    CHECK("[%10s]", null_str);
    CHECK("[%.6s]", null_str);
    CHECK("[%.3s]", null_str);
}

static void test_pointers(void **state)
{
    void *volatile nullp = NULL;

    (void)state;
    CHECK("%p", (void *)0x1234);
    CHECK("%p", (void *)UINTPTR_MAX);
    CHECK("%p", nullp);
    CHECK("[%20p]", (void *)0xabcdef);
    CHECK("[%-20p]", (void *)0xabcdef);
    CHECK("[%20p]", nullp);
    CHECK("[%-8p]", nullp);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    /* Flags/precision that are undefined for %p in ISO C but accepted by
     * glibc; the guest formatter mimics glibc. */
    CHECK("[%.8p]", (void *)0x10);
    CHECK("[%020p]", (void *)0x10);
    CHECK("[%+p]", (void *)0x10);
#pragma GCC diagnostic pop
}

static void test_truncation(void **state)
{
    (void)state;
    CHECKN(1, "abc");
    CHECKN(2, "abc");
    CHECKN(3, "abc");
    CHECKN(4, "abc");
    CHECKN(5, "%d", 123456789);
    CHECKN(3, "%s", "hello");
    CHECKN(4, "%08x", 0x1234u);
    CHECKN(2, "%p", (void *)0xfeed);
    CHECKN(6, "%d", INT_MIN);
    CHECKN(10, "%lld", LLONG_MIN);
    CHECKN(1, "%c", 'q');
    CHECKN(7, "[%-10s]", "left");
    CHECKN(64, "[%300d]", 1);
    CHECKN(0, "abc");
}

static void test_size_zero_null(void **state)
{
    (void)state;
    ncases++;
    assert_int_equal(ksnprintf(NULL, 0, "%d", 12345),
                     snprintf(NULL, 0, "%d", 12345));
    ncases++;
    assert_int_equal(ksnprintf(NULL, 0, "%s-%llu", "abc", ULLONG_MAX),
                     snprintf(NULL, 0, "%s-%llu", "abc", ULLONG_MAX));
    ncases++;
    assert_int_equal(ksnprintf(NULL, 0, ""), 0);
}

static int call_kv(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}

static void test_vsnprintf_and_unknown(void **state)
{
    char b[32];

    (void)state;
    assert_int_equal(call_kv(b, sizeof(b), "%d-%s", 5, "x"), 3);
    assert_string_equal(b, "5-x");

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
    /* Unknown conversions are printed verbatim and consume nothing. */
    assert_int_equal(ksnprintf(b, sizeof(b), "a%kb%d", 4), 5);
    assert_string_equal(b, "a%kb4");
    assert_int_equal(ksnprintf(b, sizeof(b), "[%5y]"), 5);
    assert_string_equal(b, "[%5y]");
    assert_int_equal(ksnprintf(b, sizeof(b), "%f"), 2);
    assert_string_equal(b, "%f");
    /* A format ending inside a conversion prints the partial spec. */
    assert_int_equal(ksnprintf(b, sizeof(b), "end%"), 4);
    assert_string_equal(b, "end%");
    assert_int_equal(ksnprintf(b, sizeof(b), "end%-5"), 6);
    assert_string_equal(b, "end%-5");
#pragma GCC diagnostic pop
}

static void test_case_count(void **state)
{
    (void)state;
    /* Runs last: make sure the comparison table stayed large. */
    assert_true(ncases >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_flags_width_precision),
        cmocka_unit_test(test_chars_strings),
        cmocka_unit_test(test_pointers),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_size_zero_null),
        cmocka_unit_test(test_vsnprintf_and_unknown),
        cmocka_unit_test(test_case_count),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
