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

	"github.com/memlink/memlink-go/internal/cgobench"
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
		"load": 1, "call": 10, "unload": 1, "reload": 4, "concurrent": 10, "isolated": 2, "host": 3, "rust": 1, "memory": 1, "metrics": 1,
	}
	_, noRust := modbuild.FindRust()
	got := map[string]int{}
	for _, r := range rs {
		got[r.Row]++
		name := r.Row + " " + r.Variant
		naHere := (r.Row == "memory" && runtime.GOOS != "linux") ||
			(r.Row == "isolated" && runtime.GOOS != "linux" && runtime.GOOS != "darwin") ||
			(r.Variant == "isolated/call" && runtime.GOOS != "linux" && runtime.GOOS != "darwin") ||
			(r.Row == "rust" && noRust != nil)
		if naHere {
			if r.Status != statusNA || r.Error == "" {
				t.Errorf("%s: status %q (%s), want n/a with a reason here", name, r.Status, r.Error)
			}
			continue
		}
		if r.Status != statusOK {
			t.Errorf("%s: status %q: %s", name, r.Status, r.Error)
			continue
		}
		minN := quickCount
		if r.Row == "call" || r.Row == "rust" {
			minN = defaultRounds
		}
		if r.N < minN || r.N > minN*extraRepsFactor || r.Ops <= 0 {
			t.Errorf("%s: n = %d, ops = %d; want n from %d to %d and some ops", name, r.N, r.Ops, minN, minN*extraRepsFactor)
		}
		if r.Unit == "" || r.BaselineUnit == "" || r.BaselineName == "" {
			t.Errorf("%s: unit %q, baseline_unit %q, baseline_name %q", name, r.Unit, r.BaselineUnit, r.BaselineName)
		}
		checkBaselines(t, name, r)
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
		case "call", "concurrent", "rust":
			want := []string{"purego"}
			if cgoAvailable {
				want = []string{"cgo", "purego"}
			}
			if names := baselineNames(r); strings.Join(names, ",") != strings.Join(want, ",") {
				t.Errorf("%s: baselines %v, want %v", name, names, want)
			}
		case "isolated":
			if names := baselineNames(r); strings.Join(names, ",") != "inproc,pipe" {
				t.Errorf("%s: baselines %v, want inproc and pipe", name, names)
			}
		}
		switch r.Row {
		case "call", "rust":
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
	// -json turns the progress off unless asked for.
	if strings.Contains(stderr, "[1/") {
		t.Errorf("progress lines with -json:\n%s", stderr)
	}
	if !strings.Contains(stderr, "published by the Rust reference") {
		t.Errorf("stderr does not name the published figures")
	}
}

// checkBaselines checks the baselines of an ok record: the first one is
// the one the top-level fields describe, every one has figures or is
// marked n/a by having none, and the ratios are ordered.
func checkBaselines(t *testing.T, name string, r jsonResult) {
	t.Helper()
	if len(r.Baselines) == 0 {
		t.Errorf("%s: no baselines", name)
		return
	}
	b0 := r.Baselines[0]
	if b0.Name != r.BaselineName || b0.Unit != r.BaselineUnit || deref(b0.Median) != deref(r.Baseline) || deref(b0.Ratio) != deref(r.Ratio) {
		t.Errorf("%s: top-level baseline fields do not match baselines[0]: %+v", name, b0)
	}
	for _, b := range r.Baselines {
		if b.Name == "" || b.Unit == "" {
			t.Errorf("%s: baseline without name or unit: %+v", name, b)
		}
		if b.Median == nil {
			continue // not measurable here (the pipe peer off Unix)
		}
		if !positive(b.Median) || !positive(b.Ratio) || !positive(b.RatioMin) || !positive(b.RatioMax) ||
			*b.RatioMin > *b.Ratio || *b.Ratio > *b.RatioMax {
			t.Errorf("%s: baseline %s: median %v, ratio %v (%v … %v): want positive and ordered", name, b.Name,
				deref(b.Median), deref(b.Ratio), deref(b.RatioMin), deref(b.RatioMax))
		}
	}
}

