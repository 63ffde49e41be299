package callpath

import (
	"bytes"
	"runtime"
	"testing"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
)

// TestUnkeptCall: a call filled by SetCallUnkept reaches the module with
// its arguments (echo copies them to the output) and leaves the frame's
// keep-alive fields empty.
func TestUnkeptCall(t *testing.T) {
	m := bindTest(t, "echo")
	var f Frame
	out := make([]byte, 64)
	args := []byte("the arguments")
	m.SetCallUnkept(&f, abi.MethodID("process"), args, unsafe.Pointer(&out[0]))
	if rc := f.InvokeUnkept(4); rc != 0 {
		t.Fatalf("memlink_call returned %d", rc)
	}
	runtime.KeepAlive(args)
	if got := out[:bytes.IndexByte(out, 0)]; string(got) != string(args) {
		t.Fatalf("echo wrote %q, want %q", got, args)
	}
	if f.keep != [2]unsafe.Pointer{} {
		t.Fatal("SetCallUnkept set keep-alive pointers")
	}
}

// TestUnkeptArgsEscape: arguments passed to SetCallUnkept still escape to
// the heap, although nothing stores them: an array the caller declares
// is allocated (once per call), never left on the goroutine stack, which
// a callback from C into Go could grow and move while C reads it. If the
// compiler ever saw through escapes, this would count 0.
func TestUnkeptArgsEscape(t *testing.T) {
	m := bindTest(t, "echo")
	var f Frame
	out := make([]byte, 64)
	id := abi.MethodID("process")
	allocs := testing.AllocsPerRun(200, func() {
		var args [24]byte
		args[0] = 'x'
		m.SetCallUnkept(&f, id, args[:], unsafe.Pointer(&out[0]))
		f.InvokeUnkept(4)
		runtime.KeepAlive(&args)
	})
	if allocs != 1 {
		t.Fatalf("%v allocations per call, want 1: the arguments must be moved to the heap", allocs)
	}
}
