//go:build linux

package memlink_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// sandboxModes are the two sides of the sandbox benchmarks.
var sandboxModes = []struct {
	name string
	sb   *memlink.Sandbox
}{{"sandbox=off", nil}, {"sandbox=on", &memlink.Sandbox{}}}

// BenchmarkSandboxCall measures an isolated 64-byte echo with and without
// a sandbox: the sandbox is set up once per worker, so the two should not
// differ (compare with benchstat -col /sandbox).
func BenchmarkSandboxCall(b *testing.B) {
	for _, m := range sandboxModes {
		b.Run(m.name, func(b *testing.B) {
			rt := newRuntime(b)
			h, err := rt.Load(memlink.MustParseRef(modtest.Path(b, "echo")), memlink.WithIsolation(memlink.Isolation{Sandbox: m.sb}))
			if errors.Is(err, memlink.ErrSandboxUnsupported) {
				b.Skipf("no sandbox here: %v", err)
			}
			if err != nil {
				b.Fatal(err)
			}
			args := bytes.Repeat([]byte{'x'}, 64)
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				out, err := rt.CallAppend(dst[:0], h, "process", args)
				if err != nil || len(out) != 64 {
					b.Fatal(len(out), err)
				}
			}
		})
	}
}

// BenchmarkSandboxStart measures loading and unloading an isolated
// module, worker start and exit included, with and without a sandbox: the
// difference is what confining a worker costs (the Landlock ruleset on a
// host thread, the seccomp filter in the worker, and under a MemoryLimit
// the status descriptor). worker-cpu-ms is the CPU time
// the workers used (user and system, from RUSAGE_CHILDREN), which a busy
// machine disturbs less than the wall clock.
func BenchmarkSandboxStart(b *testing.B) {
	for _, m := range sandboxModes {
		b.Run(m.name, func(b *testing.B) {
			rt := newRuntime(b)
			ref := memlink.MustParseRef(modtest.Path(b, "echo"))
			iso := memlink.WithIsolation(memlink.Isolation{Sandbox: m.sb})
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
			defer func() {
				syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
				cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
				b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "worker-cpu-ms/op")
			}()
			for b.Loop() {
				h, err := rt.Load(ref, iso)
				if errors.Is(err, memlink.ErrSandboxUnsupported) {
					b.Skipf("no sandbox here: %v", err)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := rt.Unload(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
