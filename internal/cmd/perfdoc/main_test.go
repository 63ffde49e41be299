package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/internal/benchresult"
)

const sampleResults = `{"row":"load","variant":"echo","status":"ok","unit":"µs","median":120.5,"min":110,"max":130,"baseline_name":"dlopen","baseline":50,"baseline_min":49,"baseline_max":52,"baseline_unit":"µs","ratio":2.41,"ratio_min":2.2,"ratio_max":2.6,"baselines":[{"name":"dlopen","unit":"µs","median":50,"min":49,"max":52,"ratio":2.41,"ratio_min":2.2,"ratio_max":2.6}],"n":5,"ops":900,"published":"92 µs"}
{"row":"call","variant":"abi1/0B","status":"ok","unit":"ns/call","median":52,"min":51,"max":53,"baseline_name":"cgo","baseline":34,"baseline_unit":"ns/call","ratio":1.53,"ratio_min":1.5,"ratio_max":1.6,"baselines":[{"name":"cgo","unit":"ns/call","median":34,"ratio":1.53},{"name":"purego","unit":"ns/call","median":65,"ratio":0.8}],"allocs":0,"n":8,"ops":2400000}
{"row":"call","variant":"abi1/64B","status":"ok","unit":"ns/call","median":58.2,"min":57,"max":61,"baseline_name":"cgo","baseline":35,"baseline_min":34,"baseline_max":36,"baseline_unit":"ns/call","ratio":1.66,"ratio_min":1.6,"ratio_max":1.7,"baselines":[{"name":"cgo","unit":"ns/call","median":35,"ratio":1.66},{"name":"purego","unit":"ns/call","median":70,"ratio":0.83}],"allocs":0,"baseline_allocs":0,"n":8,"ops":2400000,"published":"210 ns"}
{"row":"call","variant":"abi1/4096B","status":"ok","unit":"ns/call","median":210,"min":200,"max":220,"baseline_name":"cgo","baseline":72,"baseline_unit":"ns/call","ratio":2.9,"baselines":[{"name":"cgo","unit":"ns/call","median":72,"ratio":2.9},{"name":"purego","unit":"ns/call","median":100,"ratio":2.1}],"allocs":0,"n":8,"ops":2400000}
{"row":"call","variant":"abi2/64B","status":"failed","error":"boom | bang\nmore","unit":"ns/call","baseline_unit":"ns/call","n":0,"ops":0}

{"row":"concurrent","variant":"same-handle/1","status":"ok","unit":"ns/call","median":57,"min":56,"max":58,"baseline_name":"cgo","baseline":37,"baseline_unit":"ns/call","ratio":1.54,"baselines":[{"name":"cgo","unit":"ns/call","median":37,"ratio":1.54,"scaling":1},{"name":"purego","unit":"ns/call","median":66,"ratio":0.86,"scaling":1}],"scaling":1,"n":5,"ops":1}
{"row":"concurrent","variant":"same-handle/8","status":"ok","unit":"ns/call","median":31,"min":30,"max":33,"baseline_name":"cgo","baseline":24.6,"baseline_unit":"ns/call","ratio":1.26,"baselines":[{"name":"cgo","unit":"ns/call","median":24.6,"ratio":1.26,"scaling":1.5},{"name":"purego","unit":"ns/call","median":33,"ratio":0.94,"scaling":2}],"scaling":1.84,"baseline_scaling":1.5,"n":5,"ops":1,"published":"2.5 M/s","future_field":true}
{"row":"isolated","variant":"64B","status":"ok","unit":"ns/call","median":1250,"min":1200,"max":1300,"baseline_name":"inproc","baseline":54,"baseline_unit":"ns/call","ratio":23.1,"baselines":[{"name":"inproc","unit":"ns/call","median":54,"ratio":23.1},{"name":"pipe","unit":"ns/call"}],"n":5,"ops":1}
{"row":"memory","variant":"100 copies","status":"n/a","error":"no VmRSS here","unit":"KB","baseline_unit":"KB","n":0,"ops":0,"published":"0.7 MB"}
{"row":"metrics","variant":"abi1/64B","status":"ok","unit":"%","median":-0.4,"min":-2,"max":3,"baseline_name":"bare","baseline":60,"baseline_min":59,"baseline_max":61,"baseline_unit":"ns/call","ratio":0.996,"baselines":[{"name":"bare","unit":"ns/call","median":60,"ratio":0.996}],"n":5,"ops":1}
`

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "results.json")
	if err := os.WriteFile(in, []byte(sampleResults), 0o644); err != nil {
		t.Fatal(err)
	}
	bs := filepath.Join(dir, "benchstat.txt")
	table := "goos: linux\n          │ memlink │ raw │\n```odd``` line kept verbatim\n"
	if err := os.WriteFile(bs, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(dir, "isolation.txt")
	isoText := "                  │ sec/op │\nEcho64/memlink-isolated-2   2.1µ ± 3%\nEcho64/goplugin-netrpc-2   202.3µ ± 17%\n" +
		"                  │ B/op │\nEcho64/goplugin-netrpc-2   569.0 ± 0%\nresident memory: memlink worker 6000 KiB\n"
	if err := os.WriteFile(iso, []byte(isoText), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "performance.md")
	err := run([]string{"-in", in, "-out", out, "-benchstat", bs, "-isolation", iso, "-date", "2030-01-02",
		"-command", "go run ./cmd/memlink-bench -json > r.json", "-note", "A noisy machine."}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{
		"# Performance",
		"| date | 2030-01-02 |",
		"| repetitions | 5 per figure, the call row 8 rounds (at least) |",
		"| command | `go run ./cmd/memlink-bench -json > r.json` |",
		"| Go | " + runtime.Version() + " |",
		"A noisy machine.",
		"**Ratio** means one thing everywhere: memlink's cost divided by the baseline's",
		"| variant | memlink | min … max | dlopen | ×dlopen | × range | published |",
		"| `echo` | 120 µs | 110 … 130 | 50.0 µs | 2.41× | 2.20 … 2.60 | 92 µs |",
		"| variant | memlink | min … max | cgo | ×cgo | purego | ×purego | × range | allocs/call | published |",
		"| `abi1/64B` | 58.2 ns | 57.0 … 61.0 | 35.0 ns | 1.66× | 70.0 ns | 0.83× | 1.60 … 1.70 | 0 | 210 ns |",
		`failed: boom \| bang`,
		"| `same-handle/8` | 31.0 ns | 30.0 … 33.0 | 24.6 ns | 1.26× | 33.0 ns | 0.94× |  | 1.84× (cgo 1.50×) | 2.5 M/s |",
		"| `64B` | 1250 ns | 1200 … 1300 | 54.0 ns | 23.1× | n/a |  |",
		"![call cost against payload size](perf-call.svg)",
		"![calls per second against goroutines](perf-concurrent.svg)",
		"](perf-isolation.svg)",
		"## Where the time goes",
		"n/a: no VmRSS here",
		"| `abi1/64B` | -0.4 % | -2.0 … +3.0 | 60.0 ns | 1.00× |",
		"| `baselines` | array |",
		"````text\n" + strings.TrimRight(table, "\n") + "\n````\n",
		"## Published figures of the reference",
		"| `baseline_unit` | string |",
		"## Fault isolation",
		"```text\n" + strings.TrimRight(isoText, "\n") + "\n```\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(doc, "bang more") || strings.Contains(doc, "bang\nmore") {
		t.Error("page shows a multi-line error in full")
	}
	if cpu := benchresult.CPUModel(); cpu != "" && !strings.Contains(doc, cpu) {
		t.Errorf("page does not name the CPU %q", cpu)
	}
	for _, name := range []string{"perf-call.svg", "perf-concurrent.svg", "perf-isolation.svg"} {
		svg, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("plot not written: %v", err)
			continue
		}
		checkSVG(t, name, string(svg))
	}
	isoSVG, err := os.ReadFile(filepath.Join(dir, "perf-isolation.svg"))
	if err == nil && (!strings.Contains(string(isoSVG), "go-plugin") || !strings.Contains(string(isoSVG), "202 µs")) {
		t.Errorf("isolation plot lacks go-plugin's 202 µs from the benchstat file:\n%s", isoSVG)
	}
}

func TestGenerateWithoutBenchstat(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "results.json")
	if err := os.WriteFile(in, []byte(sampleResults), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := run([]string{"-in", in}, nil, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "-benchstat FILE") {
		t.Error("page without a benchstat table does not say how to add one")
	}
	if !strings.Contains(b.String(), "-isolation FILE") {
		t.Error("page without isolation figures does not say how to add them")
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty":  "\n",
		"broken": "{\"row\":\n",
		"norow":  "{\"variant\":\"x\"}\n",
	} {
		in := filepath.Join(dir, name+".json")
		if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := run([]string{"-in", in}, nil, &b); err == nil {
			t.Errorf("%s input: no error", name)
		}
	}
	var b strings.Builder
	if err := run(nil, nil, &b); err == nil || !strings.Contains(err.Error(), "-in") {
		t.Errorf("no -in: err = %v", err)
	}
}
