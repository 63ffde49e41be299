package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/memlink/memlink-go/internal/modbuild"
	"github.com/memlink/memlink-go/memlink"
)

// testCache is a module cache shared by the tests of this package, so the
// modules are compiled once per test binary.
var testCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "memlink-bench-test-")
	if err != nil {
		panic(err)
	}
	testCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bench runs the program in-process and returns its stdout, stderr and
// exit status.
func bench(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// decodeResults parses the JSON lines of a -json run.
func decodeResults(t *testing.T, out string) []jsonResult {
	t.Helper()
	var rs []jsonResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	for {
		var r jsonResult
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return rs
		}
		if err != nil {
			t.Fatalf("decoding -json output: %v\n%s", err, out)
		}
		rs = append(rs, r)
	}
}

func positive(p *float64) bool { return p != nil && *p > 0 && !math.IsInf(*p, 0) }

// TestQuickJSON runs the whole suite in quick mode on the bundled modules
// and checks that every row is there, with positive figures and a
// baseline.
func TestQuickJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite")
	}
	start := time.Now()
	stdout, stderr, code := bench(t, "-quick", "-json", "-cache", testCache)
	if code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr)
	}
	t.Logf("quick suite took %v", time.Since(start).Round(time.Millisecond))
	rs := decodeResults(t, stdout)

	wantVariants := map[string]int{
		"load": 1, "call": 10, "unload": 1, "reload": 4, "concurrent": 10, "memory": 1, "metrics": 1,
	}
	got := map[string]int{}
	for _, r := range rs {
		got[r.Row]++
		name := r.Row + " " + r.Variant
		if r.Row == "memory" && runtime.GOOS != "linux" {
			if r.Status != statusNA || r.Error == "" {
				t.Errorf("%s: status %q (%s), want n/a with a reason off Linux", name, r.Status, r.Error)
			}
			continue
		}
		if r.Status != statusOK {
			t.Errorf("%s: status %q: %s", name, r.Status, r.Error)
			continue
		}
		if r.N != quickCount || r.Ops <= 0 {
			t.Errorf("%s: n = %d, ops = %d; want n = %d and some ops", name, r.N, r.Ops, quickCount)
		}
		if r.Unit == "" || r.BaselineUnit == "" {
			t.Errorf("%s: unit %q, baseline_unit %q", name, r.Unit, r.BaselineUnit)
		}
		if !positive(r.Baseline) || !positive(r.BaselineMin) || !positive(r.BaselineMax) || !positive(r.Ratio) {
			t.Errorf("%s: baseline %v (min %v, max %v), ratio %v: want positive", name,
				deref(r.Baseline), deref(r.BaselineMin), deref(r.BaselineMax), deref(r.Ratio))
		}
		if r.Row == "metrics" {
			// An overhead within noise can be zero or negative.
			if r.Median == nil || r.Min == nil || r.Max == nil || *r.Min > *r.Median || *r.Median > *r.Max {
				t.Errorf("%s: median %v, min %v, max %v", name, deref(r.Median), deref(r.Min), deref(r.Max))
			}
			continue
		}
		if !positive(r.Median) || !positive(r.Min) || !positive(r.Max) || *r.Min > *r.Median || *r.Median > *r.Max {
			t.Errorf("%s: median %v, min %v, max %v: want positive and ordered", name,
				deref(r.Median), deref(r.Min), deref(r.Max))
		}
		switch r.Row {
		case "call":
			if r.Allocs == nil || r.BaselineAllocs == nil {
				t.Errorf("%s: allocs missing", name)
			} else if *r.Allocs > 0.01 {
				t.Errorf("%s: %.3f allocs per CallAppend with a reused destination, want 0", name, *r.Allocs)
			}
		case "concurrent":
			if !positive(r.Scaling) || !positive(r.BaselineScaling) {
				t.Errorf("%s: scaling %v, baseline_scaling %v", name, deref(r.Scaling), deref(r.BaselineScaling))
			}
		case "reload":
			if r.InFlight == nil {
				t.Errorf("%s: in_flight missing", name)
			}
		}
	}
	for row, n := range wantVariants {
		if got[row] != n {
			t.Errorf("row %s: %d results, want %d", row, got[row], n)
		}
	}
	if len(got) != len(wantVariants) {
		t.Errorf("rows %v, want %v", got, wantVariants)
	}

	// With -json the table goes to stderr; it must fit 100 columns.
	i := strings.Index(stderr, "\nmemlink-bench:")
	if i < 0 {
		t.Fatalf("no table on stderr:\n%s", stderr)
	}
	checkWidth(t, stderr[i:])
	for _, want := range []string{"published*", "running call abi1/64B: repetition 1 of 3"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q", want)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkWidth fails if a line of table is wider than 100 columns.
func checkWidth(t *testing.T, table string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		if n := utf8.RuneCountInString(sc.Text()); n > 100 {
			t.Errorf("table line is %d columns wide:\n%s", n, sc.Text())
		}
	}
}

