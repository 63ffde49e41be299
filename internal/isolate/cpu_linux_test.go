package isolate

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCurrentCPU pins the test's thread to each CPU it may use in turn and
// checks that currentCPU names it (on amd64; elsewhere it must say it does
// not know).
func TestCurrentCPU(t *testing.T) {
	runtime.LockOSThread() // the thread ends with the test: its affinity does not leak
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	for cpu := range 1024 {
		if !set.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		got, ok := currentCPU()
		if runtime.GOARCH != "amd64" {
			if ok {
				t.Fatalf("currentCPU() = %d, true on %s, which has no cheap way to know", got, runtime.GOARCH)
			}
			return
		}
		if !ok || got&0xfff != uint32(cpu) {
			t.Errorf("pinned to CPU %d: currentCPU() = %#x, %v", cpu, got, ok)
		}
	}
}
