/*
 * sleep: an ABI-1 module with a slow method, for testing timeouts and
 * concurrency.
 *
 * Method "sleep": args is a decimal number of milliseconds (args_len bytes,
 * not NUL-terminated). The module sleeps that long, then writes "slept"
 * (NUL-terminated). Malformed args return MEMLINK_ERR_INVALID_ARGS.
 * Any other method echoes its args like the echo module.
 *
 * memlink_shutdown returns MEMLINK_ERR_INTERNAL when it runs a second time
 * on one image, so that a host which ends one instance twice is caught.
 * Initialised with the configuration "slow-shutdown", memlink_shutdown
 * first sleeps 3 seconds.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 199309L
#endif

#include <string.h>

#include "memlink.h"
#include "sleep_ms.h"

static int slow_shutdown;

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    static const char slow[] = "slow-shutdown";
    slow_shutdown = config_len == sizeof slow - 1 &&
                    memcmp(config, slow, sizeof slow - 1) == 0;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    if (method_id != memlink_method_id("sleep")) {
        if (args_len > 0) {
            memcpy(output, args, (size_t)args_len);
        }
        return MEMLINK_OK;
    }
    uint64_t ms = 0;
    if (args_len == 0) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    for (unsigned long i = 0; i < args_len; i++) {
        if (args[i] < '0' || args[i] > '9') {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        /* Cap at about 11 days: plenty for a test, no overflow. */
        if (ms > 1000000000u) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        ms = ms * 10u + (uint64_t)(args[i] - '0');
    }
    sleep_ms(ms);
    memcpy(output, "slept", 6);
    return MEMLINK_OK;
}

static int shut_down;

MEMLINK_EXPORT int memlink_shutdown(void) {
    if (slow_shutdown) {
        sleep_ms(3000);
    }
    if (shut_down++) {
        return MEMLINK_ERR_INTERNAL;
    }
    return MEMLINK_OK;
}
