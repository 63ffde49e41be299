package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// MalformedError reports a part of a shared library that the dynamic
// loader would trust and that is inconsistent: an offset beyond the file,
// a table outside the mapped segments, a relocation aimed at read-only
// memory. It matches [ErrInvalidModule] with errors.Is.
type MalformedError struct {
	// Part names what is wrong: "ELF header", "program header 3",
	// "dynamic entry 5 (DT_STRTAB)", "relocation 12 in DT_RELA".
	Part string
	// Reason says how it is wrong: "p_filesz > p_memsz".
	Reason string
}

func (e *MalformedError) Error() string { return e.Part + ": " + e.Reason }

// Unwrap returns [ErrInvalidModule].
func (e *MalformedError) Unwrap() error { return ErrInvalidModule }

func malformed[P string | where](part P, format string, args ...any) error {
	var name string
	switch p := any(part).(type) {
	case string:
		name = p
	case where:
		name = p.String()
	}
	return &MalformedError{Part: name, Reason: fmt.Sprintf(format, args...)}
}

// where names a part of the file for an error, built only when an error
// is reported: the checks name every table they read, and naming each
// eagerly cost thousands of instructions per load.
type where struct {
	s   string
	d   *dynamic
	tag uint64 // with d: dynamic entry tag (the name instead of s)
	n   int    // with num, the number that follows the name
	num bool
	// rec and sub, when above 0, add "record rec-1" and then "subWord
	// sub-1" (a version record and one of its entries).
	rec, sub int
	subWord  string
	in       bool   // add " in " and the name of inTag
	inTag    uint64 //
}

// named is a part whose name is s.
func named(s string) where { return where{s: s} }

// numbered is the part "s n".
func numbered(s string, n int) where { return where{s: s, n: n, num: true} }

func (w where) String() string {
	name := w.s
	if w.d != nil {
		name = w.d.part(w.tag)
	}
	if w.num {
		name += " " + strconv.Itoa(w.n)
	}
	if w.rec > 0 {
		name += " record " + strconv.Itoa(w.rec-1)
	}
	if w.sub > 0 {
		name += " " + w.subWord + " " + strconv.Itoa(w.sub-1)
	}
	if w.in {
		name += " in " + dtName(w.inTag)
	}
	return name
}

// MaxProgramHeaders bounds e_phnum. Real libraries have about ten program
// headers; a count in the thousands is a corrupt or hostile file, and
// bounding it bounds what [CheckHeader] reads.
const MaxProgramHeaders = 1024

// CheckHeader validates the header of the shared library r holds (size
// bytes long) and the extent the header declares, before anything else is
// done with the file (such as copying it): the format, CPU architecture and
// shared-library type ([Image.Check]); for ELF, every program header,
// wherever in the file the table lies (at most [MaxProgramHeaders]), with
// the rules the dynamic loader relies on (alignment, offsets and sizes
// within the file, p_filesz <= p_memsz, PT_LOAD segments sorted and
// disjoint, PT_DYNAMIC, PT_PHDR, PT_TLS, PT_NOTE and PT_GNU_RELRO inside a
// PT_LOAD). It reads the first [HeaderSize] bytes at most plus, for an
// ELF file whose program headers lie beyond them, that table; it never
// reads the rest of the file, so a multi-gigabyte file costs no more than
// a small one. A file shorter than the extent its headers declare is
// refused as truncated. name stands for the file in errors.
//
// Errors wrap [ErrInvalidModule] and name the file once, as [CheckImage]'s
// do (an inconsistent ELF header or program header also wraps a
// *[MalformedError]). The returned Image is filled in as far as the
// header was read. CheckHeader does not validate the dynamic section;
// [CheckImage] and [CheckFile] do everything CheckHeader does and that too.
func CheckHeader(name string, r io.ReaderAt, size int64) (Image, error) {
	head := make([]byte, min(max(size, 0), HeaderSize))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return Image{}, fmt.Errorf("%w: %s: reading the header: %v", ErrInvalidModule, name, err)
	}
	return CheckHeaderFrom(name, head, r, size)
}

