package memlink_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// envMutant names the file a child process of the mutation tests loads.
const envMutant = "MEMLINK_TEST_ELF_MUTANT"

// Outcome markers a mutation child prints on stdout before exiting 0.
// Anything else (a signal, glibc's "Inconsistency detected by ld.so", a
// Go fatal error, no marker) is a crash of the host.
const (
	outValidator = "refused-by-validator" // a *abi.MalformedError or other abi refusal before dlopen
	outLoader    = "refused-by-loader"    // ErrInvalidModule from dlopen itself
	outTyped     = "refused-typed"        // another memlink sentinel (missing symbol, init failed...)
	outUntyped   = "refused-untyped"      // an error matching no sentinel: a defect of its own
	outOK        = "loaded-ok"            // loaded, echo answered, unloaded
	outWrong     = "loaded-wrong"         // loaded, but echo answered wrongly
	outCrash     = "crashed"
	outHung      = "hung"
)

// TestELFMutationChild is the child side of TestELFMutations and
// TestProgramHeadersPast64KiB: it runs only when envMutant names a file,
// loads it in process, calls it, and prints its outcome.
func TestELFMutationChild(t *testing.T) {
	path := os.Getenv(envMutant)
	if path == "" {
		t.Skip("child process of TestELFMutations only")
	}
	rt := memlink.New()
	h, err := rt.Load(memlink.MustParseRef(path))
	if err != nil {
		var m *abi.MalformedError
		switch {
		case errors.As(err, &m), errors.Is(err, memlink.ErrInvalidModule) && !strings.Contains(err.Error(), "dynamic loader") && !strings.Contains(err.Error(), "dlopen"):
			fmt.Println(outValidator, err)
		case errors.Is(err, memlink.ErrInvalidModule):
			fmt.Println(outLoader, err)
		case errors.Is(err, memlink.ErrMissingSymbol), errors.Is(err, memlink.ErrABIVersion), errors.Is(err, memlink.ErrInitFailed):
			fmt.Println(outTyped, err)
		default:
			fmt.Println(outUntyped, err)
		}
		return
	}
	got, err := rt.Call(h, "process", []byte("mutation"))
	if err != nil || string(got) != "mutation" {
		fmt.Println(outWrong, string(got), err)
		return
	}
	if err := rt.Unload(h); err != nil {
		fmt.Println(outWrong, "unload:", err)
		return
	}
	rt.Close()
	fmt.Println(outOK)
}

// skipWithoutChildLoads skips tests that load files in child processes
// where that is impossible or pointless.
// With corpus set, the test starts thousands of children.
func skipWithoutChildLoads(t *testing.T, corpus bool) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("the mutations are of ELF files, loaded by glibc's ld.so; %s loads %s", runtime.GOOS, abi.HostFormat())
	}
	if corpus && (os.Getenv("MEMLINK_QEMU_BINFMT") != "" || os.Getenv("QEMU_LD_PREFIX") != "") {
		t.Skip("under qemu-user each child is a Go start-up in emulation: the corpus would take far too long")
	}
}

// runChild loads path in a child process and returns its outcome and
// what it printed.
func runChild(t *testing.T, path string, timeout time.Duration) (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestELFMutationChild$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), envMutant+"="+path, "GOTRACEBACK=single", "GOMAXPROCS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a child process from this program here: %v", err)
	}
	out := stdout.String()
	detail := strings.TrimSpace(stderr.String())
	if len(detail) > 400 {
		detail = detail[:400]
	}
	if ctx.Err() != nil {
		return outHung, detail
	}
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			word, rest, _ := strings.Cut(line, " ")
			switch word {
			case outValidator, outLoader, outTyped, outUntyped, outOK, outWrong:
				return word, rest
			}
		}
	}
	return outCrash, fmt.Sprintf("%v: %s", err, detail)
}

// field is a place in the file a mutation can change.
type field struct {
	where      string // "program header 3 p_filesz"
	off, width int
}

