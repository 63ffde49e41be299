package observe_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

// TestHostCallSeries scrapes a kv module after host calls with every kind
// of result it can produce here, and lints the families.
func TestHostCallSeries(t *testing.T) {
	// Records at warn and above are delivered: the two the test logs.
	warn := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt := newRuntime(t, memlink.WithLogger(warn),
		memlink.WithHostFunc("kv.get", func(_ context.Context, args, out []byte) ([]byte, error) {
			if string(args) == "missing" {
				return nil, errors.New("no such key")
			}
			return append(out, "value"...), nil
		}),
		memlink.WithHostFunc("kv.put", func(_ context.Context, _, out []byte) ([]byte, error) { return out, nil }))
	h := mustLoad(t, rt, "kv")
	callN(t, rt, h, "get", "k", 3)
	callN(t, rt, h, "put", "k=v", 1)
	callFails(t, rt, h, "get", "missing")
	callN(t, rt, h, "log", "wwarning", 2)
	callFails(t, rt, h, "call", "\x40nothere\x00")

	hs := h.String()
	series := func(fn, result, n string) string {
		return `memlink_host_calls_total{function="` + fn + `",handle="` + hs + `",module="kv",result="` + result + `"} ` + n + "\n"
	}
	want := `# HELP memlink_host_calls_total Host calls the module made (memlink.WithHostFunc), by function and result: ok, error (code -1), too_small (code -4, result held for the retry), panicked (code -5), unknown (code -6; function "(unknown)") or invalid (code -2). Only non-zero series are exported.
# TYPE memlink_host_calls_total counter
` + series("(unknown)", "unknown", "1") + series("kv.get", "error", "1") + series("kv.get", "ok", "3") + series("kv.put", "ok", "1") + `# HELP memlink_host_log_records_total Log records a module bound to the host sent, by result: delivered (to the logger) or dropped.
# TYPE memlink_host_log_records_total counter
memlink_host_log_records_total{handle="` + hs + `",module="kv",result="delivered"} 2
memlink_host_log_records_total{handle="` + hs + `",module="kv",result="dropped"} 0
`
	c := observe.NewCollector(rt)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "memlink_host_calls_total", "memlink_host_log_records_total"); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(c, "memlink_host_calls_total", "memlink_host_log_records_total")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
