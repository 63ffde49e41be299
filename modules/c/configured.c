/*
 * configured: an ABI-1 module that remembers its configuration.
 *
 * memlink_init keeps a copy of config; more than 1024 bytes returns
 * MEMLINK_ERR_INVALID_ARGS. Method "config" writes the stored bytes
 * followed by a NUL; any other method returns MEMLINK_ERR_UNKNOWN_METHOD.
 */
#include <string.h>

#include "memlink.h"

#define CONFIG_MAX 1024

static unsigned char stored[CONFIG_MAX];
static size_t stored_len;

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    stored_len = 0;
    if (config_len > CONFIG_MAX) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (config_len > 0) {
        if (config == NULL) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        memcpy(stored, config, (size_t)config_len);
    }
    stored_len = (size_t)config_len;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)args;
    (void)args_len;
    if (output == NULL) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (method_id != memlink_method_id("config")) {
        return MEMLINK_ERR_UNKNOWN_METHOD;
    }
    if (stored_len > 0) {
        memcpy(output, stored, stored_len);
    }
    output[stored_len] = 0;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
