package abi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
)

// elfModule returns the echo module's bytes, skipping on hosts whose
// modules are not 64-bit little-endian ELF (the edits below assume it).
func elfModule(t *testing.T) []byte {
	t.Helper()
	if HostFormat() != FormatELF {
		t.Skipf("%s loads %s files", runtime.GOOS, HostFormat())
	}
	b, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if b[4] != 2 || b[5] != 1 {
		t.Skip("the edits assume a 64-bit little-endian module")
	}
	return b
}

// dynOffset returns the file offset of the value of the first dynamic
// entry with tag, and its index.
func dynOffset(t *testing.T, f *elf.File, tag elf.DynTag) int {
	t.Helper()
	s := f.Section(".dynamic")
	d, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+16 <= len(d); i += 16 {
		if elf.DynTag(binary.LittleEndian.Uint64(d[i:])) == tag {
			return int(s.Offset) + i + 8
		}
	}
	t.Skipf("the module has no %v", tag)
	return 0
}

func progOffset(t *testing.T, b []byte, typ elf.ProgType, nth int) int {
	t.Helper()
	phoff, phnum := binary.LittleEndian.Uint64(b[32:]), int(binary.LittleEndian.Uint16(b[56:]))
	for i := range phnum {
		off := int(phoff) + 56*i
		if elf.ProgType(binary.LittleEndian.Uint32(b[off:])) == typ {
			if nth == 0 {
				return off
			}
			nth--
		}
	}
	t.Skipf("the module has no %v #%d", typ, nth)
	return 0
}

// TestCheckImageRefusesMalformedELF makes one inconsistency at a time in
// the echo module, each of which crashed the host in process (found by
// TestELFMutations in package memlink), and checks that CheckImage refuses
// it with a *MalformedError saying what is wrong.
func TestCheckImageRefusesMalformedELF(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the edits are placed for the amd64 build of the module (its relocation types and layout); TestValidateOtherMachines covers the others")
	}
	good := elfModule(t)
	if _, err := CheckImage("echo.so", good, nil, int64(len(good))); err != nil {
		t.Fatalf("the module itself: %v", err)
	}
	le := binary.LittleEndian
	put64 := func(b []byte, off int, v uint64) { le.PutUint64(b[off:], v) }
	f, err := elf.NewFile(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	rela := f.Section(".rela.dyn")
	relaPLT := f.Section(".rela.plt")
	cases := []struct {
		name, want string
		edit       func(b []byte)
	}{
		{"absurd e_phnum", "e_phnum", func(b []byte) { le.PutUint16(b[56:], 0xffff) }},
		{"e_phentsize", "e_phentsize", func(b []byte) { le.PutUint16(b[54:], 32) }},
		{"p_filesz > p_memsz", "p_filesz", func(b []byte) {
			o := progOffset(t, b, elf.PT_LOAD, 1)
			put64(b, o+32, le.Uint64(b[o+40:])+1)
		}},
		{"p_align not a power of two", "power of two", func(b []byte) { put64(b, progOffset(t, b, elf.PT_LOAD, 1)+48, 0x3000) }},
		{"p_offset and p_vaddr not congruent", "modulo p_align", func(b []byte) {
			o := progOffset(t, b, elf.PT_LOAD, 1)
			put64(b, o+8, le.Uint64(b[o+8:])+8)
		}},
		{"PT_LOAD out of order", "sorted", func(b []byte) {
			o0, o1 := progOffset(t, b, elf.PT_LOAD, 0), progOffset(t, b, elf.PT_LOAD, 1)
			x := bytes.Clone(b[o0 : o0+56])
			copy(b[o0:], b[o1:o1+56])
			copy(b[o1:], x)
		}},
		{"PT_LOAD file ranges overlap", "previous one", func(b []byte) { put64(b, progOffset(t, b, elf.PT_LOAD, 1)+8, 0) }},
		{"PT_DYNAMIC outside every PT_LOAD", "PT_DYNAMIC", func(b []byte) { put64(b, progOffset(t, b, elf.PT_DYNAMIC, 0)+16, 0x7fff0000) }},
		{"PT_LOAD unreadable", "not readable", func(b []byte) { le.PutUint32(b[progOffset(t, b, elf.PT_LOAD, 0)+4:], 0) }},
		{"DT_STRSZ beyond the segment", "DT_STRTAB", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_STRSZ), 1<<20) }},
		{"DT_NEEDED beyond DT_STRSZ", "DT_NEEDED 0", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_NEEDED), 1<<16) }},
		{"no DT_RELAENT", "DT_RELAENT", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_RELAENT)-8, uint64(elf.DT_DEBUG)) }},
		{"DT_PLTREL not RELA", "DT_PLTREL", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_PLTREL), uint64(elf.DT_REL)) }},
		{"GNU hash without buckets", "no buckets", func(b []byte) { le.PutUint32(b[f.Section(".gnu.hash").Offset:], 0) }},
		{"version tables without DT_VERSYM", "DT_VERSYM", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_VERSYM)-8, uint64(elf.DT_DEBUG)) }},
		{"versym index undefined", "version index", func(b []byte) {
			le.PutUint16(b[f.Section(".gnu.version").Offset+2*3:], 40)
		}},
		{"relocation into read-only memory", "writable", func(b []byte) { put64(b, int(rela.Offset)+24*3, 0x1000) }},
		{"relative entry that is not relative", "must be relative", func(b []byte) { put64(b, int(rela.Offset)+8, 6) }},
		{"relocation symbol beyond the table", "symbol index", func(b []byte) { put64(b, int(rela.Offset)+24*3+8, 900<<32|6) }},
		{"two relocations of one place", "two relocations", func(b []byte) { put64(b, int(relaPLT.Offset), le.Uint64(good[rela.Offset+24*3:])) }},
		{"PLT relocation that is not a jump slot", "jump slots", func(b []byte) { put64(b, int(relaPLT.Offset)+8, 0) }},
		{"init_array slot pointing at data", "DT_INIT_ARRAY", func(b []byte) { put64(b, int(rela.Offset)+16, 0x3e00) }},
		{"local undefined symbol", "bound locally", func(b []byte) {
			s := f.Section(".dynsym")
			b[s.Offset+24*3+4] = byte(elf.STT_FUNC) // STB_LOCAL
		}},
		{"ABI export not a function", "ABI export", func(b []byte) {
			syms, _ := f.DynamicSymbols()
			for i, s := range syms {
				if s.Name == SymCall {
					b[f.Section(".dynsym").Offset+24*uint64(i+1)+4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_GNU_IFUNC)
				}
			}
		}},
		{"text relocation", "text relocations", func(b []byte) { put64(b, dynOffset(t, f, elf.DT_RELACOUNT)-8, uint64(elf.DT_TEXTREL)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(good)
			c.edit(b)
			_, err := CheckImage("echo.so", b[:min(len(b), HeaderSize)], bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "echo.so") {
				t.Fatalf("CheckImage = %v; want ErrInvalidModule naming echo.so and mentioning %q", err, c.want)
			}
			var m *MalformedError
			if !strings.Contains(err.Error(), "truncated") && !errors.As(err, &m) {
				t.Errorf("%v is not a *MalformedError", err)
			}
		})
	}
}

