package abi

import "bytes"

// Exports is the set of memlink ABI functions a module's own dynamic
// symbol table defines, as [CheckImage] and [CheckFile] read it from an
// ELF file. The zero value is an unknown set (another format, or a check
// that did not read the symbols), for which [Exports.MayHave] is always
// true: the caller must ask the loader.
//
// It lets a loader skip looking up the optional exports a module does not
// have: a failing dlsym costs glibc an error message it formats and the
// caller must fetch (about 11,000 instructions each; an ABI-1 module
// without state lacks four). A symbol the module takes from one of its
// own dependencies is not in the set: the ABI's functions are the
// module's own.
type Exports struct {
	known bool
	set   uint16
}

// abiSymbols are the names Exports tracks, one bit each.
var abiSymbols = [...]string{
	SymInit, SymCall, SymShutdown, SymVersion, SymCallV2,
	SymStateSize, SymSerializeState, SymDeserializeState, SymReleaseOutput,
	SymHostBind,
}

func abiSymbol(name string) int {
	for i, s := range abiSymbols {
		if s == name {
			return i
		}
	}
	return -1
}

// add records that the symbol table defines the NUL-terminated name b (a
// no-op for a name that is not one of the ABI's). It does not allocate.
func (e *Exports) add(b []byte) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	for i, s := range abiSymbols {
		if string(b) == s {
			e.set |= 1 << i
			return
		}
	}
}

// Known reports whether the set was read from the file's symbol table.
func (e Exports) Known() bool { return e.known }

// MayHave reports whether the module may export name: false only when
// the set is known and does not hold it.
func (e Exports) MayHave(name string) bool {
	if !e.known {
		return true
	}
	i := abiSymbol(name)
	return i < 0 || e.set&(1<<i) != 0
}
