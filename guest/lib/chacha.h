/* chacha.h - ChaCha20 block function (RFC 8439) and a fast-key-erasure RNG for getrandom(). */
#ifndef LBVM_GUEST_CHACHA_H
#define LBVM_GUEST_CHACHA_H

#include <stddef.h>
#include <stdint.h>

/*
 * RNG state.  key is replaced ("erased") with fresh keystream at the end of
 * every fill call that generated keystream and after every 1 KiB of output
 * produced with one key, so a later compromise of the state cannot
 * reconstruct bytes already returned.  buf[pos..63] holds not-yet-returned
 * bytes; bytes are zeroed as soon as they are handed out.
 *
 * The output stream is deterministic for a given seed and a given sequence
 * of fill sizes, but is NOT independent of how requests are split across
 * calls (fill(a)+fill(b) != fill(a+b) in general).
 */
struct chacha_rng {
    uint32_t key[8];
    uint64_t counter;
    uint8_t buf[64];
    unsigned pos;
};

/* RFC 8439 section 2.3 block function: 20 rounds, 64 bytes of keystream. */
void chacha20_block(const uint32_t key[8], uint32_t counter,
                    const uint32_t nonce[3], uint8_t out[64]);

/* Seed is read as eight little-endian 32-bit key words. */
void chacha_rng_init(struct chacha_rng *r, const uint8_t seed[32]);
void chacha_rng_fill(struct chacha_rng *r, void *out, size_t n);

#endif /* LBVM_GUEST_CHACHA_H */
