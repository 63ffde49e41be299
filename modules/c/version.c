/*
 * version: an ABI-1 module that reports which build it is.
 *
 * Every method, "version" included, writes "v" followed by the value of the
 * MODULE_VERSION macro (1 unless defined on the command line) as a
 * NUL-terminated string, e.g. "v1" or "v2". Two builds with different
 * MODULE_VERSION values let a host test hot reload.
 */
#include <string.h>

#include "memlink.h"

#ifndef MODULE_VERSION
#define MODULE_VERSION 1
#endif

#define VERSION_STR2(x) #x
#define VERSION_STR(x) VERSION_STR2(x)

static const char version_text[] = "v" VERSION_STR(MODULE_VERSION);

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
    /* "version" and every other method give the same answer. */
    (void)method_id;
    memcpy(output, version_text, sizeof version_text);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
