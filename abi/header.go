package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/memlink/memlink-go/internal/plainfile"
)

// Format is the container format of a shared library.
type Format uint8

// Shared library formats recognised by [Inspect].
const (
	FormatUnknown Format = iota
	FormatELF            // Linux, FreeBSD, NetBSD
	FormatMachO          // macOS
	FormatPE             // Windows
)

func (f Format) String() string {
	switch f {
	case FormatELF:
		return "ELF"
	case FormatMachO:
		return "Mach-O"
	case FormatPE:
		return "PE"
	}
	return "unknown format"
}

// Image describes a shared library as read from the start of its file.
type Image struct {
	Format Format
	// Archs lists the CPU architectures the file holds code for, in GOARCH
	// spelling ("amd64", "arm64", ...), or "unknown(N)" for a machine number
	// this package does not name. A universal Mach-O file lists several.
	Archs []string
	// Shared reports whether the header marks the file as a shared library
	// (ELF ET_DYN, Mach-O MH_DYLIB or MH_BUNDLE, PE with IMAGE_FILE_DLL).
	Shared bool
	// MinSize is the file size the headers require: the end of the furthest
	// segment, section or table they describe, as far as those descriptions
	// lie within the bytes inspected. A shorter file is truncated, and the
	// dynamic loader would fault (SIGBUS) touching its missing pages.
	MinSize int64
	// Exports is the set of ABI functions the file's dynamic symbol table
	// defines: known for an ELF file after [CheckImage] or [CheckFile],
	// unknown otherwise.
	Exports Exports
}

// HeaderSize is how many bytes of a file [CheckFile] hands to [Inspect]:
// enough for the headers and segment tables of any ordinary library.
const HeaderSize = 64 << 10

var errNotLibrary = errors.New("not a shared library")

// Inspect reads the header of a shared library from its first bytes (up to
// [HeaderSize]). It returns an error for anything that is not an ELF, Mach-O
// or PE shared library. It never panics, whatever the input.
func Inspect(b []byte) (Image, error) {
	switch {
	case len(b) >= 4 && string(b[:4]) == "\x7fELF":
		return inspectELF(b)
	case len(b) >= 4 && (string(b[:4]) == "\xce\xfa\xed\xfe" || string(b[:4]) == "\xcf\xfa\xed\xfe"):
		return inspectMachO(b)
	case len(b) >= 4 && string(b[:4]) == "\xca\xfe\xba\xbe":
		return inspectFat(b)
	case len(b) >= 2 && string(b[:2]) == "MZ":
		return inspectPE(b)
	}
	return Image{}, errNotLibrary
}

func inspectELF(b []byte) (Image, error) {
	if len(b) < 20 {
		return Image{}, errors.New("truncated ELF header")
	}
	var bo binary.ByteOrder
	switch b[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return Image{}, fmt.Errorf("ELF header has invalid byte order %d", b[5])
	}
	class := b[4]
	typ := bo.Uint16(b[16:])
	machine := bo.Uint16(b[18:])
	arch := elfArch(machine, class, b[5])
	img := Image{Format: FormatELF, Archs: []string{arch}, Shared: typ == 3 /* ET_DYN */}
	// Offsets of e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize,
	// e_shnum and, per program header, p_offset and p_filesz.
	var phoff, shoff uint64
	var phentsize, phnum, shentsize, shnum uint64
	var word func([]byte) uint64
	var pOff, pSize int
	switch class {
	case 1:
		if len(b) < 52 {
			return Image{}, errors.New("truncated ELF header")
		}
		word = func(x []byte) uint64 { return uint64(bo.Uint32(x)) }
		phoff, shoff = word(b[28:]), word(b[32:])
		phentsize, phnum = uint64(bo.Uint16(b[42:])), uint64(bo.Uint16(b[44:]))
		shentsize, shnum = uint64(bo.Uint16(b[46:])), uint64(bo.Uint16(b[48:]))
		pOff, pSize = 4, 16
	case 2:
		if len(b) < 64 {
			return Image{}, errors.New("truncated ELF header")
		}
		word = bo.Uint64
		phoff, shoff = word(b[32:]), word(b[40:])
		phentsize, phnum = uint64(bo.Uint16(b[54:])), uint64(bo.Uint16(b[56:]))
		shentsize, shnum = uint64(bo.Uint16(b[58:])), uint64(bo.Uint16(b[60:]))
		pOff, pSize = 8, 32
	default:
		return Image{}, fmt.Errorf("ELF header has invalid class %d", class)
	}
	need := maxEnd(0, phoff, phnum*phentsize)
	need = maxEnd(need, shoff, shnum*shentsize)
	if phnum > 0 && phentsize < uint64(pSize+8) {
		return Image{}, malformed("ELF header", "e_phentsize %d is too small", phentsize)
	}
	for i := range phnum {
		off := phoff + i*phentsize
		if off > uint64(len(b)) || uint64(len(b))-off < phentsize {
			break // beyond the bytes given; CheckFile reads enough in practice
		}
		ph := b[off:]
		const ptLoad = 1
		if bo.Uint32(ph) != ptLoad {
			continue
		}
		need = maxEnd(need, word(ph[pOff:]), word(ph[pSize:]))
	}
	img.MinSize = need
	return img, nil
}

