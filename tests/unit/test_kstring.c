/* test_kstring.c - cmocka tests for the guest kstring.c, built with k_-prefixed names beside host libc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#define KSTRING_TEST 1
#include "guest/lib/kstring.c"

#define AREA 640
#define GUARD 0xEE

static unsigned char src_area[AREA];
static unsigned char dst_area[AREA];
static unsigned char ref_area[AREA];

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static void test_memcpy_sizes_alignments(void **state)
{
    (void)state;
    fill_pattern(src_area, AREA, 3);
    for (size_t so = 0; so < 8; so++) {
        for (size_t doff = 0; doff < 8; doff++) {
            for (size_t n = 0; n <= 300; n++) {
                memset(dst_area, GUARD, AREA);
                memset(ref_area, GUARD, AREA);
                memcpy(ref_area + 16 + doff, src_area + so, n);
                void *r = k_memcpy(dst_area + 16 + doff, src_area + so, n);
                assert_ptr_equal(r, dst_area + 16 + doff);
                assert_memory_equal(dst_area, ref_area, AREA);
            }
        }
    }
}

static void test_memset_sizes_alignments(void **state)
{
    (void)state;
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n <= 300; n++) {
            memset(dst_area, GUARD, AREA);
            memset(ref_area, GUARD, AREA);
            memset(ref_area + 16 + off, 0x5A, n);
            /* Only the low byte of c is used. */
            void *r = k_memset(dst_area + 16 + off, 0x125A, n);
            assert_ptr_equal(r, dst_area + 16 + off);
            assert_memory_equal(dst_area, ref_area, AREA);
        }
    }
}

static void test_memmove_overlap(void **state)
{
    (void)state;
    for (int shift = -19; shift <= 19; shift++) {
        for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 13)) {
            size_t s = 100;
            size_t d = (size_t)((long)s + shift);

            fill_pattern(dst_area, AREA, (unsigned)n);
            memcpy(ref_area, dst_area, AREA);
            memmove(ref_area + d, ref_area + s, n);
            void *r = k_memmove(dst_area + d, dst_area + s, n);
            assert_ptr_equal(r, dst_area + d);
            assert_memory_equal(dst_area, ref_area, AREA);
        }
    }
    /* Non-overlapping, both orders. */
    fill_pattern(dst_area, AREA, 9);
    memcpy(ref_area, dst_area, AREA);
    memmove(ref_area + 400, ref_area, 200);
    k_memmove(dst_area + 400, dst_area, 200);
    assert_memory_equal(dst_area, ref_area, AREA);
    memmove(ref_area, ref_area + 400, 200);
    k_memmove(dst_area, dst_area + 400, 200);
    assert_memory_equal(dst_area, ref_area, AREA);
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void test_memcmp(void **state)
{
    (void)state;
    assert_int_equal(k_memcmp("abc", "abc", 3), 0);
    assert_true(k_memcmp("abc", "abd", 3) < 0);
    assert_true(k_memcmp("abd", "abc", 3) > 0);
    assert_int_equal(k_memcmp("abc", "xyz", 0), 0);
    /* Bytes compare as unsigned char. */
    assert_true(k_memcmp("\x80", "\x01", 1) > 0);
    assert_true(k_memcmp("\x01", "\xff", 1) < 0);
    /* Differences after an embedded NUL still count. */
    assert_true(k_memcmp("a\0b", "a\0c", 3) < 0);
}

static void test_strlen_strnlen(void **state)
{
    (void)state;
    assert_int_equal(k_strlen(""), 0);
    assert_int_equal(k_strlen("hello"), 5);
    assert_int_equal(k_strnlen("hello", 3), 3);
    assert_int_equal(k_strnlen("hello", 5), 5);
    assert_int_equal(k_strnlen("hello", 50), 5);
    assert_int_equal(k_strnlen("hello", 0), 0);
}

static void test_strcmp_strncmp(void **state)
{
    static const char *words[] = { "", "a", "ab", "abc", "abd", "b", "\x80",
                                   "\xff", "A", "abcdef" };
    const size_t nw = sizeof(words) / sizeof(words[0]);

    (void)state;
    for (size_t i = 0; i < nw; i++) {
        for (size_t j = 0; j < nw; j++) {
            assert_int_equal(sign(k_strcmp(words[i], words[j])),
                             sign(strcmp(words[i], words[j])));
            for (size_t n = 0; n < 8; n++)
                assert_int_equal(sign(k_strncmp(words[i], words[j], n)),
                                 sign(strncmp(words[i], words[j], n)));
        }
    }
    /* Stops at NUL even when n is larger. */
    assert_int_equal(k_strncmp("ab\0x", "ab\0y", 10), 0);
}

static void test_strchr_strrchr(void **state)
{
    const char *s = "hello world";
    const char *e = "";
    const char *t = "a\xe9z";

    (void)state;
    assert_ptr_equal(k_strchr(s, 'o'), s + 4);
    assert_ptr_equal(k_strrchr(s, 'o'), s + 7);
    assert_ptr_equal(k_strchr(s, 'h'), s);
    assert_ptr_equal(k_strrchr(s, 'h'), s);
    assert_null(k_strchr(s, 'z'));
    assert_null(k_strrchr(s, 'z'));
    /* Searching for '\0' finds the terminator. */
    assert_ptr_equal(k_strchr(s, '\0'), s + 11);
    assert_ptr_equal(k_strrchr(s, '\0'), s + 11);
    assert_ptr_equal(k_strchr(e, '\0'), e);
    assert_ptr_equal(k_strrchr(e, '\0'), e);
    assert_null(k_strrchr(e, 'a'));
    /* c is converted to char. */
    assert_ptr_equal(k_strchr(s, 'o' + 256), s + 4);
    assert_ptr_equal(k_strchr(t, 0xe9), t + 1);
    assert_ptr_equal(k_strrchr(t, 0xe9), t + 1);
}

static void test_strlcpy(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(k_strlcpy(buf, "hello", 0), 5);
    assert_int_equal(buf[0], 'X'); /* size 0: untouched */

    assert_int_equal(k_strlcpy(buf, "hello", 1), 5);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], 'X');

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(k_strlcpy(buf, "hello", 4), 5);
    assert_string_equal(buf, "hel");
    assert_int_equal(buf[4], 'X');

    assert_int_equal(k_strlcpy(buf, "hello", 6), 5);
    assert_string_equal(buf, "hello");

    assert_int_equal(k_strlcpy(buf, "hello", sizeof(buf)), 5);
    assert_string_equal(buf, "hello");

    assert_int_equal(k_strlcpy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memcpy_sizes_alignments),
        cmocka_unit_test(test_memset_sizes_alignments),
        cmocka_unit_test(test_memmove_overlap),
        cmocka_unit_test(test_memcmp),
        cmocka_unit_test(test_strlen_strnlen),
        cmocka_unit_test(test_strcmp_strncmp),
        cmocka_unit_test(test_strchr_strrchr),
        cmocka_unit_test(test_strlcpy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