// CheckHeaderFrom is [CheckHeader] for a caller that has read the file's
// first bytes already: head holds them (the first min(size, [HeaderSize])
// bytes; more are ignored), and r serves what lies beyond, such as program
// headers past head. It spares CheckHeader's copy of them. head is not
// modified or kept.
func CheckHeaderFrom(name string, head []byte, r io.ReaderAt, size int64) (Image, error) {
	if n := min(max(size, 0), HeaderSize); int64(len(head)) > n {
		head = head[:n]
	} else if int64(len(head)) < n {
		return Image{}, fmt.Errorf("%w: %s: reading the header: %d of its first %d bytes given", ErrInvalidModule, name, len(head), n)
	}
	img, err := checkImage(&elfReader{r: r, head: head, size: size}, false)
	if err != nil {
		return img, fmt.Errorf("%w: %s: %w", ErrInvalidModule, name, unwrapInvalid(err))
	}
	return img, nil
}

// checkImage runs the checks of CheckHeader and, with deep set, those of
// the dynamic section as well.
func checkImage(x *elfReader, deep bool) (Image, error) {
	img, err := Inspect(x.head)
	if err != nil {
		var m *MalformedError
		if errors.As(err, &m) {
			return Image{}, m
		}
		return Image{}, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}
	if err := img.Check(); err != nil {
		return img, err
	}
	if img.Format == FormatELF {
		f, err := parseELF(x)
		if err != nil {
			return img, err
		}
		img.MinSize = f.minSize
		if deep {
			if err := f.checkDynamic(); err != nil {
				return img, err
			}
			img.Exports = f.exports
			img.Exports.known = true
		}
	}
	if x.size < img.MinSize {
		return img, fmt.Errorf("%w: truncated: its headers describe %d bytes, the file has %d",
			ErrInvalidModule, img.MinSize, x.size)
	}
	return img, nil
}

// elfReader reads a file through its first bytes, which it keeps, and an
// io.ReaderAt for the rest (nil when head is the whole file).
type elfReader struct {
	r    io.ReaderAt
	head []byte
	size int64
}

// maxTable bounds one read of a table (the string table, a hash table):
// far above any real library's, it keeps a lying size from making the
// validator allocate what the file does not hold.
const maxTable = 64 << 20

// at returns the n bytes at file offset off. The result must not be
// modified (it may alias head).
func (x *elfReader) at(part where, off, n uint64) ([]byte, error) {
	if !inside(off, n, uint64(x.size)) {
		return nil, malformed(part, "bytes %#x..%#x lie beyond the end of the file (%d bytes)", off, off+n, x.size)
	}
	if off+n <= uint64(len(x.head)) {
		return x.head[off : off+n], nil
	}
	if x.r == nil {
		return nil, malformed(part, "bytes %#x..%#x lie beyond the %d bytes given", off, off+n, len(x.head))
	}
	if n > maxTable {
		return nil, malformed(part, "%d bytes is more than this validator reads for one table", n)
	}
	b := make([]byte, n)
	if m, err := x.r.ReadAt(b, int64(off)); m < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %s: reading bytes %#x..%#x: %v", ErrInvalidModule, part.String(), off, off+n, err)
	}
	return b, nil
}

// inside reports whether [off, off+n) lies within [0, limit), without
// overflow.
func inside(off, n, limit uint64) bool { return off <= limit && n <= limit-off }

// ELF constants used below (System V ABI and the GNU extensions).
const (
	ptLoad        = 1
	ptDynamic     = 2
	ptInterp      = 3
	ptNote        = 4
	ptPhdr        = 6
	ptTLS         = 7
	ptGNUProperty = 0x6474e553
	ptGNURelro    = 0x6474e552

	pfX = 1
	pfW = 2
	pfR = 4
)

// prog is one program header.
type prog struct {
	typ, flags                               uint32
	off, vaddr, filesz, memsz, align, endMem uint64
}

// elfFile is an ELF shared library whose header and program headers have
// been validated.
type elfFile struct {
	x       *elfReader
	bo      binary.ByteOrder
	is64    bool
	word    uint64 // 4 or 8
	machine uint16
	phoff   uint64
	phnum   uint64
	phsize  uint64
	loads   []prog // sorted by vaddr, disjoint
	dynamic *prog  // nil, or &dyn
	tls     *prog  // nil, or &tlsProg
	// Room for the above, so that parsing allocates only f: a library
	// has two to four PT_LOAD segments.
	loadBuf      [4]prog
	dyn, tlsProg prog
	minSize      int64
	exports      Exports // the ABI functions checkSymbols saw defined
}

func (f *elfFile) uword(b []byte) uint64 {
	if f.is64 {
		return f.bo.Uint64(b)
	}
	return uint64(f.bo.Uint32(b))
}

