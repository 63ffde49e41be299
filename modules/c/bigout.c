/*
 * bigout: an ABI-2 module that hands large results over to the host
 * (docs/abi.md, "Large outputs: the hand-over"), with a counter that shows
 * how often a method really ran.
 *
 * Methods of memlink_call_v2:
 *   "big"       args is a decimal size n; add 1 to the counter and return n
 *               bytes: the new count in decimal, then '.' up to n bytes
 *               (n is at least 20). Handed over when it does not fit
 *               out_cap and the host announced the hand-over, else -4
 *               with the size (and the retry counts again).
 *   "get"       return the counter in decimal
 *   "announced" return "1" if the host announced the hand-over, else "0"
 *   "releases"  return how many handed-over results were released, then
 *               ",", then how many are still out
 *   "lie_null"  hand over a NULL pointer with a length of 10
 *   "lie_size"  hand over a real buffer but set *out_len to 3
 *   "lie_huge"  hand over a real 16-byte buffer with a length of 2^40
 *               (a host must not read it: it is above any WithMaxOutput)
 *
 * Built with -DBIGOUT_NO_RELEASE it does not export memlink_release_output
 * (so it is never announced to) but "big" returns -7 regardless, as a
 * module that skipped step 1 would.
 */
#include <stdlib.h>
#include <string.h>

#include "memlink.h"

static uint64_t count;
static int announced;
static uint64_t released, outstanding;

/* parse_size reads s[0:n] as an unsigned decimal; -1 on malformed input. */
static int parse_size(const uint8_t *s, size_t n, size_t *out) {
    size_t v = 0;
    if (n == 0 || n > 12) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10u + (size_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* put_u64 writes v in decimal to out (room for 20 bytes), returns length. */
static size_t put_u64(uint64_t v, uint8_t *out) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)tmp[n - 1 - i];
    }
    return n;
}

/* reply copies b[0:n] into out or reports -4. */
static int reply(const uint8_t *b, size_t n, uint8_t *out, size_t cap,
                 size_t *out_len) {
    *out_len = n;
    if (n > cap) {
        return MEMLINK_ERR_OUTPUT_TOO_SMALL;
    }
    memcpy(out, b, n);
    return MEMLINK_OK;
}

/* hand_over stores a descriptor for ptr[0:len] in out. */
static int hand_over(uint8_t *ptr, size_t len, size_t desc_len, uint8_t *out,
                     size_t *out_len) {
    memlink_output d = {ptr, len};
    memcpy(out, &d, sizeof d);
    *out_len = desc_len;
    if (ptr != NULL) {
        __atomic_add_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
    }
    return MEMLINK_OUTPUT_HANDED_OVER;
}

MEMLINK_EXPORT uint32_t memlink_abi_version(void) { return 2; }

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    __atomic_store_n(&count, 0, __ATOMIC_SEQ_CST);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call_v2(uint32_t method_id, const uint8_t *args,
                                   size_t args_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len) {
    if (out_len == NULL || (args_len > 0 && args == NULL) ||
        (out_cap > 0 && out == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    *out_len = 0;
    uint8_t num[24];
    if (method_id == memlink_method_id("big")) {
        size_t n;
        if (parse_size(args, args_len, &n) != 0 || n < 20) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        uint64_t v = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
        uint8_t *b = malloc(n);
        if (b == NULL) {
            return MEMLINK_ERR_INTERNAL;
        }
        memset(b, '.', n);
        put_u64(v, b);
#ifdef BIGOUT_NO_RELEASE
        int can = out_cap >= sizeof(memlink_output);
#else
        int can = __atomic_load_n(&announced, __ATOMIC_SEQ_CST) &&
                  out_cap >= sizeof(memlink_output);
#endif
        if (can) {
            return hand_over(b, n, sizeof(memlink_output), out, out_len);
        }
        int rc = reply(b, n, out, out_cap, out_len);
        free(b);
        return rc;
    }
    if (method_id == memlink_method_id("get")) {
        size_t n = put_u64(__atomic_load_n(&count, __ATOMIC_SEQ_CST), num);
        return reply(num, n, out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("announced")) {
        num[0] = __atomic_load_n(&announced, __ATOMIC_SEQ_CST) ? '1' : '0';
        return reply(num, 1, out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("releases")) {
        size_t n = put_u64(__atomic_load_n(&released, __ATOMIC_SEQ_CST), num);
        num[n++] = ',';
        n += put_u64(__atomic_load_n(&outstanding, __ATOMIC_SEQ_CST), num + n);
        return reply(num, n, out, out_cap, out_len);
    }
    if (out_cap < sizeof(memlink_output)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (method_id == memlink_method_id("lie_null")) {
        return hand_over(NULL, 10, sizeof(memlink_output), out, out_len);
    }
    if (method_id == memlink_method_id("lie_size")) {
        uint8_t *b = malloc(16);
        if (b == NULL) {
            return MEMLINK_ERR_INTERNAL;
        }
        memset(b, 'x', 16);
        return hand_over(b, 16, 3, out, out_len);
    }
    if (method_id == memlink_method_id("lie_huge")) {
        uint8_t *b = malloc(16);
        if (b == NULL) {
            return MEMLINK_ERR_INTERNAL;
        }
        return hand_over(b, (size_t)1 << 40, sizeof(memlink_output), out,
                         out_len);
    }
    return MEMLINK_ERR_UNKNOWN_METHOD;
}

#ifndef BIGOUT_NO_RELEASE
MEMLINK_EXPORT void memlink_release_output(uint8_t *ptr, size_t len) {
    (void)len;
    if (ptr == NULL) {
        __atomic_store_n(&announced, 1, __ATOMIC_SEQ_CST);
        return;
    }
    free(ptr);
    __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
}
#endif

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
