package observe_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

func TestMain(m *testing.M) { modtest.Main(m) }

// newRuntime returns a runtime closed at the end of the test.
func newRuntime(t testing.TB, opts ...memlink.Option) *memlink.Runtime {
	t.Helper()
	rt := memlink.New(opts...)
	t.Cleanup(func() { rt.Close() })
	return rt
}

// mustLoad loads a private copy of module name into rt.
func mustLoad(t testing.TB, rt *memlink.Runtime, name string) memlink.Handle {
	t.Helper()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, name)))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return h
}

// callN calls method with args n times and fails the test on an error.
func callN(t testing.TB, rt *memlink.Runtime, h memlink.Handle, method, args string, n int) {
	t.Helper()
	for range n {
		if _, err := rt.Call(h, method, []byte(args)); err != nil {
			t.Fatalf("Call(%s): %v", method, err)
		}
	}
}

// callFails makes a call that must fail.
func callFails(t testing.TB, rt *memlink.Runtime, h memlink.Handle, method, args string) {
	t.Helper()
	if _, err := rt.Call(h, method, []byte(args)); err == nil {
		t.Fatalf("Call(%s, %q) succeeded; want an error", method, args)
	}
}

// nonHistogram names the metric families compared exactly by
// TestScriptedScrape: everything but the histograms and the arena, whose
// values depend on timing and on the number of lanes.
var nonHistogram = append([]string{
	"memlink_modules_loaded", "memlink_loads_total", "memlink_unloads_total", "memlink_load_errors_total",
}, perModuleExact...)

// perModuleExact are the per-module families of nonHistogram.
var perModuleExact = []string{
	"memlink_calls_total", "memlink_call_errors_total", "memlink_calls_in_flight",
	"memlink_reloads_total", "memlink_module_generation",
}

// moduleSeries is the expected text of the exactly compared per-module
// series of one module, keyed by family. Labels are in name order, as the
// registry sorts them.
func moduleSeries(name string, h memlink.Handle, calls, code, panicked, corrupted int) map[string]string {
	return map[string]string{
		"memlink_calls_total": fmt.Sprintf("memlink_calls_total{handle=\"%s\",module=%q} %d\n", h, name, calls),
		"memlink_call_errors_total": fmt.Sprintf(
			"memlink_call_errors_total{handle=\"%[1]s\",kind=\"code\",module=%[2]q} %[3]d\n"+
				"memlink_call_errors_total{handle=\"%[1]s\",kind=\"corrupted\",module=%[2]q} %[4]d\n"+
				"memlink_call_errors_total{handle=\"%[1]s\",kind=\"panicked\",module=%[2]q} %[5]d\n",
			h, name, code, corrupted, panicked),
		"memlink_calls_in_flight":   fmt.Sprintf("memlink_calls_in_flight{handle=\"%s\",module=%q} 0\n", h, name),
		"memlink_module_generation": fmt.Sprintf("memlink_module_generation{handle=\"%s\",module=%q} 1\n", h, name),
		"memlink_reloads_total": fmt.Sprintf(
			"memlink_reloads_total{handle=\"%[1]s\",module=%[2]q,result=\"drain_timeout\"} 0\n"+
				"memlink_reloads_total{handle=\"%[1]s\",module=%[2]q,result=\"ok\"} 0\n"+
				"memlink_reloads_total{handle=\"%[1]s\",module=%[2]q,result=\"rolled_back\"} 0\n",
			h, name),
	}
}

const runtimeExpected = `
# HELP memlink_modules_loaded Number of modules loaded now.
# TYPE memlink_modules_loaded gauge
memlink_modules_loaded 4
# HELP memlink_loads_total Modules loaded successfully since the runtime was created.
# TYPE memlink_loads_total counter
memlink_loads_total 5
# HELP memlink_unloads_total Modules unloaded since the runtime was created, by Unload or Close.
# TYPE memlink_unloads_total counter
memlink_unloads_total 1
# HELP memlink_load_errors_total Loads that failed, by reason.
# TYPE memlink_load_errors_total counter
memlink_load_errors_total{reason="abi_version"} 0
memlink_load_errors_total{reason="digest_mismatch"} 0
memlink_load_errors_total{reason="init_failed"} 1
memlink_load_errors_total{reason="insecure"} 0
memlink_load_errors_total{reason="invalid_module"} 0
memlink_load_errors_total{reason="missing_symbol"} 1
memlink_load_errors_total{reason="not_found"} 1
memlink_load_errors_total{reason="other"} 0
`

