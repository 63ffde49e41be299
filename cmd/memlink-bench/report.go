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
		Row: r.Row, Variant: r.Variant, Unit: r.Unit,
		N: len(r.Values), Ops: r.Ops, Published: r.Published,
	}
	if len(r.Baselines) > 0 {
		j.BaselineUnit, j.BaselineName = r.Baselines[0].Unit, r.Baselines[0].Name
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
	if len(r.Allocs) > 0 {
		j.Allocs = num(median(r.Allocs))
	}
	if r.Scaling != 0 {
		j.Scaling = num(r.Scaling)
	}
	if len(r.InFlight) > 0 {
		j.InFlight = num(median(r.InFlight))
	}
	for i, b := range r.Baselines {
		jb := benchresult.Baseline{Name: b.Name, Unit: b.Unit}
		if m := median(b.Values); m > 0 {
			jb.Median, jb.Min, jb.Max = num(m), num(minOf(b.Values)), num(maxOf(b.Values))
			rs := r.RatiosTo(i)
			jb.Ratio, jb.RatioMin, jb.RatioMax = num(median(rs)), num(minOf(rs)), num(maxOf(rs))
		}
		if len(b.Allocs) > 0 {
			jb.Allocs = num(median(b.Allocs))
		}
		if b.Scaling != 0 {
			jb.Scaling = num(b.Scaling)
		}
		j.Baselines = append(j.Baselines, jb)
	}
	if len(j.Baselines) > 0 {
		b := j.Baselines[0]
		j.Baseline, j.BaselineMin, j.BaselineMax = b.Median, b.Min, b.Max
		j.Ratio, j.RatioMin, j.RatioMax = b.Ratio, b.RatioMin, b.RatioMax
		j.BaselineAllocs, j.BaselineScaling = b.Allocs, b.Scaling
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
	rounds    int
	calls     int
	// noCgo, when not empty, says why the cgo yardstick is missing.
	noCgo string
}

func describeEnv(cfg config, cgo bool) env {
	e := env{
		platform:  runtime.GOOS + "/" + runtime.GOARCH,
		cpu:       benchresult.CPUModel(),
		cpus:      runtime.NumCPU(),
		goVersion: runtime.Version(),
		callPath:  callpath.Name,
		count:     cfg.count,
		duration:  cfg.duration.String(),
		rounds:    cfg.rounds,
		calls:     cfg.calls,
	}
	if !cgo {
		e.noCgo = "this binary was built without cgo (CGO_ENABLED=0 or no C compiler)"
	}
	return e
}

// Column widths of the table, in runes; with the indent the table is 96
// columns wide at most (a row with two baselines).
const (
	indent     = "  "
	wVariant   = 17
	wFigure    = 10
	wSpread    = 13
	wBaseline  = 9
	wRatio     = 9
	wRange     = 12
	wExtra     = 9
	tableWidth = 96
)

// writeTable writes the results as a table for a terminal 100 columns
// wide: a header naming the machine and saying what the columns mean, then
// one section per row.
func writeTable(w io.Writer, e env, results []Result) {
	cpu := e.cpu
	if cpu == "" {
		cpu = "CPU model unknown"
	}
	fmt.Fprintf(w, "\nmemlink-bench: %s, %s, call path %s\n", e.platform, e.goVersion, e.callPath)
	fmt.Fprintln(w, clip(fmt.Sprintf("machine: %d CPUs, %s", e.cpus, cpu), tableWidth))
	fmt.Fprintf(w, "%s per side and repetition; the call row: %d rounds of %d calls per side\n",
		plural(e.count, "repetition")+" × "+e.duration, e.rounds, e.calls)
	fmt.Fprintln(w, "figure = median; spread = min … max of the repetitions; ×name = ratio to that baseline:")
	fmt.Fprintln(w, "memlink's cost ÷ the baseline's (above 1: memlink is slower), median of per-repetition")
	fmt.Fprintln(w, "ratios; × range = their min … max. Timings on a shared machine are noisy.")
	if e.noCgo != "" {
		fmt.Fprintln(w, clip("cgo yardstick: n/a: "+e.noCgo, tableWidth))
	}
	var published []string
	for i := 0; i < len(results); {
		r := rowByID(results[i].Row)
		j := i
		for j < len(results) && results[j].Row == results[i].Row {
			if p := results[j].Published; p != "" {
				published = append(published, results[j].Row+" "+results[j].Variant+" "+p)
			}
			j++
		}
		writeSection(w, r, results[i:j])
		i = j
	}
	if len(published) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "published by the Rust reference, measured on another machine (orientation only, not a")
		fmt.Fprint(w, wrap("comparison): "+strings.Join(published, "; "), tableWidth))
	}
}

// formatRatio writes a ratio with two decimals below 10, fewer above.
func formatRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// wrap breaks s into lines of at most width runes at spaces, each ending
// in a newline.
func wrap(s string, width int) string {
	var b strings.Builder
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
			b.WriteString(line + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// writeSection writes one row's heading and its variants.
func writeSection(w io.Writer, r *row, rs []Result) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, r.title)
	fmt.Fprintln(w, r.legend)
	head := indent + pad("variant", wVariant) + pad("memlink", wFigure) + pad("min … max", wSpread)
	var names []string
	if len(rs) > 0 {
		for _, b := range rs[0].Baselines {
			names = append(names, b.Name)
		}
	}
	for _, n := range names {
		head += pad(clip(n, wBaseline-1), wBaseline) + pad("×"+clip(n, wRatio-2), wRatio)
	}
	if len(names) > 0 {
		head += pad("× range", wRange)
	}
	fmt.Fprintln(w, strings.TrimRight(head+r.extra, " "))
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
				pad(formatSpread(x.Unit, x.Min(), x.Max()), wSpread)
			for j, b := range x.Baselines {
				m := median(b.Values)
				if m <= 0 {
					line += pad("n/a", wBaseline) + pad("", wRatio)
					continue
				}
				line += pad(formatValue(b.Unit, m), wBaseline) + pad(formatRatio(x.RatioTo(j))+"×", wRatio)
			}
			if rr := x.RatiosTo(0); len(rr) > 0 {
				line += pad(formatRatio(minOf(rr))+"…"+formatRatio(maxOf(rr)), wRange)
			} else if len(x.Baselines) > 0 {
				line += pad("", wRange)
			}
			line += extraText(r.id, x)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// extraText is the text of the extra column for a result of row id.
func extraText(id string, r *Result) string {
	switch id {
	case "call", "rust", "host":
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
