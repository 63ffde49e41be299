//go:build (unix && amd64) || (linux && arm64) || (windows && amd64)

package isolate

import (
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/modtest"
)

// TestHostEntriesForeignThread binds kv in this process to a table made
// of the worker's entries (hostEntries) and checks what they do: a call
// and a record from a thread running Go reach the callbacks; from a thread
// kv starts itself they do not, the call gets -6 at once and the record is
// counted as lost. (In a worker the callbacks could not serve such a
// thread at all; TestIsolatedHostFromOwnThread in memlink checks that.)
func TestHostEntriesForeignThread(t *testing.T) {
	lib, err := callpath.Open(modtest.Path(t, "kv"))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	mod, err := callpath.Bind(lib)
	if err != nil {
		t.Fatal(err)
	}
	var calls, logs atomic.Int64
	logCB, callCB := callpath.HostCallbacks(
		func(_, _ uintptr, _ *byte, _ uintptr) uintptr {
			logs.Add(1)
			return 0
		},
		func(_, _ uintptr, args *byte, n uintptr, out *byte, outCap uintptr, outLen *uintptr) uintptr {
			calls.Add(1)
			if n > 0 && n <= outCap {
				copy(unsafe.Slice(out, n), unsafe.Slice(args, n))
			}
			*outLen = n
			return 0
		})
	if callCB == 0 {
		t.Skip("no host callbacks on this platform")
	}
	mem, err := arena.New(4096)
	if err != nil {
		t.Fatal(err)
	}
	// The arena stays mapped: kv keeps the table, and lost is in it too.
	b, err := mem.Alloc(int(abi.HostTableSize)+8, 64)
	if err != nil {
		t.Fatal(err)
	}
	table := (*abi.HostTable)(unsafe.Pointer(&b[0]))
	lost := (*uint64)(unsafe.Pointer(&b[abi.HostTableSize]))
	logE, callE := hostEntries(logCB, callCB, lost)
	if logE == logCB || callE == callCB {
		t.Fatal("hostEntries returned the callbacks themselves")
	}
	*table = abi.HostTable{Version: abi.HostVersion, Size: uint32(abi.HostTableSize), Ctx: 1, Log: logE, Call: callE}
	if rc, present := mod.HostBind(table); !present || rc != 0 {
		t.Fatalf("memlink_host_bind: %d, present %v", rc, present)
	}
	if rc := mod.Init(nil); rc != 0 {
		t.Fatalf("memlink_init: %d", rc)
	}
	defer mod.Shutdown()
	if logs.Load() != 1 {
		t.Fatalf("kv's init record reached the log callback %d times, want once", logs.Load())
	}
	var f callpath.Frame
	out := make([]byte, 256)
	outLen := new(uintptr)
	call := func(method string) ([]byte, int32) {
		args := append([]byte{64}, "echo\x00payload"...)
		*outLen = 0
		rc := mod.CallV2(&f, abi.MethodID(method), args, unsafe.Pointer(&out[0]), uintptr(len(out)), unsafe.Pointer(outLen))
		return out[:min(*outLen, uintptr(len(out)))], rc
	}
	if got, rc := call("call"); rc != 0 || string(got) != "payload" || calls.Load() != 1 {
		t.Fatalf("a call on a Go thread: %q, %d, %d callbacks; want the payload from one", got, rc, calls.Load())
	}
	for i := range 2 {
		got, rc := call("thread")
		if rc != abi.CodeUnknownMethod || len(got) != 0 {
			t.Fatalf("a call from kv's own thread: %q, %d; want -6 and nothing", got, rc)
		}
		if calls.Load() != 1 || logs.Load() != 1 || atomic.LoadUint64(lost) != uint64(i+1) {
			t.Fatalf("after %d calls from kv's thread: %d calls and %d records reached Go, %d lost; want 1, 1, %d",
				i+1, calls.Load(), logs.Load(), atomic.LoadUint64(lost), i+1)
		}
	}
}
