//go:build unix

package observe_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

// TestWorkerRestarts: an isolated module has a memlink_worker_restarts_total
// series per reason, counting its crashes; a module in process has none.
func TestWorkerRestarts(t *testing.T) {
	rt := newRuntime(t)
	local := mustLoad(t, rt, "echo")
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "crashy")), memlink.WithIsolation(memlink.Isolation{}))
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a worker process here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"segv", "abort"} {
		callFails(t, rt, h, method, "")
	}
	callN(t, rt, h, "echo", "x", 1)
	callN(t, rt, local, "process", "x", 1)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(observe.NewCollector(rt))
	want := fmt.Sprintf(`# HELP memlink_worker_restarts_total Worker processes of an isolated module (memlink.WithIsolation) lost abnormally, by reason: crash, memory (ran into its memory limit), timeout or canceled (killed because of a call).
# TYPE memlink_worker_restarts_total counter
memlink_worker_restarts_total{handle="%[1]s",module="crashy",reason="canceled"} 0
memlink_worker_restarts_total{handle="%[1]s",module="crashy",reason="crash"} 2
memlink_worker_restarts_total{handle="%[1]s",module="crashy",reason="memory"} 0
memlink_worker_restarts_total{handle="%[1]s",module="crashy",reason="timeout"} 0
`, h)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "memlink_worker_restarts_total"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v, %v", problems, err)
	}
}
