//go:build darwin || linux

package modules_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/ebitengine/purego"

	"github.com/memlink/memlink-go/internal/modtest"
)

// These tests load each module with purego and check the behaviour its
// source promises. Each test gets its own copy of a module, so global
// state in one test never leaks into another.

func TestMain(m *testing.M) { modtest.Main(m) }

// bufSize is the ABI-1 output buffer size hosts use by default.
const bufSize = 4096

// lib is a loaded module.
type lib struct {
	t      *testing.T
	handle uintptr

	init     func(config *byte, n uint) int32
	call     func(method uint32, args *byte, n uint, out *byte) int32
	shutdown func() int32
}

// load opens a private copy of the named module and binds its ABI-1
// exports that exist.
func load(t *testing.T, name string) *lib {
	t.Helper()
	h, err := purego.Dlopen(modtest.Path(t, name), purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		t.Fatalf("Dlopen(%s): %v", name, err)
	}
	t.Cleanup(func() { purego.Dlclose(h) })
	l := &lib{t: t, handle: h}
	l.bind(&l.init, "memlink_init")
	l.bind(&l.shutdown, "memlink_shutdown")
	if l.has("memlink_call") {
		l.bind(&l.call, "memlink_call")
	}
	return l
}

func (l *lib) has(sym string) bool {
	_, err := purego.Dlsym(l.handle, sym)
	return err == nil
}

func (l *lib) bind(fptr any, sym string) {
	l.t.Helper()
	if !l.has(sym) {
		l.t.Fatalf("module lacks %s", sym)
	}
	purego.RegisterLibFunc(fptr, l.handle, sym)
}

func ptr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

func methodID(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}

// start calls memlink_init with config and checks it succeeds.
func (l *lib) start(config string) {
	l.t.Helper()
	if rc := l.init(ptr([]byte(config)), uint(len(config))); rc != 0 {
		l.t.Fatalf("memlink_init(%q) = %d", config, rc)
	}
	l.t.Cleanup(func() {
		if rc := l.shutdown(); rc != 0 {
			l.t.Errorf("memlink_shutdown = %d", rc)
		}
	})
}

// invoke calls memlink_call like a host: a zeroed 4096-byte buffer (with
// a canary after it) and the result taken up to the first NUL.
func (l *lib) invoke(method, args string) (string, int32) {
	l.t.Helper()
	const canary = 0xa5
	buf := make([]byte, bufSize+64)
	for i := bufSize; i < len(buf); i++ {
		buf[i] = canary
	}
	a := []byte(args)
	rc := l.call(methodID(method), ptr(a), uint(len(a)), &buf[0])
	for i := bufSize; i < len(buf); i++ {
		if buf[i] != canary {
			l.t.Fatalf("%s(%q) wrote past the %d-byte buffer", method, args, bufSize)
		}
	}
	out := buf[:bufSize]
	if i := bytes.IndexByte(out, 0); i >= 0 {
		out = out[:i]
	}
	return string(out), rc
}

func (l *lib) want(method, args, want string) {
	l.t.Helper()
	got, rc := l.invoke(method, args)
	if rc != 0 || got != want {
		l.t.Errorf("%s(%q) = %q, %d; want %q, 0", method, args, got, rc, want)
	}
}

func (l *lib) wantCode(method, args string, want int32) {
	l.t.Helper()
	if _, rc := l.invoke(method, args); rc != want {
		l.t.Errorf("%s(%q) returned %d, want %d", method, args, rc, want)
	}
}

func TestEcho(t *testing.T) {
	l := load(t, "echo")
	l.start("")
	l.want("anything", "hello, world", "hello, world")
	l.want("other", "", "")
	// No NUL is added: the copy stops exactly at args_len.
	buf := bytes.Repeat([]byte{'x'}, 8)
	if rc := l.call(1, ptr([]byte("ab")), 2, &buf[0]); rc != 0 || string(buf) != "abxxxxxx" {
		t.Errorf("echo wrote %q, %d", buf, rc)
	}
}

func TestMath(t *testing.T) {
	l := load(t, "math")
	l.start("")
	for args, want := range map[string]string{
		"2,3":                    "5",
		" 40 , 2 ":               "42",
		"-7,3":                   "-4",
		"+1,-1":                  "0",
		"9223372036854775806,1":  "9223372036854775807",
		"-9223372036854775808,0": "-9223372036854775808",
	} {
		l.want("add", args, want)
	}
	for _, bad := range []string{"", "1", "1,", ",1", "a,b", "1,2,3", "1 2", "9223372036854775807,1", "99999999999999999999,0", "- 1,2"} {
		l.wantCode("add", bad, -2)
	}
}

func TestString(t *testing.T) {
	l := load(t, "string")
	l.start("")
	l.want("upper", "Hello, wörld 123!", "HELLO, WöRLD 123!")
	l.want("upper", "", "")
}

func TestCrypto(t *testing.T) {
	l := load(t, "crypto")
	l.start("")
	for _, in := range []string{"", "a", "hello world", strings.Repeat("memlink", 100)} {
		l.want("hash", in, fmt.Sprintf("%08x", methodID(in)))
	}
}

