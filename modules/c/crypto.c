/*
 * crypto: an ABI-1 module that hashes its arguments.
 *
 * The 32-bit FNV-1a hash of the args bytes is written as 8 lowercase hex
 * digits followed by a NUL. The method id is ignored.
 */
#include "memlink.h"

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
    static const char hex[] = "0123456789abcdef";
    (void)method_id;
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    uint32_t h = 2166136261u;
    for (unsigned long i = 0; i < args_len; i++) {
        h ^= (uint32_t)args[i];
        h *= 16777619u;
    }
    for (int i = 7; i >= 0; i--) {
        output[i] = (unsigned char)hex[h & 0xfu];
        h >>= 4;
    }
    output[8] = 0;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
