package memlink_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
)

// vmRSS reads the resident set size of this process in KiB.
func vmRSS(tb testing.TB) int {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			n, err := strconv.Atoi(string(bytes.Fields(rest)[0]))
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkModuleRSS loads 100 copies of the echo module and reports the
// resident memory each one adds, through memlink and through the raw
// loader (the dynamic loader's own cost), as KB/module metrics.
func BenchmarkModuleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads VmRSS from /proc/self/status, which only Linux has")
	}
	const n = 100
	src := modtest.Path(b, "echo")
	dir := b.TempDir()
	copies := make([]string, n)
	for i := range copies {
		copies[i] = filepath.Join(dir, fmt.Sprintf("echo%d%s", i, filepath.Ext(src)))
		mustCopy(b, src, copies[i])
	}
	b.Run("memlink", func(b *testing.B) {
		for b.Loop() {
			rt := memlink.New()
			before := vmRSS(b)
			for _, p := range copies {
				h, err := rt.Load(memlink.MustParseRef(p))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rt.Call(h, "process", []byte("x")); err != nil {
					b.Fatal(err)
				}
			}
			after := vmRSS(b)
			b.ReportMetric(float64(after-before)/n, "KB/module")
			rt.Close()
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			before := vmRSS(b)
			libs := make([]uintptr, 0, n)
			for _, p := range copies {
				lib, err := rawloader.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				libs = append(libs, lib)
			}
			after := vmRSS(b)
			b.ReportMetric(float64(after-before)/n, "KB/module")
			for _, l := range libs {
				rawloader.Close(l)
			}
		}
	})
}
