/*
 * escapee: an ABI-1 module that tries to outlive, or outgrow, its worker,
 * for testing out-of-process isolation (POSIX only; on Windows every
 * method returns MEMLINK_ERR_UNKNOWN_METHOD).
 *
 * Configuration: "initsleep=MS" makes memlink_init sleep MS milliseconds
 * (an init that outlives its timeout), "shutdownsleep=MS" does the same
 * for memlink_shutdown.
 *
 * Methods (each writes a decimal number, NUL-terminated):
 *   "fork"    fork a child that sleeps forever; writes the child's pid
 *   "orphan"  fork a child that forks a grandchild sleeping forever and
 *             exits at once (the grandchild is orphaned but stays in the
 *             process group); writes the grandchild's pid
 *   "daemon"  the same, but the child calls setsid() first, so the
 *             grandchild leaves the process group and the session;
 *             writes the grandchild's pid
 *   "hang"    sleep forever (a call that outlives its timeout)
 *   "shm"     map 1 MiB blocks of MAP_SHARED|MAP_ANONYMOUS memory and
 *             touch every page, up to args (a decimal number of MiB,
 *             default 1024) or until mmap fails; writes how many MiB it
 *             got
 *   other     echo args, like the echo module
 *
 * The processes it forks call nothing but async-signal-safe functions, as
 * a child of a multithreaded process must.
 */
#ifndef _WIN32
#define _DEFAULT_SOURCE
#endif

#include <stdio.h>
#include <string.h>

#include "memlink.h"
#include "sleep_ms.h"

#ifndef _WIN32
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void sleep_forever(void) {
    for (;;) {
        pause();
    }
}

/* spawn forks the processes a method asks for and returns the pid of the
 * one left sleeping, or -1. */
static long spawn(int detach, int leave_session) {
    if (!detach) {
        pid_t pid = fork();
        if (pid == 0) {
            sleep_forever();
        }
        return (long)pid;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    pid_t mid = fork();
    if (mid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (mid == 0) {
        close(fds[0]);
        if (leave_session) {
            setsid();
        }
        pid_t grand = fork();
        if (grand == 0) {
            close(fds[1]);
            sleep_forever();
        }
        long v = (long)grand;
        (void)write(fds[1], &v, sizeof v);
        _exit(0);
    }
    close(fds[1]);
    long grand = -1;
    if (read(fds[0], &grand, sizeof grand) != (ssize_t)sizeof grand) {
        grand = -1;
    }
    close(fds[0]);
    waitpid(mid, NULL, 0);
    return grand;
}

/* fill maps and touches shared anonymous memory, up to max_mib MiB, and
 * returns how many MiB it got. The mappings are kept. */
static long fill(long max_mib) {
    const size_t block = (size_t)1 << 20;
    long got = 0;
    while (got < max_mib) {
        unsigned char *p = mmap(NULL, block, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            break;
        }
        memset(p, 0xCD, block);
        got++;
    }
    return got;
}
#endif

static long parse(const unsigned char *s, unsigned long n, long def) {
    if (n == 0) {
        return def;
    }
    long v = 0;
    for (unsigned long i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 100000000L) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static long shutdown_ms;

/* option returns the value of "key=MS" when config is that, 0 when it is
 * not, and -1 when the number is malformed. */
static long option(const unsigned char *config, unsigned long config_len, const char *key) {
    size_t klen = strlen(key);
    if (config == NULL || config_len <= klen || memcmp(config, key, klen) != 0) {
        return 0;
    }
    return parse(config + klen, config_len - klen, 0);
}

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
    long init_ms = option(config, config_len, "initsleep=");
    shutdown_ms = option(config, config_len, "shutdownsleep=");
    if (init_ms < 0 || shutdown_ms < 0) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    sleep_ms((uint64_t)init_ms);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    long v;
#ifndef _WIN32
    if (method_id == memlink_method_id("fork")) {
        v = spawn(0, 0);
    } else if (method_id == memlink_method_id("orphan")) {
        v = spawn(1, 0);
    } else if (method_id == memlink_method_id("daemon")) {
        v = spawn(1, 1);
    } else if (method_id == memlink_method_id("hang")) {
        for (;;) {
            sleep_ms(1000);
        }
    } else if (method_id == memlink_method_id("shm")) {
        long max_mib = parse(args, args_len, 1024);
        if (max_mib < 0) {
            return MEMLINK_ERR_INVALID_ARGS;
        }
        v = fill(max_mib);
    } else
#endif
    {
        if (method_id == memlink_method_id("fork") || method_id == memlink_method_id("orphan") ||
            method_id == memlink_method_id("daemon") || method_id == memlink_method_id("shm") ||
            method_id == memlink_method_id("hang")) {
            return MEMLINK_ERR_UNKNOWN_METHOD;
        }
        if (args_len > 0) {
            memcpy(output, args, (size_t)args_len);
        }
        return MEMLINK_OK;
    }
    if (v < 0) {
        return MEMLINK_ERR_INTERNAL;
    }
    snprintf((char *)output, 32, "%ld", v);
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) {
    sleep_ms((uint64_t)shutdown_ms);
    return MEMLINK_OK;
}
