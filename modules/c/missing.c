/*
 * missing: a module without memlink_call (and without memlink_call_v2).
 *
 * It exports only memlink_init and memlink_shutdown, so a host must refuse
 * to load it and name the missing symbol.
 */
#include "memlink.h"

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
