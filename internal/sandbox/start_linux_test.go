package sandbox

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// noNewPrivs reads thread tid's no_new_privs flag from /proc.
func noNewPrivs(t *testing.T, tid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("NoNewPrivs:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	t.Fatal("no NoNewPrivs line")
	return ""
}

// TestStartConfinedThread: start runs on a confined thread that is never
// the main one, and the host's threads are not confined by it.
func TestStartConfinedThread(t *testing.T) {
	pid := os.Getpid()
	if noNewPrivs(t, pid) != "0" {
		t.Skip("the test process itself runs with no_new_privs")
	}
	for range 100 {
		var tid int
		var nnp string
		err := StartConfined(&Plan{}, nil, nil, func() (int, error) {
			tid = unix.Gettid()
			nnp = noNewPrivs(t, tid)
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if tid == pid {
			t.Fatal("start ran on the main thread")
		}
		if nnp != "1" {
			t.Fatalf("start ran with NoNewPrivs %s", nnp)
		}
	}
	if got := noNewPrivs(t, pid); got != "0" {
		t.Fatalf("main thread NoNewPrivs %s", got)
	}
	if got := noNewPrivs(t, unix.Gettid()); got != "0" {
		t.Fatalf("the caller's thread NoNewPrivs %s", got)
	}
}

// BenchmarkStartConfined measures what confining the starting thread adds
// to a sandboxed worker's start on the host's side: a new thread, the
// Landlock ruleset of a zero policy (when the kernel has Landlock) and
// no_new_privs, with nothing started.
func BenchmarkStartConfined(b *testing.B) {
	pl := &Plan{Landlock: Probe().Landlock}
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		b.Fatal(err)
	}
	defer exe.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := StartConfined(pl, exe, nil, func() (int, error) { return 0, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEnterRefusesUnconfined: a worker whose host did not confine it
// (no no_new_privs, or no Landlock domain) refuses to run as sandboxed.
func TestEnterRefusesUnconfined(t *testing.T) {
	if noNewPrivs(t, unix.Gettid()) != "0" {
		t.Skip("the test process itself runs with no_new_privs")
	}
	t.Setenv(EnvPlan, `{}`)
	if err := Enter(); err == nil || err.Error() != "the worker was not started confined" {
		t.Errorf("Enter without no_new_privs: %v", err)
	}
	t.Setenv(EnvPlan, `{"landlock":7}`)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // for ever: this thread gets no_new_privs
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			errc <- err
			return
		}
		errc <- Enter()
	}()
	if err := <-errc; err == nil || err.Error() != "the worker was started without its Landlock domain" {
		t.Errorf("Enter without Landlock: %v", err)
	}
}