type stateFuncs struct {
	size        func() uintptr
	serialize   func(buf *byte, n uintptr) int32
	deserialize func(buf *byte, n uintptr) int32
}

func bindState(l *lib) stateFuncs {
	var s stateFuncs
	l.bind(&s.size, "memlink_get_state_size")
	l.bind(&s.serialize, "memlink_serialize_state")
	l.bind(&s.deserialize, "memlink_deserialize_state")
	return s
}

func TestCounter(t *testing.T) {
	l := load(t, "counter")
	l.start("")
	l.want("get", "", "0")
	l.want("increment", "", "1")
	l.want("increment", "", "2")
	l.want("add", "40", "42")
	l.want("get", "", "42")
	l.wantCode("add", "x", -2)
	l.wantCode("add", "", -2)
	l.wantCode("reset", "", -6)

	s := bindState(l)
	if n := s.size(); n != 8 {
		t.Fatalf("state size = %d, want 8", n)
	}
	state := make([]byte, 8)
	if rc := s.serialize(&state[0], 7); rc != -2 {
		t.Errorf("serialize into 7 bytes = %d, want -2", rc)
	}
	if rc := s.serialize(&state[0], 8); rc != 0 {
		t.Fatalf("serialize = %d", rc)
	}
	if got := binary.LittleEndian.Uint64(state); got != 42 {
		t.Errorf("serialized counter = %d, want 42", got)
	}

	// A fresh copy starts at 0 and takes the state over.
	l2 := load(t, "counter")
	l2.start("")
	s2 := bindState(l2)
	l2.want("get", "", "0")
	if rc := s2.deserialize(&state[0], 7); rc != -2 {
		t.Errorf("deserialize of 7 bytes = %d, want -2", rc)
	}
	if rc := s2.deserialize(&state[0], 8); rc != 0 {
		t.Fatalf("deserialize = %d", rc)
	}
	l2.want("increment", "", "43")
	l.want("get", "", "42") // the first copy is unaffected
}

func TestCounterConfig(t *testing.T) {
	l := load(t, "counter")
	l.start("1000")
	l.want("increment", "", "1001")
	if rc := l.init(ptr([]byte("12x")), 3); rc != -2 {
		t.Errorf("memlink_init(12x) = %d, want -2", rc)
	}
}

func TestCounterBadRestore(t *testing.T) {
	l := load(t, "counter_badrestore")
	l.start("5")
	s := bindState(l)
	state := make([]byte, 8)
	if rc := s.serialize(&state[0], 8); rc != 0 || binary.LittleEndian.Uint64(state) != 5 {
		t.Errorf("serialize = %d, state %x", rc, state)
	}
	if rc := s.deserialize(&state[0], 8); rc != -3 {
		t.Errorf("deserialize = %d, want -3", rc)
	}
}

func TestVersion(t *testing.T) {
	v1 := load(t, "version_v1")
	v1.start("")
	v2 := load(t, "version_v2")
	v2.start("")
	v1.want("version", "", "v1")
	v1.want("other", "x", "v1")
	v2.want("version", "", "v2")
	v2.want("other", "x", "v2")
}

func TestErrors(t *testing.T) {
	l := load(t, "errors")
	l.start("")
	l.want("ok", "", "ok")
	for method, code := range map[string]int32{
		"general": -1, "invalid": -2, "internal": -3, "small": -4,
		"panic": -5, "custom": 17, "nope": -6,
	} {
		l.wantCode(method, "", code)
	}
}

func TestSleep(t *testing.T) {
	l := load(t, "sleep")
	l.start("")
	start := time.Now()
	l.want("sleep", "50", "slept")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("sleep 50 returned after %v", d)
	}
	l.want("sleep", "0", "slept")
	l.wantCode("sleep", "5ms", -2)
	l.wantCode("sleep", "", -2)
	l.want("other", "echoed", "echoed")
}

func TestOverflow(t *testing.T) {
	l := load(t, "overflow")
	l.start("")
	buf := make([]byte, 8192)
	if rc := l.call(1, nil, 0, &buf[0]); rc != 0 {
		t.Fatalf("overflow() = %d", rc)
	}
	if n := bytes.IndexByte(buf, 0); n != 4160 || !bytes.Equal(buf[:n], bytes.Repeat([]byte("A"), n)) {
		t.Errorf("overflow() wrote %d bytes, want 4160 of 'A'", n)
	}
	l.want("fill", "10", "AAAAAAAAAA")
	l.wantCode("fill", "ten", -2)
}

func TestConfigured(t *testing.T) {
	l := load(t, "configured")
	l.start("name=memlink")
	l.want("config", "", "name=memlink")
	l.wantCode("other", "", -6)
	big := bytes.Repeat([]byte("c"), 1025)
	if rc := l.init(&big[0], uint(len(big))); rc != -2 {
		t.Errorf("memlink_init with 1025 bytes = %d, want -2", rc)
	}
	l.start(string(big[:1024]))
	l.want("config", "", string(big[:1024]))
	l.start("")
	l.want("config", "", "")
}

