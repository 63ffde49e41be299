package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/internal/benchresult"
)

const sampleResults = `{"row":"load","variant":"echo","status":"ok","unit":"µs","median":120.5,"min":110,"max":130,"baseline":50,"baseline_min":49,"baseline_max":52,"baseline_unit":"µs","ratio":2.41,"n":5,"ops":900,"published":"92 µs"}
{"row":"call","variant":"abi1/64B","status":"ok","unit":"ns/call","median":58.2,"min":57,"max":61,"baseline":70,"baseline_min":69,"baseline_max":72,"baseline_unit":"ns/call","ratio":0.83,"allocs":0,"baseline_allocs":0,"n":5,"ops":10000000,"published":"210 ns"}
{"row":"call","variant":"abi2/64B","status":"failed","error":"boom | bang\nmore","unit":"ns/call","baseline_unit":"ns/call","n":0,"ops":0}

{"row":"concurrent","variant":"same-handle/8","status":"ok","unit":"calls/s","median":24200000,"min":22000000,"max":25000000,"baseline":24000000,"baseline_min":1,"baseline_max":2,"baseline_unit":"calls/s","ratio":1.01,"scaling":2.26,"baseline_scaling":2.3,"n":5,"ops":1,"published":"2.5 M/s","future_field":true}
{"row":"memory","variant":"100 copies","status":"n/a","error":"no VmRSS here","unit":"KB","baseline_unit":"KB","n":0,"ops":0,"published":"0.7 MB"}
{"row":"metrics","variant":"abi1/64B","status":"ok","unit":"%","median":-0.4,"min":-2,"max":3,"baseline":60,"baseline_min":59,"baseline_max":61,"baseline_unit":"ns/call","ratio":0.996,"n":5,"ops":1}
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
	isoText := "Echo64/memlink-isolated-2   2.1µ ± 3%\nresident memory: memlink worker 6000 KiB\n"
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
		"| repetitions | 5 per figure |",
		"| command | `go run ./cmd/memlink-bench -json > r.json` |",
		"| Go | " + runtime.Version() + " |",
		"A noisy machine.",
		"| `echo` | 120 µs | 110 … 130 | 50.0 µs | 2.41× | 92 µs |",
		"| `abi1/64B` | 58.2 ns | 57.0 … 61.0 | 70.0 ns | 0.83× | 0 | 210 ns |",
		`failed: boom \| bang`,
		"| `same-handle/8` | 24.2 M/s | 22.0 … 25.0 M/s | 24.0 M/s | 1.01× | 2.26× (raw 2.30×) | 2.5 M/s |",
		"n/a: no VmRSS here",
		"| `abi1/64B` | -0.4 % | -2.0 … +3.0 | 60.0 ns | 1.00× |",
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
