package main

import (
	"bufio"
	"math"
	"strconv"
	"strings"
)

// The plots of the page, built from memlink-bench's records (and, for
// go-plugin, from the isolation benchmark's benchstat output).

// plotFile is one generated plot: its file name beside the page, the
// Markdown alt text and the SVG.
type plotFile struct {
	name, alt, svg string
}

// plots returns the plots the results allow, in page order.
func plots(p *page) []plotFile {
	var out []plotFile
	if lp := callPlot(p.Results); lp != nil {
		out = append(out, plotFile{"perf-call.svg", "call cost against payload size", lp.svg()})
	}
	if lp := concurrentPlot(p.Results); lp != nil {
		out = append(out, plotFile{"perf-concurrent.svg", "calls per second against goroutines", lp.svg()})
	}
	if bc := isolationChart(p.Results, p.Isolation); bc != nil {
		out = append(out, plotFile{"perf-isolation.svg", "round trip in process, isolated, over a pipe and through go-plugin", bc.svg()})
	}
	return out
}

// okRecords returns the ok records of row whose variant starts with
// prefix, with the rest of the variant name.
func okRecords(rs []result, row, prefix string) ([]string, []*result) {
	var names []string
	var out []*result
	for i := range rs {
		r := &rs[i]
		if r.Row != row || r.Status != "ok" || r.Median == nil || !strings.HasPrefix(r.Variant, prefix) {
			continue
		}
		names = append(names, strings.TrimPrefix(r.Variant, prefix))
		out = append(out, r)
	}
	return names, out
}

// baselineMedian returns the median of r's baseline called name, or NaN.
func baselineMedian(r *result, name string) float64 {
	if r == nil {
		return math.NaN()
	}
	if b := r.Find(name); b != nil && b.Median != nil {
		return *b.Median
	}
	return math.NaN()
}

// callPlot draws ns per call against payload size for memlink's two ABIs
// and the cgo and purego baselines of ABI 1.
func callPlot(rs []result) *linePlot {
	sizes, abi1 := okRecords(rs, "call", "abi1/")
	if len(abi1) == 0 {
		return nil
	}
	abi2 := map[string]*result{}
	names2, recs2 := okRecords(rs, "call", "abi2/")
	for i, n := range names2 {
		abi2[n] = recs2[i]
	}
	lp := &linePlot{
		title:  "Call cost against payload size",
		xLabel: "payload (bytes)", yLabel: "ns per call (median)",
		categories: make([]string, len(sizes)),
	}
	m1, m2, cg, pg := make([]float64, len(sizes)), make([]float64, len(sizes)), make([]float64, len(sizes)), make([]float64, len(sizes))
	for i, s := range sizes {
		lp.categories[i] = strings.TrimSuffix(s, "B")
		m1[i] = *abi1[i].Median
		m2[i] = math.NaN()
		if r := abi2[s]; r != nil {
			m2[i] = *r.Median
		}
		cg[i] = baselineMedian(abi1[i], "cgo")
		pg[i] = baselineMedian(abi1[i], "purego")
	}
	lp.series = []series{{name: "memlink ABI 1", values: m1}, {name: "memlink ABI 2", values: m2}}
	if !allNaN(cg) {
		lp.series = append(lp.series, series{name: "cgo", values: cg, dashed: true})
	}
	lp.series = append(lp.series, series{name: "purego", values: pg, dashed: true})
	return lp
}

