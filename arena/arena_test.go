package arena

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func newArena(t testing.TB, capacity int) *Arena {
	t.Helper()
	a, err := New(capacity)
	if err != nil {
		t.Fatalf("New(%d): %v", capacity, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", name)
			return
		}
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "arena: ") {
			t.Errorf("%s: panic value %#v lacks %q prefix", name, r, "arena: ")
		}
	}()
	f()
}

func TestNew(t *testing.T) {
	for _, c := range []int{0, -1} {
		if a, err := New(c); err == nil {
			a.Close()
			t.Errorf("New(%d) succeeded, want error", c)
		}
	}
	ps := PageSize()
	if ps < maxAlign || ps&(ps-1) != 0 {
		t.Fatalf("PageSize() = %d, want a power of two >= %d", ps, maxAlign)
	}
	for _, c := range []int{1, ps - 1, ps, ps + 1, 3*ps + 7} {
		a := newArena(t, c)
		want := (c + ps - 1) / ps * ps
		if got := a.Capacity(); got != want {
			t.Errorf("New(%d).Capacity() = %d, want %d", c, got, want)
		}
		if got := a.Used(); got != 0 {
			t.Errorf("New(%d).Used() = %d, want 0", c, got)
		}
	}
}

func TestAllocAlignment(t *testing.T) {
	a := newArena(t, 1<<20)
	for _, align := range []int{1, 2, 4, 8, 16, 64, 256, 1024, 4096} {
		for _, size := range []int{1, 3, 17, 100} {
			// Misalign the offset first so the alignment has work to do.
			if _, err := a.Alloc(1, 1); err != nil {
				t.Fatal(err)
			}
			b, err := a.Alloc(size, align)
			if err != nil {
				t.Fatalf("Alloc(%d, %d): %v", size, align, err)
			}
			if len(b) != size || cap(b) != size {
				t.Errorf("Alloc(%d, %d): len %d cap %d", size, align, len(b), cap(b))
			}
			if p := addr(b); p%uintptr(align) != 0 {
				t.Errorf("Alloc(%d, %d) = %#x, misaligned", size, align, p)
			}
		}
	}
}

func TestAllocZero(t *testing.T) {
	a := newArena(t, 1)
	b, err := a.Alloc(0, 8)
	if err != nil || b == nil || len(b) != 0 || cap(b) != 0 {
		t.Fatalf("Alloc(0, 8) = %v (nil %v, cap %d), %v; want empty non-nil", b, b == nil, cap(b), err)
	}
	if a.Used() != 0 {
		t.Errorf("Used() = %d after zero-size Alloc, want 0", a.Used())
	}
}

func TestAllocPanics(t *testing.T) {
	a := newArena(t, 1)
	mustPanic(t, "negative size", func() { a.Alloc(-1, 1) })
	for _, align := range []int{0, -8, 3, 12, 8192} {
		mustPanic(t, fmt.Sprintf("align %d", align), func() { a.Alloc(1, align) })
	}
}

