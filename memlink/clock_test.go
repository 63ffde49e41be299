package memlink

import (
	"testing"
	"time"
)

// TestNanotimeResolves checks that the clock sampled calls are timed with
// moves in steps far smaller than a call into a slow module: a clock that
// moved once per timer tick would time every fast call as zero.
func TestNanotimeResolves(t *testing.T) {
	deadline := time.Now().Add(time.Second)
	t0 := nanotime()
	t1 := t0
	for t1 == t0 && time.Now().Before(deadline) {
		t1 = nanotime()
	}
	if step := time.Duration(t1 - t0); step <= 0 || step > 100*time.Microsecond {
		t.Fatalf("nanotime moved by %v; want a step above 0 and at most 100µs", step)
	}
	// And it agrees with the wall clock over a few milliseconds.
	a, w := nanotime(), time.Now()
	time.Sleep(20 * time.Millisecond)
	got, want := time.Duration(nanotime()-a), time.Since(w)
	if got < want/2 || got > want*2 {
		t.Fatalf("nanotime measured %v over a sleep time.Since measured as %v", got, want)
	}
}
