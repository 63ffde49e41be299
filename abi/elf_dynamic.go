package abi

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Dynamic tags (System V ABI, GNU extensions).
const (
	dtNull         = 0
	dtNeeded       = 1
	dtPltRelSz     = 2
	dtPltGot       = 3
	dtHash         = 4
	dtStrTab       = 5
	dtSymTab       = 6
	dtRela         = 7
	dtRelaSz       = 8
	dtRelaEnt      = 9
	dtStrSz        = 10
	dtSymEnt       = 11
	dtInit         = 12
	dtFini         = 13
	dtSoname       = 14
	dtRpath        = 15
	dtRel          = 17
	dtRelSz        = 18
	dtRelEnt       = 19
	dtPltRel       = 20
	dtTextRel      = 22
	dtJmpRel       = 23
	dtInitArray    = 25
	dtFiniArray    = 26
	dtInitArraySz  = 27
	dtFiniArraySz  = 28
	dtRunpath      = 29
	dtFlags        = 30
	dtPreinitArray = 32
	dtPreinitSz    = 33
	dtRelrSz       = 35
	dtRelr         = 36
	dtRelrEnt      = 37
	dtGNUHash      = 0x6ffffef5
	dtAudit        = 0x6ffffefc
	dtDepAudit     = 0x6ffffefb
	dtVersym       = 0x6ffffff0
	dtRelaCount    = 0x6ffffff9
	dtRelCount     = 0x6ffffffa
	dtVerdef       = 0x6ffffffc
	dtVerdefNum    = 0x6ffffffd
	dtVerneed      = 0x6ffffffe
	dtVerneedNum   = 0x6fffffff
	dtAuxiliary    = 0x7ffffffd
	dtFilter       = 0x7fffffff

	dfTextRel = 0x4
)

var dtNames = map[uint64]string{
	dtNeeded: "DT_NEEDED", dtPltRelSz: "DT_PLTRELSZ", dtPltGot: "DT_PLTGOT", dtHash: "DT_HASH",
	dtStrTab: "DT_STRTAB", dtSymTab: "DT_SYMTAB", dtRela: "DT_RELA", dtRelaSz: "DT_RELASZ",
	dtRelaEnt: "DT_RELAENT", dtStrSz: "DT_STRSZ", dtSymEnt: "DT_SYMENT", dtInit: "DT_INIT",
	dtFini: "DT_FINI", dtSoname: "DT_SONAME", dtRpath: "DT_RPATH", dtRel: "DT_REL",
	dtRelSz: "DT_RELSZ", dtRelEnt: "DT_RELENT", dtPltRel: "DT_PLTREL", dtTextRel: "DT_TEXTREL",
	dtJmpRel: "DT_JMPREL", dtInitArray: "DT_INIT_ARRAY", dtFiniArray: "DT_FINI_ARRAY",
	dtInitArraySz: "DT_INIT_ARRAYSZ", dtFiniArraySz: "DT_FINI_ARRAYSZ", dtRunpath: "DT_RUNPATH",
	dtFlags: "DT_FLAGS", dtPreinitArray: "DT_PREINIT_ARRAY", dtPreinitSz: "DT_PREINIT_ARRAYSZ",
	dtRelrSz: "DT_RELRSZ", dtRelr: "DT_RELR", dtRelrEnt: "DT_RELRENT", dtGNUHash: "DT_GNU_HASH",
	dtAudit: "DT_AUDIT", dtDepAudit: "DT_DEPAUDIT", dtVersym: "DT_VERSYM", dtRelaCount: "DT_RELACOUNT",
	dtRelCount: "DT_RELCOUNT", dtVerdef: "DT_VERDEF", dtVerdefNum: "DT_VERDEFNUM",
	dtVerneed: "DT_VERNEED", dtVerneedNum: "DT_VERNEEDNUM", dtAuxiliary: "DT_AUXILIARY", dtFilter: "DT_FILTER",
}

func dtName(tag uint64) string {
	if n, ok := dtNames[tag]; ok {
		return n
	}
	return fmt.Sprintf("tag %#x", tag)
}

// stringTags hold offsets into the string table the loader reads names at.
var stringTags = []uint64{dtNeeded, dtSoname, dtRpath, dtRunpath, dtAudit, dtDepAudit, dtAuxiliary, dtFilter}

// dynamic is the dynamic section as the loader reads it: the last value of
// each tag (the loader keeps the last), and every DT_NEEDED.
type dynamic struct {
	ent    [dynLow + len(dynHigh)]dynEntry // by dynSlot
	needed []uint64
}

// dynEntry is the value of one tag and the index of its entry (for
// errors).
type dynEntry struct {
	val   uint64
	index int32
	set   bool
}

// The tags the checks read are kept in an array rather than a map (two
// maps per load cost thousands of instructions): the tags below dynLow by
// their number, those in dynHigh after them. Other tags are read past:
// nothing asks for them.
const dynLow = 40

var dynHigh = [...]uint64{dtGNUHash, dtAudit, dtDepAudit, dtVersym, dtRelaCount, dtRelCount,
	dtVerdef, dtVerdefNum, dtVerneed, dtVerneedNum, dtAuxiliary, dtFilter}

