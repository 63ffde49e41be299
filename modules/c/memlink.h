/*
 * memlink.h - the binary interface between a memlink host and a module.
 *
 * A module is a C shared library (.so, .dylib or .dll). The host loads it,
 * calls memlink_init once, then memlink_call / memlink_call_v2 any number of
 * times, and finally memlink_shutdown before unloading it.
 *
 * Methods are identified by a 32-bit id: the FNV-1a hash of the method name
 * (see memlink_method_id below). Both sides compute it the same way.
 */
#ifndef MEMLINK_H
#define MEMLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MEMLINK_EXPORT marks a function as visible to the host's symbol lookup. */
#ifdef _WIN32
#define MEMLINK_EXPORT __declspec(dllexport)
#else
#define MEMLINK_EXPORT __attribute__((visibility("default")))
#endif

/* MEMLINK_ABI_VERSION is the newest ABI revision described here. */
#define MEMLINK_ABI_VERSION 2

/*
 * Result codes. Zero is success, the negative values below are reserved for
 * the protocol, and positive values are free for a module's own errors.
 */
#define MEMLINK_OK 0
#define MEMLINK_ERR_GENERAL (-1)          /* unspecified failure */
#define MEMLINK_ERR_INVALID_ARGS (-2)     /* arguments could not be used */
#define MEMLINK_ERR_INTERNAL (-3)         /* the module is in a bad state */
#define MEMLINK_ERR_OUTPUT_TOO_SMALL (-4) /* the output buffer is too short */
#define MEMLINK_ERR_PANICKED (-5)         /* the module caught a crash */
#define MEMLINK_ERR_UNKNOWN_METHOD (-6)   /* no such method id */
#define MEMLINK_OUTPUT_HANDED_OVER (-7)   /* out holds a memlink_output (ABI 2) */

/*
 * memlink_method_id returns the id of a method name: the 32-bit FNV-1a hash
 * of its bytes (offset basis 2166136261, prime 16777619), without the NUL.
 */
static inline uint32_t memlink_method_id(const char *name) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p != 0; p++) {
        h ^= (uint32_t)*p;
        h *= 16777619u;
    }
    return h;
}

/* ---- ABI 1: required exports ------------------------------------------ */

/*
 * memlink_init is called once after loading. config points to config_len
 * bytes of host-defined configuration (possibly empty). Non-zero aborts the
 * load and the host reports the code.
 */
MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len);

/*
 * memlink_call runs method method_id with args_len bytes of args and writes
 * its result to output. The capacity of output is not passed: the host
 * provides 4096 bytes unless configured otherwise, and a module must not
 * write past that. The host takes the result to be the bytes before the
 * first NUL, or the whole buffer when it holds no NUL. Returns a result code.
 */
MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output);

/* memlink_shutdown is called once before unloading; it returns 0 on success. */
MEMLINK_EXPORT int memlink_shutdown(void);

/* ---- ABI 2: optional exports ------------------------------------------ */

/*
 * memlink_abi_version reports the ABI revision the module implements. A
 * module without this export is taken to implement ABI 1. ABI-2 modules
 * return 2 and must export memlink_init, memlink_shutdown and
 * memlink_call_v2; memlink_call is then optional.
 */
MEMLINK_EXPORT uint32_t memlink_abi_version(void);

/*
 * memlink_call_v2 is memlink_call with an explicit output size, so results
 * may be binary and of any length.
 *
 *   - On MEMLINK_OK, out[0:*out_len] is the exact result (*out_len <= out_cap).
 *   - On MEMLINK_ERR_OUTPUT_TOO_SMALL, *out_len is the size the result needs;
 *     the host retries once with a buffer at least that large (running the
 *     method again: see the output hand-over below to avoid that).
 *   - On MEMLINK_OUTPUT_HANDED_OVER, out holds a memlink_output (below).
 *   - On any other non-zero code, out[0:*out_len] may hold a UTF-8 message
 *     describing the failure (*out_len may be 0).
 */
MEMLINK_EXPORT int memlink_call_v2(uint32_t method_id, const uint8_t *args,
                                   size_t args_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len);

/* ---- ABI 2: output hand-over (optional) ------------------------------- */

/*
 * A result larger than out_cap makes the host retry with -4, which runs the
 * method twice. A module whose methods must run once per call hands such a
 * result over instead: it allocates it, the host copies it and gives it back
 * through memlink_release_output. The host's calls may come from different
 * OS threads, so this, not a per-thread cache, is how to avoid the rerun.
 *
 *   1. A host that takes handed-over results calls
 *      memlink_release_output(NULL, 0) once, before memlink_init. Until
 *      then (and with hosts that never do) the module must not return
 *      MEMLINK_OUTPUT_HANDED_OVER.
 *   2. memlink_call_v2, given out_cap >= sizeof(memlink_output), may store
 *      a memlink_output in out (memcpy: out need not be aligned), set
 *      *out_len = sizeof(memlink_output) and return
 *      MEMLINK_OUTPUT_HANDED_OVER. The result is ptr[0:len]: a success.
 *   3. The host copies it (len is bounded by its WithMaxOutput: a larger
 *      one is refused, but still released) and calls
 *      memlink_release_output(ptr, len) once, from any thread, before
 *      memlink_shutdown.
 *
 * A NULL ptr with a non-zero len, or *out_len != sizeof(memlink_output),
 * marks the module corrupted. See docs/abi.md, "Large outputs".
 */
typedef struct memlink_output {
    uint8_t *ptr; /* the result, allocated by the module */
    size_t len;   /* its length in bytes */
} memlink_output;

/*
 * memlink_release_output frees a result handed over with
 * MEMLINK_OUTPUT_HANDED_OVER; with ptr == NULL it is the host's
 * announcement that it takes such results (step 1 above).
 */
MEMLINK_EXPORT void memlink_release_output(uint8_t *ptr, size_t len);

/* ---- Optional state exports (hot reload) ------------------------------ */

/*
 * Before replacing a module with a new build, the host asks the old one for
 * its state and hands it to the new one. All three exports must be present
 * for the host to carry state across a reload.
 */

/* memlink_get_state_size returns how many bytes serialize needs. */
MEMLINK_EXPORT size_t memlink_get_state_size(void);

/*
 * memlink_serialize_state writes the state into buf (buf_len bytes long).
 * Returns 0 on success.
 */
MEMLINK_EXPORT int memlink_serialize_state(uint8_t *buf, size_t buf_len);

/*
 * memlink_deserialize_state restores state from len bytes at buf, as written
 * by memlink_serialize_state. Returns 0 on success; on failure the host
 * keeps the old module.
 */
MEMLINK_EXPORT int memlink_deserialize_state(const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MEMLINK_H */
