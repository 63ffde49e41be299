package memlink_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

func TestIsolatedHandOverCountsOnce(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "bigout", memlink.Isolation{})
	handOverCountsOnce(t, rt, h)
}

func TestIsolatedHandOverLimitsAndLies(t *testing.T) {
	rt := newRuntime(t, memlink.WithMaxOutput(50_000))
	h := loadIsolated(t, rt, "bigout", memlink.Isolation{})
	if _, err := rt.Call(h, "big", []byte("60000")); !errors.Is(err, memlink.ErrOutputTooLarge) {
		t.Fatalf("big over WithMaxOutput: err = %v, want ErrOutputTooLarge", err)
	}
	if _, err := rt.Call(h, "lie_huge", nil); !errors.Is(err, memlink.ErrOutputTooLarge) {
		t.Fatalf("lie_huge: err = %v, want ErrOutputTooLarge", err)
	}
	if got := callString(t, rt, h, "releases", ""); got != "2,0" {
		t.Fatalf("releases,outstanding = %s, want 2,0", got)
	}
	_, err := rt.Call(h, "lie_null", nil)
	if !errors.Is(err, memlink.ErrModuleCorrupted) || !strings.Contains(err.Error(), "10 output bytes") {
		t.Fatalf("lie_null: err = %v, want ErrModuleCorrupted", err)
	}
}
