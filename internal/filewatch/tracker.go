package filewatch

import (
	"time"

	"github.com/memlink/memlink-go/abi"
)

// SettleFor returns the settle period in force for a debounce period d
// when settle is zero or negative: ten times d, at least one second.
func SettleFor(settle, d time.Duration) time.Duration {
	if settle > 0 {
		return settle
	}
	return max(10*d, time.Second)
}

// CheckModule is the validation a watcher applies before it acts: the file
// must be a complete shared library for this platform (abi.CheckFile: its
// headers and every extent they declare inside the file).
func CheckModule(path string) error {
	_, err := abi.CheckFile(path)
	return err
}

// Action is what a Tracker asks of its watcher after an observation.
type Action int

const (
	// Wait: nothing to do yet (unchanged, still changing, or pending).
	Wait Action = iota
	// Ready: the file changed, has been stable for the debounce period and
	// passes validation: load or reload it.
	Ready
	// Bad: the file changed and has been stable but invalid for the settle
	// period: load or reload it anyway, so that the failure is reported
	// (and counted) once, with the loader's own error.
	Bad
	// Gone: the file has been missing for the debounce period.
	Gone
)

// Tracker follows one file through its versions. It is a pure state
// machine: the watcher feeds it observations (time, signature) and acts
// on what it answers; it does no I/O of its own except the check function
// it is handed. It is not safe for concurrent use.
type Tracker struct {
	// Debounce is how long a changed file must keep one signature, and a
	// missing file stay missing, before anything is done.
	Debounce time.Duration
	// Settle is how long a stable file that fails validation is pending
	// before it counts as bad.
	Settle time.Duration

	acted   Sig       // the version last acted on (zero: none, or removed)
	cand    Sig       // the changed version being watched settle
	since   time.Time // when cand was first seen
	badFrom time.Time // when cand, stable, first failed validation
	missing time.Time // when the acted-on file was first seen missing
	last    time.Time // the latest observation
}

// Start records sig as the version already in use (loaded before the
// watcher started), so that only later versions are acted on.
func (t *Tracker) Start(sig Sig) { t.acted = sig }

// Present reports whether the tracker holds a version that was acted on
// and has not been reported Gone.
func (t *Tracker) Present() bool { return t.acted.Exists() }

// Observe takes the file's signature at now (the zero Sig when it is
// missing or not a regular file) and says what to do. check validates the
// file; it is called only for a changed file that has been stable for the
// debounce period, and its error is returned with Bad.
func (t *Tracker) Observe(now time.Time, sig Sig, check func() error) (Action, error) {
	t.last = now
	if !sig.Exists() {
		t.cand, t.badFrom = Sig{}, time.Time{}
		if !t.acted.Exists() {
			return Wait, nil
		}
		if t.missing.IsZero() {
			t.missing = now
		}
		if now.Sub(t.missing) < t.Debounce {
			return Wait, nil
		}
		t.acted, t.missing = Sig{}, time.Time{}
		return Gone, nil
	}
	t.missing = time.Time{}
	if sig == t.acted {
		t.cand, t.badFrom = Sig{}, time.Time{}
		return Wait, nil
	}
	if sig != t.cand {
		t.cand, t.since, t.badFrom = sig, now, time.Time{}
		return Wait, nil
	}
	if now.Sub(t.since) < t.Debounce {
		return Wait, nil
	}
	if check != nil {
		if err := check(); err != nil {
			if t.badFrom.IsZero() {
				t.badFrom = now
			}
			if now.Sub(t.badFrom) < t.Settle {
				return Wait, nil
			}
			t.acted, t.cand, t.badFrom = sig, Sig{}, time.Time{}
			return Bad, err
		}
	}
	t.acted, t.cand, t.badFrom = sig, Sig{}, time.Time{}
	return Ready, nil
}

// Next is when the tracker next needs an observation even if nothing
// wakes the watcher (the zero time when it needs none). A pending file is
// validated again every debounce period until it settles.
func (t *Tracker) Next() time.Time {
	switch {
	case !t.missing.IsZero():
		return t.missing.Add(t.Debounce)
	case !t.badFrom.IsZero():
		settled, again := t.badFrom.Add(t.Settle), t.last.Add(t.Debounce)
		if again.Before(settled) {
			return again
		}
		return settled
	case t.cand.Exists():
		return t.since.Add(t.Debounce)
	}
	return time.Time{}
}
