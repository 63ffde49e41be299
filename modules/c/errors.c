/*
 * errors: an ABI-1 module that returns a chosen result code.
 *
 * Methods and their results:
 *   "ok"       0, output "ok"
 *   "general"  -1 (MEMLINK_ERR_GENERAL)
 *   "invalid"  -2 (MEMLINK_ERR_INVALID_ARGS)
 *   "internal" -3 (MEMLINK_ERR_INTERNAL)
 *   "small"    -4 (MEMLINK_ERR_OUTPUT_TOO_SMALL)
 *   "panic"    -5 (MEMLINK_ERR_PANICKED)
 *   "custom"   17 (a module-defined code)
 *   other      -6 (MEMLINK_ERR_UNKNOWN_METHOD)
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
    (void)args;
    (void)args_len;
    if (output == NULL) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    output[0] = 0;
    if (method_id == memlink_method_id("ok")) {
        output[0] = 'o';
        output[1] = 'k';
        output[2] = 0;
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("general")) {
        return MEMLINK_ERR_GENERAL;
    }
    if (method_id == memlink_method_id("invalid")) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (method_id == memlink_method_id("internal")) {
        return MEMLINK_ERR_INTERNAL;
    }
    if (method_id == memlink_method_id("small")) {
        return MEMLINK_ERR_OUTPUT_TOO_SMALL;
    }
    if (method_id == memlink_method_id("panic")) {
        return MEMLINK_ERR_PANICKED;
    }
    if (method_id == memlink_method_id("custom")) {
        return 17;
    }
    return MEMLINK_ERR_UNKNOWN_METHOD;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
