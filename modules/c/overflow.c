/*
 * overflow: an ABI-1 module that writes more than it is allowed to.
 *
 * It fills output with N bytes of 'A' and no NUL, where N is the decimal
 * number in args, or 4160 when args are empty. With the default N it
 * writes 64 bytes past the 4096-byte ABI-1 output buffer, which lets a host
 * test that it detects the overrun. Malformed args return
 * MEMLINK_ERR_INVALID_ARGS.
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
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    size_t n = 4160;
    if (args_len > 0) {
        n = 0;
        for (unsigned long i = 0; i < args_len; i++) {
            if (args[i] < '0' || args[i] > '9' || n > 100000000u) {
                return MEMLINK_ERR_INVALID_ARGS;
            }
            n = n * 10u + (size_t)(args[i] - '0');
        }
    }
    memset(output, 'A', n);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
