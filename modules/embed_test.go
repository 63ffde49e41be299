package modules_test

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/modules"
)

func TestAllDescribesEmbeddedSources(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range modules.All() {
		if m.Name == "" || strings.ContainsAny(m.Name, `/\. `) {
			t.Errorf("bad module name %q", m.Name)
		}
		if seen[m.Name] {
			t.Errorf("module %q listed twice", m.Name)
		}
		seen[m.Name] = true
		if m.Doc == "" {
			t.Errorf("module %q has no Doc", m.Name)
		}
		src, err := fs.ReadFile(modules.Source, m.SourcePath())
		if err != nil {
			t.Errorf("module %q: %v", m.Name, err)
			continue
		}
		if !strings.Contains(string(src), `#include "memlink.h"`) {
			t.Errorf("%s does not include memlink.h", m.Source)
		}
	}
	for _, want := range []string{
		"echo", "math", "string", "crypto", "counter", "counter_badrestore",
		"version_v1", "version_v2", "binary", "abi99", "initfail", "missing",
		"errors", "sleep", "overflow", "configured",
	} {
		if !seen[want] {
			t.Errorf("All lacks module %q", want)
		}
	}
	if _, err := fs.ReadFile(modules.Source, path.Join(modules.SourceDir, modules.Header)); err != nil {
		t.Errorf("header: %v", err)
	}
}

func TestEverySourceIsBuilt(t *testing.T) {
	used := map[string]bool{}
	for _, m := range modules.All() {
		used[m.Source] = true
	}
	files, err := fs.Glob(modules.Source, modules.SourceDir+"/*.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[path.Base(f)] {
			t.Errorf("%s is embedded but no module is built from it", f)
		}
	}
}

func TestLookup(t *testing.T) {
	m, ok := modules.Lookup("version_v2")
	if !ok {
		t.Fatal("Lookup(version_v2) found nothing")
	}
	if m.Source != "version.c" || !slices.Equal(m.Defines, []string{"MODULE_VERSION=2"}) {
		t.Errorf("Lookup(version_v2) = %+v", m)
	}
	m, ok = modules.Lookup("counter_badrestore")
	if !ok || m.Source != "counter.c" || !slices.Equal(m.Defines, []string{"COUNTER_FAIL_RESTORE"}) {
		t.Errorf("Lookup(counter_badrestore) = %+v, %v", m, ok)
	}
	if _, ok := modules.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a module")
	}
}

func TestAllReturnsCopies(t *testing.T) {
	a := modules.All()
	for i := range a {
		a[i].Name = "changed"
		if len(a[i].Defines) > 0 {
			a[i].Defines[0] = "CHANGED"
		}
	}
	for _, m := range modules.All() {
		if m.Name == "changed" || slices.Contains(m.Defines, "CHANGED") {
			t.Fatalf("All shares memory with its callers: %+v", m)
		}
	}
}
