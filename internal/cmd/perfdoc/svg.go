package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file draws the page's plots as small hand-written SVG: a line plot
// over ordered categories (payload sizes, goroutine counts) and a bar
// chart, each with axes, ticks, labels and a legend. Nothing but the
// standard library: the plots are simple enough not to need a plotting
// package.

// Plot geometry, in SVG user units (pixels).
const (
	plotWidth   = 640
	plotHeight  = 360
	marginLeft  = 72
	marginRight = 170 // room for the legend
	marginTop   = 36
	marginBot   = 52
)

// palette colours series in order; chosen to stay apart in grey too.
var palette = []string{"#1f5fa8", "#d4711a", "#2a8a3e", "#8c3fa0", "#b0302a", "#5b5b5b"}

// series is one line of a line plot: a y value per category (NaN where
// there is none).
type series struct {
	name   string
	values []float64
	dashed bool
}

// linePlot is a plot of series over ordered categories.
type linePlot struct {
	title          string
	xLabel, yLabel string
	categories     []string
	series         []series
	// yFormat writes a tick value; default: three significant digits.
	yFormat func(float64) string
}

// bar is one bar of a bar chart.
type bar struct {
	label string
	value float64
	note  string // written above the bar ("" for the value)
}

// barChart is a bar chart with a logarithmic value axis, for figures that
// span orders of magnitude.
type barChart struct {
	title  string
	yLabel string
	bars   []bar
	// unit writes a value with its unit, for ticks and notes.
	unit func(float64) string
}

// svgWriter accumulates an SVG document.
type svgWriter struct{ b strings.Builder }

