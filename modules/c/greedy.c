/*
 * greedy: an ABI-2 module that writes more than the buffer it asked for.
 *
 * Methods of memlink_call_v2:
 *   "retry"   when out_cap < 5000, set *out_len to 5000 and return -4; given
 *             a buffer of at least 5000 bytes, write 5050 bytes of 'G' into
 *             it and report 5000, as a module whose size computation is off
 *             would
 *   "small"   return "ok" (the module behaves until asked not to)
 *   other     return -6
 *
 * State: memlink_get_state_size reports 5000 bytes, and
 * memlink_serialize_state writes 5050 bytes of 'S' into the buffer it is
 * given. memlink_deserialize_state accepts anything.
 */
#include <string.h>

#include "memlink.h"

#define ASKED 5000u
#define WRITTEN 5050u

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
    (void)args;
    (void)args_len;
    if (out_len == NULL || (out_cap > 0 && out == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    *out_len = 0;
    if (method_id == memlink_method_id("retry")) {
        if (out_cap < ASKED) {
            *out_len = ASKED;
            return MEMLINK_ERR_OUTPUT_TOO_SMALL;
        }
        memset(out, 'G', WRITTEN);
        *out_len = ASKED;
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("small")) {
        if (out_cap < 2) {
            *out_len = 2;
            return MEMLINK_ERR_OUTPUT_TOO_SMALL;
        }
        memcpy(out, "ok", 2);
        *out_len = 2;
        return MEMLINK_OK;
    }
    return MEMLINK_ERR_UNKNOWN_METHOD;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)method_id;
    (void)args;
    (void)args_len;
    (void)output;
    return MEMLINK_ERR_UNKNOWN_METHOD;
}

MEMLINK_EXPORT size_t memlink_get_state_size(void) { return ASKED; }

MEMLINK_EXPORT int memlink_serialize_state(uint8_t *buf, size_t buf_len) {
    (void)buf_len;
    memset(buf, 'S', WRITTEN);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_deserialize_state(const uint8_t *buf,
                                             size_t len) {
    (void)buf;
    (void)len;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
