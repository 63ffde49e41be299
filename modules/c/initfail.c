/*
 * initfail: an ABI-1 module whose memlink_init always fails with code 42,
 * so a host can test how it reports a failed initialisation. Its call and
 * shutdown exports exist and succeed.
 */
#include "memlink.h"

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    return 42;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)method_id;
    (void)args;
    (void)args_len;
    if (output != NULL) {
        output[0] = 0;
    }
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