// concurrentPlot draws calls per second against goroutines, memlink on
// one handle and on one handle per goroutine, cgo and purego.
func concurrentPlot(rs []result) *linePlot {
	gs, same := okRecords(rs, "concurrent", "same-handle/")
	if len(same) == 0 {
		return nil
	}
	per := map[string]*result{}
	names, recs := okRecords(rs, "concurrent", "per-goroutine/")
	for i, n := range names {
		per[n] = recs[i]
	}
	rate := func(ns float64) float64 {
		if math.IsNaN(ns) || ns <= 0 {
			return math.NaN()
		}
		return 1e3 / ns // millions of calls per second
	}
	n := len(gs)
	ms, mp, cg, pg := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, g := range gs {
		ms[i] = rate(*same[i].Median)
		mp[i] = math.NaN()
		if r := per[g]; r != nil {
			mp[i] = rate(*r.Median)
		}
		cg[i] = rate(baselineMedian(same[i], "cgo"))
		pg[i] = rate(baselineMedian(same[i], "purego"))
	}
	lp := &linePlot{
		title:  "Throughput against goroutines (64-byte echo)",
		xLabel: "goroutines", yLabel: "million calls per second",
		categories: gs,
		series:     []series{{name: "memlink, one handle", values: ms}, {name: "memlink, handle each", values: mp}},
	}
	if !allNaN(cg) {
		lp.series = append(lp.series, series{name: "cgo", values: cg, dashed: true})
	}
	lp.series = append(lp.series, series{name: "purego", values: pg, dashed: true})
	return lp
}

// isolationChart draws the 64-byte round trip in process, isolated and
// over a raw pipe (memlink-bench's isolated row) beside go-plugin's (the
// isolation benchmark's output, when included).
func isolationChart(rs []result, isolation string) *barChart {
	_, recs := okRecords(rs, "isolated", "64B")
	var iso *result
	if len(recs) > 0 {
		iso = recs[0]
	}
	bench := parseEcho64(isolation)
	if iso == nil && len(bench) == 0 {
		return nil
	}
	bc := &barChart{title: "64-byte round trip", yLabel: "ns per call", unit: formatNanos}
	if iso != nil {
		bc.bars = append(bc.bars,
			bar{label: "in process", value: nanOr0(baselineMedian(iso, "inproc"))},
			bar{label: "isolated", value: *iso.Median},
			bar{label: "raw pipe", value: nanOr0(baselineMedian(iso, "pipe"))})
	} else {
		bc.bars = append(bc.bars,
			bar{label: "in process", value: bench["memlink-inprocess"]},
			bar{label: "isolated", value: bench["memlink-isolated"]})
	}
	if v, ok := bench["goplugin-netrpc"]; ok {
		bc.bars = append(bc.bars, bar{label: "go-plugin", value: v})
	}
	return bc
}

// parseEcho64 reads the sec/op medians of the Echo64 benchmarks from
// benchstat output ("Echo64/memlink-isolated-2   2.384µ ± 57%"), in ns, by
// sub-benchmark name without the GOMAXPROCS suffix. Only the first table
// (sec/op) is read.
func parseEcho64(text string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	tables := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "sec/op") {
			tables++
		} else if strings.Contains(line, "B/op") || strings.Contains(line, "allocs/op") {
			tables += 10 // past the time table
		}
		if tables != 1 || !strings.HasPrefix(line, "Echo64/") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimPrefix(f[0], "Echo64/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if ns, ok := parseSeconds(f[1]); ok {
			out[name] = ns
		}
	}
	return out
}

// parseSeconds reads a benchstat time such as "53.88n", "2.384µ", "202.3µ",
// "1.5m" or "2" (seconds) and returns it in nanoseconds.
func parseSeconds(s string) (float64, bool) {
	scale := 1e9
	for suffix, sc := range map[string]float64{"n": 1, "µ": 1e3, "u": 1e3, "m": 1e6} {
		if strings.HasSuffix(s, suffix) {
			s, scale = strings.TrimSuffix(s, suffix), sc
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v * scale, true
}

// formatNanos writes a duration given in ns with a unit that keeps it
// short.
func formatNanos(ns float64) string {
	switch {
	case ns >= 1e6:
		return sig3(ns/1e6) + " ms"
	case ns >= 1e3:
		return sig3(ns/1e3) + " µs"
	}
	return sig3(ns) + " ns"
}

func allNaN(vs []float64) bool {
	for _, v := range vs {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

func nanOr0(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