// dynSlot returns the index of tag in dynamic.ent, or -1.
func dynSlot(tag uint64) int {
	if tag < dynLow {
		return int(tag)
	}
	for i, t := range dynHigh {
		if t == tag {
			return dynLow + i
		}
	}
	return -1
}

// get returns the value of tag and whether the section has it.
func (d *dynamic) get(tag uint64) (uint64, bool) {
	i := dynSlot(tag)
	if i < 0 {
		return 0, false
	}
	return d.ent[i].val, d.ent[i].set
}

// value returns the value of tag, 0 when the section has none.
func (d *dynamic) value(tag uint64) uint64 { v, _ := d.get(tag); return v }

func (d *dynamic) has(tag uint64) bool { _, ok := d.get(tag); return ok }

// index returns the index of tag's entry.
func (d *dynamic) index(tag uint64) int {
	if i := dynSlot(tag); i >= 0 {
		return int(d.ent[i].index)
	}
	return -1
}

// entry is the part dynamic entry tag, named only for an error.
func (d *dynamic) entry(tag uint64) where { return where{d: d, tag: tag} }

func (d *dynamic) part(tag uint64) string {
	// Concatenated, not formatted: the checks name a part for every table
	// they read, error or not.
	return "dynamic entry " + strconv.Itoa(d.index(tag)) + " (" + dtName(tag) + ")"
}

// relocKinds describes how a machine's loader applies relocations.
type relocKinds struct {
	rela, rel           bool   // which tables the loader processes
	relative, irelative uint32 // R_*_RELATIVE, R_*_IRELATIVE
	jumpSlot, globDat   uint32 // R_*_JUMP_SLOT, R_*_GLOB_DAT
	tls                 []uint32
	tlsdesc             uint32 // writes two words
	known               bool   // the numbers above are this machine's
}

func (f *elfFile) relocKinds() relocKinds {
	switch f.machine {
	case 62: // x86-64
		return relocKinds{rela: true, relative: 8, irelative: 37, jumpSlot: 7, globDat: 6, tls: []uint32{16, 17, 18, 36}, tlsdesc: 36, known: true}
	case 183: // AArch64
		return relocKinds{rela: true, relative: 1027, irelative: 1032, jumpSlot: 1026, globDat: 1025, tls: []uint32{1028, 1029, 1030, 1031}, tlsdesc: 1031, known: true}
	case 3: // i386
		return relocKinds{rel: true, relative: 8, irelative: 42, jumpSlot: 7, globDat: 6, tls: []uint32{14, 35, 36, 37, 41}, tlsdesc: 41, known: true}
	case 40: // ARM
		return relocKinds{rel: true, relative: 23, irelative: 160, jumpSlot: 22, globDat: 21, tls: []uint32{13, 17, 18, 19}, tlsdesc: 13, known: true}
	}
	none := ^uint32(0)
	return relocKinds{rela: true, rel: true, relative: none, irelative: none, jumpSlot: none, globDat: none, tlsdesc: none}
}

// symtab is the dynamic symbol table, validated.
type symtab struct {
	addr, ent, n uint64
	strtab       []byte
	raw          []byte // the n entries
}

