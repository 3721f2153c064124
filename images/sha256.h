/* sha256.h: SHA-256 (FIPS 180-4), streaming, with no libc so any side of lbvm can use it. */
#ifndef IMAGES_SHA256_H
#define IMAGES_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST 32
#define SHA256_HEX (2 * SHA256_DIGEST + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t total;      /* bytes hashed so far */
	uint8_t block[64];
	size_t used;         /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finish and write the digest; s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST]);
/* One call for a whole buffer. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST]);
/* Lower-case hex, NUL-terminated. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST], char out[SHA256_HEX]);

#endif