// pageSize is the granule the loader maps segments with: the larger of the
// smallest page ELF toolchains assume and this machine's.
var pageSize = uint64(max(4096, os.Getpagesize()))

// parseELF validates the ELF header and the program headers.
func parseELF(x *elfReader) (*elfFile, error) {
	const part = "ELF header"
	b := x.head
	f := &elfFile{x: x}
	f.loads = f.loadBuf[:0]
	switch b[5] {
	case 1:
		f.bo = binary.LittleEndian
	case 2:
		f.bo = binary.BigEndian
	}
	f.is64 = b[4] == 2
	ehsize, phent, shent := uint64(52), uint64(32), uint64(40)
	f.word = 4
	if f.is64 {
		ehsize, phent, shent, f.word = 64, 56, 64, 8
	}
	if uint64(len(b)) < ehsize {
		return nil, malformed(part, "truncated: %d bytes", len(b))
	}
	if b[6] != 1 {
		return nil, malformed(part, "EI_VERSION is %d, not 1", b[6])
	}
	if osabi := b[7]; osabi != 0 && osabi != 3 {
		return nil, malformed(part, "EI_OSABI %d is neither System V nor GNU", osabi)
	}
	f.machine = f.bo.Uint16(b[18:])
	var shoff, shnum, shentsize, ehsz uint64
	if f.is64 {
		if v := f.bo.Uint32(b[20:]); v != 1 {
			return nil, malformed(part, "e_version is %d, not 1", v)
		}
		f.phoff, shoff = f.bo.Uint64(b[32:]), f.bo.Uint64(b[40:])
		ehsz = uint64(f.bo.Uint16(b[52:]))
		f.phsize, f.phnum = uint64(f.bo.Uint16(b[54:])), uint64(f.bo.Uint16(b[56:]))
		shentsize, shnum = uint64(f.bo.Uint16(b[58:])), uint64(f.bo.Uint16(b[60:]))
	} else {
		if v := f.bo.Uint32(b[20:]); v != 1 {
			return nil, malformed(part, "e_version is %d, not 1", v)
		}
		f.phoff, shoff = uint64(f.bo.Uint32(b[28:])), uint64(f.bo.Uint32(b[32:]))
		ehsz = uint64(f.bo.Uint16(b[40:]))
		f.phsize, f.phnum = uint64(f.bo.Uint16(b[42:])), uint64(f.bo.Uint16(b[44:]))
		shentsize, shnum = uint64(f.bo.Uint16(b[46:])), uint64(f.bo.Uint16(b[48:]))
	}
	if ehsz != ehsize {
		return nil, malformed(part, "e_ehsize is %d, not %d", ehsz, ehsize)
	}
	if f.phsize != phent {
		return nil, malformed(part, "e_phentsize is %d, not %d", f.phsize, phent)
	}
	if f.phnum == 0 || f.phnum > MaxProgramHeaders {
		return nil, malformed(part, "e_phnum is %d (want 1 to %d)", f.phnum, MaxProgramHeaders)
	}
	if f.phoff < ehsize {
		return nil, malformed(part, "e_phoff %#x overlaps the ELF header", f.phoff)
	}
	size := uint64(x.size)
	f.minSize = maxEnd(0, f.phoff, f.phnum*f.phsize)
	if !inside(f.phoff, f.phnum*f.phsize, size) {
		return nil, fmt.Errorf("%w: truncated: the program headers end at %d, the file has %d bytes",
			ErrInvalidModule, f.phoff+f.phnum*f.phsize, size)
	}
	if shnum > 0 {
		// The loader never reads section headers; their extent is still
		// part of what the file claims to be.
		if shentsize != shent {
			return nil, malformed(part, "e_shentsize is %d, not %d", shentsize, shent)
		}
		f.minSize = maxEnd(f.minSize, shoff, shnum*shentsize)
	}
	tab, err := x.at(named("program headers"), f.phoff, f.phnum*f.phsize)
	if err != nil {
		return nil, err
	}
	var relro, phdr *prog
	var relroProg, phdrProg prog // what relro and phdr point to
	// The second pass looks again at the few segment types it checks;
	// they are kept from the first (decoding a header costs more than
	// keeping it).
	type kept struct {
		i uint64
		p prog
	}
	var keptBuf [8]kept
	second := keptBuf[:0]
	for i := range f.phnum {
		p := f.prog(tab[i*f.phsize:])
		switch p.typ {
		case ptDynamic, ptTLS, ptNote, ptGNUProperty, ptPhdr:
			second = append(second, kept{i, p})
		}
		if err := f.checkProg(i, &p); err != nil {
			return nil, err
		}
		switch p.typ {
		case ptLoad:
			if n := len(f.loads); n > 0 {
				prev := f.loads[n-1]
				if p.vaddr < prev.vaddr {
					return nil, malformed(phPart(i), "PT_LOAD at %#x follows one at %#x: PT_LOAD segments must be sorted by address", p.vaddr, prev.vaddr)
				}
				if alignUp(prev.endMem) > alignDown(p.vaddr) {
					return nil, malformed(phPart(i), "PT_LOAD at %#x overlaps the one before (ending at %#x)", p.vaddr, prev.endMem)
				}
				if p.off < prev.off+prev.filesz {
					return nil, malformed(phPart(i), "PT_LOAD maps file bytes from %#x, before the end of the previous one's (%#x)", p.off, prev.off+prev.filesz)
				}
			}
			f.loads = append(f.loads, p)
			f.minSize = maxEnd(f.minSize, p.off, p.filesz)
		case ptDynamic:
			if f.dynamic != nil {
				return nil, malformed(phPart(i), "second PT_DYNAMIC")
			}
			f.dyn = p
			f.dynamic = &f.dyn
		case ptTLS:
			if f.tls != nil {
				return nil, malformed(phPart(i), "second PT_TLS")
			}
			f.tlsProg = p
			f.tls = &f.tlsProg
		case ptGNURelro:
			if relro != nil {
				return nil, malformed(phPart(i), "second PT_GNU_RELRO")
			}
			relroProg = p
			relro = &relroProg
		case ptPhdr:
			phdrProg = p
			phdr = &phdrProg
		}
	}
	if len(f.loads) == 0 {
		return nil, malformed("program headers", "no PT_LOAD segment")
	}
	if f.dynamic == nil {
		return nil, malformed("program headers", "no PT_DYNAMIC segment")
	}
	// Second pass: segments the loader reads in memory must lie in the
	// bytes a PT_LOAD maps from the file, at the matching offset.
	for _, k := range second {
		i, p := k.i, k.p
		switch p.typ {
		case ptDynamic, ptTLS, ptNote, ptGNUProperty, ptPhdr:
			if p.filesz == 0 && p.typ != ptDynamic {
				continue
			}
			if p.filesz == 0 {
				return nil, malformed(phPart(i), "PT_DYNAMIC is empty")
			}
			l := f.loadOf(p.vaddr, p.filesz, false)
			if l == nil {
				return nil, malformed(phPart(i), "%s at %#x..%#x lies outside the file bytes of every PT_LOAD", ptName(p.typ), p.vaddr, p.vaddr+p.filesz)
			}
			if p.off-l.off != p.vaddr-l.vaddr {
				return nil, malformed(phPart(i), "%s: p_offset %#x does not match p_vaddr %#x in the PT_LOAD holding it", ptName(p.typ), p.off, p.vaddr)
			}
		}
	}
	if relro != nil && relro.memsz > 0 {
		l := f.loadOf(relro.vaddr, relro.memsz, true)
		if l == nil || l.flags&pfW == 0 {
			return nil, malformed("PT_GNU_RELRO", "%#x..%#x is not inside one writable PT_LOAD", relro.vaddr, relro.vaddr+relro.memsz)
		}
	}
	if phdr != nil && (phdr.off != f.phoff || phdr.filesz != f.phnum*f.phsize) {
		return nil, malformed("PT_PHDR", "describes %#x+%d bytes, but the program headers are at %#x+%d", phdr.off, phdr.filesz, f.phoff, f.phnum*f.phsize)
	}
	return f, nil
}

