/*
 * math: an ABI-1 module that adds two integers.
 *
 * args is "a,b": two decimal signed 64-bit integers, each optionally signed
 * and surrounded by spaces. The sum is written as a NUL-terminated decimal
 * string. Malformed input, an out-of-range operand or an overflowing sum
 * returns MEMLINK_ERR_INVALID_ARGS. The method id is ignored.
 */
#include "memlink.h"

/* write_i64 writes v in decimal followed by a NUL to out. */
static void write_i64(int64_t v, unsigned char *out) {
    char tmp[24];
    size_t n = 0;
    /* Work on the unsigned magnitude so INT64_MIN is handled. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0);
    size_t o = 0;
    if (v < 0) {
        out[o++] = '-';
    }
    while (n > 0) {
        out[o++] = (unsigned char)tmp[--n];
    }
    out[o] = 0;
}

/* skip_spaces advances *i past spaces and tabs in s[0:n]. */
static void skip_spaces(const unsigned char *s, size_t n, size_t *i) {
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t')) {
        (*i)++;
    }
}

/*
 * parse_i64 reads an optionally signed decimal at s[*i:n] into *out.
 * Returns 0 on success, -1 when there are no digits or the value overflows.
 */
static int parse_i64(const unsigned char *s, size_t n, size_t *i,
                     int64_t *out) {
    int neg = 0;
    if (*i < n && (s[*i] == '+' || s[*i] == '-')) {
        neg = s[*i] == '-';
        (*i)++;
    }
    /* Accumulate the magnitude as unsigned so INT64_MIN parses. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    size_t digits = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        uint64_t d = (uint64_t)(s[*i] - '0');
        if (v > (limit - d) / 10u) {
            return -1;
        }
        v = v * 10u + d;
        (*i)++;
        digits++;
    }
    if (digits == 0) {
        return -1;
    }
    if (neg) {
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    } else {
        *out = (int64_t)v;
    }
    return 0;
}

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)method_id;
    if (args == NULL || output == NULL) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    size_t n = (size_t)args_len;
    size_t i = 0;
    int64_t a, b;

    skip_spaces(args, n, &i);
    if (parse_i64(args, n, &i, &a) != 0) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    skip_spaces(args, n, &i);
    if (i >= n || args[i] != ',') {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    i++;
    skip_spaces(args, n, &i);
    if (parse_i64(args, n, &i, &b) != 0) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    skip_spaces(args, n, &i);
    if (i != n) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    write_i64(a + b, output);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