// checkDynamic validates what the dynamic loader reads through the dynamic
// section: string, symbol, hash, version and relocation tables, the
// init/fini functions, and the targets of relocations.
func (f *elfFile) checkDynamic() error {
	d, err := f.readDynamic()
	if err != nil {
		return err
	}
	for _, tag := range []uint64{dtTextRel} {
		if d.has(tag) {
			return malformed(d.part(tag), "text relocations are not supported: they make code writable while the loader patches it")
		}
	}
	if d.value(dtFlags)&dfTextRel != 0 {
		return malformed(d.part(dtFlags), "DF_TEXTREL: text relocations are not supported")
	}
	// String table.
	if !d.has(dtStrTab) || !d.has(dtStrSz) {
		return malformed("dynamic section", "no DT_STRTAB with DT_STRSZ")
	}
	strtab, err := f.mem(d.entry(dtStrTab), d.value(dtStrTab), d.value(dtStrSz))
	if err != nil {
		return err
	}
	if len(strtab) == 0 || strtab[len(strtab)-1] != 0 {
		return malformed(d.part(dtStrTab), "string table does not end with NUL")
	}
	str := func(part where, off uint64) (string, error) {
		if off >= uint64(len(strtab)) {
			return "", malformed(part, "string offset %#x is beyond DT_STRSZ %#x", off, len(strtab))
		}
		i := bytes.IndexByte(strtab[off:], 0)
		return string(strtab[off : off+uint64(i)]), nil
	}
	var needed []string
	for i, off := range d.needed {
		s, err := str(numbered("DT_NEEDED", i), off)
		if err != nil {
			return err
		}
		if s == "" {
			return malformed(numbered("DT_NEEDED", i), "empty library name")
		}
		needed = append(needed, s)
	}
	for _, tag := range stringTags[1:] {
		if d.has(tag) {
			if _, err := str(d.entry(tag), d.value(tag)); err != nil {
				return err
			}
		}
	}
	// Symbol table and its size, from the hash tables.
	if !d.has(dtSymTab) {
		return malformed("dynamic section", "no DT_SYMTAB")
	}
	sym := symtab{addr: d.value(dtSymTab), ent: 16, strtab: strtab}
	if f.is64 {
		sym.ent = 24
	}
	if d.has(dtSymEnt) && d.value(dtSymEnt) != sym.ent {
		return malformed(d.part(dtSymEnt), "DT_SYMENT is %d, not %d", d.value(dtSymEnt), sym.ent)
	}
	if !d.has(dtHash) && !d.has(dtGNUHash) {
		return malformed("dynamic section", "no DT_HASH or DT_GNU_HASH: the loader could find no symbol")
	}
	if d.has(dtHash) {
		n, err := f.checkSysvHash(d)
		if err != nil {
			return err
		}
		sym.n = n
	}
	var gnuSymoff uint64
	if d.has(dtGNUHash) {
		var n uint64
		n, gnuSymoff, err = f.checkGNUHash(d)
		if err != nil {
			return err
		}
		sym.n = max(sym.n, n)
	}
	if d.has(dtGNUHash) && !d.has(dtHash) && sym.n <= gnuSymoff {
		// No symbol is hashed (the library exports nothing), so the
		// table's length is nowhere: it ends where the next table
		// begins, as linkers lay them out.
		sym.n = f.symbolsUpTo(d, sym.addr) / sym.ent
	}
	if err := f.checkSymbols(d, &sym); err != nil {
		return err
	}
	// Versions.
	if (d.has(dtVerneed) || d.has(dtVerdef)) && !d.has(dtVersym) {
		return malformed("dynamic section", "version tables without DT_VERSYM")
	}
	nver, err := f.checkVersions(d, &sym, str, needed)
	if err != nil {
		return err
	}
	if d.has(dtVersym) {
		b, err := f.mem(d.entry(dtVersym), d.value(dtVersym), 2*sym.n)
		if err != nil {
			return err
		}
		for i := range sym.n {
			if v := uint64(f.bo.Uint16(b[2*i:]) & 0x7fff); v > 1 && v >= nver {
				return malformed(fmt.Sprintf("DT_VERSYM entry %d", i), "version index %d is not defined (highest %d)", v, int64(nver)-1)
			}
		}
	}
	// Relocations, then the functions run at load and unload.
	targets, err := f.checkRelocs(d, &sym)
	if err != nil {
		return err
	}
	for _, tag := range []uint64{dtInit, dtFini} {
		v, ok := d.get(tag)
		if !ok {
			continue
		}
		if l := f.loadOf(v, 1, false); l == nil || l.flags&pfX == 0 {
			return malformed(d.part(tag), "%#x is not in an executable PT_LOAD", v)
		}
	}
	for _, a := range [][2]uint64{{dtInitArray, dtInitArraySz}, {dtFiniArray, dtFiniArraySz}, {dtPreinitArray, dtPreinitSz}} {
		if err := f.checkFuncArray(d, a[0], a[1], targets, &sym); err != nil {
			return err
		}
	}
	if d.has(dtPltGot) {
		if l := f.loadOf(d.value(dtPltGot), 3*f.word, true); l == nil || l.flags&pfW == 0 {
			return malformed(d.part(dtPltGot), "%#x is not in a writable PT_LOAD", d.value(dtPltGot))
		}
	}
	return nil
}

// readDynamic reads the dynamic section from the memory the loader reads
// it from (PT_DYNAMIC's p_vaddr), up to DT_NULL.
func (f *elfFile) readDynamic() (*dynamic, error) {
	p := f.dynamic
	ent := 2 * f.word
	b, err := f.mem(named("PT_DYNAMIC"), p.vaddr, p.filesz)
	if err != nil {
		return nil, err
	}
	d := &dynamic{}
	for i := 0; ; i++ {
		if uint64(i+1)*ent > uint64(len(b)) {
			return nil, malformed("PT_DYNAMIC", "no DT_NULL within its %d bytes", len(b))
		}
		tag, val := f.uword(b[uint64(i)*ent:]), f.uword(b[uint64(i)*ent+f.word:])
		if tag == dtNull {
			break
		}
		if tag == dtNeeded {
			d.needed = append(d.needed, val)
			continue
		}
		slot := dynSlot(tag)
		if slot < 0 {
			continue
		}
		if d.ent[slot].set && dtNames[tag] != "" {
			return nil, malformed(fmt.Sprintf("dynamic entry %d (%s)", i, dtName(tag)), "repeats entry %d", d.index(tag))
		}
		d.ent[slot] = dynEntry{val: val, index: int32(i), set: true}
	}
	// Sizes without their table, tables without their size, and entry
	// sizes the loader asserts on.
	pairs := []struct{ table, size uint64 }{
		{dtRela, dtRelaSz}, {dtRel, dtRelSz}, {dtJmpRel, dtPltRelSz}, {dtRelr, dtRelrSz},
		{dtInitArray, dtInitArraySz}, {dtFiniArray, dtFiniArraySz}, {dtPreinitArray, dtPreinitSz},
		{dtStrTab, dtStrSz},
	}
	for _, pr := range pairs {
		if d.has(pr.table) != d.has(pr.size) {
			if d.has(pr.table) {
				return nil, malformed(d.part(pr.table), "no %s", dtName(pr.size))
			}
			return nil, malformed(d.part(pr.size), "no %s", dtName(pr.table))
		}
	}
	k := f.relocKinds()
	relaEnt, relEnt := 3*f.word, 2*f.word
	if d.has(dtRela) {
		if !k.rela {
			return nil, malformed(d.part(dtRela), "this machine's loader does not process DT_RELA")
		}
		if v, ok := d.get(dtRelaEnt); !ok || v != relaEnt {
			return nil, malformed("DT_RELAENT", "must be %d with DT_RELA (is %d)", relaEnt, v)
		}
	}
	if d.has(dtRel) {
		if !k.rel {
			return nil, malformed(d.part(dtRel), "this machine's loader does not process DT_REL")
		}
		if v, ok := d.get(dtRelEnt); !ok || v != relEnt {
			return nil, malformed("DT_RELENT", "must be %d with DT_REL (is %d)", relEnt, v)
		}
	}
	if d.has(dtRelr) {
		if v, ok := d.get(dtRelrEnt); !ok || v != f.word {
			return nil, malformed("DT_RELRENT", "must be %d with DT_RELR (is %d)", f.word, v)
		}
	}
	if d.has(dtJmpRel) || d.has(dtPltRel) {
		v, ok := d.get(dtPltRel)
		switch {
		case !ok:
			return nil, malformed(d.part(dtJmpRel), "no DT_PLTREL")
		case v == dtRela && k.rela, v == dtRel && k.rel:
		default:
			return nil, malformed(d.part(dtPltRel), "DT_PLTREL %d is not a relocation type this machine's loader processes", v)
		}
		if !d.has(dtJmpRel) {
			return nil, malformed(d.part(dtPltRel), "no DT_JMPREL")
		}
	}
	return d, nil
}