func baselineNames(r jsonResult) []string {
	var names []string
	for _, b := range r.Baselines {
		names = append(names, b.Name)
	}
	return names
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

func series(name, unit string, vs ...float64) Series {
	return Series{Name: name, Unit: unit, Values: vs}
}

// TestTableFormat checks the table's layout on made-up results, including
// failed and unavailable ones.
func TestTableFormat(t *testing.T) {
	results := []Result{
		{Row: "load", Variant: "echo", Unit: "µs", Values: []float64{120, 110, 130},
			Baselines: []Series{series("dlopen", "µs", 50, 55, 52)}, Published: publishedLoad},
		{Row: "call", Variant: "abi1/4096B", Unit: "ns/call",
			Values:    []float64{1234.5, 1200, 99999},
			Baselines: []Series{series("cgo", "ns/call", 1000, 1000, 1000), series("purego", "ns/call", 2000, 2000, 2000)},
			Allocs:    []float64{0, 0, 0}},
		{Row: "call", Variant: "abi2/64B", Unit: "ns/call",
			Baselines: []Series{series("cgo", "ns/call"), series("purego", "ns/call")},
			Err:       errors.New("a very long error message that goes on and on and on, far past the width of any terminal anyone uses\nsecond line")},
		{Row: "concurrent", Variant: "per-goroutine/16", Unit: "ns/call", Values: []float64{80, 1000, 8.1},
			Baselines: []Series{series("cgo", "ns/call", 50, 50, 50), series("purego", "ns/call", 40, 40, 40)}, Scaling: 1.5},
		{Row: "isolated", Variant: "64B", Unit: "ns/call", Values: []float64{1200, 1300, 1250},
			Baselines: []Series{series("inproc", "ns/call", 50, 50, 50), series("pipe", "ns/call", 0, 0, 0)}},
		{Row: "memory", Variant: "100 copies", Unit: "KB", Baselines: []Series{series("dlopen", "KB")},
			NA: "resident memory is read from VmRSS in /proc/self/status, which only Linux has"},
		{Row: "metrics", Variant: "abi1/64B", Unit: "%", Values: []float64{-1.5, 0.2, 12.25},
			Baselines: []Series{series("bare", "ns/call", 60, 61, 62)}, Ratios: []float64{0.985, 1.002, 1.1225}},
	}
	var b bytes.Buffer
	writeTable(&b, env{platform: "linux/amd64", cpu: "Some CPU Model Name With A Long Name @ 3.00GHz", cpus: 64,
		goVersion: "go1.26.8", callPath: "trampoline", count: 3, duration: "20ms", rounds: 8, calls: 300000,
		noCgo: "built without cgo"}, results)
	out := b.String()
	checkWidth(t, out)
	for _, want := range []string{
		"memlink's cost ÷ the baseline's (above 1: memlink is slower)",
		"120 µs", "110 … 130", "52.0 µs", "2.40×", "2.00…2.50", "load echo 92 µs",
		"1234 ns", "1200 … 99999", "×cgo", "×purego", "1.23×", "0.62×", "1.20…100",
		"FAILED: a very long error",
		"80.0 ns", "8.10 … 1000", "1.60×", "1.50×",
		"1250 ns", "25.0×", "n/a",
		"n/a: resident memory",
		"+0.2 %", "-1.5 … +12.2", "1.00×",
		"8 rounds of 300000 calls",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "cgo yardstick: n/a") != 1 {
		t.Errorf("the missing cgo yardstick is not said exactly once:\n%s", out)
	}
	if strings.Contains(out, "second line") {
		t.Errorf("table shows a multi-line error in full:\n%s", out)
	}
}

// TestRatioDirection checks that a ratio is memlink's cost over the
// baseline's on every kind of row, so above 1 always means memlink is
// slower: on time rows, on the concurrent row (ns per call, not calls/s)
// and per repetition before the median is taken.
func TestRatioDirection(t *testing.T) {
	slow := Result{Unit: "µs", Values: []float64{200, 210, 190},
		Baselines: []Series{series("dlopen", "µs", 100, 105, 95)}}
	if r := slow.Ratio(); r != 2 {
		t.Errorf("memlink twice as slow: ratio %v, want 2", r)
	}
	// Per-repetition ratios: a repetition where both sides were slowed
	// down together does not skew the ratio.
	paired := Result{Unit: "ns/call", Values: []float64{50, 500, 52},
		Baselines: []Series{series("cgo", "ns/call", 40, 400, 40)}}
	if got := paired.RatiosTo(0); len(got) != 3 || got[0] != 1.25 || got[1] != 1.25 || got[2] != 1.3 {
		t.Errorf("per-repetition ratios %v, want [1.25 1.25 1.3]", got)
	}
	if r := paired.Ratio(); r != 1.25 {
		t.Errorf("median of per-repetition ratios %v, want 1.25", r)
	}
	// The concurrent row measures calls/s and reports ns per call.
	if ns := nsPerCall(20e6); ns != 50 {
		t.Errorf("nsPerCall(20 M/s) = %v, want 50", ns)
	}
	rs := []Result{
		{Row: "concurrent", Kind: kindSameHandle, Goroutines: 1, Unit: "ns/call",
			Values: []float64{nsPerCall(10e6)}, Baselines: []Series{series("cgo", "ns/call", nsPerCall(20e6))}},
		{Row: "concurrent", Kind: kindSameHandle, Goroutines: 2, Unit: "ns/call",
			Values: []float64{nsPerCall(18e6)}, Baselines: []Series{series("cgo", "ns/call", nsPerCall(40e6))}},
	}
	concurrentScaling(rs)
	if r := rs[0].Ratio(); r != 2 {
		t.Errorf("memlink at half cgo's calls/s: ratio %v, want 2", r)
	}
	if s := rs[1].Scaling; math.Abs(s-1.8) > 1e-9 {
		t.Errorf("speed-up at 2 goroutines %v, want 1.8", s)
	}
	if s := rs[1].Baselines[0].Scaling; math.Abs(s-2) > 1e-9 {
		t.Errorf("baseline speed-up at 2 goroutines %v, want 2", s)
	}
	// A baseline that was not measured (0) yields no ratio.
	none := Result{Values: []float64{5}, Baselines: []Series{series("pipe", "ns/call", 0)}}
	if r := none.Ratio(); r != 0 {
		t.Errorf("ratio to an unmeasured baseline %v, want 0", r)
	}
}

// TestScatterMoreRepetitions checks that a variant whose figures scatter
// gets more repetitions, up to the bound, and a steady one does not.
func TestScatterMoreRepetitions(t *testing.T) {
	s := &suite{cfg: config{count: 3}, progress: newProgress(io.Discard, progressOff, false)}
	r := &row{id: "x", unit: "µs", baselines: fixed(baseline{"raw", "µs"})}
	run := func(values []float64) Result {
		v := variant{name: "v", setup: func() (measureFunc, func() error, error) {
			return func(k int) (sample, error) {
				return sample{value: values[k%len(values)], base: []float64{10}, ops: 1}, nil
			}, nil, nil
		}}
		return s.runVariant(context.Background(), r, v)
	}
	if res := run([]float64{10, 11, 10.5}); len(res.Values) != 3 {
		t.Errorf("steady figures: %d repetitions, want 3", len(res.Values))
	}
	if res := run([]float64{10, 76, 12, 50}); len(res.Values) != 3*extraRepsFactor {
		t.Errorf("scattered figures: %d repetitions, want %d", len(res.Values), 3*extraRepsFactor)
	}
	// Scattered at first, then steady: the extra repetitions stop once the
	// quartiles close in.
	res := run([]float64{10, 40, 10, 10, 10, 10, 10, 10, 10})
	if n := len(res.Values); n <= 3 || n >= 3*extraRepsFactor {
		t.Errorf("settling figures: %d repetitions, want between 4 and %d", n, 3*extraRepsFactor-1)
	}
}

// TestProgressModes checks the three progress modes and what -json and
// a non-terminal select.
func TestProgressModes(t *testing.T) {
	var b bytes.Buffer
	if p := newProgress(&b, progressAuto, false); p.mode != progressLines {
		t.Errorf("auto on a buffer: mode %q, want lines", p.mode)
	}
	if p := newProgress(&b, progressAuto, true); p.mode != progressOff {
		t.Errorf("auto with -json: mode %q, want off", p.mode)
	}
	if p := newProgress(&b, progressLines, true); p.mode != progressLines {
		t.Errorf("lines asked for with -json: mode %q, want lines", p.mode)
	}

	steps := func(p *progress) {
		p.step(1, 2, "call", "abi1/64B", 0, 8)
		for k := 1; k <= 8; k++ {
			p.step(1, 2, "call", "abi1/64B", k, 8)
		}
		p.step(2, 2, "load", "echo", 0, 3)
		p.step(2, 2, "load", "echo", 1, 3)
		p.done()
	}
	b.Reset()
	steps(newProgress(&b, progressLines, false))
	if got, want := b.String(), "[1/2] call abi1/64B\n[2/2] load echo\n"; got != want {
		t.Errorf("lines: %q, want %q", got, want)
	}
	b.Reset()
	steps(newProgress(&b, progressTTY, false))
	out := b.String()
	if strings.Contains(out, "\n") || !strings.Contains(out, "\r[1/2] call abi1/64B: repetition 8 of 8") ||
		!strings.HasSuffix(out, "\r") {
		t.Errorf("tty: %q: want one line rewritten with \\r, cleared at the end", out)
	}
	// A shorter line blanks the rest of the longer one before it.
	if !strings.Contains(out, "\r[2/2] load echo: setting up     ") {
		t.Errorf("tty: a shorter line does not blank the tail of the previous one: %q", out)
	}
	b.Reset()
	steps(newProgress(&b, progressOff, false))
	if b.Len() != 0 {
		t.Errorf("off: %q", b.String())
	}

	if _, stderr, code := bench(t, "-progress", "sometimes"); code != exitUsage {
		t.Errorf("-progress sometimes: exit status %d, want %d\n%s", code, exitUsage, stderr)
	}
}

// TestIsTerminal checks the terminal test on a pseudo-terminal, a pipe and
// a regular file.
func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("a regular file is taken for a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Errorf("a pipe is taken for a terminal")
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Errorf("a buffer is taken for a terminal")
	}
	pty, closePTY, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal to test with here: %v", err)
	}
	defer closePTY()
	if !isTerminal(pty) {
		t.Errorf("the pseudo-terminal %s is not taken for a terminal", pty.Name())
	}
}