func TestFullAtBoundary(t *testing.T) {
	a := newArena(t, 1)
	c := a.Capacity()
	if _, err := a.Alloc(c-16, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(17, 1); !errors.Is(err, ErrFull) {
		t.Fatalf("Alloc one byte too many: err = %v, want ErrFull", err)
	}
	if a.Used() != c-16 {
		t.Fatalf("failed Alloc changed Used to %d", a.Used())
	}
	b, err := a.Alloc(16, 1)
	if err != nil {
		t.Fatalf("Alloc filling the arena exactly: %v", err)
	}
	b[15] = 1 // the last byte of the region is writable
	if a.Used() != c {
		t.Errorf("Used() = %d, want %d", a.Used(), c)
	}
	if _, err := a.Alloc(1, 1); !errors.Is(err, ErrFull) {
		t.Errorf("Alloc on full arena: err = %v, want ErrFull", err)
	}
	if _, err := a.Alloc(0, 1); err != nil {
		t.Errorf("Alloc(0) on full arena: %v", err)
	}

	// Padding counts: a fit that only fails because of alignment.
	a.Reset()
	if _, err := a.Alloc(c-8, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(7, 8); !errors.Is(err, ErrFull) {
		t.Errorf("Alloc needing padding past the end: err = %v, want ErrFull", err)
	}
	if _, err := a.Alloc(math.MaxInt, 1); !errors.Is(err, ErrFull) {
		t.Errorf("huge Alloc: err = %v, want ErrFull", err)
	}
}

func TestUsedAndReset(t *testing.T) {
	a := newArena(t, 1)
	steps := []struct{ size, align, used int }{
		{3, 1, 3},
		{4, 4, 8},   // 1 byte of padding
		{1, 16, 17}, // 8 bytes of padding
		{0, 64, 17}, // zero size takes nothing
		{10, 1, 27},
	}
	for _, s := range steps {
		if _, err := a.Alloc(s.size, s.align); err != nil {
			t.Fatal(err)
		}
		if got := a.Used(); got != s.used {
			t.Errorf("after Alloc(%d, %d): Used() = %d, want %d", s.size, s.align, got, s.used)
		}
	}
	first, _ := a.Alloc(1, 1)
	a.Reset()
	if a.Used() != 0 {
		t.Errorf("Used() = %d after Reset, want 0", a.Used())
	}
	again, err := a.Alloc(a.Capacity(), 1)
	if err != nil {
		t.Fatalf("Alloc of full capacity after Reset: %v", err)
	}
	if addr(again) > addr(first) {
		t.Errorf("Reset did not rewind the arena")
	}
}

func TestClose(t *testing.T) {
	a, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(8, 8); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, size := range []int{0, 8} {
		if _, err := a.Alloc(size, 1); !errors.Is(err, ErrClosed) {
			t.Errorf("Alloc(%d) after Close: err = %v, want ErrClosed", size, err)
		}
	}
	a.Reset()
	if _, err := a.Alloc(8, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Reset revived a closed arena: err = %v", err)
	}
	if a.Used() != 0 {
		t.Errorf("Used() = %d after Close, want 0", a.Used())
	}
}

func TestCloseConcurrent(t *testing.T) {
	for range 20 {
		a, err := New(1 << 16)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 4 {
			wg.Go(func() { errs <- a.Close() })
			wg.Go(func() {
				// Allocations racing with Close either succeed or see ErrClosed.
				_, err := a.Alloc(16, 8)
				if err != nil && !errors.Is(err, ErrClosed) {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Close/Alloc: %v", err)
			}
		}
	}
}

// TestHammer allocates from many goroutines at once, fills every byte of
// every allocation with a per-allocation pattern and checks that no two
// allocations overlap.
func TestHammer(t *testing.T) {
	const goroutines, perG = 16, 2000
	aligns := []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096}
	a := newArena(t, 64<<20)

	type alloc struct {
		b     []byte
		align int
		id    byte
	}
	results := make([][]alloc, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(1, uint64(g)))
			out := make([]alloc, 0, perG)
			for i := range perG {
				size, align := r.IntN(600), aligns[r.IntN(len(aligns))]
				b, err := a.Alloc(size, align)
				if err != nil {
					t.Errorf("Alloc(%d, %d): %v", size, align, err)
					return
				}
				id := byte(g*perG + i)
				for j := range b {
					b[j] = id
				}
				out = append(out, alloc{b, align, id})
			}
			results[g] = out
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	var all []alloc
	total := 0
	for _, rs := range results {
		for _, r := range rs {
			total += len(r.b)
			if addr(r.b)%uintptr(r.align) != 0 {
				t.Fatalf("allocation at %#x not aligned to %d", addr(r.b), r.align)
			}
			if len(r.b) > 0 {
				all = append(all, r)
			}
		}
	}
	if len(all) == 0 {
		t.Fatal("no allocations")
	}
	if used := a.Used(); total > used || used > a.Capacity() {
		t.Fatalf("sizes %d, Used %d, Capacity %d: want sizes <= Used <= Capacity", total, used, a.Capacity())
	}
	sort.Slice(all, func(i, j int) bool { return addr(all[i].b) < addr(all[j].b) })
	base, limit := addr(a.mem), addr(a.mem)+uintptr(a.Capacity())
	for i, r := range all {
		if addr(r.b) < base || addr(r.b)+uintptr(len(r.b)) > limit {
			t.Fatalf("allocation %#x+%d outside the arena", addr(r.b), len(r.b))
		}
		if i > 0 {
			prev := all[i-1]
			if addr(prev.b)+uintptr(len(prev.b)) > addr(r.b) {
				t.Fatalf("allocations overlap: %#x+%d and %#x", addr(prev.b), len(prev.b), addr(r.b))
			}
		}
		for j, c := range r.b {
			if c != r.id {
				t.Fatalf("allocation %#x byte %d = %d, want %d", addr(r.b), j, c, r.id)
			}
		}
	}
}

func TestAllocDoesNotAllocate(t *testing.T) {
	a := newArena(t, 1<<20)
	var sink []byte
	n := testing.AllocsPerRun(1000, func() {
		b, err := a.Alloc(64, 16)
		if err != nil {
			a.Reset()
		}
		sink = b
	})
	if n != 0 {
		t.Errorf("Alloc made %v heap allocations per call, want 0", n)
	}
	_ = sink
}

// mappingRss returns the Rss, in bytes, of the mapping in /proc/self/smaps
// that contains addr.
func mappingRss(t *testing.T, p uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("cannot read smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Bytes()
		if lo, hi, ok := parseRange(line); ok {
			inside = lo <= p && p < hi
			continue
		}
		if inside && bytes.HasPrefix(line, []byte("Rss:")) {
			fields := strings.Fields(string(line[len("Rss:"):]))
			if len(fields) != 2 || fields[1] != "kB" {
				t.Fatalf("unexpected smaps line %q", line)
			}
			kb, err := strconv.Atoi(fields[0])
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping contains %#x", p)
	return 0
}

// parseRange parses the "start-end" field that opens a mapping's header
// line in smaps.
func parseRange(line []byte) (lo, hi uintptr, ok bool) {
	field, _, _ := bytes.Cut(line, []byte(" "))
	l, h, found := bytes.Cut(field, []byte("-"))
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(l), 16, 64)
	b, err2 := strconv.ParseUint(string(h), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}

func TestReservedNotResident(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/smaps")
	}
	a := newArena(t, 64<<20)
	base := addr(a.mem)
	if rss := mappingRss(t, base); rss > 8<<10 {
		t.Fatalf("fresh 64 MiB arena has Rss %d bytes, want <= 8 KiB", rss)
	}
	const n = 4 << 20
	b, err := a.Alloc(n, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if rss := mappingRss(t, base); rss > 8<<10 {
		t.Fatalf("Alloc without writing raised Rss to %d bytes", rss)
	}
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	if rss := mappingRss(t, base); rss < n {
		t.Fatalf("after writing %d bytes Rss is %d; measurement looks wrong", n, rss)
	}
}

func BenchmarkAlloc(b *testing.B) {
	a := newArena(b, 64<<20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Alloc(64, 16); err != nil {
			a.Reset()
		}
	}
}

func BenchmarkAllocParallel(b *testing.B) {
	a := newArena(b, 64<<20)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Alloc(64, 16); err != nil {
				a.Reset()
			}
		}
	})
}