// checkSysvHash validates the DT_HASH table and returns the number of
// symbols it covers (nchain).
func (f *elfFile) checkSysvHash(d *dynamic) (uint64, error) {
	part := d.entry(dtHash)
	addr := d.value(dtHash)
	h, err := f.mem(part, addr, 8)
	if err != nil {
		return 0, err
	}
	nbucket, nchain := uint64(f.bo.Uint32(h)), uint64(f.bo.Uint32(h[4:]))
	if nbucket == 0 {
		return 0, malformed(part, "no buckets")
	}
	b, err := f.mem(part, addr, 8+4*(nbucket+nchain))
	if err != nil {
		return 0, err
	}
	bucket, chain := b[8:8+4*nbucket], b[8+4*nbucket:]
	seen := make([]bool, nchain)
	for i := range nbucket {
		for s := uint64(f.bo.Uint32(bucket[4*i:])); s != 0; s = uint64(f.bo.Uint32(chain[4*s:])) {
			if s >= nchain {
				return 0, malformed(part, "bucket %d reaches symbol %d of %d", i, s, nchain)
			}
			if seen[s] {
				return 0, malformed(part, "bucket %d's chain revisits symbol %d", i, s)
			}
			seen[s] = true
		}
	}
	return nchain, nil
}

// symbolsUpTo returns how many bytes from the symbol table at addr to the
// next table the dynamic section names, or to the end of its PT_LOAD's
// file bytes.
func (f *elfFile) symbolsUpTo(d *dynamic, addr uint64) uint64 {
	l := f.loadOf(addr, 0, false)
	if l == nil {
		return 0
	}
	end := l.vaddr + l.filesz
	for _, tag := range []uint64{dtStrTab, dtHash, dtGNUHash, dtVersym, dtVerneed, dtVerdef, dtRela, dtRel, dtJmpRel, dtRelr} {
		if v, ok := d.get(tag); ok && v > addr && v < end {
			end = v
		}
	}
	return min(end-addr, maxTable)
}

