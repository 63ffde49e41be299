package abi

import (
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
)

// TestCheckFileExports: the validator reports the ABI functions a module
// defines, so that a loader can skip looking up the others, and nothing a
// module lacks.
func TestCheckFileExports(t *testing.T) {
	if HostFormat() != FormatELF {
		t.Skipf("exports are read from ELF symbol tables; this host loads %s files", HostFormat())
	}
	for _, c := range []struct {
		module string
		has    []string
		hasNot []string
	}{
		{"echo", []string{SymInit, SymCall, SymShutdown}, []string{SymVersion, SymCallV2, SymStateSize, SymSerializeState, SymDeserializeState, SymReleaseOutput}},
		{"counter", []string{SymInit, SymCall, SymShutdown, SymStateSize, SymSerializeState, SymDeserializeState}, []string{SymVersion, SymCallV2}},
		{"binary", []string{SymInit, SymCall, SymCallV2, SymShutdown, SymVersion}, []string{SymStateSize}},
	} {
		img, err := CheckFile(modtest.Path(t, c.module))
		if err != nil {
			t.Fatalf("%s: %v", c.module, err)
		}
		if !img.Exports.Known() {
			t.Fatalf("%s: exports not known after CheckFile", c.module)
		}
		for _, s := range c.has {
			if !img.Exports.MayHave(s) {
				t.Errorf("%s: %s missing from the exports", c.module, s)
			}
		}
		for _, s := range c.hasNot {
			if img.Exports.MayHave(s) {
				t.Errorf("%s: %s reported, but the module does not define it", c.module, s)
			}
		}
		if !img.Exports.MayHave("not_an_abi_function") {
			t.Errorf("%s: a name outside the ABI must be left to the loader", c.module)
		}
	}
	var unknown Exports
	if unknown.Known() || !unknown.MayHave(SymStateSize) {
		t.Error("the zero Exports must be unknown and may have every export")
	}
}
