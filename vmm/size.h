/* size.h: sizes on the command line: bytes with an optional K, M or G suffix. */
#ifndef VMM_SIZE_H
#define VMM_SIZE_H

#include <stdint.h>

/* "256M", "1G", "4096": 0 and *out in bytes, or -1 if s is not a size or overflows. */
int size_parse(const char *s, uint64_t *out);

/* "30s", "2m", "1.5h", "500ms", "10" (seconds): 0 and *ns, or -1 if s is not a duration of 1 ms or more. */
int duration_parse(const char *s, uint64_t *ns);

#endif
