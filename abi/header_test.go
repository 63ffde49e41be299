package abi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
)

func TestMain(m *testing.M) { modtest.Main(m) }

func TestCheckFileAcceptsHostModule(t *testing.T) {
	img, err := CheckFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Format != HostFormat() || !img.Shared || len(img.Archs) != 1 || img.Archs[0] != runtime.GOARCH {
		t.Fatalf("image = %+v", img)
	}
	if img.MinSize <= 0 {
		t.Fatalf("MinSize = %d", img.MinSize)
	}
}

func TestCheckFileRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	pe := make([]byte, 512)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(pe[0x84:], 0x8664)
	binary.LittleEndian.PutUint16(pe[0x80+22:], 0x2000)

	cases := []struct {
		name, path, mention string
	}{
		{"empty", write("empty.so", nil), "not a shared library"},
		{"text", write("text.so", []byte("hello\n")), "not a shared library"},
		{"truncated", write("trunc.so", good[:len(good)/2]), "truncated"},
		{"header only", write("hdr.so", good[:64]), "truncated"},
		{"directory", dir, "not a regular file"},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases, struct{ name, path, mention string }{"windows dll", write("x.dll", pe), "PE file"})
	}
	for _, c := range cases {
		_, err := CheckFile(c.path)
		if !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: CheckFile = %v; want ErrInvalidModule mentioning %q", c.name, err, c.mention)
		}
	}
	if _, err := CheckFile(filepath.Join(dir, "absent.so")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCheckImageMatchesCheckFile checks the bytes CheckFile reads the way
// CheckFile does, naming the file it is given.
func TestCheckImageMatchesCheckFile(t *testing.T) {
	good, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	head := func(b []byte) []byte { return b[:min(len(b), HeaderSize)] }
	if _, err := CheckImage("orig.so", head(good), bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("CheckImage(echo) = %v", err)
	}
	half := good[:len(good)/2]
	if _, err := CheckImage("orig.so", head(half), bytes.NewReader(half), int64(len(half))); !errors.Is(err, ErrInvalidModule) ||
		!strings.Contains(err.Error(), "orig.so: truncated") {
		t.Errorf("CheckImage(half) = %v; want a truncation naming orig.so", err)
	}
	if _, err := CheckImage("orig.so", []byte("hello\n"), nil, 6); !errors.Is(err, ErrInvalidModule) ||
		!strings.Contains(err.Error(), "orig.so") {
		t.Errorf("CheckImage(text) = %v; want ErrInvalidModule naming orig.so", err)
	}
}

func TestInspectFormats(t *testing.T) {
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(elf[16:], 3)
	binary.LittleEndian.PutUint16(elf[18:], 183)
	img, err := Inspect(elf)
	if err != nil || img.Format != FormatELF || img.Archs[0] != "arm64" || !img.Shared {
		t.Fatalf("ELF arm64: %+v, %v", img, err)
	}
	macho := make([]byte, 32)
	copy(macho, "\xcf\xfa\xed\xfe")
	binary.LittleEndian.PutUint32(macho[4:], 0x0100000c)
	binary.LittleEndian.PutUint32(macho[12:], 6)
	img, err = Inspect(macho)
	if err != nil || img.Format != FormatMachO || img.Archs[0] != "arm64" || !img.Shared {
		t.Fatalf("Mach-O arm64: %+v, %v", img, err)
	}
	fat := make([]byte, 48)
	copy(fat, "\xca\xfe\xba\xbe")
	binary.BigEndian.PutUint32(fat[4:], 2)
	binary.BigEndian.PutUint32(fat[8:], 0x01000007)
	binary.BigEndian.PutUint32(fat[28:], 0x0100000c)
	img, err = Inspect(fat)
	if err != nil || len(img.Archs) != 2 || img.Archs[0] != "amd64" || img.Archs[1] != "arm64" {
		t.Fatalf("universal: %+v, %v", img, err)
	}
	// A Java class file shares the universal magic.
	class := []byte("\xca\xfe\xba\xbe\x00\x00\x00\x41")
	if _, err := Inspect(class); err == nil {
		t.Fatal("Java class file accepted")
	}
	if err := (Image{Format: HostFormat(), Archs: []string{"sparc64"}, Shared: true}).Check(); err == nil ||
		!strings.Contains(err.Error(), "sparc64") || !strings.Contains(err.Error(), runtime.GOARCH) {
		t.Fatalf("arch mismatch error = %v", err)
	}
}

// FuzzInspect feeds arbitrary bytes to the header parser and the
// validators (CheckHeader, CheckImage, and the ELF checks whatever the
// machine): they must never panic, and whatever Inspect accepts must be
// self-consistent.
func FuzzInspect(f *testing.F) {
	if b, err := os.ReadFile(modtest.Path(f, "echo")); err == nil {
		f.Add(b[:min(len(b), HeaderSize)])
		f.Add(b)
	}
	f.Add([]byte("\x7fELF\x01\x01\x01"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"))
	f.Add([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x01"))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		_, _ = CheckHeader("x.so", bytes.NewReader(b), size)
		if _, err := CheckImage("fuzz.so", b, nil, size); err != nil && !errors.Is(err, ErrInvalidModule) {
			t.Fatalf("CheckImage error %v does not match ErrInvalidModule", err)
		}
		x := &elfReader{head: b, size: size}
		if len(b) >= 64 && string(b[:4]) == "\x7fELF" && (b[4] == 1 || b[4] == 2) && (b[5] == 1 || b[5] == 2) {
			if ef, err := parseELF(x); err == nil {
				_ = ef.checkDynamic()
			}
		}
		img, err := Inspect(b)
		if err != nil {
			return
		}
		if img.Format == FormatUnknown || len(img.Archs) == 0 || img.MinSize < 0 {
			t.Fatalf("accepted %x as %+v", b, img)
		}
		_ = img.Check()
	})
}
