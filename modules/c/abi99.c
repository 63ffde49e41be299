/*
 * abi99: a module that claims an ABI revision no host knows.
 *
 * Its ABI-1 exports work (memlink_call echoes its arguments), but
 * memlink_abi_version returns 99, so a host must refuse to load it.
 */
#include <string.h>

#include "memlink.h"

MEMLINK_EXPORT uint32_t memlink_abi_version(void) { return 99; }

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
