/*
 * hostmisuse: an ABI-2 module that misuses its host table, for testing
 * that the host survives it.
 *
 * Methods of memlink_call_v2 (each returns the host's code as text):
 *   "unknown"  calls a host function id nobody registered
 *   "huge"     calls "kv.get" claiming SIZE_MAX bytes of args
 *   "nolen"    calls "kv.get" with a NULL out_len
 *   "nullargs" calls "kv.get" with NULL args and a length of 5
 *   "badlog"   logs a NULL message of 5 bytes, then one of 1 MiB + 1 bytes
 *              of 'x' (which the host cuts), then returns "0"
 *   "later"    args is a file path. Starts a thread that waits until the
 *              module has been shut down, then, after 100 ms, logs and
 *              calls "kv.get" through a copy of the table and through the
 *              table pointer it kept, and writes "copy=<rc> kept=<rc>\n" to
 *              the file. The module pins itself in memory first, so that
 *              the thread's code outlives the unload.
 */
#ifndef _WIN32
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#endif

#include "memlink.h"

static const memlink_host *host;
static memlink_host copy;
static volatile int shut_down;
static char later_path[1024];

MEMLINK_EXPORT int memlink_host_bind(const memlink_host *h) {
    host = h;
    copy = *h;
    return 0;
}

MEMLINK_EXPORT uint32_t memlink_abi_version(void) { return 2; }

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) {
    shut_down = 1;
    return MEMLINK_OK;
}

static void nap(int ms) {
#ifdef _WIN32
    Sleep((DWORD)ms);
#else
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
#endif
}

static int pin_self(void) {
#ifdef _WIN32
    HMODULE m;
    return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                  GET_MODULE_HANDLE_EX_FLAG_PIN,
                              (LPCSTR)(void *)pin_self, &m)
               ? 1
               : 0;
#else
    Dl_info info;
    if (dladdr((void *)pin_self, &info) == 0 || info.dli_fname == NULL) {
        return 0;
    }
    return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != NULL;
#endif
}

#ifdef _WIN32
static DWORD WINAPI later(LPVOID p) {
#else
static void *later(void *p) {
#endif
    (void)p;
    while (!shut_down) {
        nap(10);
    }
    nap(100);
    uint8_t out[64];
    size_t n = 0;
    copy.log(copy.ctx, MEMLINK_LOG_WARN, (const uint8_t *)"late", 4);
    int32_t a = copy.call(copy.ctx, memlink_method_id("kv.get"),
                          (const uint8_t *)"k", 1, out, sizeof out, &n);
    host->log(host->ctx, MEMLINK_LOG_WARN, (const uint8_t *)"late", 4);
    int32_t b = host->call(host->ctx, memlink_method_id("kv.get"),
                           (const uint8_t *)"k", 1, out, sizeof out, &n);
    FILE *f = fopen(later_path, "w");
    if (f != NULL) {
        fprintf(f, "copy=%d kept=%d\n", (int)a, (int)b);
        fclose(f);
    }
#ifdef _WIN32
    return 0;
#else
    return NULL;
#endif
}

static int start_later(void) {
    if (!pin_self()) {
        return 0;
    }
#ifdef _WIN32
    HANDLE t = CreateThread(NULL, 0, later, NULL, 0, NULL);
    if (t == NULL) {
        return 0;
    }
    CloseHandle(t);
#else
    pthread_t t;
    if (pthread_create(&t, NULL, later, NULL) != 0) {
        return 0;
    }
    pthread_detach(t);
#endif
    return 1;
}

static int answer(int32_t rc, uint8_t *out, size_t cap, size_t *out_len) {
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", (int)rc);
    if (n < 0 || (size_t)n > cap) {
        return MEMLINK_ERR_OUTPUT_TOO_SMALL;
    }
    memcpy(out, buf, (size_t)n);
    *out_len = (size_t)n;
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call_v2(uint32_t method_id, const uint8_t *args,
                                   size_t args_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len) {
    uint8_t buf[64];
    size_t n = 0;
    uint32_t get = memlink_method_id("kv.get");
    *out_len = 0;
    if (method_id == memlink_method_id("unknown")) {
        return answer(host->call(host->ctx, 0x12345678u, args, args_len, buf,
                                 sizeof buf, &n),
                      out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("huge")) {
        return answer(host->call(host->ctx, get, args, SIZE_MAX, buf,
                                 sizeof buf, &n),
                      out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("nolen")) {
        return answer(host->call(host->ctx, get, (const uint8_t *)"k", 1, buf,
                                 sizeof buf, NULL),
                      out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("nullargs")) {
        return answer(host->call(host->ctx, get, NULL, 5, buf, sizeof buf, &n),
                      out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("badlog")) {
        host->log(host->ctx, MEMLINK_LOG_INFO, NULL, 5);
        size_t big = (1u << 20) + 1;
        uint8_t *x = malloc(big);
        if (x == NULL) {
            return MEMLINK_ERR_INTERNAL;
        }
        memset(x, 'x', big);
        host->log(host->ctx, MEMLINK_LOG_INFO, x, big);
        free(x);
        return answer(0, out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("later")) {
        if (args_len == 0 || args_len >= sizeof later_path) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        memcpy(later_path, args, args_len);
        later_path[args_len] = 0;
        return answer(start_later() ? 0 : -1, out, out_cap, out_len);
    }
    return MEMLINK_ERR_UNKNOWN_METHOD;
}
