package rust_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mapped reports whether a mapping of the module file base (or its memfd
// private copy) is in /proc/self/maps.
func mapped(t *testing.T, base string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.Join(f[5:], " "), " (deleted)")
		if p == "/memfd:memlink:"+base || filepath.Base(p) == base {
			return true
		}
	}
	return false
}

// TestUnloadUnmaps: a Rust module is unmapped by Unload, also after it
// panicked (the panic machinery uses thread-locals, whose destructors
// would keep a library mapped until the thread exits).
func TestUnloadUnmaps(t *testing.T) {
	for _, name := range []string{"rust_echo", "rust_counter"} {
		rt := newRuntime(t)
		path := rustModule(t, name)
		base := filepath.Base(path)
		h := load(t, rt, path)
		if name == "rust_echo" {
			unknownAndPanic(t, rt, h)
		} else {
			bigCountedOnce(t, rt, h)
		}
		if !mapped(t, base) {
			t.Fatalf("%s: not mapped while loaded: the check sees nothing", name)
		}
		if err := rt.Unload(h); err != nil {
			t.Fatal(err)
		}
		if mapped(t, base) {
			t.Errorf("%s is still mapped after Unload", name)
		}
	}
}
