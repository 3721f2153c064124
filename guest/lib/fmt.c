/* fmt.c - freestanding kvsnprintf/ksnprintf implementation with C99 return and truncation semantics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kstring.h"
#include "fmt.h"

/* Output sink: counts every character, stores only what fits. */
struct fmt_out {
    char *buf;
    size_t size;
    size_t len;
};

static void out_char(struct fmt_out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_mem(struct fmt_out *o, const char *s, size_t n)
{
    if (o->len + 1 < o->size) {
        size_t room = o->size - 1 - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void out_pad(struct fmt_out *o, char c, size_t n)
{
    if (o->len + 1 < o->size) {
        size_t room = o->size - 1 - o->len;
        memset(o->buf + o->len, c, n < room ? n : room);
    }
    o->len += n;
}

enum {
    F_LEFT = 1u << 0,  /* '-' */
    F_ZERO = 1u << 1,  /* '0' */
    F_PLUS = 1u << 2,  /* '+' */
    F_SPACE = 1u << 3, /* ' ' */
    F_ALT = 1u << 4,   /* '#' */
};

enum fmt_len { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T };

struct fmt_spec {
    unsigned flags;
    int width;     /* minimum field width, >= 0 */
    int prec;      /* precision, -1 if none */
    enum fmt_len len;
};

/* Emit a string field (already limited to n bytes) with width padding.
 * As in glibc, the '0' flag does not zero-pad strings or characters. */
static void out_field(struct fmt_out *o, const struct fmt_spec *sp,
                      const char *s, size_t n)
{
    size_t pad = (size_t)sp->width > n ? (size_t)sp->width - n : 0;

    if (!(sp->flags & F_LEFT))
        out_pad(o, ' ', pad);
    out_mem(o, s, n);
    if (sp->flags & F_LEFT)
        out_pad(o, ' ', pad);
}

/*
 * Emit an integer.  mag is the magnitude, neg whether the value was
 * negative, sign_ok whether '+'/' ' apply (signed conversions and %p),
 * upper selects X digits, prefix0x forces a 0x/0X prefix when mag != 0
 * (for '#' with x/X and for %p).
 */
static void out_int(struct fmt_out *o, const struct fmt_spec *sp,
                    uintmax_t mag, int neg, int sign_ok, unsigned base,
                    int upper, int prefix0x)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[sizeof(uintmax_t) * 3 + 1]; /* enough for octal */
    size_t nd = 0;
    char sign = 0;
    const char *prefix = "";
    size_t plen = 0;
    size_t prec;
    size_t body, total;
    int nonzero = mag != 0;

    /* Digits, least significant first.  Zero with precision 0 prints none. */
    if (mag != 0 || sp->prec != 0) {
        do {
            tmp[nd++] = digits[mag % base];
            mag /= base;
        } while (mag != 0);
    }

    /* Precision: minimum number of digits (default 1, already covered). */
    prec = sp->prec > 0 ? (size_t)sp->prec : 0;
    if (prec < nd)
        prec = nd;

    /* '#' with octal: make sure the first digit is a 0. */
    if (base == 8 && (sp->flags & F_ALT) && (nd == 0 || tmp[nd - 1] != '0')
        && prec <= nd)
        prec = nd + 1;

    if (neg)
        sign = '-';
    else if (sign_ok && (sp->flags & F_PLUS))
        sign = '+';
    else if (sign_ok && (sp->flags & F_SPACE))
        sign = ' ';

    if (prefix0x && nonzero) {
        prefix = upper ? "0X" : "0x";
        plen = 2;
    }

    body = (sign ? 1u : 0u) + plen + prec;
    total = (size_t)sp->width > body ? (size_t)sp->width : body;

    if (sp->flags & F_LEFT) {
        if (sign)
            out_char(o, sign);
        out_mem(o, prefix, plen);
        out_pad(o, '0', prec - nd);
        while (nd > 0)
            out_char(o, tmp[--nd]);
        out_pad(o, ' ', total - body);
    } else if ((sp->flags & F_ZERO) && sp->prec < 0) {
        if (sign)
            out_char(o, sign);
        out_mem(o, prefix, plen);
        out_pad(o, '0', (prec - nd) + (total - body));
        while (nd > 0)
            out_char(o, tmp[--nd]);
    } else {
        out_pad(o, ' ', total - body);
        if (sign)
            out_char(o, sign);
        out_mem(o, prefix, plen);
        out_pad(o, '0', prec - nd);
        while (nd > 0)
            out_char(o, tmp[--nd]);
    }
}

static intmax_t get_signed(enum fmt_len len, va_list *ap)
{
    switch (len) {
    case L_HH: return (signed char)va_arg(*ap, int);
    case L_H:  return (short)va_arg(*ap, int);
    case L_L:  return va_arg(*ap, long);
    case L_LL: return va_arg(*ap, long long);
    case L_Z:  return va_arg(*ap, ptrdiff_t); /* signed counterpart of size_t */
    case L_J:  return va_arg(*ap, intmax_t);
    case L_T:  return va_arg(*ap, ptrdiff_t);
    case L_NONE:
    default:   return va_arg(*ap, int);
    }
}

static uintmax_t get_unsigned(enum fmt_len len, va_list *ap)
{
    switch (len) {
    case L_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case L_H:  return (unsigned short)va_arg(*ap, unsigned int);
    case L_L:  return va_arg(*ap, unsigned long);
    case L_LL: return va_arg(*ap, unsigned long long);
    case L_Z:  return va_arg(*ap, size_t);
    case L_J:  return va_arg(*ap, uintmax_t);
    case L_T:  return (size_t)va_arg(*ap, ptrdiff_t);
    case L_NONE:
    default:   return va_arg(*ap, unsigned int);
    }
}

/* Parse a decimal number, saturating at INT_MAX-ish to avoid overflow. */
static int parse_num(const char **pp)
{
    const char *p = *pp;
    int v = 0;

    while (*p >= '0' && *p <= '9') {
        int d = *p - '0';
        if (v <= (0x7fffffff - d) / 10)
            v = v * 10 + d;
        else
            v = 0x7fffffff;
        p++;
    }
    *pp = p;
    return v;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct fmt_out o = { buf, size, 0 };
    va_list ap;
    const char *p = fmt;

    va_copy(ap, ap_in);

    while (*p) {
        const char *start;
        const char *lit = p;
        struct fmt_spec sp;

        while (*p && *p != '%')
            p++;
        if (p != lit)
            out_mem(&o, lit, (size_t)(p - lit));
        if (*p == '\0')
            break;

        start = p++; /* skip '%' */
        sp.flags = 0;
        sp.width = 0;
        sp.prec = -1;
        sp.len = L_NONE;

        /* Flags. */
        for (;; p++) {
            if (*p == '-')
                sp.flags |= F_LEFT;
            else if (*p == '0')
                sp.flags |= F_ZERO;
            else if (*p == '+')
                sp.flags |= F_PLUS;
            else if (*p == ' ')
                sp.flags |= F_SPACE;
            else if (*p == '#')
                sp.flags |= F_ALT;
            else
                break;
        }

        /* Width. */
        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            if (w < 0) {
                sp.flags |= F_LEFT;
                w = (w == -0x7fffffff - 1) ? 0x7fffffff : -w;
            }
            sp.width = w;
        } else {
            sp.width = parse_num(&p);
        }

        /* Precision. */
        if (*p == '.') {
            p++;
            if (*p == '*') {
                int pr = va_arg(ap, int);
                p++;
                sp.prec = pr < 0 ? -1 : pr;
            } else {
                sp.prec = parse_num(&p);
            }
        }

        /* Length modifier. */
        switch (*p) {
        case 'h':
            p++;
            if (*p == 'h') {
                p++;
                sp.len = L_HH;
            } else {
                sp.len = L_H;
            }
            break;
        case 'l':
            p++;
            if (*p == 'l') {
                p++;
                sp.len = L_LL;
            } else {
                sp.len = L_L;
            }
            break;
        case 'z': p++; sp.len = L_Z; break;
        case 'j': p++; sp.len = L_J; break;
        case 't': p++; sp.len = L_T; break;
        default: break;
        }

        if (sp.flags & F_LEFT)
            sp.flags &= ~(unsigned)F_ZERO;
        if (sp.flags & F_PLUS)
            sp.flags &= ~(unsigned)F_SPACE;

        switch (*p) {
        case 'd':
        case 'i': {
            intmax_t v = get_signed(sp.len, &ap);
            uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
            out_int(&o, &sp, mag, v < 0, 1, 10, 0, 0);
            break;
        }
        case 'u':
            out_int(&o, &sp, get_unsigned(sp.len, &ap), 0, 0, 10, 0, 0);
            break;
        case 'x':
        case 'X':
            out_int(&o, &sp, get_unsigned(sp.len, &ap), 0, 0, 16,
                    *p == 'X', (sp.flags & F_ALT) != 0);
            break;
        case 'o':
            out_int(&o, &sp, get_unsigned(sp.len, &ap), 0, 0, 8, 0, 0);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            out_field(&o, &sp, &c, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n;
            if (s == NULL) {
                /* glibc prints nothing if the precision cannot fit "(null)". */
                s = (sp.prec < 0 || sp.prec >= 6) ? "(null)" : "";
            }
            n = sp.prec < 0 ? strlen(s) : strnlen(s, (size_t)sp.prec);
            out_field(&o, &sp, s, n);
            break;
        }
        case 'p': {
            const void *ptr = va_arg(ap, const void *);
            if (ptr == NULL) {
                out_field(&o, &sp, "(nil)", 5);
            } else {
                out_int(&o, &sp, (uintptr_t)ptr, 0, 1, 16, 0, 1);
            }
            break;
        }
        case '%':
            out_char(&o, '%');
            break;
        case '\0':
            /* Format ends inside a conversion: print what we have. */
            out_mem(&o, start, (size_t)(p - start));
            continue;
        default:
            /* Unknown conversion: print it verbatim. */
            out_mem(&o, start, (size_t)(p + 1 - start));
            break;
        }
        p++;
    }

    va_end(ap);

    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    if (o.len > 0x7fffffff)
        return -1;
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}
