package memlink_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// TestStaleCleanupSparesOthers: the cleanup of stale private directories
// judges entries by more than their name. A directory another user owns,
// a symbolic link to a directory and a plain file, each named like a stale
// private directory of a dead process, are left alone.
func TestStaleCleanupSparesOthers(t *testing.T) {
	tmp := os.TempDir()
	target := t.TempDir()
	keep := filepath.Join(target, "precious")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, "memlink-go-99999992-link")
	file := filepath.Join(tmp, "memlink-go-99999988-file")
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	defer os.Remove(link)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		// Wine shows a host symlink to a directory as the directory.
		t.Logf("this system does not show %s as a link (%v): the link case is not run", link, err)
		os.Remove(link)
		link = ""
	}
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(file)
	var foreign string
	if runtime.GOOS != "windows" && os.Geteuid() == 0 {
		foreign = filepath.Join(tmp, "memlink-go-99999984-foreign")
		if err := os.MkdirAll(foreign, 0o700); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(foreign)
		if err := os.Chown(foreign, 4242, 4242); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("not root (or Windows): the directory-of-another-user case needs chown and is not run")
	}
	memlink.RemoveStalePrivateDirsForTest()
	for _, p := range []string{link, file, keep, foreign} { // "" for a case not run
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}
