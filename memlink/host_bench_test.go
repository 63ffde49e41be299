package memlink_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// nopHandler accepts every record and does nothing with it: what a log
// record costs the runtime, without the cost of formatting it.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

// benchHost is a runtime with the kv module and the host function "bench",
// which returns its args (16 bytes in, 16 out). opts are the load's.
func benchHost(b *testing.B, opts ...memlink.LoadOption) (*memlink.Runtime, memlink.Handle) {
	b.Helper()
	rt := memlink.New(memlink.WithLogger(slog.New(nopHandler{})),
		memlink.WithHostFunc("bench", func(_ context.Context, args, out []byte) ([]byte, error) {
			return append(out, args...), nil
		}))
	b.Cleanup(func() { rt.Close() })
	return rt, loadKV(b, rt, opts...)
}

// BenchmarkHostCall measures kv's "one" (a method making one host call
// with 16-byte args and result) against "none" (the same method without
// the host call): the difference is the cost of a host call, as the issue
// defines it. (memlink-bench's host row has kv make 64 host calls in one
// module call instead, "many", which needs no difference of two totals.)
func BenchmarkHostCall(b *testing.B) {
	args := []byte("0123456789abcdef")
	for _, m := range []string{"none", "one"} {
		b.Run("inprocess/"+m, func(b *testing.B) {
			rt, h := benchHost(b)
			benchMethod(b, rt, h, m, args)
		})
	}
	for _, m := range []string{"none", "one"} {
		b.Run("isolated/"+m, func(b *testing.B) {
			rt, h := benchHost(b, memlink.WithIsolation(memlink.Isolation{}))
			benchMethod(b, rt, h, m, args)
		})
	}
}

// BenchmarkHostLog measures kv's "logone" (one 16-byte log record to a
// logger whose handler does nothing) against "none".
func BenchmarkHostLog(b *testing.B) {
	args := []byte("0123456789abcdef")
	for _, m := range []string{"none", "logone"} {
		b.Run("inprocess/"+m, func(b *testing.B) {
			rt, h := benchHost(b)
			benchMethod(b, rt, h, m, args)
		})
	}
}

func benchMethod(b *testing.B, rt *memlink.Runtime, h memlink.Handle, method string, args []byte) {
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := rt.CallAppend(dst[:0], h, method, args)
		if err != nil {
			b.Fatal(err)
		}
		if method != "logone" && len(out) != len(args) {
			b.Fatalf("%s returned %q", method, out)
		}
	}
}
