/*
 * binary: an ABI-2 module that exercises memlink_call_v2.
 *
 * Methods of memlink_call_v2:
 *   "echo"    return args exactly, NUL bytes included; when args do not fit
 *             in out_cap, set *out_len to args_len and return -4
 *   "repeat"  args is a little-endian uint64 n (8 bytes); return n bytes
 *             where byte i is (uint8_t)(i*31+7); when n > out_cap, set
 *             *out_len to n and return -4
 *   "fail"    return 7 with the message "custom failure"
 *   "panic"   return -5 with the message "boom"
 *   "liar"    return 0 but claim *out_len = out_cap + 100, which a host
 *             must refuse to believe
 *   other     return -6 with the message "unknown method"
 *
 * It also exports the ABI-1 memlink_call, which echoes like the echo module.
 */
#include <string.h>

#include "memlink.h"

/* put_message copies msg into out, bounded by cap, and sets *out_len. */
static void put_message(const char *msg, uint8_t *out, size_t cap,
                        size_t *out_len) {
    size_t n = strlen(msg);
    if (n > cap) {
        n = cap;
    }
    if (n > 0 && out != NULL) {
        memcpy(out, msg, n);
    } else {
        n = 0;
    }
    *out_len = n;
}

MEMLINK_EXPORT uint32_t memlink_abi_version(void) { return 2; }

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
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

    if (method_id == memlink_method_id("echo")) {
        if (args_len > out_cap) {
            *out_len = args_len;
            return MEMLINK_ERR_OUTPUT_TOO_SMALL;
        }
        if (args_len > 0) {
            memcpy(out, args, args_len);
        }
        *out_len = args_len;
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("repeat")) {
        if (args_len != 8) {
            put_message("repeat wants an 8-byte count", out, out_cap, out_len);
            return MEMLINK_ERR_INVALID_ARGS;
        }
        uint64_t n = 0;
        for (int i = 0; i < 8; i++) {
            n |= (uint64_t)args[i] << (8 * i);
        }
        if (n > (uint64_t)SIZE_MAX) {
            put_message("count too large", out, out_cap, out_len);
            return MEMLINK_ERR_INVALID_ARGS;
        }
        if (n > (uint64_t)out_cap) {
            *out_len = (size_t)n;
            return MEMLINK_ERR_OUTPUT_TOO_SMALL;
        }
        for (uint64_t i = 0; i < n; i++) {
            out[i] = (uint8_t)(i * 31u + 7u);
        }
        *out_len = (size_t)n;
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("fail")) {
        put_message("custom failure", out, out_cap, out_len);
        return 7;
    }
    if (method_id == memlink_method_id("panic")) {
        put_message("boom", out, out_cap, out_len);
        return MEMLINK_ERR_PANICKED;
    }
    if (method_id == memlink_method_id("liar")) {
        *out_len = out_cap + 100;
        return MEMLINK_OK;
    }
    put_message("unknown method", out, out_cap, out_len);
    return MEMLINK_ERR_UNKNOWN_METHOD;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)method_id;
    if (args_len > 0 && (args == NULL || output == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (args_len > 0) {
        memcpy(output, args, (size_t)args_len);
    }
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
