//go:build (linux || darwin) && (amd64 || arm64) && !memlink_purego

package callpath

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Where calls go through the trampoline, the loader's functions do too:
// purego's Dlopen, Dlsym and Dlclose build each call through reflect
// (several thousand instructions and a few allocations a call, five to
// seven calls per Load and Unload), where the trampoline takes a Frame.
// The functions' addresses come from purego's Dlsym once, on first use.

const (
	rtldNow   = purego.RTLD_NOW
	rtldLocal = purego.RTLD_LOCAL
	rtldLazy  = purego.RTLD_LAZY
)

// loaderFuncs are the addresses of the loader's functions.
type loaderFuncs struct {
	open, sym, close, error uintptr
}

var loader = sync.OnceValue(func() loaderFuncs {
	sym := func(name string) uintptr {
		p, err := purego.Dlsym(purego.RTLD_DEFAULT, name)
		if err != nil || p == 0 {
			// purego itself links these four functions, so they are
			// there in every process that runs this code.
			panic("callpath: the dynamic loader has no " + name)
		}
		return p
	}
	return loaderFuncs{open: sym("dlopen"), sym: sym("dlsym"), close: sym("dlclose"), error: sym("dlerror")}
})

// loaderCall is the argument block of one loader call and room for the
// C string it passes (a path or a symbol name), recycled: a Load and
// Unload makes five to seven of them.
type loaderCall struct {
	f   Frame
	buf [256]byte
}

var loaderCalls = sync.Pool{New: func() any { return new(loaderCall) }}

// cString returns s as a NUL-terminated C string in Go memory: in c's
// buffer when it fits.
func (c *loaderCall) cString(s string) unsafe.Pointer {
	b := c.buf[:]
	if len(s) >= len(b) {
		b = make([]byte, len(s)+1)
	}
	copy(b, s)
	b[len(s)] = 0
	return unsafe.Pointer(&b[0])
}

// cCall calls fn(a0, a1) through the trampoline. keep is Go memory an
// argument points to: the frame keeps it alive for the call.
func cCall(fn, a0, a1 uintptr, keep unsafe.Pointer) uintptr {
	c := loaderCalls.Get().(*loaderCall)
	r := c.call(fn, a0, a1, keep)
	loaderCalls.Put(c)
	return r
}

func (c *loaderCall) call(fn, a0, a1 uintptr, keep unsafe.Pointer) uintptr {
	f := &c.f
	f.fn = fn
	f.keep[0] = keep
	f.a[0], f.a[1] = a0, a1
	invokeFast(f)
	f.keep = [2]unsafe.Pointer{}
	return f.ret
}

// lastError returns dlerror's message: the last failure of a loader
// function on this thread, which the caller has kept locked since.
func lastError() string {
	p := cCall(loader().error, 0, 0, nil)
	if p == 0 {
		return "unknown error"
	}
	return goString(p)
}

// goString copies the NUL-terminated C string at p (C memory, outside the
// Go heap).
func goString(p uintptr) string {
	// Through memory, as ReadHandedOutput does: the address is not Go
	// memory, and vet need not see a uintptr turned into a pointer.
	s := *(*unsafe.Pointer)(unsafe.Pointer(&p))
	n := 0
	for *(*byte)(unsafe.Add(s, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(s), n))
}

// dlOpen returns the handle dlopen returned for path, or 0 and the
// loader's message. The goroutine stays on its thread from dlopen to
// dlerror, whose message is the thread's.
func dlOpen(path string, mode int) (uintptr, string) {
	fns := loader()
	c := loaderCalls.Get().(*loaderCall)
	defer loaderCalls.Put(c)
	p := c.cString(path)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if h := c.call(fns.open, uintptr(p), uintptr(mode), p); h != 0 {
		return h, ""
	}
	return 0, lastError()
}

// dlSym returns the address of name in the library h, or 0.
func dlSym(h uintptr, name string) uintptr {
	c := loaderCalls.Get().(*loaderCall)
	defer loaderCalls.Put(c)
	p := c.cString(name)
	return c.call(loader().sym, h, uintptr(p), p)
}

// dlClose closes h; on failure it returns the loader's message.
func dlClose(h uintptr) (string, bool) {
	fns := loader()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if int32(cCall(fns.close, h, 0, nil)) != 0 { // dlclose returns an int
		return lastError(), false
	}
	return "", true
}