// TestNoCgo runs the call row as a binary built without cgo would: the
// cgo baseline is absent from every record and the table says so once.
func TestNoCgo(t *testing.T) {
	saved := cgoAvailable
	cgoAvailable = false
	defer func() { cgoAvailable = saved }()
	stdout, stderr, code := bench(t, "-rows", "call,concurrent", "-payloads", "0,64", "-goroutines", "1",
		"-rounds", "1", "-calls", "1000", "-count", "1", "-duration", "2ms", "-json", "-cache", testCache)
	if code != exitOK {
		t.Fatalf("exit status %d\n%s", code, stderr)
	}
	rs := decodeResults(t, stdout)
	if len(rs) != 6 {
		t.Errorf("%d records, want 4 call and 2 concurrent", len(rs))
	}
	for _, r := range rs {
		if names := baselineNames(r); r.Status != statusOK || strings.Join(names, ",") != "purego" || r.BaselineName != "purego" {
			t.Errorf("%s %s: status %q, baselines %v; want ok with purego alone", r.Row, r.Variant, r.Status, names)
		}
	}
	if n := strings.Count(stderr, "cgo yardstick: n/a"); n != 1 {
		t.Errorf("the missing cgo yardstick is said %d times, want once:\n%s", n, stderr)
	}
	if strings.Contains(stderr, "×cgo") {
		t.Errorf("a cgo column without cgo:\n%s", stderr)
	}
}

