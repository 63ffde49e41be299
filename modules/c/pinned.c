/*
 * pinned: an ABI-1 module that keeps itself mapped after it is unloaded,
 * as a module does that is linked with -z nodelete or whose thread-local
 * destructors glibc must keep (C++ thread_local objects, Rust's std). Every
 * method answers "pinned", so that a host can tell when a later load got
 * this image back instead of the file it asked for.
 */
#define _GNU_SOURCE
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include "memlink.h"

static int pin_self(void) {
#ifdef _WIN32
    HMODULE m;
    return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                              (LPCSTR)(void *)pin_self, &m) ? 1 : 0;
#else
    Dl_info info;
    if (dladdr((void *)pin_self, &info) == 0 || info.dli_fname == NULL) {
        return 0;
    }
    /* RTLD_NODELETE on an image already loaded marks it never to unmap. */
    return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != NULL;
#endif
}

MEMLINK_EXPORT int memlink_init(const unsigned char *config, unsigned long config_len) {
    (void)config;
    (void)config_len;
    return pin_self() ? MEMLINK_OK : MEMLINK_ERR_INTERNAL;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id, const unsigned char *args,
                                unsigned long args_len, unsigned char *output) {
    (void)method_id;
    (void)args;
    (void)args_len;
    memcpy(output, "pinned", 7);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