// mutationFields lists the fields of the ELF header, program headers,
// section headers, dynamic section, string, symbol, hash, version and
// relocation tables of the library b, grouped by the part they are in.
func mutationFields(t *testing.T, b []byte) map[string][]field {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	is64 := f.Class == elf.ELFCLASS64
	w := 4
	if is64 {
		w = 8
	}
	parts := map[string][]field{}
	add := func(part, where string, off, width int) {
		parts[part] = append(parts[part], field{where, off, width})
	}
	type fl struct {
		name       string
		off, width int
	}
	var ehdr, phdr, shdr, sym []fl
	if is64 {
		ehdr = []fl{{"EI_CLASS", 4, 1}, {"EI_DATA", 5, 1}, {"EI_VERSION", 6, 1}, {"EI_OSABI", 7, 1}, {"EI_ABIVERSION", 8, 1},
			{"e_type", 16, 2}, {"e_machine", 18, 2}, {"e_version", 20, 4}, {"e_entry", 24, 8}, {"e_phoff", 32, 8},
			{"e_shoff", 40, 8}, {"e_flags", 48, 4}, {"e_ehsize", 52, 2}, {"e_phentsize", 54, 2}, {"e_phnum", 56, 2},
			{"e_shentsize", 58, 2}, {"e_shnum", 60, 2}, {"e_shstrndx", 62, 2}}
		phdr = []fl{{"p_type", 0, 4}, {"p_flags", 4, 4}, {"p_offset", 8, 8}, {"p_vaddr", 16, 8}, {"p_paddr", 24, 8},
			{"p_filesz", 32, 8}, {"p_memsz", 40, 8}, {"p_align", 48, 8}}
		shdr = []fl{{"sh_name", 0, 4}, {"sh_type", 4, 4}, {"sh_flags", 8, 8}, {"sh_addr", 16, 8}, {"sh_offset", 24, 8},
			{"sh_size", 32, 8}, {"sh_link", 40, 4}, {"sh_info", 44, 4}, {"sh_addralign", 48, 8}, {"sh_entsize", 56, 8}}
		sym = []fl{{"st_name", 0, 4}, {"st_info", 4, 1}, {"st_other", 5, 1}, {"st_shndx", 6, 2}, {"st_value", 8, 8}, {"st_size", 16, 8}}
	} else {
		ehdr = []fl{{"EI_CLASS", 4, 1}, {"EI_DATA", 5, 1}, {"EI_VERSION", 6, 1}, {"EI_OSABI", 7, 1}, {"EI_ABIVERSION", 8, 1},
			{"e_type", 16, 2}, {"e_machine", 18, 2}, {"e_version", 20, 4}, {"e_entry", 24, 4}, {"e_phoff", 28, 4},
			{"e_shoff", 32, 4}, {"e_flags", 36, 4}, {"e_ehsize", 40, 2}, {"e_phentsize", 42, 2}, {"e_phnum", 44, 2},
			{"e_shentsize", 46, 2}, {"e_shnum", 48, 2}, {"e_shstrndx", 50, 2}}
		phdr = []fl{{"p_type", 0, 4}, {"p_offset", 4, 4}, {"p_vaddr", 8, 4}, {"p_paddr", 12, 4},
			{"p_filesz", 16, 4}, {"p_memsz", 20, 4}, {"p_flags", 24, 4}, {"p_align", 28, 4}}
		shdr = []fl{{"sh_name", 0, 4}, {"sh_type", 4, 4}, {"sh_flags", 8, 4}, {"sh_addr", 12, 4}, {"sh_offset", 16, 4},
			{"sh_size", 20, 4}, {"sh_link", 24, 4}, {"sh_info", 28, 4}, {"sh_addralign", 32, 4}, {"sh_entsize", 36, 4}}
		sym = []fl{{"st_name", 0, 4}, {"st_value", 4, 4}, {"st_size", 8, 4}, {"st_info", 12, 1}, {"st_other", 13, 1}, {"st_shndx", 14, 2}}
	}
	for _, x := range ehdr {
		add("ELF header", x.name, x.off, x.width)
	}
	bo := f.ByteOrder
	var phoff, phent int
	if is64 {
		phoff, phent = int(bo.Uint64(b[32:])), 56
	} else {
		phoff, phent = int(bo.Uint32(b[28:])), 32
	}
	for i := range f.Progs {
		for _, x := range phdr {
			add("program headers", fmt.Sprintf("program header %d %s", i, x.name), phoff+i*phent+x.off, x.width)
		}
	}
	var shoff, shent int
	if is64 {
		shoff, shent = int(bo.Uint64(b[40:])), 64
	} else {
		shoff, shent = int(bo.Uint32(b[32:])), 40
	}
	for i := range f.Sections {
		for _, x := range shdr {
			add("section headers", fmt.Sprintf("section header %d %s", i, x.name), shoff+i*shent+x.off, x.width)
		}
	}
	for _, s := range f.Sections {
		off, size := int(s.Offset), int(s.Size)
		if s.Type == elf.SHT_NOBITS || off+size > len(b) {
			continue
		}
		switch s.Name {
		case ".dynamic":
			for i := 0; i+2*w <= size; i += 2 * w {
				add("dynamic section", fmt.Sprintf(".dynamic entry %d d_tag", i/(2*w)), off+i, w)
				add("dynamic section", fmt.Sprintf(".dynamic entry %d d_val", i/(2*w)), off+i+w, w)
			}
		case ".dynstr":
			for i := range size {
				add("string table", fmt.Sprintf(".dynstr byte %d", i), off+i, 1)
			}
		case ".dynsym":
			ent := 16
			if is64 {
				ent = 24
			}
			for i := 0; i+ent <= size; i += ent {
				for _, x := range sym {
					add("symbol table", fmt.Sprintf(".dynsym %d %s", i/ent, x.name), off+i+x.off, x.width)
				}
			}
		case ".gnu.hash", ".hash":
			for i := 0; i+4 <= size; i += 4 {
				add("hash tables", fmt.Sprintf("%s word %d", s.Name, i/4), off+i, 4)
			}
		case ".gnu.version", ".gnu.version_r", ".gnu.version_d":
			for i := 0; i+2 <= size; i += 2 {
				add("version tables", fmt.Sprintf("%s half %d", s.Name, i/2), off+i, 2)
			}
		default:
			if strings.HasPrefix(s.Name, ".rela") || strings.HasPrefix(s.Name, ".rel.") || s.Name == ".relr.dyn" {
				for i := 0; i+w <= size; i += w {
					add("relocation tables", fmt.Sprintf("%s word %d", s.Name, i/w), off+i, w)
				}
			}
		}
	}
	for part, fs := range parts {
		fs = slices.DeleteFunc(fs, func(x field) bool { return x.off < 0 || x.off+x.width > len(b) })
		parts[part] = fs
	}
	return parts
}

