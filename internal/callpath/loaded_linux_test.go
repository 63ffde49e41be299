package callpath

import (
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
)

// TestMayStayLoaded checks the cheap answer against the loader's: an
// ordinary module's image is seen gone once closed, and a pinned one
// (RTLD_NODELETE) is never said to be gone, which StillLoaded confirms.
func TestMayStayLoaded(t *testing.T) {
	for _, c := range []struct {
		module string
		stays  bool
	}{{"echo", false}, {"pinned", true}} {
		p := modtest.Path(t, c.module)
		lib, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if !lib.MayStayLoaded() {
			t.Errorf("%s: MayStayLoaded = false before any Lookup", c.module)
		}
		m, err := Bind(lib) // looks up memlink_init first
		if err != nil {
			t.Fatal(err)
		}
		if rc := m.Init(nil); rc != 0 { // where pinned pins itself
			t.Fatalf("%s: memlink_init returned %d", c.module, rc)
		}
		if !lib.MayStayLoaded() {
			t.Errorf("%s: MayStayLoaded = false while open", c.module)
		}
		if err := lib.Close(); err != nil {
			t.Fatal(err)
		}
		if got := lib.MayStayLoaded(); c.stays && !got {
			t.Errorf("%s: MayStayLoaded = false after Close for an image that stays", c.module)
		} else if !c.stays && got {
			// Possible only if something was mapped at the page since;
			// nothing else runs here.
			t.Errorf("%s: MayStayLoaded = true after Close, want false", c.module)
		}
		if got := StillLoaded(p); got != c.stays {
			t.Errorf("%s: StillLoaded = %v, want %v", c.module, got, c.stays)
		}
	}
}

// TestLibraryStillLoadedRemembersGone checks that once the loader has said
// a closed library's image is gone, MayStayLoaded says so too.
func TestLibraryStillLoadedRemembersGone(t *testing.T) {
	lib, err := Open(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if !lib.StillLoaded() {
		t.Error("StillLoaded = false for an open library")
	}
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	// No Lookup: MayStayLoaded has no page to look at, so only the
	// loader can tell.
	if !lib.MayStayLoaded() {
		t.Fatal("MayStayLoaded = false without a page to look at")
	}
	if lib.StillLoaded() {
		t.Fatal("StillLoaded = true after Close")
	}
	if lib.MayStayLoaded() {
		t.Error("MayStayLoaded = true after StillLoaded found the image gone")
	}
}
