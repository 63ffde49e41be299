package abi

import (
	"hash/fnv"
	"testing"
)

func TestMethodIDMatchesFNV1a(t *testing.T) {
	for _, name := range []string{"", "process", "increment", "a", "\x00\xff", "ünïcode"} {
		h := fnv.New32a()
		h.Write([]byte(name))
		if got, want := MethodID(name), h.Sum32(); got != want {
			t.Errorf("MethodID(%q) = %#x, want %#x", name, got, want)
		}
	}
	// Fixed values so that a change of algorithm cannot go unnoticed even if
	// hash/fnv were to change: these are the published FNV-1a test vectors.
	if got := MethodID(""); got != 0x811c9dc5 {
		t.Errorf("MethodID(\"\") = %#x, want 0x811c9dc5", got)
	}
	if got := MethodID("process"); got != 0x9ce94d7a { // quoted in docs/abi.md
		t.Errorf("MethodID(\"process\") = %#x, want 0x9ce94d7a", got)
	}
	if got := MethodID("a"); got != 0xe40c292c {
		t.Errorf("MethodID(\"a\") = %#x, want 0xe40c292c", got)
	}
}

func TestMethodIDDoesNotAllocate(t *testing.T) {
	name := "process"
	if n := testing.AllocsPerRun(100, func() { _ = MethodID(name) }); n != 0 {
		t.Fatalf("MethodID allocates %v times per call", n)
	}
}

func TestCodeText(t *testing.T) {
	cases := map[int32]string{
		CodeOK: "ok", CodeInvalidArgs: "invalid arguments", CodeOutputTooSmall: "output too small",
		CodePanicked: "module panicked", CodeUnknownMethod: "unknown method", 17: "module code 17",
	}
	for code, want := range cases {
		if got := CodeText(code); got != want {
			t.Errorf("CodeText(%d) = %q, want %q", code, got, want)
		}
	}
}

func BenchmarkMethodID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = MethodID("process")
	}
}