// maxEnd returns the larger of cur and off+size, saturating instead of
// wrapping so that absurd values from a corrupt header stay absurd.
func maxEnd(cur int64, off, size uint64) int64 {
	const limit = 1 << 62
	end := off + size
	if off > limit || size > limit || end > limit {
		end = limit
	}
	return max(cur, int64(end))
}

func elfArch(machine uint16, class, data byte) string {
	const class64 = 2
	switch machine {
	case 3:
		return "386"
	case 62:
		return "amd64"
	case 40:
		return "arm"
	case 183:
		return "arm64"
	case 243:
		if class == class64 {
			return "riscv64"
		}
	case 21:
		if data == 1 {
			return "ppc64le"
		}
		return "ppc64"
	case 22:
		return "s390x"
	case 258:
		return "loong64"
	case 8:
		if class == class64 {
			if data == 1 {
				return "mips64le"
			}
			return "mips64"
		}
		if data == 1 {
			return "mipsle"
		}
		return "mips"
	}
	return fmt.Sprintf("unknown(%d)", machine)
}

func machoArch(cpu uint32) string {
	switch cpu {
	case 7:
		return "386"
	case 0x01000007:
		return "amd64"
	case 12:
		return "arm"
	case 0x0100000c:
		return "arm64"
	}
	return fmt.Sprintf("unknown(%#x)", cpu)
}

func inspectMachO(b []byte) (Image, error) {
	if len(b) < 16 {
		return Image{}, errors.New("truncated Mach-O header")
	}
	le := binary.LittleEndian
	cpu := le.Uint32(b[4:])
	filetype := le.Uint32(b[12:])
	shared := filetype == 6 /* MH_DYLIB */ || filetype == 8 /* MH_BUNDLE */
	img := Image{Format: FormatMachO, Archs: []string{machoArch(cpu)}, Shared: shared}
	if len(b) < 28 {
		return img, nil
	}
	hdr := uint64(28)
	if b[0] == 0xcf {
		hdr = 32
	}
	ncmds, sizeofcmds := uint64(le.Uint32(b[16:])), uint64(le.Uint32(b[20:]))
	img.MinSize = maxEnd(0, hdr, sizeofcmds)
	off := hdr
	for range min(ncmds, 4096) {
		if off+8 > uint64(len(b)) {
			break
		}
		cmd, size := le.Uint32(b[off:]), uint64(le.Uint32(b[off+4:]))
		if size < 8 || off+size > uint64(len(b)) {
			break
		}
		c := b[off : off+size]
		switch {
		case cmd == 0x19 && len(c) >= 56: // LC_SEGMENT_64
			img.MinSize = maxEnd(img.MinSize, le.Uint64(c[40:]), le.Uint64(c[48:]))
		case cmd == 0x1 && len(c) >= 40: // LC_SEGMENT
			img.MinSize = maxEnd(img.MinSize, uint64(le.Uint32(c[32:])), uint64(le.Uint32(c[36:])))
		}
		off += size
	}
	return img, nil
}

// inspectFat reads a universal (fat) Mach-O header. Java class files share
// its magic; they are told apart by the implausible architecture count.
func inspectFat(b []byte) (Image, error) {
	if len(b) < 8 {
		return Image{}, errors.New("truncated universal Mach-O header")
	}
	n := binary.BigEndian.Uint32(b[4:])
	if n == 0 || n > 32 {
		return Image{}, errNotLibrary
	}
	if uint64(len(b)) < 8+uint64(n)*20 {
		return Image{}, errors.New("truncated universal Mach-O header")
	}
	img := Image{Format: FormatMachO, Shared: true}
	for i := range int(n) {
		off := 8 + i*20
		img.Archs = append(img.Archs, machoArch(binary.BigEndian.Uint32(b[off:])))
	}
	return img, nil
}

func inspectPE(b []byte) (Image, error) {
	if len(b) < 0x40 {
		return Image{}, errors.New("truncated DOS header")
	}
	off := uint64(binary.LittleEndian.Uint32(b[0x3c:]))
	if off+24 > uint64(len(b)) {
		return Image{}, fmt.Errorf("truncated: the PE header at offset %d lies beyond the %d bytes read", off, len(b))
	}
	if string(b[off:off+4]) != "PE\x00\x00" {
		return Image{}, errNotLibrary
	}
	machine := binary.LittleEndian.Uint16(b[off+4:])
	chars := binary.LittleEndian.Uint16(b[off+22:])
	var arch string
	switch machine {
	case 0x8664:
		arch = "amd64"
	case 0xaa64:
		arch = "arm64"
	case 0x14c:
		arch = "386"
	case 0x1c4:
		arch = "arm"
	default:
		arch = fmt.Sprintf("unknown(%#x)", machine)
	}
	img := Image{Format: FormatPE, Archs: []string{arch}, Shared: chars&0x2000 != 0}
	nsect := uint64(binary.LittleEndian.Uint16(b[off+6:]))
	optSize := uint64(binary.LittleEndian.Uint16(b[off+20:]))
	table := off + 24 + optSize
	img.MinSize = maxEnd(0, table, nsect*40)
	for i := range nsect {
		s := table + i*40
		if s+40 > uint64(len(b)) {
			break
		}
		size := uint64(binary.LittleEndian.Uint32(b[s+16:]))
		ptr := uint64(binary.LittleEndian.Uint32(b[s+20:]))
		if size > 0 {
			img.MinSize = maxEnd(img.MinSize, ptr, size)
		}
	}
	return img, nil
}

