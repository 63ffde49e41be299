//go:build unix

package memlink_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/memlink"
)

// A manifest that is a FIFO is refused at once: reading it must not wait
// for a writer (a sibling of module files that are FIFOs).
func TestRegistryManifestFIFO(t *testing.T) {
	dir := t.TempDir()
	vdir := filepath.Join(dir, "fifo", "1.0.0")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(vdir, memlink.ManifestFile), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	rt := memlink.New(memlink.WithRegistry(dir))
	defer rt.Close()
	done := make(chan error, 1)
	go func() {
		_, err := rt.Load(memlink.MustParseRef("fifo@1.0.0"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a registry whose manifest is a FIFO loaded a module")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked on a FIFO manifest")
	}
}
