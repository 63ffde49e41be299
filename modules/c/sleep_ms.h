/*
 * sleep_ms.h - a portable millisecond sleep shared by the example modules
 * that need to be slow on purpose (sleep.c, counter.c). Not part of the ABI.
 */
#ifndef MEMLINK_SLEEP_MS_H
#define MEMLINK_SLEEP_MS_H

#include <stdint.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <time.h>
#endif

/* sleep_ms blocks the calling thread for ms milliseconds. */
static inline void sleep_ms(uint64_t ms) {
#ifdef _WIN32
    while (ms > 0) {
        DWORD step = ms > 0x7fffffffu ? 0x7fffffffu : (DWORD)ms;
        Sleep(step);
        ms -= step;
    }
#else
    struct timespec req;
    req.tv_sec = (time_t)(ms / 1000u);
    req.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&req, &req) != 0 && errno == EINTR) {
        /* resume with the time that was left */
    }
#endif
}

#endif /* MEMLINK_SLEEP_MS_H */
