package rust_test

import (
	"bytes"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// BenchmarkEcho64 is a 64-byte echo through the Rust SDK beside the same
// call of the C ABI-2 module binary ("echo"), in one run: what the SDK
// adds (its Vec per call, the method lookup, catch_unwind).
func BenchmarkEcho64(b *testing.B) {
	args := bytes.Repeat([]byte("x"), 64)
	for _, m := range []struct{ name, path, method string }{
		{"c", modtest.Path(b, "binary"), "echo"},
		{"rust", rustModule(b, "rust_echo"), "process"},
	} {
		b.Run(m.name, func(b *testing.B) {
			rt := newRuntime(b)
			h, err := rt.Load(memlink.MustParseRef(m.path))
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 0, 128)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst, err = rt.CallAppend(dst[:0], h, m.method, args)
				if err != nil || len(dst) != 64 {
					b.Fatal(len(dst), err)
				}
			}
		})
	}
}