var helpAndType = map[string]string{
	"memlink_calls_total": "# HELP memlink_calls_total Calls made on a loaded module, across reloads, failed ones included.\n" +
		"# TYPE memlink_calls_total counter\n",
	"memlink_call_errors_total": "# HELP memlink_call_errors_total Calls that failed, by kind: code (a non-zero result code other than -5), " +
		"panicked (code -5) or corrupted (the module overran its output buffer or misreported its length).\n" +
		"# TYPE memlink_call_errors_total counter\n",
	"memlink_calls_in_flight": "# HELP memlink_calls_in_flight Calls running in the module now.\n" +
		"# TYPE memlink_calls_in_flight gauge\n",
	"memlink_reloads_total": "# HELP memlink_reloads_total Hot reloads of the module, by result.\n" +
		"# TYPE memlink_reloads_total counter\n",
	"memlink_module_generation": "# HELP memlink_module_generation Generation of the module's current version: 1 after load, one more after each successful reload.\n" +
		"# TYPE memlink_module_generation gauge\n",
}

// TestScriptedScrape runs a known sequence of loads, calls, failures and
// an unload, and compares the scrape with the exact counts.
func TestScriptedScrape(t *testing.T) {
	rt := newRuntime(t, memlink.WithLatencySampling(1))
	echo1 := mustLoad(t, rt, "echo")
	echo2 := mustLoad(t, rt, "echo") // another copy: same module name, own handle
	errs := mustLoad(t, rt, "errors")
	ovf := mustLoad(t, rt, "overflow")
	gone := mustLoad(t, rt, "math")

	callN(t, rt, echo1, "process", "x", 7)
	callN(t, rt, echo2, "process", "x", 3)
	callN(t, rt, errs, "ok", "", 4)
	callFails(t, rt, errs, "custom", "") // code 17
	callFails(t, rt, errs, "panic", "")  // code -5
	callN(t, rt, ovf, "process", "10", 2)
	callFails(t, rt, ovf, "process", "4097") // writes past the 4 KiB buffer
	callN(t, rt, gone, "process", "1,2", 1)

	for _, p := range []string{
		modtest.Path(t, "initfail"),
		modtest.Path(t, "missing"),
		filepath.Join(t.TempDir(), "absent.so"),
	} {
		if _, err := rt.Load(memlink.MustParseRef(p)); err == nil {
			t.Fatalf("Load(%s) succeeded", p)
		}
	}
	if err := rt.Unload(gone); err != nil {
		t.Fatal(err)
	}

	series := []map[string]string{
		moduleSeries("echo", echo1, 7, 0, 0, 0),
		moduleSeries("echo", echo2, 3, 0, 0, 0),
		moduleSeries("errors", errs, 6, 1, 1, 0),
		moduleSeries("overflow", ovf, 3, 0, 0, 1),
	}
	var want strings.Builder
	want.WriteString(runtimeExpected)
	for _, name := range perModuleExact {
		want.WriteString(helpAndType[name])
		for _, s := range series {
			want.WriteString(s[name])
		}
	}

	c := observe.NewCollector(rt)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want.String()), nonHistogram...); err != nil {
		t.Fatal(err)
	}

	// The arena gauge matches what Usage reports, handle by handle.
	for _, h := range []memlink.Handle{echo1, echo2, errs, ovf} {
		u, _ := rt.Usage(h)
		if u.ArenaBytes <= 0 {
			t.Fatalf("handle %d: ArenaBytes = %d", h, u.ArenaBytes)
		}
		m := findMetric(t, gather(t, c), "memlink_arena_bytes", "handle", h.String())
		if got := m.GetGauge().GetValue(); got != float64(u.ArenaBytes) {
			t.Errorf("handle %d: memlink_arena_bytes = %v, want %d", h, got, u.ArenaBytes)
		}
	}

	// With every call timed, each module's latency histogram counts its
	// calls, and the buckets are the cumulative form of Stats' counts.
	mfs := gather(t, c)
	st := rt.Stats()
	calls := map[memlink.Handle]uint64{echo1: 7, echo2: 3, errs: 6, ovf: 3}
	for _, ms := range st.Modules {
		m := findMetric(t, mfs, "memlink_call_duration_seconds", "handle", ms.Handle.String())
		checkHistogram(t, m.GetHistogram(), ms.Latency, calls[ms.Handle])
	}
	// Every load is timed, the five that worked and the three that failed.
	checkHistogram(t, findMetric(t, mfs, "memlink_load_duration_seconds").GetHistogram(), st.LoadDuration, 8)
	checkHistogram(t, findMetric(t, mfs, "memlink_reload_duration_seconds").GetHistogram(), st.ReloadDuration, 0)
}