// TestSecondRunUpToDate checks that a second run compiles nothing: every
// module is up to date and its library is untouched.
func TestSecondRunUpToDate(t *testing.T) {
	args := []string{"-rows", "load", "-count", "1", "-duration", "1ms", "-cache", testCache}
	if _, stderr, code := bench(t, args...); code != exitOK {
		t.Fatalf("first run: exit status %d\n%s", code, stderr)
	}
	echo := filepath.Join(testCache, modbuild.HostTarget().FileName("echo"))
	before, err := os.Stat(echo)
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := bench(t, args...)
	if code != exitOK {
		t.Fatalf("second run: exit status %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`(?m)^modules: (\d+) up to date in `).FindStringSubmatch(stderr)
	if m == nil || m[1] == "0" {
		t.Errorf("second run does not say every module is up to date:\n%s", stderr)
	}
	if strings.Contains(stderr, "modules: compiled") {
		t.Errorf("second run compiled modules:\n%s", stderr)
	}
	after, err := os.Stat(echo)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%s was rewritten by the second run", echo)
	}
	if !strings.Contains(stdout, "load: ") {
		t.Errorf("no load section in the table:\n%s", stdout)
	}
	checkWidth(t, stdout)
}

// TestMissingCompiler checks that without a C compiler the program fails,
// says how to install one and points to -modules.
func TestMissingCompiler(t *testing.T) {
	t.Setenv("PATH", "")
	for _, cc := range []string{"/nonexistent", ""} {
		t.Run("CC="+cc, func(t *testing.T) {
			t.Setenv("CC", cc)
			_, stderr, code := bench(t, "-quick", "-cache", t.TempDir())
			if code == exitOK {
				t.Fatalf("exit status 0 without a compiler\n%s", stderr)
			}
			for _, want := range []string{"no C compiler", "install", "-modules"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("message does not mention %q:\n%s", want, stderr)
				}
			}
			if runtime.GOOS == "linux" && !strings.Contains(stderr, "apt-get install") {
				t.Errorf("message has no install command:\n%s", stderr)
			}
		})
	}
}