func (w *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

func (w *svgWriter) begin(title string) {
	w.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	w.printf("<title>%s</title>\n", xmlEscape(title))
	w.printf(`<rect width="%d" height="%d" fill="white"/>`+"\n", plotWidth, plotHeight)
	w.printf(`<text class="title" x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", marginLeft, 22, xmlEscape(title))
}

func (w *svgWriter) end() string {
	w.printf("</svg>\n")
	return w.b.String()
}

// text writes a label; anchor is start, middle or end.
func (w *svgWriter) text(class string, x, y float64, anchor, s string) {
	w.printf(`<text class="%s" x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", class, f1(x), f1(y), anchor, xmlEscape(s))
}

// plot area bounds.
func plotArea() (x0, x1, y0, y1 float64) {
	return marginLeft, plotWidth - marginRight, marginTop, plotHeight - marginBot
}

// axes draws the frame, the y ticks with grid lines, and the axis labels.
func (w *svgWriter) axes(xLabel, yLabel string, ticks []float64, ty func(float64) float64, format func(float64) string) {
	x0, x1, y0, y1 := plotArea()
	for _, t := range ticks {
		y := ty(t)
		w.printf(`<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e4e4e4"/>`+"\n", f1(x0), f1(y), f1(x1), f1(y))
		w.text("ytick", x0-6, y+4, "end", format(t))
	}
	w.printf(`<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", f1(x0), f1(y1), f1(x1), f1(y1))
	w.printf(`<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", f1(x0), f1(y0), f1(x0), f1(y1))
	if xLabel != "" {
		w.text("xlabel", (x0+x1)/2, plotHeight-12, "middle", xLabel)
	}
	w.printf(`<text class="ylabel" x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>`+"\n",
		f1(16), f1((y0+y1)/2), f1(16), f1((y0+y1)/2), xmlEscape(yLabel))
}

// legend writes one entry per name, right of the plot area.
func (w *svgWriter) legend(names []string, dashed []bool) {
	_, x1, y0, _ := plotArea()
	for i, n := range names {
		y := y0 + 8 + float64(i)*18
		dash := ""
		if dashed[i] {
			dash = ` stroke-dasharray="5 3"`
		}
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`+"\n",
			f1(x1+12), f1(y), f1(x1+32), f1(y), palette[i%len(palette)], dash)
		w.text("legend", x1+38, y+4, "start", n)
	}
}

// svg renders the line plot.
func (p *linePlot) svg() string {
	var w svgWriter
	w.begin(p.title)
	x0, x1, y0, y1 := plotArea()
	hi := 0.0
	for _, s := range p.series {
		for _, v := range s.values {
			if !math.IsNaN(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	ticks := niceTicks(0, hi)
	top := ticks[len(ticks)-1]
	ty := func(v float64) float64 { return y1 - v/top*(y1-y0) }
	format := p.yFormat
	if format == nil {
		format = sig3
	}
	w.axes(p.xLabel, p.yLabel, ticks, ty, format)
	n := len(p.categories)
	tx := func(i int) float64 {
		if n == 1 {
			return (x0 + x1) / 2
		}
		return x0 + 20 + float64(i)*(x1-x0-40)/float64(n-1)
	}
	for i, c := range p.categories {
		w.printf(`<line class="xtick" x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", f1(tx(i)), f1(y1), f1(tx(i)), f1(y1+4))
		w.text("xtick", tx(i), y1+18, "middle", c)
	}
	var names []string
	var dashed []bool
	for si, s := range p.series {
		color := palette[si%len(palette)]
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		var pts []string
		for i, v := range s.values {
			if i < n && !math.IsNaN(v) {
				pts = append(pts, f1(tx(i))+","+f1(ty(v)))
			}
		}
		if len(pts) == 0 {
			continue
		}
		w.printf(`<polyline class="series" data-name="%s" points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n",
			xmlEscape(s.name), strings.Join(pts, " "), color, dash)
		for _, pt := range pts {
			x, y, _ := strings.Cut(pt, ",")
			w.printf(`<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", x, y, color)
		}
		names = append(names, s.name)
		dashed = append(dashed, s.dashed)
	}
	w.legend(names, dashed)
	return w.end()
}

// svg renders the bar chart on a logarithmic axis.
func (c *barChart) svg() string {
	var w svgWriter
	w.begin(c.title)
	x0, x1, y0, y1 := plotArea()
	lo, hi := math.Inf(1), 0.0
	for _, b := range c.bars {
		if b.value > 0 {
			lo, hi = math.Min(lo, b.value), math.Max(hi, b.value)
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi == dlo {
		dhi++
	}
	var ticks []float64
	for d := dlo; d <= dhi; d++ {
		ticks = append(ticks, math.Pow(10, d))
	}
	ty := func(v float64) float64 { return y1 - (math.Log10(v)-dlo)/(dhi-dlo)*(y1-y0) }
	w.axes("", c.yLabel+" (log scale)", ticks, ty, c.unit)
	n := len(c.bars)
	slot := (x1 - x0) / float64(max(n, 1))
	for i, b := range c.bars {
		cx := x0 + slot*(float64(i)+0.5)
		bw := slot * 0.6
		w.text("xtick", cx, y1+18, "middle", b.label)
		if b.value <= 0 {
			w.text("note", cx, y1-6, "middle", "n/a")
			continue
		}
		top := ty(b.value)
		w.printf(`<rect class="bar" data-name="%s" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
			xmlEscape(b.label), f1(cx-bw/2), f1(top), f1(bw), f1(y1-top), palette[i%len(palette)])
		note := b.note
		if note == "" {
			note = c.unit(b.value)
		}
		w.text("note", cx, top-5, "middle", note)
	}
	return w.end()
}

// niceTicks returns evenly spaced round tick values from lo (0) to at
// least hi: steps of 1, 2 or 5 times a power of ten, about five of them.
func niceTicks(lo, hi float64) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := lo; ; v += step {
		ticks = append(ticks, v)
		if v >= hi {
			break
		}
	}
	return ticks
}

// sig3 writes v with about three significant digits and no exponent.
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
	}
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
}

// f1 writes a coordinate with one decimal.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// xmlEscape escapes text for an SVG element or attribute.
func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