func TestBrokenModules(t *testing.T) {
	abi99 := load(t, "abi99")
	var version func() uint32
	abi99.bind(&version, "memlink_abi_version")
	if v := version(); v != 99 {
		t.Errorf("abi99 version = %d", v)
	}
	abi99.start("")
	abi99.want("x", "still works", "still works")

	initfail := load(t, "initfail")
	if rc := initfail.init(nil, 0); rc != 42 {
		t.Errorf("initfail memlink_init = %d, want 42", rc)
	}
	if !initfail.has("memlink_call") || !initfail.has("memlink_shutdown") {
		t.Error("initfail lacks memlink_call or memlink_shutdown")
	}

	missing := load(t, "missing")
	if missing.has("memlink_call") || missing.has("memlink_call_v2") {
		t.Error("missing exports a call function")
	}
	missing.start("")
}

// v2 calls memlink_call_v2.
type v2Func func(method uint32, args *byte, n uintptr, out *byte, cap uintptr, outLen *uintptr) int32

func callV2(t *testing.T, f v2Func, method string, args []byte, capacity int) ([]byte, uintptr, int32) {
	t.Helper()
	const canary = 0x5a
	buf := make([]byte, capacity+16)
	for i := range buf {
		buf[i] = canary
	}
	outLen := uintptr(0xdead)
	rc := f(methodID(method), ptr(args), uintptr(len(args)), ptr(buf), uintptr(capacity), &outLen)
	for i := capacity; i < len(buf); i++ {
		if buf[i] != canary {
			t.Fatalf("%s wrote past out_cap=%d", method, capacity)
		}
	}
	if rc == 0 || rc == -4 || outLen > uintptr(capacity) {
		return nil, outLen, rc
	}
	return buf[:outLen], outLen, rc
}

func TestBinary(t *testing.T) {
	l := load(t, "binary")
	var version func() uint32
	var call v2Func
	l.bind(&version, "memlink_abi_version")
	l.bind(&call, "memlink_call_v2")
	if v := version(); v != 2 {
		t.Errorf("memlink_abi_version = %d, want 2", v)
	}
	l.start("")

	// echo: exact bytes, NULs included; -4 with the needed size when short.
	payload := []byte{'a', 0, 'b', 0, 0, 0xff}
	out := make([]byte, 16)
	var n uintptr
	if rc := call(methodID("echo"), &payload[0], uintptr(len(payload)), &out[0], 16, &n); rc != 0 || !bytes.Equal(out[:n], payload) {
		t.Errorf("echo = %q, %d", out[:n], rc)
	}
	if _, n, rc := callV2(t, call, "echo", payload, 3); rc != -4 || n != uintptr(len(payload)) {
		t.Errorf("short echo = %d, out_len %d; want -4, %d", rc, n, len(payload))
	}
	if rc := call(methodID("echo"), nil, 0, nil, 0, &n); rc != 0 || n != 0 {
		t.Errorf("empty echo = %d, out_len %d", rc, n)
	}

	// repeat: n generated bytes.
	count := make([]byte, 8)
	binary.LittleEndian.PutUint64(count, 10000)
	if _, n, rc := callV2(t, call, "repeat", count, 4096); rc != -4 || n != 10000 {
		t.Errorf("short repeat = %d, out_len %d; want -4, 10000", rc, n)
	}
	big := make([]byte, 10000)
	if rc := call(methodID("repeat"), &count[0], 8, &big[0], uintptr(len(big)), &n); rc != 0 || n != 10000 {
		t.Fatalf("repeat = %d, out_len %d", rc, n)
	}
	for i, b := range big {
		if b != byte(i*31+7) {
			t.Fatalf("repeat byte %d = %d, want %d", i, b, byte(i*31+7))
		}
	}
	if _, _, rc := callV2(t, call, "repeat", count[:7], 64); rc != -2 {
		t.Errorf("repeat with 7-byte args = %d, want -2", rc)
	}

	// Errors carry messages, bounded by out_cap.
	for _, tc := range []struct {
		method string
		cap    int
		code   int32
		msg    string
	}{
		{"fail", 64, 7, "custom failure"},
		{"fail", 6, 7, "custom"},
		{"fail", 0, 7, ""},
		{"panic", 64, -5, "boom"},
		{"nope", 64, -6, "unknown method"},
	} {
		msg, _, rc := callV2(t, call, tc.method, nil, tc.cap)
		if rc != tc.code || string(msg) != tc.msg {
			t.Errorf("%s with out_cap %d = %d %q, want %d %q", tc.method, tc.cap, rc, msg, tc.code, tc.msg)
		}
	}

	// liar: success with an impossible length.
	if _, n, rc := callV2(t, call, "liar", nil, 32); rc != 0 || n != 132 {
		t.Errorf("liar = %d, out_len %d; want 0, 132", rc, n)
	}

	// The ABI-1 export echoes.
	l.want("whatever", "abi one", "abi one")
}
