package memlink_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestUnloadPinnedModuleOnWindows: a module that pins itself keeps its
// private copy's DLL loaded after Unload, and Windows refuses to delete a
// loaded DLL. Neither Unload nor Close fails for it: the copy stays, to be
// removed by the stale-directory cleanup of a later process.
func TestUnloadPinnedModuleOnWindows(t *testing.T) {
	rt := memlink.New()
	for range 2 {
		h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "pinned")))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := rt.Call(h, "process", nil); err != nil || string(out) != "pinned" {
			t.Fatalf("pinned module: %q, %v", out, err)
		}
		if err := rt.Unload(h); err != nil {
			t.Fatalf("Unload of a pinned module: %v", err)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatalf("Close with pinned copies left: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "memlink-go-"+strconv.Itoa(os.Getpid())+"-*", "*", "pinned.dll"))
	t.Logf("pinned copies left for the next process's cleanup: %d", len(left))
	if len(left) == 0 {
		t.Log("(the loader let the pinned copies be deleted)")
	}
}