// mutationWeights is how the corpus is spread over the parts of the file.
var mutationWeights = []struct {
	part   string
	weight int
}{
	{"ELF header", 12}, {"program headers", 25}, {"section headers", 8}, {"dynamic section", 20},
	{"string table", 5}, {"symbol table", 10}, {"hash tables", 7}, {"relocation tables", 10}, {"version tables", 3},
}

// mutate changes one field of a copy of b, chosen with rng, and says how.
func mutate(rng *rand.Rand, b []byte, parts map[string][]field) ([]byte, string) {
	total := 0
	for _, w := range mutationWeights {
		if len(parts[w.part]) > 0 {
			total += w.weight
		}
	}
	n := rng.IntN(total)
	var fs []field
	for _, w := range mutationWeights {
		if len(parts[w.part]) == 0 {
			continue
		}
		if n < w.weight {
			fs = parts[w.part]
			break
		}
		n -= w.weight
	}
	fl := fs[rng.IntN(len(fs))]
	out := bytes.Clone(b)
	p := out[fl.off : fl.off+fl.width]
	var v uint64
	for i := fl.width - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	old := v
	mask := ^uint64(0)
	if fl.width < 8 {
		mask = 1<<(8*fl.width) - 1
	}
	var how string
	switch op := rng.IntN(7); op {
	case 0:
		bit := rng.IntN(8 * fl.width)
		v ^= 1 << bit
		how = fmt.Sprintf("flip bit %d", bit)
	case 1:
		v, how = 0, "zero"
	case 2:
		v, how = mask, "all ones"
	case 3:
		d := uint64(rng.IntN(16) + 1)
		if rng.IntN(2) == 0 {
			v, how = v+d, fmt.Sprintf("+%d", d)
		} else {
			v, how = v-d, fmt.Sprintf("-%d", d)
		}
	case 4:
		d := uint64(0x1000) << rng.IntN(5)
		if rng.IntN(2) == 0 {
			v, how = v+d, fmt.Sprintf("+%#x", d)
		} else {
			v, how = v-d, fmt.Sprintf("-%#x", d)
		}
	case 5:
		v, how = rng.Uint64(), "random"
	default:
		o := fs[rng.IntN(len(fs))]
		v = 0
		for i := o.width - 1; i >= 0; i-- {
			v = v<<8 | uint64(out[o.off+i])
		}
		how = "copy of " + o.where
	}
	v &= mask
	for i := range fl.width {
		p[i] = byte(v >> (8 * i))
	}
	return out, fmt.Sprintf("%s: %s (%#x -> %#x)", fl.where, how, old, v)
}

