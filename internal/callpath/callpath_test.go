package callpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
)

func TestMain(m *testing.M) { modtest.Main(m) }

// TestOpenAsNamesTheOriginal opens a module under another name and checks
// that binding errors speak of that name only.
func TestOpenAsNamesTheOriginal(t *testing.T) {
	p := modtest.Path(t, "missing")
	lib, err := OpenAs(p, "/srv/plugins/original.so")
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if lib.Path() != p {
		t.Errorf("Path() = %q, want the file opened, %q", lib.Path(), p)
	}
	_, err = Bind(lib)
	if !errors.Is(err, abi.ErrMissingSymbol) || !strings.Contains(err.Error(), "/srv/plugins/original.so") || strings.Contains(err.Error(), p) {
		t.Errorf("Bind = %v; want abi.ErrMissingSymbol naming /srv/plugins/original.so and not %s", err, p)
	}
}

func TestErrUnsupportedMatchesTheStandardOne(t *testing.T) {
	if !errors.Is(ErrUnsupported, errors.ErrUnsupported) {
		t.Fatal("callpath.ErrUnsupported does not match errors.ErrUnsupported")
	}
}