// TestCheckHeaderReadsOnlyTheHeader checks CheckHeader's contract: the
// header and the extent it declares, from a bounded prefix plus the size,
// and nothing of the dynamic section.
func TestCheckHeaderReadsOnlyTheHeader(t *testing.T) {
	good := elfModule(t)
	r := &countingReader{b: good}
	if _, err := CheckHeader("echo.so", r, int64(len(good))); err != nil {
		t.Fatalf("CheckHeader(echo) = %v", err)
	}
	if r.max > HeaderSize {
		t.Errorf("read up to byte %d, more than the first %d", r.max, HeaderSize)
	}
	// A huge declared file: CheckHeader reads the same, whatever the size.
	big := &countingReader{b: good}
	if _, err := CheckHeader("echo.so", big, 4<<30); err != nil {
		t.Fatalf("CheckHeader(4 GiB) = %v", err)
	}
	if big.max > HeaderSize {
		t.Errorf("4 GiB file: read up to byte %d", big.max)
	}
	// The extent: a file shorter than its segments.
	if _, err := CheckHeader("x.so", bytes.NewReader(good), int64(len(good))/2); !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), "x.so: truncated") {
		t.Errorf("half the file: %v; want a truncation", err)
	}
	// The dynamic section is not its business: a broken one passes.
	b := bytes.Clone(good)
	f, err := elf.NewFile(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[dynOffset(t, f, elf.DT_STRSZ):], 1<<20)
	if _, err := CheckHeader("x.so", bytes.NewReader(b), int64(len(b))); err != nil {
		t.Errorf("CheckHeader with a bad DT_STRSZ = %v; want it left to CheckImage", err)
	}
	if _, err := CheckImage("x.so", b, nil, int64(len(b))); err == nil {
		t.Error("CheckImage accepted the bad DT_STRSZ")
	}
	if _, err := CheckHeader("x.so", bytes.NewReader([]byte("hello")), 5); !errors.Is(err, ErrInvalidModule) {
		t.Errorf("text file: %v", err)
	}
}

type countingReader struct {
	b   []byte
	max int64
}

// ReadAt reads r.b followed by zeros, like a sparse file.
func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	r.max = max(r.max, off+int64(len(p)))
	clear(p)
	if off < int64(len(r.b)) {
		copy(p, r.b[off:])
	}
	return len(p), nil
}

// TestValidateOtherMachines validates the echo module built for other
// ELF machines (32-bit i386 with DT_REL, arm64), where a cross compiler is
// installed: what CheckImage checks for them is what it checks on them.
func TestValidateOtherMachines(t *testing.T) {
	src, err := filepath.Abs("../modules/c/echo.c")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, cc := range []string{"i686-linux-gnu-gcc", "aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc"} {
		if _, err := exec.LookPath(cc); err != nil {
			t.Logf("%s: not installed", cc)
			continue
		}
		out := filepath.Join(t.TempDir(), "echo.so")
		if b, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-o", out, "-I", filepath.Dir(src), src).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", cc, err, b)
			continue
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		x := &elfReader{head: b, size: int64(len(b))}
		ef, err := parseELF(x)
		if err == nil {
			err = ef.checkDynamic()
		}
		if err != nil {
			t.Errorf("%s: %v", cc, err)
		}
		ran++
	}
	if ran == 0 {
		t.Skip("no cross compiler installed (i686-linux-gnu-gcc, aarch64-linux-gnu-gcc, arm-linux-gnueabihf-gcc)")
	}
}
