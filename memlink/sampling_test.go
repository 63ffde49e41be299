package memlink_test

import (
	"sync"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// At low traffic spread over many lanes the latency histogram still fills:
// 3,000 calls from 16 goroutines give about 3000/256 = 11.7 samples on
// average, not 0 (every lane's counter used to start at zero, so no lane of
// 64 reached 256 calls).
func TestLatencySamplesAtLowTraffic(t *testing.T) {
	const calls, workers = 3000, 16
	var total uint64
	const runs = 8
	for range runs {
		rt := memlink.New()
		h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				n := calls / workers
				if w < calls%workers {
					n++
				}
				buf := make([]byte, 0, 64)
				for range n {
					if _, err := rt.CallAppend(buf[:0], h, "process", []byte("x")); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		s := rt.Stats().Modules[0]
		if s.Calls != calls {
			t.Fatalf("%d calls counted, want %d", s.Calls, calls)
		}
		total += s.Latency.Count()
		rt.Close()
	}
	// The mean over 8 runs of 3,000 calls: 11.7 expected. A lane's count is
	// floor((calls on it + phase) / 256), so the total cannot stray far.
	mean := float64(total) / runs
	if mean < 6 || mean > 20 {
		t.Fatalf("%.1f samples per 3,000 calls on average, want about 11.7", mean)
	}
	t.Logf("%.1f samples per 3,000 calls (expected 11.7)", mean)
}

// TestLatencySamplingInterval: one goroutine's calls on one lane are
// sampled exactly every n-th time (the first at a random point of the
// interval), never with sampling off, and every time with n = 1, on both
// ABIs, also for calls that fail (binary's unknown methods).
func TestLatencySamplingInterval(t *testing.T) {
	for _, tc := range []struct {
		every, calls int
		want         uint64
	}{
		{0, 400, 0},
		{1, 37, 37},
		{4, 400, 100},
		{7, 700, 100},
	} {
		for _, mod := range []struct{ name, method string }{{"echo", "process"}, {"binary", "echo"}} {
			rt := memlink.New(memlink.WithLatencySampling(tc.every))
			h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, mod.name)))
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 0, 64)
			for i := range tc.calls {
				method, fails := mod.method, false
				if mod.name == "binary" && i%5 == 0 {
					method, fails = "no such method", true // still a call, still timed
				}
				if _, err := rt.CallAppend(buf[:0], h, method, []byte("x")); (err != nil) != fails {
					t.Fatalf("%s call %d (%q): %v", mod.name, i, method, err)
				}
			}
			s := rt.Stats().Modules[0]
			if s.Calls != uint64(tc.calls) || s.Latency.Count() != tc.want {
				t.Errorf("%s, sampling every %d: %d calls, %d samples; want %d and %d",
					mod.name, tc.every, s.Calls, s.Latency.Count(), tc.calls, tc.want)
			}
			rt.Close()
		}
	}
}