// phPart names program header i in errors, only when there is one.
func phPart(i uint64) string { return "program header " + strconv.FormatUint(i, 10) }

func ptName(t uint32) string {
	switch t {
	case ptDynamic:
		return "PT_DYNAMIC"
	case ptTLS:
		return "PT_TLS"
	case ptNote:
		return "PT_NOTE"
	case ptGNUProperty:
		return "PT_GNU_PROPERTY"
	case ptPhdr:
		return "PT_PHDR"
	}
	return fmt.Sprintf("segment type %#x", t)
}

func alignUp(v uint64) uint64   { return (v + pageSize - 1) &^ (pageSize - 1) }
func alignDown(v uint64) uint64 { return v &^ (pageSize - 1) }

func (f *elfFile) prog(b []byte) prog {
	var p prog
	p.typ = f.bo.Uint32(b)
	if f.is64 {
		p.flags = f.bo.Uint32(b[4:])
		p.off, p.vaddr = f.bo.Uint64(b[8:]), f.bo.Uint64(b[16:])
		p.filesz, p.memsz, p.align = f.bo.Uint64(b[32:]), f.bo.Uint64(b[40:]), f.bo.Uint64(b[48:])
	} else {
		p.off, p.vaddr = uint64(f.bo.Uint32(b[4:])), uint64(f.bo.Uint32(b[8:]))
		p.filesz, p.memsz = uint64(f.bo.Uint32(b[16:])), uint64(f.bo.Uint32(b[20:]))
		p.flags, p.align = f.bo.Uint32(b[24:]), uint64(f.bo.Uint32(b[28:]))
	}
	p.endMem = p.vaddr + p.memsz
	return p
}