// HostFormat is the shared-library format of the running operating system.
func HostFormat() Format {
	switch runtime.GOOS {
	case "darwin", "ios":
		return FormatMachO
	case "windows":
		return FormatPE
	}
	return FormatELF
}

// Check tells whether img can be loaded into this process: the host's
// format, a shared library, and code for runtime.GOARCH. The error wraps
// [ErrInvalidModule] and names both sides of a mismatch.
func (img Image) Check() error {
	if img.Format != HostFormat() {
		return fmt.Errorf("%w: %s file for %v, but this %s process loads %s libraries",
			ErrInvalidModule, img.Format, img.Archs, runtime.GOOS, HostFormat())
	}
	if !img.Shared {
		return fmt.Errorf("%w: %s file is an executable or object file, not a shared library", ErrInvalidModule, img.Format)
	}
	for _, a := range img.Archs {
		if a == runtime.GOARCH {
			return nil
		}
	}
	return fmt.Errorf("%w: built for %v, but this process runs on %s", ErrInvalidModule, img.Archs, runtime.GOARCH)
}

// CheckFile validates the file at path before it is handed to the dynamic
// loader: it must be a readable regular file that passes [CheckImage].
// Errors wrap [ErrInvalidModule] (or fs.ErrNotExist for a missing file)
// and name the path. It reads the first [HeaderSize] bytes, then only the
// tables the checks need.
func CheckFile(path string) (Image, error) {
	f, err := plainfile.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Image{}, err
		}
		return Image{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	if !st.Mode().IsRegular() {
		return Image{}, fmt.Errorf("%w: %s is not a regular file (%s)", ErrInvalidModule, path, st.Mode().Type())
	}
	hb := headerBufs.Get().(*[HeaderSize]byte)
	defer headerBufs.Put(hb)
	buf := hb[:min(st.Size(), HeaderSize)]
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Image{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	return CheckImage(path, buf[:n], f, st.Size())
}

// headerBufs recycles CheckFile's buffers: a fresh 64 KiB buffer costs a
// page fault per 4 KiB read into it, which on a VM made reading a 15 KB
// module take longer than the system calls around it.
var headerBufs = sync.Pool{New: func() any { return new([HeaderSize]byte) }}

// CheckImage validates a shared library of size bytes before it is handed
// to the dynamic loader. head holds the file's first bytes, already read
// (up to [HeaderSize]; package memlink passes the bytes it has just copied),
// and r reads the rest; r may be nil when head is the whole file. name
// stands for the file in errors.
//
// For every format it checks what [CheckHeader] checks. For ELF it also
// validates what the dynamic loader reads through the dynamic section
// before any code of the library runs: the string table and the names in
// it (DT_NEEDED, DT_SONAME, DT_RUNPATH...), the symbol table, the DT_HASH
// and DT_GNU_HASH tables (bucket and chain arrays inside the file, chains
// that end), the version tables (DT_VERSYM indexes defined, DT_VERNEED
// files among DT_NEEDED), the relocation tables (entry sizes, symbol
// indexes, targets in writable segments, IRELATIVE resolvers in code),
// DT_INIT, DT_FINI and the init/fini arrays (every slot relocated to code
// of the library or resolved by symbol). Text relocations are refused.
// Each address must lie in the bytes a PT_LOAD maps from the file. See
// docs/security.md for what no such check can catch.
//
// Errors wrap [ErrInvalidModule]; those about an inconsistent ELF file
// also wrap a *[MalformedError] saying which part is wrong.
func CheckImage(name string, head []byte, r io.ReaderAt, size int64) (Image, error) {
	if int64(len(head)) > size {
		head = head[:size]
	}
	img, err := checkImage(&elfReader{r: r, head: head, size: size}, true)
	if err != nil {
		return img, fmt.Errorf("%w: %s: %w", ErrInvalidModule, name, unwrapInvalid(err))
	}
	return img, nil
}

// unwrapInvalid strips a leading ErrInvalidModule from err's message, for
// an error about to be wrapped in it again with a name.
func unwrapInvalid(err error) error {
	var m *MalformedError
	if errors.As(err, &m) {
		return m
	}
	if msg, ok := strings.CutPrefix(err.Error(), ErrInvalidModule.Error()+": "); ok {
		return errors.New(msg)
	}
	return err
}
