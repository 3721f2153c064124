/* chacha.c - ChaCha20 block function and fast-key-erasure random generator for the guest. */
#include <stddef.h>
#include <stdint.h>

#include "kstring.h"
#include "chacha.h"

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define QR(a, b, c, d)                                                         \
    do {                                                                       \
        a += b; d ^= a; d = ROTL32(d, 16);                                     \
        c += d; b ^= c; b = ROTL32(b, 12);                                     \
        a += b; d ^= a; d = ROTL32(d, 8);                                      \
        c += d; b ^= c; b = ROTL32(b, 7);                                      \
    } while (0)

/* Output blocks produced with one key before it is replaced. */
#define CHACHA_RNG_REKEY_BLOCKS 16u /* 1 KiB */

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Zero memory in a way the compiler cannot drop as a dead store. */
static void wipe(void *p, size_t n)
{
    memset(p, 0, n);
    __asm__ volatile("" : : "r"(p) : "memory");
}

void chacha20_block(const uint32_t key[8], uint32_t counter,
                    const uint32_t nonce[3], uint8_t out[64])
{
    uint32_t in[16];
    uint32_t x[16];

    in[0] = 0x61707865u; /* "expa" */
    in[1] = 0x3320646eu; /* "nd 3" */
    in[2] = 0x79622d32u; /* "2-by" */
    in[3] = 0x6b206574u; /* "te k" */
    for (int i = 0; i < 8; i++)
        in[4 + i] = key[i];
    in[12] = counter;
    in[13] = nonce[0];
    in[14] = nonce[1];
    in[15] = nonce[2];

    for (int i = 0; i < 16; i++)
        x[i] = in[i];

    for (int i = 0; i < 10; i++) {
        /* Column round. */
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        /* Diagonal round. */
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }

    for (int i = 0; i < 16; i++)
        store_le32(out + 4 * i, x[i] + in[i]);

    wipe(x, sizeof(x));
    wipe(in, sizeof(in));
}

/* One keystream block from the current key; the 64-bit counter supplies the
 * block counter (low half) and the first nonce word (high half). */
static void rng_block(struct chacha_rng *r, uint8_t out[64])
{
    uint32_t nonce[3] = { (uint32_t)(r->counter >> 32), 0, 0 };

    chacha20_block(r->key, (uint32_t)r->counter, nonce, out);
    r->counter++;
}

/* Replace the key with fresh keystream.  If stash is set and the buffer is
 * empty, the unused second half of the block refills the buffer. */
static void rng_rekey(struct chacha_rng *r, int stash)
{
    uint8_t tmp[64];

    rng_block(r, tmp);
    for (int i = 0; i < 8; i++)
        r->key[i] = load_le32(tmp + 4 * i);
    r->counter = 0;
    if (stash && r->pos >= sizeof(r->buf)) {
        /* buf[0..31] is already zero (consumed bytes are wiped). */
        memcpy(r->buf + 32, tmp + 32, 32);
        r->pos = 32;
    }
    wipe(tmp, sizeof(tmp));
}

void chacha_rng_init(struct chacha_rng *r, const uint8_t seed[32])
{
    for (int i = 0; i < 8; i++)
        r->key[i] = load_le32(seed + 4 * i);
    r->counter = 0;
    wipe(r->buf, sizeof(r->buf));
    r->pos = sizeof(r->buf);
}

void chacha_rng_fill(struct chacha_rng *r, void *out, size_t n)
{
    uint8_t *p = out;
    unsigned blocks = 0; /* blocks produced with the current key */

    if (r->pos > sizeof(r->buf))
        r->pos = sizeof(r->buf);

    /* Leftover bytes from an earlier block come first. */
    if (n > 0 && r->pos < sizeof(r->buf)) {
        size_t take = sizeof(r->buf) - r->pos;
        if (take > n)
            take = n;
        memcpy(p, r->buf + r->pos, take);
        wipe(r->buf + r->pos, take);
        r->pos += (unsigned)take;
        p += take;
        n -= take;
    }

    /* Whole blocks go straight to the caller. */
    while (n >= 64) {
        rng_block(r, p);
        blocks++;
        p += 64;
        n -= 64;
        if (blocks == CHACHA_RNG_REKEY_BLOCKS) {
            rng_rekey(r, 0);
            blocks = 0;
        }
    }

    /* Tail: generate one block, hand out the front, keep the rest. */
    if (n > 0) {
        rng_block(r, r->buf);
        blocks++;
        memcpy(p, r->buf, n);
        wipe(r->buf, n);
        r->pos = (unsigned)n;
    }

    /* Erase the key that produced this call's output. */
    if (blocks != 0)
        rng_rekey(r, 1);
}
