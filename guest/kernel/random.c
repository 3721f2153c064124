/* random.c: the guest's random numbers, seeded once by the host and then generated here without exits. */
#include "guest/lib/chacha.h"
#include "kernel.h"

static struct chacha_rng rng;

void random_init(void)
{
	chacha_rng_init(&rng, boot.seed);
	memset(boot.seed, 0, sizeof(boot.seed));
}

void random_fill(void *buf, size_t n)
{
	chacha_rng_fill(&rng, buf, n);
}
