package memlink_test

import (
	"bytes"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// FuzzCallOutput drives the output handling of both ABIs with arbitrary
// payloads, two calls at a time so that a stale tail of the first output
// would show in the second: ABI 1 must return the payload up to its first
// NUL, ABI 2 the payload exactly.
func FuzzCallOutput(f *testing.F) {
	rt := memlink.New()
	defer rt.Close()
	v1, err := rt.Load(memlink.MustParseRef(modtest.Path(f, "echo")))
	if err != nil {
		f.Fatal(err)
	}
	v2, err := rt.Load(memlink.MustParseRef(modtest.Path(f, "binary")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("a longer first payload"), []byte("short"))
	f.Add([]byte("x\x00y"), []byte(""))
	f.Add(bytes.Repeat([]byte{0xff}, 4096), []byte{0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		for _, p := range [][]byte{a, b} {
			if len(p) > memlink.DefaultOutputCapacity {
				p = p[:memlink.DefaultOutputCapacity] // ABI 1 echo cannot be told the size
			}
			want := p
			if i := bytes.IndexByte(p, 0); i >= 0 {
				want = p[:i]
			}
			got, err := rt.Call(v1, "process", p)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ABI 1 echo of %q = %q, %v; want %q", p, got, err, want)
			}
			got, err = rt.Call(v2, "echo", p)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("ABI 2 echo of %q = %q, %v", p, got, err)
			}
		}
	})
}

// FuzzParseRef checks that ParseRef never panics and that what it accepts
// prints back unchanged.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"./my_module.so", "", "a\x00b", "/abs/echo.dll", "echo@1.2.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := memlink.ParseRef(s)
		if err != nil {
			return
		}
		if r.String() != s || r.IsZero() {
			t.Fatalf("ParseRef(%q) = %q", s, r.String())
		}
	})
}
