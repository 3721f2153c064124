/* fmt.h - freestanding snprintf-style formatting (integers, chars, strings, pointers; no floats). */
#ifndef LBVM_GUEST_FMT_H
#define LBVM_GUEST_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * C99 semantics: returns the number of characters that would have been
 * written had size been large enough (excluding the NUL), and always
 * NUL-terminates when size > 0.  buf may be NULL when size is 0.
 * Returns -1 if the result would exceed INT_MAX.
 *
 * Supported: %d %i %u %x %X %o %c %s %p %%, length modifiers hh h l ll z j t,
 * flags - 0 + space #, width and precision (including '*').  %s of NULL
 * prints "(null)", %p of NULL prints "(nil)".  Floating point is not
 * supported; an unknown conversion is printed verbatim and consumes no
 * argument.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* LBVM_GUEST_FMT_H */