// checkGNUHash validates the DT_GNU_HASH table and returns the number of
// symbols its chains cover and the index of the first hashed symbol.
func (f *elfFile) checkGNUHash(d *dynamic) (n, symoff uint64, err error) {
	part := d.entry(dtGNUHash)
	addr := d.value(dtGNUHash)
	h, err := f.mem(part, addr, 16)
	if err != nil {
		return 0, 0, err
	}
	nbuckets := uint64(f.bo.Uint32(h))
	symoff = uint64(f.bo.Uint32(h[4:]))
	bloom, shift := uint64(f.bo.Uint32(h[8:])), uint64(f.bo.Uint32(h[12:]))
	if nbuckets == 0 {
		return 0, 0, malformed(part, "no buckets")
	}
	if bloom == 0 || bloom&(bloom-1) != 0 {
		return 0, 0, malformed(part, "bloom filter of %d words is not a power of two", bloom)
	}
	if shift >= 8*f.word {
		return 0, 0, malformed(part, "bloom shift %d is not below %d", shift, 8*f.word)
	}
	bstart := addr + 16 + bloom*f.word
	buckets, err := f.mem(part, bstart, 4*nbuckets)
	if err != nil {
		return 0, 0, err
	}
	// The chains run from after the buckets to the end of the PT_LOAD's
	// file bytes at most.
	cstart := bstart + 4*nbuckets
	l := f.loadOf(cstart, 0, false)
	if l == nil {
		return 0, 0, malformed(part, "chains at %#x lie outside the file bytes of every PT_LOAD", cstart)
	}
	chains, err := f.mem(part, cstart, min(l.vaddr+l.filesz-cstart, maxTable)&^3)
	if err != nil {
		return 0, 0, err
	}
	// Each chain runs from its bucket's first symbol to the next entry
	// with the end bit set. Walking the starts in order, and each stretch
	// of the chain array once, keeps a hostile table (every bucket at the
	// start of one endless chain) from costing buckets x chain length.
	starts := make([]uint64, 0, nbuckets)
	for i := range nbuckets {
		s := uint64(f.bo.Uint32(buckets[4*i:]))
		if s == 0 {
			continue
		}
		if s < symoff {
			return 0, 0, malformed(part, "bucket %d starts at symbol %d, below the first hashed symbol %d", i, s, symoff)
		}
		starts = append(starts, s)
	}
	slices.Sort(starts)
	n = symoff
	end := uint64(0) // the end of the chain last walked, plus one
	for _, s := range starts {
		if s < end {
			continue // inside the chain just walked: same end
		}
		for ; ; s++ {
			j := s - symoff
			if 4*j+4 > uint64(len(chains)) {
				return 0, 0, malformed(part, "a chain runs past the end of its segment")
			}
			if f.bo.Uint32(chains[4*j:])&1 != 0 {
				break
			}
		}
		end = s + 1
		n = max(n, end)
	}
	return n, symoff, nil
}

// checkSymbols validates every dynamic symbol: its name in the string
// table, and a defined symbol's value in the segment its type requires.
func (f *elfFile) checkSymbols(d *dynamic, s *symtab) error {
	const (
		sttFunc  = 2
		sttTLS   = 6
		sttIFunc = 10
		shnAbs   = 0xfff1
	)
	b, err := f.mem(d.entry(dtSymTab), s.addr, s.n*s.ent)
	if err != nil {
		return err
	}
	s.raw = b
	lo, hi := f.loads[0].vaddr, f.loads[len(f.loads)-1].endMem
	for i := uint64(1); i < s.n; i++ {
		e := b[i*s.ent:]
		var name, value, size uint64
		var info byte
		var shndx uint16
		if f.is64 {
			name, info, shndx = uint64(f.bo.Uint32(e)), e[4], f.bo.Uint16(e[6:])
			value, size = f.bo.Uint64(e[8:]), f.bo.Uint64(e[16:])
		} else {
			name, value, size = uint64(f.bo.Uint32(e)), uint64(f.bo.Uint32(e[4:])), uint64(f.bo.Uint32(e[8:]))
			info, shndx = e[12], f.bo.Uint16(e[14:])
		}
		part := numbered("symbol", int(i)) // named only for an error
		if name >= uint64(len(s.strtab)) {
			return malformed(part, "name offset %#x is beyond DT_STRSZ %#x", name, len(s.strtab))
		}
		if shndx == 0 {
			continue
		}
		bind := info >> 4
		if bind == 1 || bind == 2 || bind == 10 { // global, weak, GNU unique: what dlsym finds
			f.exports.add(s.strtab[name:])
		}
		if shndx == shnAbs {
			continue
		}
		if (bind == 1 || bind == 2) && info&0xf != sttFunc && isABIExport(s.strtab[name:]) {
			return malformed(part, "%s is an ABI export, but not a function (type %d)", cstring(s.strtab[name:]), info&0xf)
		}
		switch typ := info & 0xf; typ {
		case sttFunc, sttIFunc:
			if l := f.loadOf(value, max(size, 1), true); l == nil || l.flags&pfX == 0 {
				return malformed(part, "function at %#x (%d bytes) is not in an executable PT_LOAD", value, size)
			}
		case sttTLS:
			if f.tls == nil || !inside(value, size, f.tls.memsz) {
				return malformed(part, "thread-local object at %#x (%d bytes) is not inside PT_TLS", value, size)
			}
		default:
			if value < lo || value > hi {
				return malformed(part, "value %#x lies outside the image %#x..%#x", value, lo, hi)
			}
		}
	}
	return nil
}

