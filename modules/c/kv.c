/*
 * kv: an ABI-2 module that calls back into its host (memlink_host_bind).
 *
 * It logs through the host's logger and keeps no data of its own: "get"
 * and "put" ask the host functions "kv.get" and "kv.put".
 *
 * Methods of memlink_call_v2:
 *   "get"     args is a key; calls kv.get(key) and returns its result. A
 *             result larger than the 64 bytes it tries first is fetched
 *             again with a buffer of the size the host asked for (the -4
 *             hand-over). Logs the key at debug level.
 *   "put"     args is "key=value"; calls kv.put with it and returns "ok".
 *   "log"     args is a level byte ('d', 'i', 'w', 'e') then the message;
 *             logs it and returns "logged".
 *   "call"    args is one byte c (the first out capacity, 0 to 255), a
 *             host function name, a NUL, then that function's args. Calls
 *             it, retrying once with the size asked for on -4, and returns
 *             its result; a non-zero code from the host becomes this
 *             method's code, its message this method's message.
 *   "call1"   as "call", but without the retry: a -4 is returned as is,
 *             with the size needed as a decimal message.
 *   "thread"  as "call", but made (and a record logged) from a thread the
 *             module starts and joins.
 *   "nohost"  returns "bound" or "unbound": whether memlink_host_bind ran.
 *   "one"     calls the host function "bench" once with its args and
 *             returns the result (for benchmarks: one host call).
 *   "none"    returns its args: "one" without the host call.
 *   "logone"  logs its args at info level and returns nothing.
 *   "many"    args is a count byte n, then a payload: calls "bench" with
 *             the payload n times and returns the last result (for
 *             benchmarks: n host calls in one module call).
 *   "logmany" args is a count byte n, then a message: logs it n times at
 *             info level and returns nothing.
 *   "print"   writes "out: <args>" to stdout and "err: <args>" to stderr,
 *             each with a newline, and returns nothing.
 * memlink_init logs "kv ready" at info level when it has a host.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#endif

#include "memlink.h"

static const memlink_host *host;

MEMLINK_EXPORT int memlink_host_bind(const memlink_host *h) {
    if (h == NULL || h->version < 1 || h->size < sizeof(memlink_host)) {
        return 1; /* a host this module cannot use: refuse the load */
    }
    host = h;
    return 0;
}

static void say(int32_t level, const char *msg, size_t n) {
    if (host != NULL) {
        host->log(host->ctx, level, (const uint8_t *)msg, n);
    }
}

MEMLINK_EXPORT uint32_t memlink_abi_version(void) { return 2; }

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    (void)config;
    (void)config_len;
    say(MEMLINK_LOG_INFO, "kv ready", 8);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }

static void put_text(const char *msg, uint8_t *out, size_t cap,
                     size_t *out_len) {
    size_t n = strlen(msg);
    if (n > cap) {
        n = cap;
    }
    memcpy(out, msg, n);
    *out_len = n;
}

/* copy_out stores a host result as this method's output, or asks for more
 * room with -4. */
static int copy_out(const uint8_t *res, size_t n, uint8_t *out, size_t cap,
                    size_t *out_len) {
    *out_len = n;
    if (n > cap) {
        return MEMLINK_ERR_OUTPUT_TOO_SMALL;
    }
    if (n > 0) {
        memcpy(out, res, n);
    }
    return MEMLINK_OK;
}

/* host_call calls fn with args into a first buffer of first_cap bytes,
 * retrying once on -4 when retry is set, and stores the result (or the
 * host's message) as this method's output. */
static int host_call(uint32_t fn, const uint8_t *args, size_t args_len,
                     size_t first_cap, int retry, uint8_t *out, size_t cap,
                     size_t *out_len) {
    if (host == NULL) {
        put_text("no host", out, cap, out_len);
        return MEMLINK_ERR_INTERNAL;
    }
    uint8_t small[256];
    size_t n = 0;
    int32_t rc = host->call(host->ctx, fn, args, args_len, small, first_cap, &n);
    if (rc == MEMLINK_ERR_OUTPUT_TOO_SMALL && !retry) {
        char msg[32];
        snprintf(msg, sizeof msg, "%zu", n);
        put_text(msg, out, cap, out_len);
        return rc;
    }
    if (rc == MEMLINK_ERR_OUTPUT_TOO_SMALL) {
        size_t need = n;
        uint8_t *big = malloc(need > 0 ? need : 1);
        if (big == NULL) {
            put_text("out of memory", out, cap, out_len);
            return MEMLINK_ERR_INTERNAL;
        }
        n = 0;
        rc = host->call(host->ctx, fn, args, args_len, big, need, &n);
        int res = rc == 0 ? copy_out(big, n, out, cap, out_len) : rc;
        if (rc != 0) {
            copy_out(big, n > need ? need : n, out, cap, out_len);
        }
        free(big);
        return res;
    }
    if (n > first_cap) {
        put_text("host reported more bytes than the buffer", out, cap, out_len);
        return MEMLINK_ERR_INTERNAL;
    }
    int res = copy_out(small, n, out, cap, out_len);
    return rc == 0 ? res : rc;
}

