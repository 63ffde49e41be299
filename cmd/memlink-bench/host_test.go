package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestHostRow runs the host row alone in quick mode and checks its three
// variants: figures, the purego baseline, and no allocation per host call
// in process.
func TestHostRow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the host row")
	}
	stdout, stderr, code := bench(t, "-quick", "-json", "-rows", "host", "-cache", testCache)
	if code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr)
	}
	rs := decodeResults(t, stdout)
	var names []string
	for _, r := range rs {
		name := r.Row + " " + r.Variant
		names = append(names, name)
		if r.Row != "host" {
			t.Errorf("%s: a row not asked for", name)
			continue
		}
		if r.Variant == "isolated/call" && runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
			if r.Status != statusNA || r.Error == "" {
				t.Errorf("%s: status %q (%s), want n/a with a reason here", name, r.Status, r.Error)
			}
			continue
		}
		if r.Status != statusOK {
			t.Errorf("%s: status %q: %s", name, r.Status, r.Error)
			continue
		}
		if !positive(r.Median) || !positive(r.Min) || !positive(r.Max) || *r.Min > *r.Median || *r.Median > *r.Max {
			t.Errorf("%s: median %v, min %v, max %v: want positive and ordered", name, deref(r.Median), deref(r.Min), deref(r.Max))
		}
		if r.Unit != "ns" || r.BaselineName != "purego" || r.BaselineUnit != "ns" || r.Ops <= 0 || r.N < quickCount {
			t.Errorf("%s: unit %q, baseline %q in %q, ops %d, n %d", name, r.Unit, r.BaselineName, r.BaselineUnit, r.Ops, r.N)
		}
		checkBaselines(t, name, r)
		if r.Allocs == nil || r.BaselineAllocs == nil {
			t.Errorf("%s: allocs missing", name)
		} else if r.Variant == "inprocess/call" && *r.Allocs > 0.01 {
			t.Errorf("%s: %.3f allocs per host call, want 0", name, *r.Allocs)
		}
	}
	if got := strings.Join(names, ","); got != "host inprocess/call,host isolated/call,host inprocess/log" {
		t.Errorf("results %s", got)
	}
	if !strings.Contains(stderr, "ratio = memlink / purego") {
		t.Errorf("the table does not say what the ratio is:\n%s", stderr)
	}
}
