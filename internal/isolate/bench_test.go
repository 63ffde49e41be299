package isolate

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/modtest"
)

// BenchmarkRoundTrip measures one 64-byte echo through a worker: with the
// adaptive spin (the default), and with spinning off, where every request
// and every answer is a futex (or pipe) wake-up.
func BenchmarkRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name string
		spin int
	}{{"spin", 0}, {"nospin", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			c := start(b, "echo", Config{Spin: time.Duration(bc.spin)})
			args := bytes.Repeat([]byte{'x'}, 64)
			dst := make([]byte, 0, 4096)
			id := abi.MethodID("process")
			ctx := context.Background()
			// Each call is timed too, for the percentiles: the mean hides
			// whether most calls are fast and a few were preempted, or all
			// are slow.
			lat := make([]time.Duration, 0, 1<<20)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				out, _, err := c.Call(ctx, dst[:0], id, args)
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				if err != nil || len(out) != 64 {
					b.Fatal(len(out), err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
		})
	}
}

// BenchmarkRoundTripParallel runs the 64-byte echo from GOMAXPROCS*2
// goroutines at once through one worker.
func BenchmarkRoundTripParallel(b *testing.B) {
	c := start(b, "echo", Config{})
	args := bytes.Repeat([]byte{'x'}, 64)
	id := abi.MethodID("process")
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]byte, 0, 4096)
		for pb.Next() {
			if _, _, err := c.Call(context.Background(), dst[:0], id, args); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInProcess is BenchmarkRoundTrip's baseline: the same 64-byte
// echo called in this process, through the same binding the worker uses.
func BenchmarkInProcess(b *testing.B) {
	lib, err := callpath.Open(modtest.Path(b, "echo"))
	if err != nil {
		b.Fatal(err)
	}
	mod, err := callpath.Bind(lib)
	if err != nil {
		b.Fatal(err)
	}
	if rc := mod.Init(nil); rc != 0 {
		b.Fatal(rc)
	}
	b.Cleanup(func() { mod.Shutdown(); lib.Close() })
	var frame callpath.Frame
	args := bytes.Repeat([]byte{'x'}, 64)
	out := make([]byte, 4096)
	id := abi.MethodID("process")
	b.ReportAllocs()
	for b.Loop() {
		if rc := mod.Call(&frame, id, args, unsafe.Pointer(&out[0])); rc != 0 {
			b.Fatal(rc)
		}
	}
}

// BenchmarkWorkerStart measures starting a worker and loading the echo
// module in it (Start: the process, the region, memlink_init), then
// shutting it down.
func BenchmarkWorkerStart(b *testing.B) {
	cfg := Config{Path: modtest.Path(b, "echo"), Name: "echo", OutputCap: 4096, MaxOutput: 1 << 20}
	b.ReportAllocs()
	for b.Loop() {
		c, err := Start(cfg)
		skipWithoutExec(b, err)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Shutdown(5 * time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