/* parse_call splits "call" args: capacity byte, name, NUL, payload. */
static int parse_call(const uint8_t *args, size_t args_len, size_t *first_cap,
                      uint32_t *fn, const uint8_t **payload, size_t *plen) {
    if (args_len < 2) {
        return 0;
    }
    *first_cap = args[0];
    const uint8_t *name = args + 1;
    const uint8_t *nul = memchr(name, 0, args_len - 1);
    if (nul == NULL) {
        return 0;
    }
    char buf[128];
    size_t nlen = (size_t)(nul - name);
    if (nlen >= sizeof buf) {
        return 0;
    }
    memcpy(buf, name, nlen);
    buf[nlen] = 0;
    *fn = memlink_method_id(buf);
    *payload = nul + 1;
    *plen = args_len - 1 - nlen - 1;
    return 1;
}

struct job {
    uint32_t fn;
    const uint8_t *args;
    size_t args_len, first_cap;
    uint8_t *out;
    size_t cap, out_len;
    int rc;
};

#ifdef _WIN32
static DWORD WINAPI run_job(LPVOID p) {
#else
static void *run_job(void *p) {
#endif
    struct job *j = p;
    say(MEMLINK_LOG_INFO, "from a thread", 13);
    j->rc = host_call(j->fn, j->args, j->args_len, j->first_cap, 1, j->out,
                      j->cap, &j->out_len);
#ifdef _WIN32
    return 0;
#else
    return NULL;
#endif
}

static int in_thread(struct job *j) {
#ifdef _WIN32
    HANDLE t = CreateThread(NULL, 0, run_job, j, 0, NULL);
    if (t == NULL) {
        return 0;
    }
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
#else
    pthread_t t;
    if (pthread_create(&t, NULL, run_job, j) != 0) {
        return 0;
    }
    pthread_join(t, NULL);
#endif
    return 1;
}

MEMLINK_EXPORT int memlink_call_v2(uint32_t method_id, const uint8_t *args,
                                   size_t args_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len) {
    *out_len = 0;
    if (method_id == memlink_method_id("get")) {
        say(MEMLINK_LOG_DEBUG, (const char *)args, args_len);
        return host_call(memlink_method_id("kv.get"), args, args_len, 64, 1,
                         out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("put")) {
        int rc = host_call(memlink_method_id("kv.put"), args, args_len, 64, 1,
                           out, out_cap, out_len);
        if (rc == 0) {
            put_text("ok", out, out_cap, out_len);
        }
        return rc;
    }
    if (method_id == memlink_method_id("log")) {
        if (args_len < 1) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        int32_t level = MEMLINK_LOG_INFO;
        switch (args[0]) {
        case 'd': level = MEMLINK_LOG_DEBUG; break;
        case 'w': level = MEMLINK_LOG_WARN; break;
        case 'e': level = MEMLINK_LOG_ERROR; break;
        }
        say(level, (const char *)args + 1, args_len - 1);
        put_text("logged", out, out_cap, out_len);
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("one")) {
        return host_call(memlink_method_id("bench"), args, args_len, 64, 1,
                         out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("none")) {
        return copy_out(args, args_len, out, out_cap, out_len);
    }
    if (method_id == memlink_method_id("logone")) {
        say(MEMLINK_LOG_INFO, (const char *)args, args_len);
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("many") ||
        method_id == memlink_method_id("logmany")) {
        if (args_len < 1) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        int log = method_id == memlink_method_id("logmany");
        uint32_t bench = memlink_method_id("bench");
        for (int i = 0; i < args[0]; i++) {
            if (log) {
                say(MEMLINK_LOG_INFO, (const char *)args + 1, args_len - 1);
                continue;
            }
            int rc = host_call(bench, args + 1, args_len - 1, 64, 1, out,
                               out_cap, out_len);
            if (rc != MEMLINK_OK) {
                return rc;
            }
        }
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("print")) {
        printf("out: %.*s\n", (int)args_len, (const char *)args);
        fflush(stdout);
        fprintf(stderr, "err: %.*s\n", (int)args_len, (const char *)args);
        fflush(stderr);
        return MEMLINK_OK;
    }
    if (method_id == memlink_method_id("nohost")) {
        put_text(host != NULL ? "bound" : "unbound", out, out_cap, out_len);
        return MEMLINK_OK;
    }
    int call = method_id == memlink_method_id("call");
    int call1 = method_id == memlink_method_id("call1");
    int thread = method_id == memlink_method_id("thread");
    if (call || call1 || thread) {
        struct job j;
        memset(&j, 0, sizeof j);
        if (!parse_call(args, args_len, &j.first_cap, &j.fn, &j.args,
                        &j.args_len)) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        if (!thread) {
            return host_call(j.fn, j.args, j.args_len, j.first_cap, call, out,
                             out_cap, out_len);
        }
        j.out = out;
        j.cap = out_cap;
        if (!in_thread(&j)) {
            return MEMLINK_ERR_INTERNAL;
        }
        *out_len = j.out_len;
        return j.rc;
    }
    return MEMLINK_ERR_UNKNOWN_METHOD;
}