// TestELFMutations loads a seeded corpus of single-field mutations of the
// echo module, each in a child process, and counts what happened. At most
// 1 % may crash or hang the host: the validator (abi.CheckImage) must
// refuse what would make ld.so fault. MEMLINK_TEST_MUTATIONS overrides the
// corpus size (2,000; 150 with -short, 25 with -short -race).
func TestELFMutations(t *testing.T) {
	skipWithoutChildLoads(t, true)
	n := 2000
	switch {
	case testing.Short() && raceEnabled:
		n = 25 // the corpus's load path is not concurrent; this shows it runs
	case testing.Short():
		n = 150
	}
	if s := os.Getenv("MEMLINK_TEST_MUTATIONS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("MEMLINK_TEST_MUTATIONS=%q", s)
		}
	}
	good, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if out, detail := runChild(t, writeMutant(t, t.TempDir(), 0, good), time.Minute); out != outOK {
		t.Fatalf("the unmodified module: %s %s", out, detail)
	}
	parts := mutationFields(t, good)
	rng := rand.New(rand.NewPCG(13, 2026))
	type job struct {
		i    int
		b    []byte
		desc string
	}
	jobs := make([]job, n)
	for i := range jobs {
		b, desc := mutate(rng, good, parts)
		jobs[i] = job{i, b, desc}
	}
	dir := t.TempDir()
	outcomes := make([]string, n)
	details := make([]string, n)
	var wg sync.WaitGroup
	next := make(chan job)
	// A child spends most of its life starting up and waiting for a CPU;
	// one more child than CPUs keeps them busy without crowding others.
	for range runtime.NumCPU() + 1 {
		wg.Go(func() {
			for j := range next {
				p := writeMutant(t, dir, j.i, j.b)
				outcomes[j.i], details[j.i] = runChild(t, p, 20*time.Second)
				os.Remove(p)
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	count := map[string]int{}
	for i, o := range outcomes {
		count[o]++
		if o == outCrash || o == outHung || o == outUntyped {
			t.Logf("mutation %d %s: %s: %s", i, jobs[i].desc, o, details[i])
		}
	}
	bad := count[outCrash] + count[outHung]
	t.Logf("ELF mutations: %d total: %d refused by the validator, %d refused by the loader, %d refused with another typed error, "+
		"%d refused untyped, %d loaded and called fine, %d loaded but misbehaved, %d crashed, %d hung (%.2f%% crashed or hung)",
		n, count[outValidator], count[outLoader], count[outTyped], count[outUntyped], count[outOK], count[outWrong],
		count[outCrash], count[outHung], 100*float64(bad)/float64(n))
	if bad*100 > n {
		t.Errorf("%d of %d mutations crashed or hung the host: more than 1 %%", bad, n)
	}
	if count[outUntyped] > 0 {
		t.Errorf("%d mutations were refused with an error matching no sentinel", count[outUntyped])
	}
}

func writeMutant(t *testing.T, dir string, i int, b []byte) string {
	p := filepath.Join(dir, fmt.Sprintf("mutant%d.so", i))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Error(err)
	}
	return p
}

// movedProgramHeaders returns a copy of the 64-bit little-endian library
// b with its program headers moved past the first 64 KiB, and, with
// pastEOF set, its last PT_LOAD extended to end beyond the end of the
// file (with some bss after it, which the loader zeroes in place).
func movedProgramHeaders(t *testing.T, b []byte, pastEOF bool) []byte {
	t.Helper()
	if b[4] != 2 || b[5] != 1 {
		t.Skip("the test edits a 64-bit little-endian ELF file")
	}
	le := binary.LittleEndian
	phoff, phnum := le.Uint64(b[32:]), uint64(le.Uint16(b[56:]))
	const newOff = 0x11000
	out := make([]byte, newOff+phnum*56)
	copy(out, b)
	copy(out[newOff:], b[phoff:phoff+phnum*56])
	le.PutUint64(out[32:], newOff)
	last := -1
	for i := range phnum {
		ph := out[newOff+i*56:]
		switch le.Uint32(ph) {
		case 1: // PT_LOAD
			last = int(i)
		case 6: // PT_PHDR: describe the table where it is now
			t.Skip("the module has PT_PHDR, which this test does not move")
		}
	}
	if pastEOF {
		ph := out[newOff+uint64(last)*56:]
		off := le.Uint64(ph[8:])
		filesz := uint64(len(out)) + 0x10100 - off // ends well beyond EOF, mid-page
		le.PutUint64(ph[32:], filesz)
		le.PutUint64(ph[40:], filesz+0x100)
	}
	return out
}

// TestProgramHeadersPast64KiB is issue 13 item 6: program headers beyond
// the first 64 KiB were skipped, so a PT_LOAD reaching past the end of the
// file went unnoticed and ld.so's zeroing of its bss faulted (SIGBUS). The
// load runs in a child process, so that on code without the check the
// test fails (with the crash it reports) instead of the test binary dying.
func TestProgramHeadersPast64KiB(t *testing.T) {
	skipWithoutChildLoads(t, false)
	good, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	moved := writeMutant(t, dir, 1, movedProgramHeaders(t, good, false))
	bad := writeMutant(t, dir, 2, movedProgramHeaders(t, good, true))
	if _, err := abi.CheckFile(moved); err != nil {
		t.Errorf("CheckFile(program headers moved, otherwise intact) = %v", err)
	}
	if _, err := abi.CheckFile(bad); !errors.Is(err, abi.ErrInvalidModule) || !strings.Contains(err.Error(), "truncated") ||
		!strings.Contains(err.Error(), "program header") {
		t.Errorf("CheckFile = %v; want ErrInvalidModule saying which program header is truncated", err)
	}
	if out, detail := runChild(t, moved, time.Minute); out != outOK {
		t.Fatalf("program headers moved past 64 KiB, otherwise intact: %s %s; want it to load", out, detail)
	}
	if out, detail := runChild(t, bad, time.Minute); out != outValidator || !strings.Contains(detail, "truncated") {
		t.Errorf("loading it: %s %s; want it refused as truncated", out, detail)
	}
}
