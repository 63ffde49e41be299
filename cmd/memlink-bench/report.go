package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memlink/memlink-go/internal/benchresult"
	"github.com/memlink/memlink-go/internal/callpath"
)

// This file turns results into text: the JSON lines of -json and the
// table. It measures nothing.

// jsonResult is the JSON form of a Result; doc.go documents the fields.
type jsonResult = benchresult.Record

// Values of jsonResult.Status.
const (
	statusOK     = "ok"
	statusNA     = "n/a"
	statusFailed = "failed"
)

// num rounds v to 6 significant digits and returns a pointer to it.
func num(v float64) *float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		z := 0.0
		return &z
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return &r
}

// toJSON converts r to its JSON form.
func toJSON(r *Result) jsonResult {
	j := jsonResult{
		Row: r.Row, Variant: r.Variant, Unit: r.Unit, BaselineUnit: r.BaselineUnit,
		N: len(r.Values), Ops: r.Ops, Published: r.Published,
	}
	switch {
	case r.Err != nil:
		j.Status, j.Error = statusFailed, r.Err.Error()
		return j
	case r.NA != "":
		j.Status, j.Error = statusNA, r.NA
		return j
	case !r.OK():
		j.Status, j.Error = statusFailed, "no repetition ran"
		return j
	}
	j.Status = statusOK
	j.Median, j.Min, j.Max = num(r.Median()), num(r.Min()), num(r.Max())
	j.Baseline, j.BaselineMin, j.BaselineMax = num(r.Baseline()), num(minOf(r.Baselines)), num(maxOf(r.Baselines))
	j.Ratio = num(r.Ratio())
	if len(r.Allocs) > 0 {
		j.Allocs, j.BaselineAllocs = num(median(r.Allocs)), num(median(r.BaselineAllocs))
	}
	if r.Scaling != 0 {
		j.Scaling, j.BaselineScaling = num(r.Scaling), num(r.BaselineScaling)
	}
	if len(r.InFlight) > 0 {
		j.InFlight = num(median(r.InFlight))
	}
	return j
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// writeJSON writes one JSON object per result, one per line.
func writeJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range results {
		if err := enc.Encode(toJSON(&results[i])); err != nil {
			return err
		}
	}
	return nil
}

// env describes the machine and the run, for the table's header.
type env struct {
	platform  string
	cpu       string
	cpus      int
	goVersion string
	callPath  string
	count     int
	duration  string
}

func describeEnv(cfg config) env {
	return env{
		platform:  runtime.GOOS + "/" + runtime.GOARCH,
		cpu:       benchresult.CPUModel(),
		cpus:      runtime.NumCPU(),
		goVersion: runtime.Version(),
		callPath:  callpath.Name,
		count:     cfg.count,
		duration:  cfg.duration.String(),
	}
}

// Column widths of the table, in runes; with the indent the table is 96
// columns wide.
const (
	indent     = "  "
	wVariant   = 17
	wFigure    = 12
	wSpread    = 22
	wBaseline  = 13
	wRatio     = 8
	wExtra     = 10
	tableWidth = 96
)

// writeTable writes the results as a table for a terminal 100 columns
// wide: a header naming the machine, then one section per row.
func writeTable(w io.Writer, e env, results []Result) {
	cpu := e.cpu
	if cpu == "" {
		cpu = "CPU model unknown"
	}
	fmt.Fprintf(w, "\nmemlink-bench: %s, %s, call path %s\n", e.platform, e.goVersion, e.callPath)
	fmt.Fprintln(w, clip(fmt.Sprintf("machine: %d CPUs, %s", e.cpus, cpu), tableWidth))
	reps := "repetitions"
	if e.count == 1 {
		reps = "repetition"
	}
	fmt.Fprintf(w, "%d %s × %s per side; figure = median, spread = min … max of the repetitions\n",
		e.count, reps, e.duration)
	published := false
	for i := 0; i < len(results); {
		r := rowByID(results[i].Row)
		j := i
		for j < len(results) && results[j].Row == results[i].Row {
			if results[j].Published != "" {
				published = true
			}
			j++
		}
		writeSection(w, r, results[i:j])
		i = j
	}
	if published {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "* published: figures the Rust reference implementation published, measured on another")
		fmt.Fprintln(w, "  machine; shown for orientation only, not as a comparison.")
	}
}

// writeSection writes one row's heading and its variants.
func writeSection(w io.Writer, r *row, rs []Result) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, r.title)
	fmt.Fprintln(w, r.baseline)
	pub := ""
	for _, x := range rs {
		if x.Published != "" {
			pub = "published*"
		}
	}
	fmt.Fprintln(w, strings.TrimRight(indent+pad("variant", wVariant)+pad("memlink", wFigure)+pad("min … max", wSpread)+
		pad("baseline", wBaseline)+pad("ratio", wRatio)+pad(r.extra, wExtra)+pub, " "))
	for i := range rs {
		x := &rs[i]
		line := indent + pad(x.Variant, wVariant)
		switch {
		case x.Err != nil:
			line += clip("FAILED: "+firstLine(x.Err.Error()), tableWidth-utf8.RuneCountInString(line))
		case x.NA != "":
			line += clip("n/a: "+x.NA, tableWidth-utf8.RuneCountInString(line))
		case !x.OK():
			line += "FAILED: no repetition ran"
		default:
			line += pad(formatValue(x.Unit, x.Median()), wFigure) +
				pad(formatSpread(x.Unit, x.Min(), x.Max()), wSpread) +
				pad(formatValue(x.BaselineUnit, x.Baseline()), wBaseline) +
				pad(fmt.Sprintf("%.2f×", x.Ratio()), wRatio) +
				pad(extraText(r.id, x), wExtra) + x.Published
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// extraText is the text of the extra column for a result of row id.
func extraText(id string, r *Result) string {
	switch id {
	case "call":
		if len(r.Allocs) == 0 {
			return ""
		}
		a := median(r.Allocs)
		if a < 0.005 {
			return "0"
		}
		return fmt.Sprintf("%.2f", a)
	case "concurrent":
		if r.Scaling == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f×", r.Scaling)
	case "reload":
		if len(r.InFlight) == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f", median(r.InFlight))
	}
	return ""
}

// formatValue writes v with its unit, to about three significant digits.
func formatValue(unit string, v float64) string {
	switch unit {
	case "calls/s":
		return formatRate(v)
	case "%":
		return fmt.Sprintf("%+.1f %%", v)
	case "ns/call":
		return benchresult.Sig3(v) + " ns"
	}
	return benchresult.Sig3(v) + " " + unit
}

// formatSpread writes "min … max" without the unit.
func formatSpread(unit string, lo, hi float64) string {
	switch unit {
	case "calls/s":
		div, suffix := benchresult.RateScale(hi)
		return benchresult.Sig3(lo/div) + " … " + benchresult.Sig3(hi/div) + suffix
	case "%":
		return fmt.Sprintf("%+.1f … %+.1f", lo, hi)
	}
	return benchresult.Sig3(lo) + " … " + benchresult.Sig3(hi)
}

// formatRate writes a rate in calls per second with a k or M prefix.
func formatRate(v float64) string {
	div, suffix := benchresult.RateScale(v)
	return benchresult.Sig3(v/div) + suffix
}

// pad left-aligns s in a field of width runes, keeping at least one space
// after it.
func pad(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n >= width {
		return s + " "
	}
	return s + strings.Repeat(" ", width-n)
}

// clip shortens s to at most width runes, marking a cut with "…".
func clip(s string, width int) string {
	if width < 1 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
