/*
 * echo: an ABI-1 module that returns its arguments unchanged.
 *
 * Every method id behaves the same: the args_len bytes of args are copied to
 * output as they are, with no NUL appended. The caller must keep args within
 * the output capacity it provides.
 */
#include <string.h>

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
    if (args_len > 0 && (args == NULL || output == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (args_len > 0) {
        memcpy(output, args, (size_t)args_len);
    }
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
