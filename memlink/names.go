package memlink

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/plainfile"
)

// WithName sets the module's name: the `module` label of its metrics, the
// key Lookup finds it by and the name logs and errors use. Default: the
// file's base name without its extension ("libpricing.so" is
// "libpricing"). A name is 1 to 128 bytes of printable text without
// spaces; another value makes Load fail. The name is the handle's for its
// whole life, across reloads.
func WithName(name string) LoadOption {
	return func(o *loadOptions) { o.name, o.nameSet = name, true }
}

// checkName validates a name given to WithName.
func checkName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("invalid module name %q: it must have 1 to 128 bytes", name)
	}
	if strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\uFFFD' }) >= 0 {
		return fmt.Errorf("invalid module name %q: spaces and control characters are not allowed", name)
	}
	return nil
}

// Lookup returns the handle of the loaded module called name (see
// WithName), and false when none is. When several loaded modules share a
// name, it returns the one loaded last. Lookup takes no lock; it is meant
// for request paths that pick a module by name, and for services that keep
// a plugin directory with WatchDir, whose handles it finds.
func (rt *Runtime) Lookup(name string) (Handle, bool) {
	var best Handle
	for _, e := range *rt.table.Load() {
		if e != nil && e.name == name && e.h>>32 > best>>32 {
			best = e.h
		}
	}
	return best, best != 0
}

// moduleFiles lists the module files of dir in name order: entries with
// this platform's library extension that are not directories (symbolic
// links are followed when loaded) and whose names do not start with a dot,
// which is how rsync and editors name their temporary files.
func moduleFiles(dir string) ([]string, error) {
	ents, err := plainfile.ReadDir(dir) // a FIFO named dir fails instead of hanging
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range ents {
		n := de.Name()
		if de.IsDir() || strings.HasPrefix(n, ".") || filepath.Ext(n) != abi.LibraryExt {
			continue
		}
		names = append(names, n)
	}
	return names, nil
}