// isABIExport reports whether the NUL-terminated name b is one of the
// functions the memlink ABI calls.
func isABIExport(b []byte) bool {
	switch cstring(b) {
	case SymInit, SymCall, SymShutdown, SymVersion, SymCallV2, SymStateSize, SymSerializeState, SymDeserializeState:
		return true
	}
	return false
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// checkVersions validates DT_VERNEED and DT_VERDEF and returns the number
// of version indexes they define (one more than the highest).
func (f *elfFile) checkVersions(d *dynamic, s *symtab, str func(where, uint64) (string, error), needed []string) (uint64, error) {
	nver := uint64(2)
	// Records and their entries may not share bytes: at most as many as
	// fit in the file, which also bounds the work a hostile table costs.
	budget := uint64(f.x.size) / 8
	spend := func(part where) error {
		if budget == 0 {
			return malformed(part, "more version entries than the file has room for: they overlap")
		}
		budget--
		return nil
	}
	if d.has(dtVerneed) != d.has(dtVerneedNum) || d.has(dtVerdef) != d.has(dtVerdefNum) {
		return 0, malformed("dynamic section", "a version table without its count, or a count without its table")
	}
	if d.has(dtVerneed) {
		part := d.entry(dtVerneed)
		addr, count := d.value(dtVerneed), d.value(dtVerneedNum)
		for i := range count {
			if err := spend(part); err != nil {
				return 0, err
			}
			vn, err := f.mem(part, addr, 16)
			if err != nil {
				return 0, err
			}
			pe := part
			pe.rec = int(i) + 1
			if v := f.bo.Uint16(vn); v != 1 {
				return 0, malformed(pe, "vn_version %d is not 1", v)
			}
			cnt, file, aux, next := uint64(f.bo.Uint16(vn[2:])), uint64(f.bo.Uint32(vn[4:])), uint64(f.bo.Uint32(vn[8:])), uint64(f.bo.Uint32(vn[12:]))
			lib, err := str(pe, file)
			if err != nil {
				return 0, err
			}
			found := false
			for _, n := range needed {
				found = found || n == lib
			}
			if !found {
				return 0, malformed(pe, "needs versions of %q, which is not a DT_NEEDED library", lib)
			}
			a := addr + aux
			for j := range cnt {
				if err := spend(pe); err != nil {
					return 0, err
				}
				va, err := f.mem(pe, a, 16)
				if err != nil {
					return 0, err
				}
				en := pe
				en.subWord, en.sub = "entry", int(j)+1
				if _, err := str(en, uint64(f.bo.Uint32(va[8:]))); err != nil {
					return 0, err
				}
				nver = max(nver, uint64(f.bo.Uint16(va[6:])&0x7fff)+1)
				vnext := uint64(f.bo.Uint32(va[12:]))
				if (vnext == 0) != (j == cnt-1) || vnext%4 != 0 {
					return 0, malformed(pe, "entry %d: vna_next %#x does not match vn_cnt %d", j, vnext, cnt)
				}
				a += vnext
			}
			if (next == 0) != (i == count-1) || next%4 != 0 {
				return 0, malformed(pe, "vn_next %#x does not match DT_VERNEEDNUM %d", next, count)
			}
			addr += next
		}
	}
	if d.has(dtVerdef) {
		part := d.entry(dtVerdef)
		addr, count := d.value(dtVerdef), d.value(dtVerdefNum)
		for i := range count {
			if err := spend(part); err != nil {
				return 0, err
			}
			vd, err := f.mem(part, addr, 20)
			if err != nil {
				return 0, err
			}
			pe := part
			pe.rec = int(i) + 1
			if v := f.bo.Uint16(vd); v != 1 {
				return 0, malformed(pe, "vd_version %d is not 1", v)
			}
			ndx, cnt := uint64(f.bo.Uint16(vd[4:])&0x7fff), uint64(f.bo.Uint16(vd[6:]))
			aux, next := uint64(f.bo.Uint32(vd[12:])), uint64(f.bo.Uint32(vd[16:]))
			nver = max(nver, ndx+1)
			if cnt == 0 {
				return 0, malformed(pe, "no name (vd_cnt 0)")
			}
			a := addr + aux
			for j := range cnt {
				if err := spend(pe); err != nil {
					return 0, err
				}
				va, err := f.mem(pe, a, 8)
				if err != nil {
					return 0, err
				}
				en := pe
				en.subWord, en.sub = "name", int(j)+1
				if _, err := str(en, uint64(f.bo.Uint32(va))); err != nil {
					return 0, err
				}
				vnext := uint64(f.bo.Uint32(va[4:]))
				if (vnext == 0) != (j == cnt-1) || vnext%4 != 0 {
					return 0, malformed(pe, "name %d: vda_next %#x does not match vd_cnt %d", j, vnext, cnt)
				}
				a += vnext
			}
			if (next == 0) != (i == count-1) || next%4 != 0 {
				return 0, malformed(pe, "vd_next %#x does not match DT_VERDEFNUM %d", next, count)
			}
			addr += next
		}
	}
	return nver, nil
}

// relocTarget is what a relocation stores at an address, as far as the
// validator needs to know: a pointer into this image (local, at value) or
// something resolved elsewhere.
type relocTarget struct {
	local bool
	value uint64
}

// checkRelocs validates the relocation tables: entry sizes, symbol
// indexes, targets inside writable segments. It returns what the
// relocations store at each address of the init/fini arrays.
func (f *elfFile) checkRelocs(d *dynamic, s *symtab) (map[uint64]relocTarget, error) {
	k := f.relocKinds()
	arrays := f.funcArrays(d)
	targets := map[uint64]relocTarget{}
	inArray := func(a uint64) bool {
		for _, r := range arrays {
			if a+f.word > r[0] && a < r[1] {
				return true
			}
		}
		return false
	}
	type symInfo struct {
		value          uint64
		defined, local bool // local: the loader binds it to this library without a lookup
		typ            byte
	}
	symOf := func(i uint64) symInfo {
		b := s.raw[i*s.ent:]
		var si symInfo
		var info, other byte
		if f.is64 {
			si.value, si.defined, info, other = f.bo.Uint64(b[8:]), f.bo.Uint16(b[6:]) != 0, b[4], b[5]
		} else {
			si.value, si.defined, info, other = uint64(f.bo.Uint32(b[4:])), f.bo.Uint16(b[14:]) != 0, b[12], b[13]
		}
		vis := other & 3
		si.typ, si.local = info&0xf, info>>4 == 0 || vis == 1 || vis == 2
		return si
	}
	// Target start, end, relocation index for errors: room for the
	// relocations the sizes announce, within reason (they are not
	// checked yet).
	spans := make([][3]uint64, 0, min((d.value(dtRelaSz)+d.value(dtRelSz)+d.value(dtPltRelSz))/(2*f.word), 1024))
	table := func(tag, sizeTag uint64, rela bool, relative uint64, size uint64) error {
		if !d.has(tag) {
			return nil
		}
		ent := 2 * f.word
		if rela {
			ent = 3 * f.word
		}
		if size%ent != 0 {
			return malformed(d.part(sizeTag), "%d is not a multiple of the entry size %d", size, ent)
		}
		n := size / ent
		if relative > n {
			return malformed("DT_RELACOUNT", "%d relative relocations, but the table holds %d", relative, n)
		}
		b, err := f.mem(d.entry(tag), d.value(tag), size)
		if err != nil {
			return err
		}
		for i := range n {
			e := b[i*ent:]
			off, info := f.uword(e), f.uword(e[f.word:])
			var addend uint64
			if rela {
				addend = f.uword(e[2*f.word:])
			}
			var sym uint64
			var typ uint32
			if f.is64 {
				sym, typ = info>>32, uint32(info)
			} else {
				sym, typ = info>>8, uint32(info&0xff)
			}
			part := where{s: "relocation", n: int(i), num: true, in: true, inTag: tag} // named only for an error
			if i < relative && typ != k.relative && k.known {
				// The loader applies these as relative without looking,
				// and glibc asserts that they are.
				return malformed(part, "type %d within the first %d (%s), which must be relative", typ, relative, dtName(map[bool]uint64{true: dtRelaCount, false: dtRelCount}[rela]))
			}
			if tag == dtJmpRel && k.known && typ != k.jumpSlot && typ != k.irelative && typ != k.tlsdesc {
				return malformed(part, "type %d in the PLT relocations, which hold only jump slots", typ)
			}
			if typ == 0 {
				continue // R_*_NONE
			}
			if sym >= s.n {
				return malformed(part, "symbol index %d is beyond the %d symbols", sym, s.n)
			}
			si := symOf(sym)
			if sym != 0 && si.local && !si.defined {
				return malformed(part, "symbol %d is bound locally but not defined", sym)
			}
			if sym != 0 && si.local && typ == k.jumpSlot && si.typ != 2 && si.typ != 10 {
				return malformed(part, "jump slot bound to local symbol %d, which is not a function", sym)
			}
			if (typ == k.relative || typ == k.irelative) && sym != 0 {
				return malformed(part, "relative relocation names symbol %d", sym)
			}
			width := f.word
			if typ == k.tlsdesc {
				width = 2 * f.word
			}
			if l := f.loadOf(off, width, true); l == nil || l.flags&pfW == 0 {
				return malformed(part, "target %#x is not in a writable PT_LOAD", off)
			}
			if k.known && off%f.word != 0 && (typ == k.relative || typ == k.irelative || typ == k.jumpSlot || typ == k.globDat) {
				return malformed(part, "target %#x is not aligned to %d bytes", off, f.word)
			}
			spans = append(spans, [3]uint64{off, off + width, i})
			for _, t := range k.tls {
				if typ == t && sym == 0 && f.tls == nil {
					return malformed(part, "thread-local relocation in a library without PT_TLS")
				}
				if typ == t && sym != 0 && si.typ != 6 {
					return malformed(part, "thread-local relocation of symbol %d, which is not thread-local", sym)
				}
			}
			// The value stored, where it matters: an IRELATIVE resolver
			// is called during the load; an init/fini slot later.
			var val relocTarget
			known := true
			switch {
			case typ == k.relative || typ == k.irelative:
				if sym != 0 && typ == k.irelative {
					return malformed(part, "IRELATIVE relocation names symbol %d", sym)
				}
				v := addend
				if !rela {
					w, err := f.mem(part, off, f.word)
					if err != nil {
						return err
					}
					v = f.uword(w)
				}
				val = relocTarget{local: true, value: v}
			case sym != 0:
				val = relocTarget{local: si.defined, value: si.value + addend}
			default:
				known = false
			}
			if typ == k.irelative {
				if l := f.loadOf(val.value, 1, false); l == nil || l.flags&pfX == 0 {
					return malformed(part, "IRELATIVE resolver %#x is not in an executable PT_LOAD", val.value)
				}
			}
			if inArray(off) {
				if _, dup := targets[off]; dup {
					return malformed(part, "second relocation of init/fini slot %#x", off)
				}
				if !known {
					return malformed(part, "relocation type %d of init/fini slot %#x", typ, off)
				}
				targets[off] = val
			}
		}
		return nil
	}
	// Like the loader, do not count the PLT relocations twice when the
	// other table's size includes them.
	jmpEnd := d.value(dtJmpRel) + d.value(dtPltRelSz)
	relaSz, relSz := d.value(dtRelaSz), d.value(dtRelSz)
	if d.has(dtJmpRel) && d.value(dtPltRel) == dtRela && d.value(dtRela)+relaSz == jmpEnd && relaSz >= d.value(dtPltRelSz) {
		relaSz -= d.value(dtPltRelSz)
	}
	if d.has(dtJmpRel) && d.value(dtPltRel) == dtRel && d.value(dtRel)+relSz == jmpEnd && relSz >= d.value(dtPltRelSz) {
		relSz -= d.value(dtPltRelSz)
	}
	if err := table(dtRela, dtRelaSz, true, d.value(dtRelaCount), relaSz); err != nil {
		return nil, err
	}
	if err := table(dtRel, dtRelSz, false, d.value(dtRelCount), relSz); err != nil {
		return nil, err
	}
	if d.has(dtJmpRel) {
		if err := table(dtJmpRel, dtPltRelSz, d.value(dtPltRel) == dtRela, 0, d.value(dtPltRelSz)); err != nil {
			return nil, err
		}
	}
	relr, err := f.checkRelr(d, targets, inArray)
	if err != nil {
		return nil, err
	}
	spans = append(spans, relr...)
	// Two relocations of one place: one of them is lost, or they corrupt
	// each other.
	slices.SortFunc(spans, func(a, b [3]uint64) int { return cmp.Compare(a[0], b[0]) })
	for i := 1; i < len(spans); i++ {
		if spans[i][0] < spans[i-1][1] {
			return nil, malformed("relocations", "two relocations write %#x", spans[i][0])
		}
	}
	return targets, nil
}

// checkRelr validates the compact DT_RELR relative relocations.
func (f *elfFile) checkRelr(d *dynamic, targets map[uint64]relocTarget, inArray func(uint64) bool) ([][3]uint64, error) {
	if !d.has(dtRelr) {
		return nil, nil
	}
	var spans [][3]uint64
	part := d.entry(dtRelr)
	size := d.value(dtRelrSz)
	if size%f.word != 0 {
		return nil, malformed(d.part(dtRelrSz), "%d is not a multiple of %d", size, f.word)
	}
	b, err := f.mem(part, d.value(dtRelr), size)
	if err != nil {
		return nil, err
	}
	target := func(a uint64) error {
		if l := f.loadOf(a, f.word, true); l == nil || l.flags&pfW == 0 || a%f.word != 0 {
			return malformed(part, "target %#x is not an aligned word of a writable PT_LOAD", a)
		}
		spans = append(spans, [3]uint64{a, a + f.word, 0})
		if inArray(a) {
			w, err := f.mem(part, a, f.word)
			if err != nil {
				return err
			}
			targets[a] = relocTarget{local: true, value: f.uword(w)}
		}
		return nil
	}
	var base uint64
	haveBase := false
	for i := uint64(0); i < size; i += f.word {
		e := f.uword(b[i:])
		if e&1 == 0 {
			if err := target(e); err != nil {
				return nil, err
			}
			base, haveBase = e+f.word, true
			continue
		}
		if !haveBase {
			return nil, malformed(part, "bitmap entry before any address entry")
		}
		for bit := uint64(1); bit < 8*f.word; bit++ {
			if e>>bit&1 != 0 {
				if err := target(base + (bit-1)*f.word); err != nil {
					return nil, err
				}
			}
		}
		base += (8*f.word - 1) * f.word
	}
	return spans, nil
}

// funcArrays returns the init/fini arrays' address ranges.
func (f *elfFile) funcArrays(d *dynamic) [][2]uint64 {
	var r [][2]uint64
	for _, a := range [][2]uint64{{dtInitArray, dtInitArraySz}, {dtFiniArray, dtFiniArraySz}, {dtPreinitArray, dtPreinitSz}} {
		if d.has(a[0]) {
			r = append(r, [2]uint64{d.value(a[0]), d.value(a[0]) + d.value(a[1])})
		}
	}
	return r
}

// checkFuncArray validates an init/fini array: inside a PT_LOAD, and every
// slot, as the relocations leave it, a function of this library.
func (f *elfFile) checkFuncArray(d *dynamic, tag, sizeTag uint64, targets map[uint64]relocTarget, s *symtab) error {
	if !d.has(tag) {
		return nil
	}
	part := d.entry(tag)
	addr, size := d.value(tag), d.value(sizeTag)
	if size%f.word != 0 {
		return malformed(d.part(sizeTag), "%d is not a multiple of %d", size, f.word)
	}
	if f.loadOf(addr, size, true) == nil {
		return malformed(part, "%#x..%#x is not inside a PT_LOAD", addr, addr+size)
	}
	if tag == dtPreinitArray {
		return nil // run for executables only
	}
	for a := addr; a < addr+size; a += f.word {
		t, ok := targets[a]
		if !ok {
			return malformed(part, "slot %#x is not relocated: at any load address but its own it points nowhere", a)
		}
		if !t.local {
			continue // a function of another library, checked by the loader's lookup
		}
		if l := f.loadOf(t.value, 1, false); l == nil || l.flags&pfX == 0 {
			return malformed(part, "slot %#x points to %#x, not into an executable PT_LOAD", a, t.value)
		}
	}
	return nil
}
