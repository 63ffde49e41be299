package isolate

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/memlink/memlink-go/abi"
)

// TestMemoryLimitBoundsSharedMemory: shared anonymous mappings, which
// RLIMIT_DATA does not count, are bounded too: under a 64 MiB limit a
// module filling them gets ENOMEM (or its worker dies of the limit)
// before 128 MiB (under RLIMIT_DATA alone it got all 1024 MiB it asked
// for).
func TestMemoryLimitBoundsSharedMemory(t *testing.T) {
	const limit = 64 << 20
	for _, slots := range []int{1, DefaultSlots} {
		c := start(t, "escapee", Config{Restart: true, MemoryLimit: limit, Slots: slots})
		out, res, err := c.Call(context.Background(), nil, abi.MethodID("shm"), []byte("1024"))
		var f *Failure
		switch {
		case errors.As(err, &f) && f.Exit != nil && f.Exit.Reason == ReasonMemory:
			t.Logf("slots %d: the worker died of the limit: %v", slots, err)
		case err != nil || res.Kind != ResultOK:
			t.Fatalf("slots %d: shm: %v %+v", slots, err, res)
		default:
			mib, _ := strconv.Atoi(string(out))
			t.Logf("slots %d: shm got %d MiB under a %d MiB limit", slots, mib, limit>>20)
			if mib >= 128 || mib < 32 {
				t.Fatalf("slots %d: shm got %d MiB under a %d MiB limit, want at least 32 and under 128", slots, mib, limit>>20)
			}
		}
		// The worker goes on (or its successor does).
		if got := call(t, c, "echo", "ok"); got != "ok" {
			t.Fatal(got)
		}
	}
}