// TestPrebuiltModules runs on the modules of a directory with -modules,
// and fails clearly when the directory lacks them.
func TestPrebuiltModules(t *testing.T) {
	if _, stderr, code := bench(t, "-rows", "load", "-count", "1", "-duration", "1ms", "-cache", testCache); code != exitOK {
		t.Fatalf("building modules: exit status %d\n%s", code, stderr)
	}
	_, stderr, code := bench(t, "-modules", testCache, "-rows", "call", "-payloads", "64", "-count", "1", "-duration", "1ms")
	if code != exitOK || !strings.Contains(stderr, "using prebuilt modules") {
		t.Errorf("-modules %s: exit status %d\n%s", testCache, code, stderr)
	}

	empty := t.TempDir()
	_, stderr, code = bench(t, "-modules", empty)
	if code == exitOK || !strings.Contains(stderr, modbuild.HostTarget().FileName("echo")) {
		t.Errorf("-modules on an empty directory: exit status %d\n%s", code, stderr)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-rows", "load,bogus"},
		{"-rows", ","},
		{"-payloads", "8192"},
		{"-goroutines", "0"},
		{"-count", "0"},
		{"-duration", "-1s"},
		{"extra"},
	} {
		if _, stderr, code := bench(t, args...); code != exitUsage {
			t.Errorf("%q: exit status %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
}

func TestParseLists(t *testing.T) {
	rows, err := parseRows(" metrics, load ,call,load")
	if err != nil || strings.Join(rows, ",") != "load,call,metrics" {
		t.Errorf("parseRows = %v, %v; want [load call metrics]", rows, err)
	}
	ns, err := parseInts("-payloads", "4096,0, 64,64", 0, 4096)
	if err != nil || len(ns) != 3 || ns[0] != 0 || ns[1] != 64 || ns[2] != 4096 {
		t.Errorf("parseInts = %v, %v; want [0 64 4096]", ns, err)
	}
}

// TestMetricsServer scrapes the -metrics-addr endpoint.
func TestMetricsServer(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	var log bytes.Buffer
	shutdown, err := serveMetrics("127.0.0.1:0", rt, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown()
	m := regexp.MustCompile(`http://\S+/metrics`).FindString(log.String())
	if m == "" {
		t.Fatalf("no address announced: %q", log.String())
	}
	resp, err := http.Get(m)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "memlink_modules_loaded 0") {
		t.Errorf("GET %s: %s\n%s", m, resp.Status, body)
	}
}

// TestTableFormat checks the table's layout on made-up results, including
// failed and unavailable ones.
func TestTableFormat(t *testing.T) {
	results := []Result{
		{Row: "load", Variant: "echo", Unit: "µs", BaselineUnit: "µs", Values: []float64{120, 110, 130},
			Baselines: []float64{50, 55, 52}, Published: publishedLoad},
		{Row: "call", Variant: "abi1/4096B", Unit: "ns/call", BaselineUnit: "ns/call",
			Values: []float64{1234.5, 1200, 99999}, Baselines: []float64{1000, 1000, 1000}, Allocs: []float64{0, 0, 0}},
		{Row: "call", Variant: "abi2/64B", Unit: "ns/call", BaselineUnit: "ns/call",
			Err: errors.New("a very long error message that goes on and on and on, far past the width of any terminal anyone uses\nsecond line")},
		{Row: "concurrent", Variant: "per-goroutine/16", Unit: "calls/s", BaselineUnit: "calls/s",
			Values: []float64{12.5e6, 999e3, 123.4e6}, Baselines: []float64{20e6, 20e6, 20e6}, Scaling: 1.5},
		{Row: "memory", Variant: "100 copies", Unit: "KB", BaselineUnit: "KB", NA: "resident memory is read from VmRSS in /proc/self/status, which only Linux has"},
		{Row: "metrics", Variant: "abi1/64B", Unit: "%", BaselineUnit: "ns/call", Values: []float64{-1.5, 0.2, 12.25},
			Baselines: []float64{60, 61, 62}, Ratios: []float64{0.985, 1.002, 1.1225}},
	}
	var b bytes.Buffer
	writeTable(&b, env{platform: "linux/amd64", cpu: "Some CPU Model Name With A Long Name @ 3.00GHz", cpus: 64,
		goVersion: "go1.26.8", callPath: "trampoline", count: 3, duration: "20ms"}, results)
	out := b.String()
	checkWidth(t, out)
	for _, want := range []string{
		"120 µs", "110 … 130", "52.0 µs", "2.31×", "92 µs",
		"1234 ns", "1200 … 99999",
		"FAILED: a very long error",
		"12.5 M/s", "1.00 … 123 M/s", "1.50×",
		"n/a: resident memory",
		"+0.2 %", "-1.5 … +12.2", "1.00×",
		"* published",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "second line") {
		t.Errorf("table shows a multi-line error in full:\n%s", out)
	}
}

// TestFailedRowContinues gives the reload row a counter module without the
// state exports (a copy of echo), so the stateful reloads fail: the other
// variants and rows must still run and be reported, and the exit status
// must be non-zero.
func TestFailedRowContinues(t *testing.T) {
	if _, stderr, code := bench(t, "-rows", "load", "-count", "1", "-duration", "1ms", "-cache", testCache); code != exitOK {
		t.Fatalf("building modules: exit status %d\n%s", code, stderr)
	}
	host := modbuild.HostTarget()
	dir := t.TempDir()
	for name, from := range map[string]string{"echo": "echo", "binary": "binary", "counter": "echo"} {
		data, err := os.ReadFile(filepath.Join(testCache, host.FileName(from)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, host.FileName(name)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := bench(t, "-modules", dir, "-rows", "reload,unload", "-count", "1", "-duration", "5ms", "-json")
	if code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	status := map[string]string{}
	for _, r := range decodeResults(t, stdout) {
		status[r.Row+" "+r.Variant] = r.Status
	}
	want := map[string]string{
		"reload stateless/0": statusOK, "reload stateless/100": statusOK,
		"reload stateful/0": statusFailed, "reload stateful/100": statusFailed,
		"unload echo": statusOK,
	}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: status %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	if !strings.Contains(stderr, "memlink-bench: reload stateful/0: ") || !strings.Contains(stderr, "FAILED") {
		t.Errorf("stderr does not report the failure:\n%s", stderr)
	}
}
