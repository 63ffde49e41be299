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
 *   "process" the build's own fault (see FAULT_DEFAULT below), or an echo
 *            when it has none
 *   other    echo args to output, like the echo module
 *
 * Built with -DFAULT_DEFAULT=N, "process" does fault N: 1 segv, 2 abort,
 * 3 exit, 4 loop, 5 bomb. Without it (0) "process" echoes, which makes a
 * module that works until it is asked to crash.
 */
#include <stdlib.h>
#include <string.h>

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
