package memlink_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestHelperPinnedModule is not a test on its own: TestUnloadPinnedModule-
// OnWindows runs it in a child process, whose pinned copies cannot be
// deleted while it lives.
func TestHelperPinnedModule(t *testing.T) {
	if os.Getenv("MEMLINK_TEST_PINNED") == "" {
		t.Skip("run by TestUnloadPinnedModuleOnWindows")
	}
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
	t.Logf("PINNED-LEFT %d", len(left))
}

// TestUnloadPinnedModuleOnWindows: a module that pins itself keeps its
// private copy's DLL loaded after Unload, and Windows refuses to delete a
// loaded DLL. Neither Unload nor Close fails for it: the copy stays, and
// goes once the process has ended (the stale-directory cleanup of the
// next process removes it; here the test does).
func TestUnloadPinnedModuleOnWindows(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPinnedModule$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "MEMLINK_TEST_PINNED=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperPinnedModule") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child: %s", strings.TrimSpace(string(out[strings.Index(string(out), "PINNED-LEFT"):])))
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "memlink-go-"+strconv.Itoa(cmd.Process.Pid)+"-*"))
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			t.Errorf("the child's private copies once it ended: %v", err)
		}
	}
}
