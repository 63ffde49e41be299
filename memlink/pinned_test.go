package memlink_test

import (
	"runtime"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// A module that stays mapped after Unload (RTLD_NODELETE, thread-local
// destructors) must not be handed back by the loader to a later load of
// another file. Private copies are opened by a name the loader matches
// images by (on Linux /proc/self/fd/N), and descriptor numbers are reused:
// the next load used to get the pinned image instead of the file it named.
func TestPinnedImageIsNotReusedForAnotherFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		// Elsewhere a private copy is a file with a name of its own. (On
		// Windows a pinned DLL's copy cannot even be deleted until the
		// process ends; the stale-directory cleanup removes it then.)
		t.Skip("only Linux opens private copies by a reusable name (/proc/self/fd/N)")
	}
	rt := memlink.New()
	defer rt.Close()
	echo := modtest.Path(t, "echo")
	for i := range 4 {
		h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "pinned")))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := rt.Call(h, "process", nil); err != nil || string(out) != "pinned" {
			t.Fatalf("pinned module: %q, %v", out, err)
		}
		if err := rt.Unload(h); err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			h, err := rt.Load(memlink.MustParseRef(echo))
			if err != nil {
				t.Fatal(err)
			}
			out, err := rt.Call(h, "process", []byte("echo me"))
			if err != nil || string(out) != "echo me" {
				t.Fatalf("round %d.%d: the echo module answered %q, %v (the pinned image was loaded instead)", i, j, out, err)
			}
			if err := rt.Unload(h); err != nil {
				t.Fatal(err)
			}
		}
	}
}
