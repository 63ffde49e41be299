package memlink_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestInvalidRuntimeOptionsPanicInNew checks the documented policy for
// New's options: a value out of range makes New panic with a message
// naming the option, and building the option itself never panics.
func TestInvalidRuntimeOptionsPanicInNew(t *testing.T) {
	cases := []struct {
		name string
		opt  func() memlink.Option
	}{
		{"WithResolver", func() memlink.Option { return memlink.WithResolver(nil) }},
		{"WithDrainTimeout", func() memlink.Option { return memlink.WithDrainTimeout(0) }},
		{"WithDrainTimeout", func() memlink.Option { return memlink.WithDrainTimeout(-time.Second) }},
		{"WithOutputCapacity", func() memlink.Option { return memlink.WithOutputCapacity(0) }},
		{"WithOutputCapacity", func() memlink.Option { return memlink.WithOutputCapacity(64<<20 + 1) }},
		{"WithMaxOutput", func() memlink.Option { return memlink.WithMaxOutput(0) }},
		{"WithLanes", func() memlink.Option { return memlink.WithLanes(0) }},
		{"WithLanes", func() memlink.Option { return memlink.WithLanes(5000) }},
		{"WithLatencySampling", func() memlink.Option { return memlink.WithLatencySampling(-1) }},
		{"WithRegistry", func() memlink.Option { return memlink.WithRegistry("") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := c.opt() // must not panic
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if r == nil || !strings.Contains(msg, c.name) || !strings.HasPrefix(msg, "memlink: New: invalid option") {
					t.Fatalf("New with an invalid %s: recovered %v", c.name, r)
				}
			}()
			memlink.New(opt).Close()
		})
	}
	// The edges of each range are accepted.
	memlink.New(memlink.WithDrainTimeout(time.Nanosecond), memlink.WithOutputCapacity(1),
		memlink.WithOutputCapacity(64<<20), memlink.WithMaxOutput(1), memlink.WithLanes(1),
		memlink.WithLanes(4096), memlink.WithLatencySampling(0)).Close()
}

// TestInvalidLoadOptionsFailLoad checks the policy for LoadOptions: Load
// and Reload fail with ErrInvalidOption in a *LoadError, nothing is
// loaded, and a reload's old version keeps serving.
func TestInvalidLoadOptionsFailLoad(t *testing.T) {
	rt := memlink.New()
	t.Cleanup(func() { rt.Close() })
	echo := modtest.Path(t, "echo")
	cases := []struct {
		name string
		opt  memlink.LoadOption
	}{
		{"WithDigest", memlink.WithDigest("not hex")},
		{"WithDigest", memlink.WithDigest(strings.Repeat("a", 63))},
		{"WithName", memlink.WithName("")},
		{"WithName", memlink.WithName("two words")},
		{"WithIsolation", memlink.WithIsolation(memlink.Isolation{CallTimeout: -1})},
		{"WithIsolation", memlink.WithIsolation(memlink.Isolation{Slots: 100000})},
		{"WithIsolation", memlink.WithIsolation(memlink.Isolation{Restart: 7})},
	}
	h, err := rt.Load(memlink.FileRef(echo))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(rt.Handles())
			_, err := rt.Load(memlink.FileRef(echo), c.opt)
			var le *memlink.LoadError
			if !errors.Is(err, memlink.ErrInvalidOption) || !errors.As(err, &le) || !strings.Contains(err.Error(), c.name) {
				t.Fatalf("Load with an invalid %s: %v", c.name, err)
			}
			if n := len(rt.Handles()); n != before {
				t.Fatalf("%d handles after a refused load, want %d", n, before)
			}
			_, err = rt.Reload(h, memlink.FileRef(echo), hotreload.Config{}, c.opt)
			if !errors.Is(err, memlink.ErrInvalidOption) || !errors.As(err, &le) {
				t.Fatalf("Reload with an invalid %s: %v", c.name, err)
			}
			if u, _ := rt.Usage(h); u.Generation != 1 {
				t.Fatalf("generation %d after a refused reload", u.Generation)
			}
		})
	}
}
