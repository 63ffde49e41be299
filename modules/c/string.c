/*
 * string: an ABI-1 module that uppercases text.
 *
 * args is copied to output with ASCII letters a-z turned into A-Z, followed
 * by a NUL. Other bytes pass through unchanged. The method id is ignored.
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
    (void)method_id;
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    for (unsigned long i = 0; i < args_len; i++) {
        unsigned char c = args[i];
        output[i] = (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
    }
    output[args_len] = 0;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
