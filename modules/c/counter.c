/*
 * counter: an ABI-1 module with state that survives a hot reload.
 *
 * It keeps one unsigned 64-bit counter. Methods:
 *   "increment"  add 1, write the new value
 *   "get"        write the value
 *   "add"        add the decimal number in args, write the new value
 *   "sleep"      sleep the decimal number of milliseconds in args, then
 *                write the value (a slow call, for drain tests)
 * The counter is updated atomically, so concurrent calls lose no update.
 * Values are written as NUL-terminated decimal strings; any other method
 * returns MEMLINK_ERR_UNKNOWN_METHOD.
 *
 * memlink_init sets the counter to 0, or to the decimal start value given
 * as config when config is not empty.
 *
 * The state is the counter as 8 little-endian bytes. Built with
 * -DCOUNTER_FAIL_RESTORE, memlink_deserialize_state always fails with
 * MEMLINK_ERR_INTERNAL, which lets a host test its reload rollback.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 199309L /* nanosleep, for sleep_ms.h */
#endif

#include "memlink.h"
#include "sleep_ms.h"

static uint64_t counter;

/*
 * parse_u64 reads s[0:n] as an unsigned decimal into *out. Surrounding
 * spaces are allowed. Returns 0 on success, -1 on malformed input or
 * overflow.
 */
static int parse_u64(const unsigned char *s, size_t n, uint64_t *out) {
    size_t i = 0;
    while (i < n && s[i] == ' ') {
        i++;
    }
    uint64_t v = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10u) {
            return -1;
        }
        v = v * 10u + d;
        i++;
        digits++;
    }
    while (i < n && s[i] == ' ') {
        i++;
    }
    if (digits == 0 || i != n) {
        return -1;
    }
    *out = v;
    return 0;
}

/* write_u64 writes v in decimal followed by a NUL to out. */
static void write_u64(uint64_t v, unsigned char *out) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    size_t o = 0;
    while (n > 0) {
        out[o++] = (unsigned char)tmp[--n];
    }
    out[o] = 0;
}

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    __atomic_store_n(&counter, 0, __ATOMIC_SEQ_CST);
    if (config_len == 0) {
        return MEMLINK_OK;
    }
    if (config == NULL) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    uint64_t start;
    if (parse_u64(config, (size_t)config_len, &start) != 0) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    __atomic_store_n(&counter, start, __ATOMIC_SEQ_CST);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    if (output == NULL) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    uint64_t value;
    if (method_id == memlink_method_id("increment")) {
        value = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
    } else if (method_id == memlink_method_id("get")) {
        value = __atomic_load_n(&counter, __ATOMIC_SEQ_CST);
    } else if (method_id == memlink_method_id("add")) {
        uint64_t delta;
        if (args == NULL ||
            parse_u64(args, (size_t)args_len, &delta) != 0) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        value = __atomic_add_fetch(&counter, delta, __ATOMIC_SEQ_CST);
    } else if (method_id == memlink_method_id("sleep")) {
        uint64_t ms;
        if (args == NULL || parse_u64(args, (size_t)args_len, &ms) != 0) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        sleep_ms(ms);
        value = __atomic_load_n(&counter, __ATOMIC_SEQ_CST);
    } else {
        return MEMLINK_ERR_UNKNOWN_METHOD;
    }
    write_u64(value, output);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }

MEMLINK_EXPORT size_t memlink_get_state_size(void) { return 8; }

MEMLINK_EXPORT int memlink_serialize_state(uint8_t *buf, size_t buf_len) {
    if (buf == NULL || buf_len < 8) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    for (int i = 0; i < 8; i++) {
        buf[i] = (uint8_t)(counter >> (8 * i));
    }
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_deserialize_state(const uint8_t *buf, size_t len) {
#ifdef COUNTER_FAIL_RESTORE
    (void)buf;
    (void)len;
    return MEMLINK_ERR_INTERNAL;
#else
    if (buf == NULL || len != 8) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)buf[i] << (8 * i);
    }
    counter = v;
    return MEMLINK_OK;
#endif
}