// TestCgoColumn checks that a cgo build has the cgo baseline first in the
// call row, with figures.
func TestCgoColumn(t *testing.T) {
	if !cgobench.Available {
		t.Skip("this test binary was built without cgo (CGO_ENABLED=0); TestNoCgo covers that build")
	}
	stdout, stderr, code := bench(t, "-rows", "call", "-payloads", "64", "-rounds", "2", "-calls", "2000",
		"-json", "-cache", testCache)
	if code != exitOK {
		t.Fatalf("exit status %d\n%s", code, stderr)
	}
	rs := decodeResults(t, stdout)
	if len(rs) != 2 {
		t.Fatalf("%d records, want 2", len(rs))
	}
	for _, r := range rs {
		if r.BaselineName != "cgo" || r.Find("cgo") == nil || r.Find("purego") == nil || !positive(r.Find("cgo").Median) {
			t.Errorf("%s: baselines %+v, want cgo (first, measured) and purego", r.Variant, r.Baselines)
		}
	}
	if strings.Contains(stderr, "cgo yardstick: n/a") || !strings.Contains(stderr, "×cgo") {
		t.Errorf("table of a cgo build:\n%s", stderr)
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
	for name, from := range map[string]string{"echo": "echo", "binary": "binary", "counter": "echo", "kv": "kv"} {
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