// addrLimit bounds virtual addresses: a segment reaching beyond it could
// not be mapped, and the bound keeps sums from overflowing.
func (f *elfFile) addrLimit() uint64 {
	if f.is64 {
		return 1 << 47
	}
	return 1 << 32
}

func (f *elfFile) checkProg(i uint64, p *prog) error {
	switch p.typ {
	case ptLoad, ptDynamic, ptInterp, ptNote, ptPhdr, ptTLS, ptGNURelro, ptGNUProperty:
	default:
		return nil // the loader ignores the others
	}
	if p.typ != ptGNURelro && p.filesz > p.memsz {
		return malformed(phPart(i), "p_filesz %#x > p_memsz %#x", p.filesz, p.memsz)
	}
	if !inside(p.off, p.filesz, uint64(f.x.size)) {
		return fmt.Errorf("%w: truncated: %s: p_offset %#x + p_filesz %#x lies beyond the end of the file (%d bytes)",
			ErrInvalidModule, phPart(i), p.off, p.filesz, f.x.size)
	}
	if !inside(p.vaddr, p.memsz, f.addrLimit()) {
		return malformed(phPart(i), "p_vaddr %#x + p_memsz %#x is beyond the address space", p.vaddr, p.memsz)
	}
	if p.align > 1 && p.align&(p.align-1) != 0 {
		return malformed(phPart(i), "p_align %#x is not a power of two", p.align)
	}
	switch p.typ {
	case ptLoad:
		if p.align < pageSize {
			return malformed(phPart(i), "PT_LOAD p_align %#x is smaller than the page size %#x", p.align, pageSize)
		}
		if p.off%p.align != p.vaddr%p.align {
			return malformed(phPart(i), "p_offset %#x and p_vaddr %#x differ modulo p_align %#x", p.off, p.vaddr, p.align)
		}
		if p.memsz == 0 {
			return malformed(phPart(i), "empty PT_LOAD")
		}
	case ptTLS, ptDynamic:
		if p.align > 1 && p.vaddr%p.align != 0 {
			return malformed(phPart(i), "p_vaddr %#x is not aligned to p_align %#x", p.vaddr, p.align)
		}
	}
	return nil
}

// loadOf returns the PT_LOAD whose memory holds [addr, addr+n): its file
// bytes when mem is false, its whole memory image (the bss included) when
// mem is true. It returns nil when no single PT_LOAD does.
func (f *elfFile) loadOf(addr, n uint64, mem bool) *prog {
	for i := range f.loads {
		l := &f.loads[i]
		size := l.filesz
		if mem {
			size = l.memsz
		}
		if addr >= l.vaddr && inside(addr-l.vaddr, n, size) {
			return l
		}
	}
	return nil
}

// mem returns the n file bytes the loader maps at address addr; part names
// what they are in errors.
func (f *elfFile) mem(part where, addr, n uint64) ([]byte, error) {
	l := f.loadOf(addr, n, false)
	if l == nil {
		return nil, malformed(part, "%#x..%#x lies outside the file bytes of every PT_LOAD", addr, addr+n)
	}
	if l.flags&pfR == 0 {
		return nil, malformed(part, "%#x..%#x lies in a PT_LOAD that is not readable", addr, addr+n)
	}
	return f.x.at(part, l.off+(addr-l.vaddr), n)
}