// checkHistogram compares an exported histogram with the memlink histogram
// it came from, and its count with want.
func checkHistogram(t *testing.T, got *dto.Histogram, h memlink.Histogram, want uint64) {
	t.Helper()
	if got.GetSampleCount() != want {
		t.Errorf("histogram count = %d, want %d", got.GetSampleCount(), want)
	}
	if s := h.Sum.Seconds(); got.GetSampleSum() != s {
		t.Errorf("histogram sum = %v, want %v", got.GetSampleSum(), s)
	}
	if want > 0 && (got.GetSampleSum() < 0 || got.GetSampleSum() == 0 && !coarseClock()) {
		t.Errorf("histogram sum = %v for %d observations", got.GetSampleSum(), want)
	}
	b := got.GetBucket()
	if len(b) != len(h.Bounds) {
		t.Fatalf("%d buckets, want %d", len(b), len(h.Bounds))
	}
	var acc uint64
	for i, bound := range h.Bounds {
		acc += h.Counts[i]
		if b[i].GetUpperBound() != bound || b[i].GetCumulativeCount() != acc {
			t.Errorf("bucket %d = le %v: %d, want le %v: %d", i, b[i].GetUpperBound(), b[i].GetCumulativeCount(), bound, acc)
		}
	}
	if acc+h.Counts[len(h.Bounds)] != want {
		t.Errorf("buckets + overflow = %d, want %d", acc+h.Counts[len(h.Bounds)], want)
	}
}

// gather collects c through a pedantic registry.
func gather(t testing.TB, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// findMetric returns the one metric of family name whose labels include
// the given name/value pairs.
func findMetric(t testing.TB, mfs []*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	var found []*dto.Metric
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels...) {
				found = append(found, m)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d metrics %s%v, want 1", len(found), name, labels)
	}
	return found[0]
}

