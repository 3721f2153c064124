/* test_chacha.c - cmocka tests for the ChaCha20 block function (RFC 8439 vectors) and the guest RNG. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guest/lib/chacha.h"

static void key_from_bytes(uint32_t key[8], const uint8_t bytes[32])
{
    for (int i = 0; i < 8; i++)
        key[i] = (uint32_t)bytes[4 * i] | ((uint32_t)bytes[4 * i + 1] << 8) |
                 ((uint32_t)bytes[4 * i + 2] << 16) |
                 ((uint32_t)bytes[4 * i + 3] << 24);
}

/* RFC 8439 section 2.3.2. */
static void test_rfc8439_block(void **state)
{
    static const uint8_t expected[64] = {
        0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15,
        0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
        0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03,
        0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
        0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09,
        0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
        0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9,
        0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
    };
    uint8_t kb[32];
    uint32_t key[8];
    /* nonce bytes 00:00:00:09:00:00:00:4a:00:00:00:00, little-endian words */
    const uint32_t nonce[3] = { 0x09000000u, 0x4a000000u, 0x00000000u };
    uint8_t out[64];

    (void)state;
    for (int i = 0; i < 32; i++)
        kb[i] = (uint8_t)i;
    key_from_bytes(key, kb);
    chacha20_block(key, 1, nonce, out);
    assert_memory_equal(out, expected, sizeof(expected));
}

/* RFC 8439 appendix A.1, test vector #1: all-zero key, nonce and counter. */
static void test_rfc8439_zero_block(void **state)
{
    static const uint8_t expected[64] = {
        0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
        0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28,
        0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a,
        0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77, 0x0d, 0xc7,
        0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48, 0x8d,
        0x77, 0x24, 0xe0, 0x3f, 0xb8, 0xd8, 0x4a, 0x37,
        0x6a, 0x43, 0xb8, 0xf4, 0x15, 0x18, 0xa1, 0x1c,
        0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86,
    };
    const uint32_t key[8] = { 0 };
    const uint32_t nonce[3] = { 0 };
    uint8_t out[64];

    (void)state;
    chacha20_block(key, 0, nonce, out);
    assert_memory_equal(out, expected, sizeof(expected));
}

static void test_block_counter_changes_output(void **state)
{
    const uint32_t key[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    const uint32_t nonce[3] = { 0 };
    uint8_t a[64], b[64];

    (void)state;
    chacha20_block(key, 0, nonce, a);
    chacha20_block(key, 1, nonce, b);
    assert_memory_not_equal(a, b, 64);
}

static const size_t fill_sizes[] = { 1, 7, 64, 65, 1000, 5000, 3, 32, 33, 2048 };
#define NFILLS (sizeof(fill_sizes) / sizeof(fill_sizes[0]))
#define TOTAL  (1 + 7 + 64 + 65 + 1000 + 5000 + 3 + 32 + 33 + 2048)

/* Fill dst with the concatenation of fills of fill_sizes[] from a fresh rng. */
static void run_sequence(const uint8_t seed[32], uint8_t *dst)
{
    struct chacha_rng r;
    size_t off = 0;

    chacha_rng_init(&r, seed);
    for (size_t i = 0; i < NFILLS; i++) {
        chacha_rng_fill(&r, dst + off, fill_sizes[i]);
        off += fill_sizes[i];
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void test_same_seed_same_stream(void **state)
{
    static uint8_t a[TOTAL], b[TOTAL];
    uint8_t seed[32];

    (void)state;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x40 + i * 3);
    run_sequence(seed, a);
    run_sequence(seed, b);
    assert_memory_equal(a, b, TOTAL);
}

static void test_different_seeds_differ(void **state)
{
    static uint8_t a[TOTAL], b[TOTAL];
    uint8_t seed[32] = { 0 };
    size_t same = 0;

    (void)state;
    run_sequence(seed, a);
    seed[31] = 1;
    run_sequence(seed, b);
    assert_memory_not_equal(a, b, TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        same += a[i] == b[i];
    /* Unrelated streams agree on about 1/256 of their bytes. */
    assert_true(same < TOTAL / 64);
}

static void test_fills_not_zero_not_constant(void **state)
{
    static uint8_t out[TOTAL];
    uint8_t seed[32] = { 0 }; /* even an all-zero seed must work */
    size_t off = 0;
    unsigned counts[256] = { 0 };
    unsigned distinct = 0;

    (void)state;
    run_sequence(seed, out);
    for (size_t i = 0; i < NFILLS; i++) {
        /* A 1-byte fill may legitimately be 0; check larger ones. */
        if (fill_sizes[i] >= 7)
            assert_false(all_zero(out + off, fill_sizes[i]));
        off += fill_sizes[i];
    }
    for (size_t i = 0; i < TOTAL; i++)
        counts[out[i]]++;
    for (int v = 0; v < 256; v++) {
        distinct += counts[v] != 0;
        /* ~33 expected per value; a wildly skewed count means a bug. */
        assert_true(counts[v] < 200);
    }
    assert_true(distinct > 240);
}

static void test_no_repeated_blocks(void **state)
{
    static uint8_t out[64 * 200];
    struct chacha_rng r;
    uint8_t seed[32];

    (void)state;
    memset(seed, 0x5c, sizeof(seed));
    chacha_rng_init(&r, seed);
    /* Mix of one large fill (crosses several 1 KiB rekeys) and small ones. */
    chacha_rng_fill(&r, out, 64 * 100);
    for (size_t off = 64 * 100; off < sizeof(out); off += 16)
        chacha_rng_fill(&r, out + off, 16);
    for (size_t i = 0; i < 200; i++)
        for (size_t j = i + 1; j < 200; j++)
            assert_memory_not_equal(out + 64 * i, out + 64 * j, 64);
}

static void test_key_erasure(void **state)
{
    struct chacha_rng r;
    uint8_t seed[32];
    uint32_t before[8];
    uint8_t out[100];

    (void)state;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    chacha_rng_init(&r, seed);
    memcpy(before, r.key, sizeof(before));
    chacha_rng_fill(&r, out, 10);
    /* The key that produced the output has been replaced... */
    assert_memory_not_equal(before, r.key, sizeof(before));
    /* ...and bytes already handed out are no longer in the buffer. */
    assert_true(r.pos <= sizeof(r.buf));
    assert_true(all_zero(r.buf, r.pos));

    memcpy(before, r.key, sizeof(before));
    chacha_rng_fill(&r, out, sizeof(out));
    assert_memory_not_equal(before, r.key, sizeof(before));
    assert_true(all_zero(r.buf, r.pos));

    /* A zero-length fill is a no-op. */
    memcpy(before, r.key, sizeof(before));
    chacha_rng_fill(&r, out, 0);
    assert_memory_equal(before, r.key, sizeof(before));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8439_block),
        cmocka_unit_test(test_rfc8439_zero_block),
        cmocka_unit_test(test_block_counter_changes_output),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_different_seeds_differ),
        cmocka_unit_test(test_fills_not_zero_not_constant),
        cmocka_unit_test(test_no_repeated_blocks),
        cmocka_unit_test(test_key_erasure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
