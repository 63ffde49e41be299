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
	// next waits for the clock to move from t and returns its new value.
	next := func(t0 int64) int64 {
		t1 := t0
		for t1 == t0 && time.Now().Before(deadline) {
			t1 = nanotime()
		}
		return t1
	}
	// The smallest of ten whole steps (from one move of the clock to the
	// next), so that a thread descheduled during one of them (a loaded
	// machine, an emulator) does not count; a clock that moves once per
	// tick makes every whole step a tick.
	step := time.Duration(1<<63 - 1)
	t1 := next(nanotime())
	for range 10 {
		t2 := next(t1)
		step = min(step, time.Duration(t2-t1))
		t1 = t2
	}
	if step <= 0 || step > 100*time.Microsecond {
		t.Fatalf("nanotime moves in steps of %v at best; want a step above 0 and at most 100µs", step)
	}
	// And it agrees with the wall clock over a few milliseconds.
	a, w := nanotime(), time.Now()
	time.Sleep(20 * time.Millisecond)
	got, want := time.Duration(nanotime()-a), time.Since(w)
	if got < want/2 || got > want*2 {
		t.Fatalf("nanotime measured %v over a sleep time.Since measured as %v", got, want)
	}
}