func hasLabels(m *dto.Metric, labels ...string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		ok := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// fakeSource returns a fixed snapshot.
type fakeSource memlink.Stats

func (f *fakeSource) Stats() memlink.Stats { return memlink.Stats(*f) }

// TestHistogramConversion checks the exposition of histograms whose counts
// are known, including observations above the last bound and an empty
// histogram.
func TestHistogramConversion(t *testing.T) {
	bounds := []float64{0.001, 0.01, 0.1}
	src := &fakeSource{
		LoadDuration:   memlink.Histogram{Bounds: bounds, Counts: []uint64{2, 0, 3, 1}, Sum: 1500 * time.Millisecond},
		ReloadDuration: memlink.Histogram{Bounds: bounds, Counts: []uint64{0, 0, 0, 0}},
		Modules: []memlink.ModuleStats{{
			Handle: 1<<32 | 1, Name: "m",
			Latency: memlink.Histogram{Bounds: bounds, Counts: []uint64{0, 4, 0, 0}, Sum: 20 * time.Millisecond},
		}},
	}
	want := `
# HELP memlink_load_duration_seconds Duration of every load, successful or not.
# TYPE memlink_load_duration_seconds histogram
memlink_load_duration_seconds_bucket{le="0.001"} 2
memlink_load_duration_seconds_bucket{le="0.01"} 2
memlink_load_duration_seconds_bucket{le="0.1"} 5
memlink_load_duration_seconds_bucket{le="+Inf"} 6
memlink_load_duration_seconds_sum 1.5
memlink_load_duration_seconds_count 6
# HELP memlink_reload_duration_seconds Duration of every hot reload, whatever its result.
# TYPE memlink_reload_duration_seconds histogram
memlink_reload_duration_seconds_bucket{le="0.001"} 0
memlink_reload_duration_seconds_bucket{le="0.01"} 0
memlink_reload_duration_seconds_bucket{le="0.1"} 0
memlink_reload_duration_seconds_bucket{le="+Inf"} 0
memlink_reload_duration_seconds_sum 0
memlink_reload_duration_seconds_count 0
# HELP memlink_call_duration_seconds Duration of sampled calls (see memlink.WithLatencySampling); the count is of sampled calls, not of all calls.
# TYPE memlink_call_duration_seconds histogram
memlink_call_duration_seconds_bucket{handle="#1.1",module="m",le="0.001"} 0
memlink_call_duration_seconds_bucket{handle="#1.1",module="m",le="0.01"} 4
memlink_call_duration_seconds_bucket{handle="#1.1",module="m",le="0.1"} 4
memlink_call_duration_seconds_bucket{handle="#1.1",module="m",le="+Inf"} 4
memlink_call_duration_seconds_sum{handle="#1.1",module="m"} 0.02
memlink_call_duration_seconds_count{handle="#1.1",module="m"} 4
`
	err := testutil.CollectAndCompare(observe.NewCollector(src), strings.NewReader(want),
		"memlink_load_duration_seconds", "memlink_reload_duration_seconds", "memlink_call_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
}

// TestFieldMapping checks which Stats field feeds which series, with a
// fake source whose every value differs, reloads and in-flight calls
// included. A result missing from the Reloads map is exported as zero.
func TestFieldMapping(t *testing.T) {
	src := &fakeSource{
		Loaded: 1, Loads: 2, Unloads: 1,
		LoadErrors: map[string]uint64{"abi_version": 3, "other": 4},
		Modules: []memlink.ModuleStats{{
			Handle: 7<<32 | 2, Name: "fake",
			Calls: 100, CodeErrors: 5, Panics: 6, Corruptions: 7,
			InFlight: 8, Generation: 9, ArenaBytes: 4096,
			Reloads: map[string]uint64{"ok": 8, "rolled_back": 1},
		}},
	}
	want := `
# HELP memlink_modules_loaded Number of modules loaded now.
# TYPE memlink_modules_loaded gauge
memlink_modules_loaded 1
# HELP memlink_loads_total Modules loaded successfully since the runtime was created.
# TYPE memlink_loads_total counter
memlink_loads_total 2
# HELP memlink_unloads_total Modules unloaded since the runtime was created, by Unload or Close.
# TYPE memlink_unloads_total counter
memlink_unloads_total 1
# HELP memlink_load_errors_total Loads that failed, by reason.
# TYPE memlink_load_errors_total counter
memlink_load_errors_total{reason="abi_version"} 3
memlink_load_errors_total{reason="digest_mismatch"} 0
memlink_load_errors_total{reason="init_failed"} 0
memlink_load_errors_total{reason="insecure"} 0
memlink_load_errors_total{reason="invalid_module"} 0
memlink_load_errors_total{reason="missing_symbol"} 0
memlink_load_errors_total{reason="not_found"} 0
memlink_load_errors_total{reason="other"} 4
# HELP memlink_calls_total Calls made on a loaded module, across reloads, failed ones included.
# TYPE memlink_calls_total counter
memlink_calls_total{handle="#2.7",module="fake"} 100
# HELP memlink_call_errors_total Calls that failed, by kind: code (a non-zero result code other than -5), panicked (code -5) or corrupted (the module overran its output buffer or misreported its length).
# TYPE memlink_call_errors_total counter
memlink_call_errors_total{handle="#2.7",kind="code",module="fake"} 5
memlink_call_errors_total{handle="#2.7",kind="corrupted",module="fake"} 7
memlink_call_errors_total{handle="#2.7",kind="panicked",module="fake"} 6
# HELP memlink_calls_in_flight Calls running in the module now.
# TYPE memlink_calls_in_flight gauge
memlink_calls_in_flight{handle="#2.7",module="fake"} 8
# HELP memlink_reloads_total Hot reloads of the module, by result.
# TYPE memlink_reloads_total counter
memlink_reloads_total{handle="#2.7",module="fake",result="drain_timeout"} 0
memlink_reloads_total{handle="#2.7",module="fake",result="ok"} 8
memlink_reloads_total{handle="#2.7",module="fake",result="rolled_back"} 1
# HELP memlink_module_generation Generation of the module's current version: 1 after load, one more after each successful reload.
# TYPE memlink_module_generation gauge
memlink_module_generation{handle="#2.7",module="fake"} 9
# HELP memlink_arena_bytes Off-heap memory the module's call buffers take, in bytes: the lanes calls have used in process, the region shared with the worker when isolated.
# TYPE memlink_arena_bytes gauge
memlink_arena_bytes{handle="#2.7",module="fake"} 4096
`
	names := append(slices.Clone(nonHistogram), "memlink_arena_bytes")
	if err := testutil.CollectAndCompare(observe.NewCollector(src), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
}

// TestRealBucketBounds checks that the runtime's bucket bounds come out as
// the le labels, in order, each cumulative count at least the one before.
func TestRealBucketBounds(t *testing.T) {
	rt := newRuntime(t, memlink.WithLatencySampling(1))
	h := mustLoad(t, rt, "echo")
	callN(t, rt, h, "process", "x", 50)
	hist := findMetric(t, gather(t, observe.NewCollector(rt)), "memlink_call_duration_seconds").GetHistogram()
	b := hist.GetBucket()
	bounds := rt.Stats().Modules[0].Latency.Bounds
	if len(b) != len(bounds) {
		t.Fatalf("%d buckets, want %d", len(b), len(bounds))
	}
	prev := uint64(0)
	for i, bk := range b {
		if bk.GetUpperBound() != bounds[i] {
			t.Errorf("bucket %d: le %v, want %v", i, bk.GetUpperBound(), bounds[i])
		}
		if bk.GetCumulativeCount() < prev {
			t.Errorf("bucket %d: %d after %d: not cumulative", i, bk.GetCumulativeCount(), prev)
		}
		prev = bk.GetCumulativeCount()
	}
	if hist.GetSampleCount() != 50 || prev > 50 {
		t.Errorf("count %d, last finite bucket %d; want 50 and at most 50", hist.GetSampleCount(), prev)
	}
	if math.IsNaN(hist.GetSampleSum()) || hist.GetSampleSum() < 0 || hist.GetSampleSum() == 0 && !coarseClock() {
		t.Errorf("sum = %v", hist.GetSampleSum())
	}
}

// TestLint checks the metric names, help texts and units with promlint,
// and that a pedantic registry (which checks that every collected metric
// was described, and consistently) accepts the collector.
func TestLint(t *testing.T) {
	rt := newRuntime(t)
	h := mustLoad(t, rt, "echo")
	callN(t, rt, h, "process", "x", 3)
	c := observe.NewCollector(rt)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 13 {
		t.Errorf("gathered %d metric families, want 13", len(mfs))
	}
}

// TestDescribe checks that Describe sends every descriptor, once.
func TestDescribe(t *testing.T) {
	ch := make(chan *prometheus.Desc, 100)
	observe.NewCollector(newRuntime(t)).Describe(ch)
	close(ch)
	seen := map[string]bool{}
	for d := range ch {
		s := d.String()
		if seen[s] {
			t.Errorf("described twice: %s", s)
		}
		seen[s] = true
	}
	if len(seen) != 14 { // 13, and memlink_worker_restarts_total
		t.Errorf("%d descriptors, want 14", len(seen))
	}
}

// TestEmptyRuntime checks the scrape of a runtime with nothing loaded:
// the runtime-wide metrics are all there, at zero.
func TestEmptyRuntime(t *testing.T) {
	rt := newRuntime(t)
	want := `
# HELP memlink_modules_loaded Number of modules loaded now.
# TYPE memlink_modules_loaded gauge
memlink_modules_loaded 0
# HELP memlink_load_errors_total Loads that failed, by reason.
# TYPE memlink_load_errors_total counter
memlink_load_errors_total{reason="abi_version"} 0
memlink_load_errors_total{reason="digest_mismatch"} 0
memlink_load_errors_total{reason="init_failed"} 0
memlink_load_errors_total{reason="insecure"} 0
memlink_load_errors_total{reason="invalid_module"} 0
memlink_load_errors_total{reason="missing_symbol"} 0
memlink_load_errors_total{reason="not_found"} 0
memlink_load_errors_total{reason="other"} 0
`
	c := observe.NewCollector(rt)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "memlink_modules_loaded", "memlink_load_errors_total"); err != nil {
		t.Fatal(err)
	}
	// Families with no series (the per-module ones) are not exposed.
	if n := testutil.CollectAndCount(c); n != 3+len(memlink.LoadErrorReasons())+2 {
		t.Errorf("%d series, want %d", n, 3+len(memlink.LoadErrorReasons())+2)
	}
}

// TestUnloadedSeriesDisappear checks that an unloaded module's series are
// gone from the next scrape, and that the other module's stay.
func TestUnloadedSeriesDisappear(t *testing.T) {
	rt := newRuntime(t)
	keep := mustLoad(t, rt, "echo")
	drop := mustLoad(t, rt, "math")
	callN(t, rt, keep, "process", "x", 1)
	callN(t, rt, drop, "process", "1,2", 1)
	c := observe.NewCollector(rt)

	perModule := []string{
		"memlink_calls_total", "memlink_call_errors_total", "memlink_calls_in_flight", "memlink_reloads_total",
		"memlink_module_generation", "memlink_arena_bytes", "memlink_call_duration_seconds",
	}
	count := func(h memlink.Handle) int {
		n := 0
		for _, mf := range gather(t, c) {
			for _, m := range mf.GetMetric() {
				if hasLabels(m, "handle", h.String()) {
					n++
				}
			}
		}
		return n
	}
	// 1 calls + 3 error kinds + 1 in flight + 3 reload results + generation
	// + arena + histogram.
	const seriesPerModule = 11
	if n := count(drop); n != seriesPerModule {
		t.Fatalf("before unload: %d series for the module, want %d", n, seriesPerModule)
	}
	if err := rt.Unload(drop); err != nil {
		t.Fatal(err)
	}
	if n := count(drop); n != 0 {
		t.Errorf("after unload: %d series for the unloaded module, want 0", n)
	}
	if n := count(keep); n != seriesPerModule {
		t.Errorf("after unload: %d series for the other module, want %d", n, seriesPerModule)
	}
	if n := testutil.CollectAndCount(c, perModule...); n != seriesPerModule {
		t.Errorf("after unload: %d per-module series, want %d", n, seriesPerModule)
	}
	mfs := gather(t, c)
	if got := findMetric(t, mfs, "memlink_unloads_total").GetCounter().GetValue(); got != 1 {
		t.Errorf("memlink_unloads_total = %v, want 1", got)
	}
	if got := findMetric(t, mfs, "memlink_modules_loaded").GetGauge().GetValue(); got != 1 {
		t.Errorf("memlink_modules_loaded = %v, want 1", got)
	}
}

// TestConcurrentScrape scrapes in a loop while 8 goroutines call a module:
// the callers keep going until the scraper has finished its scrapes, so
// the two overlap. The calls counter must never go down and must end
// exact. Run it with -race.
func TestConcurrentScrape(t *testing.T) {
	rt := newRuntime(t)
	h := mustLoad(t, rt, "echo")
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(observe.NewCollector(rt))
	label := h.String()

	const callers, minCalls, scrapes = 8, 500, 50
	done := make(chan struct{}) // closed when the scraper has finished
	var scrapeErr error
	go func() {
		defer close(done)
		var last float64
		for range scrapes {
			mfs, err := reg.Gather()
			if err != nil {
				scrapeErr = err
				return
			}
			for _, mf := range mfs {
				if mf.GetName() != "memlink_calls_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					if !hasLabels(m, "handle", label) {
						continue
					}
					v := m.GetCounter().GetValue()
					if v < last {
						scrapeErr = fmt.Errorf("memlink_calls_total went down from %v to %v", last, v)
						return
					}
					last = v
				}
			}
		}
	}()

	var wg sync.WaitGroup
	var made atomic.Uint64
	args := []byte(strings.Repeat("a", 64))
	for range callers {
		wg.Go(func() {
			dst := make([]byte, 0, 64)
			n := 0
			defer func() { made.Add(uint64(n)) }()
			for {
				if n >= minCalls {
					select {
					case <-done:
						return
					default:
					}
				}
				if _, err := rt.CallAppend(dst[:0], h, "process", args); err != nil {
					t.Error(err)
					return
				}
				n++
			}
		})
	}
	wg.Wait()
	<-done
	if scrapeErr != nil {
		t.Fatal(scrapeErr)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := findMetric(t, mfs, "memlink_calls_total").GetCounter().GetValue(), float64(made.Load()); got != want {
		t.Errorf("memlink_calls_total = %v, want %v", got, want)
	}
	if got := findMetric(t, mfs, "memlink_calls_in_flight").GetGauge().GetValue(); got != 0 {
		t.Errorf("memlink_calls_in_flight = %v after the calls", got)
	}
}

// TestReloadSeries reloads a module once successfully and once into a
// module whose init fails (rolled back): the handle's series keep their
// labels and counts, the reload counters and the generation move, and
// every reload is timed.
func TestReloadSeries(t *testing.T) {
	rt := newRuntime(t)
	h := mustLoad(t, rt, "version_v1")
	callN(t, rt, h, "process", "", 2)
	if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "version_v2")), hotreload.Config{}); err != nil {
		t.Fatalf("Reload to v2: %v", err)
	}
	callN(t, rt, h, "process", "", 3)
	if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "initfail")), hotreload.Config{}); err == nil {
		t.Fatal("Reload to initfail succeeded")
	}
	want := fmt.Sprintf(`
# HELP memlink_calls_total Calls made on a loaded module, across reloads, failed ones included.
# TYPE memlink_calls_total counter
memlink_calls_total{handle="%[1]s",module="version_v1"} 5
# HELP memlink_module_generation Generation of the module's current version: 1 after load, one more after each successful reload.
# TYPE memlink_module_generation gauge
memlink_module_generation{handle="%[1]s",module="version_v1"} 2
# HELP memlink_reloads_total Hot reloads of the module, by result.
# TYPE memlink_reloads_total counter
memlink_reloads_total{handle="%[1]s",module="version_v1",result="drain_timeout"} 0
memlink_reloads_total{handle="%[1]s",module="version_v1",result="ok"} 1
memlink_reloads_total{handle="%[1]s",module="version_v1",result="rolled_back"} 1
`, h)
	c := observe.NewCollector(rt)
	err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"memlink_calls_total", "memlink_module_generation", "memlink_reloads_total")
	if err != nil {
		t.Fatal(err)
	}
	if n := findMetric(t, gather(t, c), "memlink_reload_duration_seconds").GetHistogram().GetSampleCount(); n != 2 {
		t.Errorf("memlink_reload_duration_seconds_count = %d, want 2", n)
	}
}

// TestNilSource checks that NewCollector refuses a nil source at once
// rather than at the first scrape.
func TestNilSource(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewCollector(nil) did not panic")
		}
	}()
	observe.NewCollector(nil)
}

// coarseClock reports whether the monotonic clock advances in steps longer
// than a short call (Go on Windows reads the system timer tick), in which
// case a sampled call can measure 0 and a latency sum of 0 is no error.
func coarseClock() bool {
	start := time.Now()
	for {
		if d := time.Since(start); d > 0 {
			return d > 10*time.Microsecond
		}
	}
}
