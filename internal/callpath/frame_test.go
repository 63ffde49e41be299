package callpath

import (
	"testing"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
)

// bindTest opens and binds the test module name, closed with the test.
func bindTest(t *testing.T, name string) *Module {
	t.Helper()
	lib, err := Open(modtest.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lib.Close() })
	m, err := Bind(lib)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMarkReturns calls the errors module through a frame with a mark and
// checks that the trampoline copies the source word exactly when the
// result passes the mask, and never without a source.
func TestMarkReturns(t *testing.T) {
	m := bindTest(t, "errors")
	out := make([]byte, 64)
	call := func(f *Frame, method string) int32 {
		return m.Call(f, abi.MethodID(method), nil, unsafe.Pointer(&out[0]))
	}

	var f Frame
	if !MarksReturns {
		// purego writes no marks: callers must see none, and fall back to
		// waiting for the call to leave Go.
		src := uint64(7)
		f.MarkReturns(&src, 0)
		if rc := call(&f, "ok"); rc != 0 || f.Returned() != 0 {
			t.Fatalf("%s path: rc %d, mark %d; want 0 and no mark", Name, rc, f.Returned())
		}
		return
	}
	if rc := call(&f, "ok"); rc != 0 || f.Returned() != 0 {
		t.Fatalf("without a source: rc %d, mark %d; want 0 and no mark", rc, f.Returned())
	}

	src := uint64(7)
	f.MarkReturns(&src, ^uint32(0)) // only 0 is final
	if rc := call(&f, "general"); rc != abi.CodeGeneral || f.Returned() != 0 {
		t.Fatalf("non-zero result with mask ^0: rc %d, mark %d; want %d and no mark", rc, f.Returned(), abi.CodeGeneral)
	}
	if rc := call(&f, "ok"); rc != 0 || f.Returned() != 7 {
		t.Fatalf("zero result: rc %d, mark %d; want 0 and mark 7", rc, f.Returned())
	}
	src = 9
	if rc := call(&f, "custom"); rc != 17 || f.Returned() != 7 {
		t.Fatalf("result 17 with mask ^0: rc %d, mark %d; want the old mark 7", rc, f.Returned())
	}

	f.MarkReturns(&src, 0) // every result is final
	if rc := call(&f, "custom"); rc != 17 || f.Returned() != 9 {
		t.Fatalf("result 17 with mask 0: rc %d, mark %d; want mark 9", rc, f.Returned())
	}
	f.MarkReturns(&src, 1) // odd results are not final
	src = 11
	if rc := call(&f, "custom"); rc != 17 || f.Returned() != 9 {
		t.Fatalf("result 17 with mask 1: rc %d, mark %d; want the old mark 9", rc, f.Returned())
	}
	if rc := call(&f, "general"); rc != abi.CodeGeneral || f.Returned() != 9 {
		t.Fatalf("result -1 (odd) with mask 1: rc %d, mark %d; want the old mark 9", rc, f.Returned())
	}
	if rc := call(&f, "invalid"); rc != abi.CodeInvalidArgs || f.Returned() != 11 {
		t.Fatalf("result -2 (even) with mask 1: rc %d, mark %d; want mark 11", rc, f.Returned())
	}
}
