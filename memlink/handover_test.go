package memlink_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// bigResult checks a result of modules/c/bigout.c's "big": size bytes,
// the count in decimal then '.', and returns the count.
func bigResult(t testing.TB, out []byte, size int) int {
	t.Helper()
	if len(out) != size {
		t.Fatalf("big: %d bytes, want %d", len(out), size)
	}
	digits := strings.TrimRight(string(out), ".")
	n, err := strconv.Atoi(digits)
	if err != nil {
		t.Fatalf("big: result starts %q, want a count", out[:min(len(out), 24)])
	}
	return n
}

// handOverCountsOnce calls bigout's "big" with results larger than the
// output buffer, 6 times in sequence and then from 16 goroutines, and
// checks that each call ran the method once and each handed-over buffer
// was released once.
func handOverCountsOnce(t *testing.T, rt *memlink.Runtime, h memlink.Handle) {
	t.Helper()
	const size = 100_000 // > the 4096-byte output buffer
	if got := callString(t, rt, h, "announced", ""); got != "1" {
		t.Fatalf("announced = %q: the runtime did not announce the hand-over", got)
	}
	for i := 1; i <= 6; i++ {
		out, err := rt.Call(h, "big", []byte(strconv.Itoa(size)))
		if err != nil {
			t.Fatalf("big #%d: %v", i, err)
		}
		if n := bigResult(t, out, size); n != i {
			t.Fatalf("big #%d returned count %d: the method ran more than once per call", i, n)
		}
	}
	if got := callString(t, rt, h, "get", ""); got != "6" {
		t.Fatalf("count after 6 calls = %s, want 6", got)
	}

	const goroutines, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i := 0; i < each; i++ {
				var err error
				dst, err = rt.CallAppend(dst[:0], h, "big", []byte(strconv.Itoa(size+g)))
				if err != nil {
					errs <- err
					return
				}
				if len(dst) != size+g {
					errs <- fmt.Errorf("goroutine %d: %d bytes, want %d", g, len(dst), size+g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := 6 + goroutines*each
	if got := callString(t, rt, h, "get", ""); got != strconv.Itoa(want) {
		t.Fatalf("count after %d calls = %s: some ran twice (or not at all)", want, got)
	}
	if got := callString(t, rt, h, "releases", ""); got != fmt.Sprintf("%d,0", want) {
		t.Fatalf("releases,outstanding = %s, want %d,0", got, want)
	}
}

func callString(t testing.TB, rt *memlink.Runtime, h memlink.Handle, method, args string) string {
	t.Helper()
	out, err := rt.Call(h, method, []byte(args))
	if err != nil {
		t.Fatalf("Call(%q, %q): %v", method, args, err)
	}
	return string(out)
}

func TestHandOverCountsOnce(t *testing.T) {
	rt, h := load(t, "bigout")
	handOverCountsOnce(t, rt, h)
}

func TestHandOverMaxOutput(t *testing.T) {
	rt, h := load(t, "bigout", memlink.WithMaxOutput(50_000))
	_, err := rt.Call(h, "big", []byte("60000"))
	if !errors.Is(err, memlink.ErrOutputTooLarge) {
		t.Fatalf("big over WithMaxOutput: err = %v, want ErrOutputTooLarge", err)
	}
	// Refused, but given back; and the module keeps serving.
	if got := callString(t, rt, h, "releases", ""); got != "1,0" {
		t.Fatalf("releases,outstanding = %s, want 1,0", got)
	}
	out, err := rt.Call(h, "big", []byte("50000"))
	if err != nil || bigResult(t, out, 50_000) != 2 {
		t.Fatalf("big at the limit: %d bytes, %v", len(out), err)
	}
}

func TestHandOverLies(t *testing.T) {
	for _, tc := range []struct {
		method string
		want   error
		msg    string
	}{
		{"lie_null", memlink.ErrModuleCorrupted, "null address"},
		{"lie_size", memlink.ErrModuleCorrupted, "3-byte descriptor"},
		{"lie_huge", memlink.ErrOutputTooLarge, "1099511627776 bytes"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			rt, h := load(t, "bigout")
			_, err := rt.Call(h, tc.method, nil)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
			if tc.want == memlink.ErrModuleCorrupted {
				// Quarantined like any lie about its output.
				if _, err := rt.Call(h, "get", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
					t.Fatalf("call after the lie: %v, want ErrModuleCorrupted", err)
				}
				return
			}
			if got := callString(t, rt, h, "releases", ""); got != "1,0" {
				t.Fatalf("releases,outstanding = %s, want 1,0 (the refused buffer is released)", got)
			}
		})
	}
}

func TestHandOverWithoutReleaseExport(t *testing.T) {
	rt, h := load(t, "bigout_norelease")
	if got := callString(t, rt, h, "announced", ""); got != "0" {
		t.Fatalf("announced = %q to a module without memlink_release_output", got)
	}
	_, err := rt.Call(h, "big", []byte("10000"))
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != -7 {
		t.Fatalf("err = %v, want a *CallError with code -7", err)
	}
}

// TestHandOverSmallBuffer: with an output buffer too small for a
// descriptor the module falls back to -4, and the retry runs it again, as
// docs/abi.md says.
func TestHandOverSmallBuffer(t *testing.T) {
	rt, h := load(t, "bigout", memlink.WithOutputCapacity(8))
	out, err := rt.Call(h, "big", []byte("100"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bigResult(t, out, 100); n != 2 {
		t.Fatalf("count = %d, want 2 (a -4 retry runs the method again)", n)
	}
}
