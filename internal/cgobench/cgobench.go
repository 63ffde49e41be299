//go:build cgo && (linux || darwin)

package cgobench

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int (*call_v1)(unsigned int, const unsigned char*, unsigned long, unsigned char*);
typedef int (*call_v2)(uint32_t, const uint8_t*, size_t, uint8_t*, size_t, size_t*);

static inline int cgobench_call1(void* fn, unsigned int id, const unsigned char* a, unsigned long n, unsigned char* out) {
	return ((call_v1)fn)(id, a, n, out);
}
static inline int cgobench_call2(void* fn, uint32_t id, const uint8_t* a, size_t n, uint8_t* out, size_t cap, size_t* len) {
	return ((call_v2)fn)(id, a, n, out, cap, len);
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Available reports whether this build has the cgo yardstick.
const Available = true

// Lib is a module opened with the C library's dlopen.
type Lib struct {
	h   unsafe.Pointer
	fn  unsafe.Pointer
	v2  bool
	out *C.uchar
	n   *C.size_t
	cap int
}

// Open dlopens path and looks up memlink_call_v2 when v2 is set, else
// memlink_call, with a C-allocated output buffer of outCap bytes.
func Open(path string, v2 bool, outCap int) (*Lib, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	h := C.dlopen(cp, C.RTLD_NOW|C.RTLD_LOCAL)
	if h == nil {
		return nil, errors.New("cgobench: dlopen failed: " + C.GoString(C.dlerror()))
	}
	sym := "memlink_call"
	if v2 {
		sym = "memlink_call_v2"
	}
	cs := C.CString(sym)
	defer C.free(unsafe.Pointer(cs))
	fn := C.dlsym(h, cs)
	if fn == nil {
		C.dlclose(h)
		return nil, errors.New("cgobench: no " + sym)
	}
	return &Lib{h: h, fn: fn, v2: v2, out: (*C.uchar)(C.calloc(C.size_t(outCap)+16, 1)),
		n: (*C.size_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.size_t(0))))), cap: outCap}, nil
}

// Call calls the module's call function with args and returns its code.
// The output stays in the C buffer.
func (l *Lib) Call(id uint32, args []byte) int {
	var p *C.uchar
	if len(args) > 0 {
		p = (*C.uchar)(unsafe.Pointer(&args[0]))
	}
	if l.v2 {
		return int(C.cgobench_call2(l.fn, C.uint32_t(id), (*C.uint8_t)(p), C.size_t(len(args)), (*C.uint8_t)(l.out), C.size_t(l.cap), l.n))
	}
	return int(C.cgobench_call1(l.fn, C.uint(id), p, C.ulong(len(args)), l.out))
}

// Close releases the buffer and the library.
func (l *Lib) Close() {
	C.free(unsafe.Pointer(l.out))
	C.free(unsafe.Pointer(l.n))
	C.dlclose(l.h)
}
