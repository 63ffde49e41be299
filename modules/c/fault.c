/*
 * fault: an ABI-1 module that fails the ways no in-process host can
 * survive, for testing out-of-process isolation.
 *
 * Methods:
 *   "segv"   store through a null pointer (SIGSEGV on Unix)
 *   "abort"  call abort() (SIGABRT on Unix)
 *   "exit"   call exit(3), ending the whole process normally
 *   "loop"   spin forever without returning
 *   "bomb"   allocate and touch 1 MiB blocks without bound; when malloc
 *            finally fails, use its null result like careless code would
 *            (so the process dies of SIGSEGV once memory runs out)
 *   "stack"  recurse without bound (a stack overflow: SIGSEGV on Unix,
 *            EXCEPTION_STACK_OVERFLOW on Windows)
 *   "ill"    execute an illegal instruction (SIGILL,
 *            EXCEPTION_ILLEGAL_INSTRUCTION)
 *   "alloc"  allocate and touch the decimal number of MiB in args, then
 *            free them: "ok", or code 1 when malloc fails
 *   "spawn"  (Windows) start this program again as a child process with
 *            MEMLINK_TEST_LINGER=1 in its environment and return the
 *            child's pid; code 2 elsewhere or when that fails
 *   "process" the build's own fault (see FAULT_DEFAULT below), or an echo
 *            when it has none
 *   other    echo args to output, like the echo module
 *
 * Built with -DFAULT_DEFAULT=N, "process" does fault N: 1 segv, 2 abort,
 * 3 exit, 4 loop, 5 bomb. Without it (0) "process" echoes, which makes a
 * module that works until it is asked to crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#endif

#include "memlink.h"

#ifndef FAULT_DEFAULT
#define FAULT_DEFAULT 0
#endif

enum { FAULT_NONE, FAULT_SEGV, FAULT_ABORT, FAULT_EXIT, FAULT_LOOP, FAULT_BOMB };

/*
 * nowhere is a null pointer the compiler cannot see through: a literal
 * null store would be turned into a trap instruction (SIGILL) at -O2.
 */
static int *volatile nowhere = NULL;

/* hoard keeps every block the bomb allocates reachable, so that neither
 * the compiler nor the allocator can drop them. */
static void *volatile hoard = NULL;

/* spins counts the iterations of the endless loop; volatile keeps it. */
static volatile unsigned long spins;

static void do_segv(void) { *nowhere = 1; }

static void do_loop(void) {
    for (;;) {
        spins++;
    }
}

static void do_bomb(void) {
    const size_t block = (size_t)1 << 20;
    for (;;) {
        unsigned char *p = malloc(block);
        if (p == NULL) {
            /* Careless code: use the result anyway. */
            p = (unsigned char *)nowhere;
        }
        memset(p, 0xAB, block);
        *(void **)p = hoard;
        hoard = p;
    }
}

/* depth keeps every frame of the recursion alive: the compiler can turn
 * neither the call into a loop nor the frame away. */
static volatile unsigned long depth;

static unsigned long do_stack(unsigned long n) {
    volatile unsigned char frame[256];
    if (depth == (unsigned long)-1) {
        return 0; /* never: only keeps the compiler from calling it endless */
    }
    frame[n % sizeof frame] = (unsigned char)n;
    depth = n;
    return do_stack(n + 1) + frame[(n + 1) % sizeof frame];
}

/* do_alloc allocates and touches mib MiB, then frees them; it returns
 * whether malloc succeeded. */
static int do_alloc(unsigned long mib) {
    unsigned char *p = malloc((size_t)mib << 20);
    if (p == NULL) {
        return 0;
    }
    memset(p, 0xCD, (size_t)mib << 20);
    free(p);
    return 1;
}

static unsigned long decimal(const unsigned char *s, unsigned long n) {
    unsigned long v = 0;
    for (unsigned long i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v;
}

/* do_spawn starts this program again with MEMLINK_TEST_LINGER=1 (a test
 * binary then sleeps) and writes the child's pid into out; it returns
 * whether it did. */
static int do_spawn(unsigned char *out) {
#ifdef _WIN32
    char exe[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof exe);
    if (n == 0 || n >= sizeof exe) {
        return 0;
    }
    SetEnvironmentVariableA("MEMLINK_TEST_LINGER", "1");
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    char cmd[] = "memlink-linger";
    BOOL ok = CreateProcessA(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA("MEMLINK_TEST_LINGER", NULL);
    if (!ok) {
        return 0;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    sprintf((char *)out, "%lu", (unsigned long)pi.dwProcessId);
    return 1;
#else
    (void)out;
    return 0;
#endif
}

static void do_fault(int which) {
    switch (which) {
    case FAULT_SEGV:
        do_segv();
        break;
    case FAULT_ABORT:
        abort();
    case FAULT_EXIT:
        exit(3);
    case FAULT_LOOP:
        do_loop();
        break;
    case FAULT_BOMB:
        do_bomb();
        break;
    default:
        break;
    }
}

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
    if (output == NULL || (args_len > 0 && args == NULL)) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    int which = FAULT_NONE;
    if (method_id == memlink_method_id("segv")) {
        which = FAULT_SEGV;
    } else if (method_id == memlink_method_id("abort")) {
        which = FAULT_ABORT;
    } else if (method_id == memlink_method_id("exit")) {
        which = FAULT_EXIT;
    } else if (method_id == memlink_method_id("loop")) {
        which = FAULT_LOOP;
    } else if (method_id == memlink_method_id("bomb")) {
        which = FAULT_BOMB;
    } else if (method_id == memlink_method_id("stack")) {
        do_stack(0);
    } else if (method_id == memlink_method_id("ill")) {
        __builtin_trap();
    } else if (method_id == memlink_method_id("alloc")) {
        if (!do_alloc(decimal(args, args_len))) {
            return 1;
        }
        memcpy(output, "ok", 3);
        return MEMLINK_OK;
    } else if (method_id == memlink_method_id("spawn")) {
        return do_spawn(output) ? MEMLINK_OK : 2;
    } else if (method_id == memlink_method_id("process")) {
        which = FAULT_DEFAULT;
    }
    do_fault(which);
    if (args_len > 0) {
        memcpy(output, args, (size_t)args_len);
    }
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
