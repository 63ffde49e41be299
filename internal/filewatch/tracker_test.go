package filewatch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func sig(n int64) Sig { return Sig{ino: 1, size: n, mtime: n} }

var t0 = time.Unix(1000, 0)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestTrackerActsOnceWhenStable(t *testing.T) {
	tr := Tracker{Debounce: 100 * time.Millisecond, Settle: time.Second}
	tr.Start(sig(1))
	steps := []struct {
		ms   int
		s    Sig
		want Action
	}{
		{0, sig(1), Wait},   // unchanged
		{10, sig(2), Wait},  // changed: start of debounce
		{60, sig(3), Wait},  // still changing: restarts
		{150, sig(3), Wait}, // 90 ms stable
		{160, sig(3), Ready},
		{300, sig(3), Wait}, // acted on: no second action
	}
	for _, st := range steps {
		got, err := tr.Observe(at(st.ms), st.s, nil)
		if got != st.want || err != nil {
			t.Fatalf("at %d ms: %v, %v; want %v", st.ms, got, err, st.want)
		}
	}
}

func TestTrackerPendingThenValid(t *testing.T) {
	tr := Tracker{Debounce: 100 * time.Millisecond, Settle: time.Second}
	tr.Start(sig(1))
	invalid := errors.New("truncated")
	valid := false
	check := func() error {
		if valid {
			return nil
		}
		return invalid
	}
	if a, _ := tr.Observe(at(0), sig(2), check); a != Wait {
		t.Fatal(a)
	}
	// Stable but invalid: pending, not bad, for the whole settle period.
	for ms := 100; ms < 1100; ms += 100 {
		if a, err := tr.Observe(at(ms), sig(2), check); a != Wait || err != nil {
			t.Fatalf("at %d ms: %v %v, want Wait while pending", ms, a, err)
		}
	}
	if next := tr.Next(); next.After(at(1000 + 100)) {
		t.Fatalf("Next %v: a pending file is checked again within a debounce period", next.Sub(t0))
	}
	valid = true
	if a, err := tr.Observe(at(1050), sig(2), check); a != Ready || err != nil {
		t.Fatalf("%v %v, want Ready once the file validates", a, err)
	}
}

func TestTrackerBadAfterSettle(t *testing.T) {
	tr := Tracker{Debounce: 100 * time.Millisecond, Settle: 500 * time.Millisecond}
	tr.Start(sig(1))
	bad := errors.New("not a shared library")
	check := func() error { return bad }
	tr.Observe(at(0), sig(2), check)
	tr.Observe(at(100), sig(2), check) // stable, invalid: pending from here
	if a, _ := tr.Observe(at(599), sig(2), check); a != Wait {
		t.Fatalf("%v before the settle period ended", a)
	}
	a, err := tr.Observe(at(600), sig(2), check)
	if a != Bad || !errors.Is(err, bad) {
		t.Fatalf("%v %v, want Bad with the check's error", a, err)
	}
	if a, _ := tr.Observe(at(2000), sig(2), check); a != Wait {
		t.Fatalf("%v: a bad version is reported once", a)
	}
	// A new version restarts everything.
	tr.Observe(at(2100), sig(3), nil)
	if a, _ := tr.Observe(at(2200), sig(3), nil); a != Ready {
		t.Fatalf("%v, want Ready for the next good version", a)
	}
}

func TestTrackerChangeDuringPendingRestartsDebounce(t *testing.T) {
	tr := Tracker{Debounce: 100 * time.Millisecond, Settle: 300 * time.Millisecond}
	tr.Start(sig(1))
	bad := func() error { return errors.New("truncated") }
	tr.Observe(at(0), sig(2), bad)
	tr.Observe(at(100), sig(2), bad)
	tr.Observe(at(350), sig(3), bad) // the writer went on
	if a, _ := tr.Observe(at(420), sig(3), bad); a != Wait {
		t.Fatal(a)
	}
	if a, _ := tr.Observe(at(450), sig(3), nil); a != Ready {
		t.Fatalf("%v, want Ready", a)
	}
}

func TestTrackerGoneOnlyAfterDebounce(t *testing.T) {
	tr := Tracker{Debounce: 100 * time.Millisecond, Settle: time.Second}
	tr.Start(sig(1))
	if a, _ := tr.Observe(at(0), Sig{}, nil); a != Wait {
		t.Fatal(a)
	}
	// Back before the debounce ended with the same version: nothing happened.
	if a, _ := tr.Observe(at(50), sig(1), nil); a != Wait {
		t.Fatal(a)
	}
	// Back with a new version after an unlink: a change, not a removal.
	tr.Observe(at(60), Sig{}, nil)
	tr.Observe(at(90), sig(2), nil)
	if a, _ := tr.Observe(at(200), sig(2), nil); a != Ready {
		t.Fatalf("%v, want Ready", a)
	}
	tr.Observe(at(300), Sig{}, nil)
	if !tr.Present() {
		t.Fatal("not present while the removal debounces")
	}
	if a, _ := tr.Observe(at(400), Sig{}, nil); a != Gone {
		t.Fatalf("%v, want Gone", a)
	}
	if tr.Present() {
		t.Fatal("present after Gone")
	}
	if a, _ := tr.Observe(at(500), Sig{}, nil); a != Wait {
		t.Fatalf("%v: Gone is reported once", a)
	}
}

func TestStatSeesRewriteWithSameSizeAndTime(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.so")
	if err := os.WriteFile(p, []byte("version one"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	time.Sleep(20 * time.Millisecond) // let the clock move past the first write
	// cp -p: same size, modification time put back.
	if err := os.WriteFile(p, []byte("version two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("setup: size or time differ (%d/%v vs %d/%v)", after.Size(), after.ModTime(), before.Size(), before.ModTime())
	}
	if after == before {
		t.Fatal("a rewrite with the same size and modification time has the same signature")
	}
}

func TestStatRefusesNonRegular(t *testing.T) {
	if _, err := Stat(t.TempDir()); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("directory: %v", err)
	}
	if _, err := Stat(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}
