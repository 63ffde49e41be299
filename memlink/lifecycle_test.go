package memlink_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestEndAfterReloadDrainTimeout ends a handle (Unload or Close) while a
// reload whose drain timed out is still retiring the old version in the
// background. The old version must be shut down exactly once, by one
// party, after its last call returned: ending it twice ran
// memlink_shutdown twice and closed an unmapped image (SIGSEGV in
// process, "file already closed" isolated). The sleep module's
// memlink_shutdown fails when it runs a second time on one image.
func TestEndAfterReloadDrainTimeout(t *testing.T) {
	for _, isolated := range []bool{false, true} {
		for _, end := range []string{"unload", "close", "unload-timeout"} {
			name := fmt.Sprintf("%s/isolated=%v", end, isolated)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				endAfterReloadDrainTimeout(t, isolated, end)
			})
		}
	}
}

func endAfterReloadDrainTimeout(t *testing.T, isolated bool, end string) {
	var opts []memlink.Option
	if end == "unload-timeout" {
		opts = append(opts, memlink.WithDrainTimeout(100*time.Millisecond))
	}
	rt := memlink.New(opts...)
	t.Cleanup(func() { rt.Close() })
	var lo []memlink.LoadOption
	if isolated {
		lo = append(lo, memlink.WithIsolation(memlink.Isolation{}))
	}
	path := modtest.Path(t, "sleep")
	h, err := rt.Load(memlink.MustParseRef(path), lo...)
	if isolated && errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a worker process from this program here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The call must outlast the reload's load of the new version, which
	// for an isolated module starts a worker (slow under -race on a
	// loaded machine).
	ms := 1500
	if isolated {
		ms = 5000
	}
	done := slowCall(t, rt, h, ms)
	time.Sleep(200 * time.Millisecond)
	_, err = rt.Reload(h, memlink.MustParseRef(path), hotreload.Config{DrainTimeout: 100 * time.Millisecond})
	if !errors.Is(err, memlink.ErrDrainTimeout) {
		t.Fatalf("Reload = %v, want ErrDrainTimeout", err)
	}
	switch end {
	case "unload":
		// Unload waits for the background retire instead of ending the
		// old version itself.
		if err := rt.Unload(h); err != nil {
			t.Fatalf("Unload: %v", err)
		}
	case "close":
		if err := rt.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	case "unload-timeout":
		// Unload gives up after 100ms; the old version ends once, later.
		err := rt.Unload(h)
		if isolated {
			// An isolated call still running after the drain timeout is
			// stopped: its worker is killed.
			if !errors.Is(err, memlink.ErrDrainTimeout) {
				t.Fatalf("Unload = %v, want ErrDrainTimeout", err)
			}
		} else if !errors.Is(err, memlink.ErrDrainTimeout) {
			t.Fatalf("Unload = %v, want ErrDrainTimeout", err)
		}
	}
	got := <-done
	switch {
	case isolated && end == "unload-timeout":
		// The worker was killed under the call.
		if got == "slept" {
			t.Fatalf("the slow call survived its worker's kill")
		}
	case got != "slept":
		t.Fatalf("the slow call returned %q", got)
	}
	if !isolated && seesMappings {
		deadline := time.Now().Add(5 * time.Second)
		for mappedFiles(t, "sleep"+abi.LibraryExt) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d copies still mapped", mappedFiles(t, "sleep"+abi.LibraryExt))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestShutdownErrorsNameTheFile checks what an isolated module whose
// memlink_shutdown hangs reports: the user's file (not the private copy's
// /proc/self/fd/N or temporary path) and the limit that really bounded it
// (the drain timeout; CallTimeout is not set). The worker's process title
// names the user's file too.
func TestShutdownErrorsNameTheFile(t *testing.T) {
	rt := memlink.New(memlink.WithDrainTimeout(300 * time.Millisecond))
	t.Cleanup(func() { rt.Close() })
	path := modtest.Path(t, "sleep")
	h, err := rt.Load(memlink.MustParseRef(path), memlink.WithConfig([]byte("slow-shutdown")),
		memlink.WithIsolation(memlink.Isolation{}))
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a worker process from this program here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		titles := workerTitles(t)
		if !slices.Contains(titles, "memlink-worker sleep"+abi.LibraryExt) {
			t.Errorf("worker titles %q, want one naming sleep%s", titles, abi.LibraryExt)
		}
	}
	err = rt.Unload(h)
	if !errors.Is(err, memlink.ErrCallTimeout) {
		t.Fatalf("Unload with a hung memlink_shutdown: %v, want ErrCallTimeout", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "300ms") || strings.Contains(msg, " 0s") {
		t.Errorf("error does not name the drain timeout: %s", msg)
	}
	if !strings.Contains(msg, "sleep"+abi.LibraryExt) || strings.Contains(msg, "/proc/") || strings.Contains(msg, "memlink-go-") {
		t.Errorf("error does not name the user's file: %s", msg)
	}
}

// workerTitles returns the command lines (arguments joined by spaces) of
// this process's children that are memlink workers (Linux).
func workerTitles(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, de := range ents {
		stat, err := os.ReadFile("/proc/" + de.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces; ppid follows the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + de.Name() + "/cmdline")
		if err != nil {
			continue
		}
		title := strings.TrimRight(strings.ReplaceAll(string(cmd), "\x00", " "), " ")
		if strings.HasPrefix(title, "memlink-worker") {
			titles = append(titles, title)
		}
	}
	return titles
}

// TestModuleRuntimeCoversRuntime keeps ModuleRuntime the whole interface a
// service needs: every exported method of *Runtime but ReloadFile.
func TestModuleRuntimeCoversRuntime(t *testing.T) {
	iface := reflect.TypeFor[memlink.ModuleRuntime]()
	rt := reflect.TypeFor[*memlink.Runtime]()
	for i := range rt.NumMethod() {
		name := rt.Method(i).Name
		if name == "ReloadFile" {
			continue
		}
		if _, ok := iface.MethodByName(name); !ok {
			t.Errorf("ModuleRuntime lacks (*Runtime).%s", name)
		}
	}
}
