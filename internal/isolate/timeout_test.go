package isolate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memlink/memlink-go/internal/modtest"
)

// TestInitTimeout: a memlink_init that outlives its limit kills the worker
// and fails the start with a LoadTimeout matching ErrTimeout, at the limit
// (InitTimeout, or CallTimeout by default) rather than StartAllowance
// later; a negative InitTimeout lets it run.
func TestInitTimeout(t *testing.T) {
	path := modtest.Path(t, "escapee")
	cases := []struct {
		name  string
		call  time.Duration
		init  time.Duration
		limit string
	}{
		{"InitTimeout", 0, 300 * time.Millisecond, "300ms"},
		{"CallTimeout", 400 * time.Millisecond, 0, "400ms"},
		{"both", 5 * time.Second, 300 * time.Millisecond, "300ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			begin := time.Now()
			_, err := Start(Config{Path: path, Name: "escapee", Init: []byte("initsleep=60000"), OutputCap: 4096, MaxOutput: 1 << 20, CallTimeout: c.call, InitTimeout: c.init})
			skipWithoutExec(t, err)
			took := time.Since(begin)
			var lf *LoadFailure
			if !errors.As(err, &lf) || lf.Class != LoadTimeout || !errors.Is(err, ErrTimeout) {
				t.Fatalf("Start: %v (%#v), want a LoadTimeout", err, err)
			}
			if want := "memlink_init ran longer than " + c.limit; !strings.Contains(err.Error(), want) {
				t.Fatalf("Start: %q, want %q", err, want)
			}
			if took > 2*StartAllowance {
				t.Fatalf("the timeout took %v", took)
			}
		})
	}
	t.Run("unbounded", func(t *testing.T) {
		c := start(t, "escapee", Config{Init: []byte("initsleep=600"), CallTimeout: 200 * time.Millisecond, InitTimeout: -1})
		if got := call(t, c, "echo", "ok"); got != "ok" {
			t.Fatal(got)
		}
	})
}

// TestShutdownTimeoutNamesItsLimit: a memlink_shutdown that hangs is killed
// at Shutdown's limit, and the error says that limit (not CallTimeout).
func TestShutdownTimeoutNamesItsLimit(t *testing.T) {
	c := start(t, "escapee", Config{Init: []byte("shutdownsleep=20000")})
	begin := time.Now()
	_, err := c.Shutdown(300 * time.Millisecond)
	var f *Failure
	if !errors.As(err, &f) || f.Kind != FailTimeout || f.Limit != 300*time.Millisecond || f.Op != "memlink_shutdown" {
		t.Fatalf("Shutdown: %v (%+v), want a timeout of memlink_shutdown after 300ms", err, f)
	}
	if !strings.Contains(err.Error(), "memlink_shutdown ran longer than 300ms") {
		t.Fatalf("Shutdown: %q", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	if n := c.Restarts(); n != [NumReasons]uint64{} {
		t.Fatalf("a planned stop counted as a loss: %v", n)
	}
}
