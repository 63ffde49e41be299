package main

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgElement is what the checks read of one element.
type svgElement struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG decodes doc as XML and returns its elements in document order;
// it fails the test on malformed XML or a root other than <svg>.
func parseSVG(t *testing.T, name, doc string) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var els []svgElement
	var stack []int
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v\n%s", name, err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElement{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(els) == 0 && (e.name != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("%s: root element %v, want svg in the SVG namespace", name, tok.Name)
			}
			els = append(els, e)
			stack = append(stack, len(els)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				els[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("%s: unclosed elements", name)
	}
	return els
}

// checkSVG checks that doc is a well-formed plot with a title, two axes
// and tick labels.
func checkSVG(t *testing.T, name, doc string) []svgElement {
	t.Helper()
	els := parseSVG(t, name, doc)
	counts := map[string]int{}
	for _, e := range els {
		counts[e.name+"."+e.attrs["class"]]++
		if e.name == "title" && strings.TrimSpace(e.text) == "" {
			t.Errorf("%s: empty title", name)
		}
	}
	if counts["title."] != 1 || counts["text.title"] != 1 {
		t.Errorf("%s: no title (%v)", name, counts)
	}
	if counts["line.axis"] != 2 {
		t.Errorf("%s: %d axes, want 2", name, counts["line.axis"])
	}
	if counts["text.ytick"] < 2 || counts["text.xtick"] < 2 || counts["text.ylabel"] != 1 {
		t.Errorf("%s: ticks or axis label missing (%v)", name, counts)
	}
	return els
}

// points returns the coordinates of a polyline.
func points(t *testing.T, e svgElement) [][2]float64 {
	t.Helper()
	var ps [][2]float64
	for _, p := range strings.Fields(e.attrs["points"]) {
		xs, ys, ok := strings.Cut(p, ",")
		x, err1 := strconv.ParseFloat(xs, 64)
		y, err2 := strconv.ParseFloat(ys, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", p)
		}
		ps = append(ps, [2]float64{x, y})
	}
	return ps
}

func TestLinePlot(t *testing.T) {
	lp := &linePlot{
		title: "Cost <&> size", xLabel: "payload (bytes)", yLabel: "ns per call",
		categories: []string{"0", "64", "256", "1024", "4096"},
		series: []series{
			{name: "rising", values: []float64{50, 55, 61, 80, 209}},
			{name: "gap & dash", values: []float64{30, math.NaN(), 40, 45, 70}, dashed: true},
		},
	}
	doc := lp.svg()
	els := checkSVG(t, "line plot", doc)
	var lines []svgElement
	var texts []string
	for _, e := range els {
		if e.name == "polyline" {
			lines = append(lines, e)
		}
		if e.name == "text" {
			texts = append(texts, e.text)
		}
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"Cost <&> size", "payload (bytes)", "ns per call", "4096", "rising", "gap & dash"} {
		if !strings.Contains(joined, want) {
			t.Errorf("plot text lacks %q: %s", want, joined)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d polylines, want 2", len(lines))
	}
	// Values map monotonically: x grows with the category, SVG y falls as
	// the value grows (the origin is at the top).
	rising := points(t, lines[0])
	if len(rising) != 5 {
		t.Fatalf("rising: %d points, want 5", len(rising))
	}
	for i := 1; i < len(rising); i++ {
		if rising[i][0] <= rising[i-1][0] || rising[i][1] >= rising[i-1][1] {
			t.Errorf("rising: point %d %v does not lie right of and above %v", i, rising[i], rising[i-1])
		}
	}
	// The value axis starts at 0 on the x axis and reaches the largest
	// value inside the plot area.
	_, _, y0, y1 := plotArea()
	if top := rising[4][1]; top < y0 || top > y1 {
		t.Errorf("largest value at y %v, outside the plot area %v..%v", top, y0, y1)
	}
	if lines[1].attrs["stroke-dasharray"] == "" {
		t.Error("dashed series is not dashed")
	}
	if n := len(points(t, lines[1])); n != 4 {
		t.Errorf("series with a NaN: %d points, want 4 (the gap skipped)", n)
	}
	// Same value, same height, across series.
	if rising[2][1] >= points(t, lines[1])[1][1] {
		t.Errorf("61 is drawn no higher than 40")
	}
}

func TestBarChart(t *testing.T) {
	bc := &barChart{title: "Round trip", yLabel: "ns per call", unit: formatNanos, bars: []bar{
		{label: "in process", value: 54}, {label: "isolated", value: 1250}, {label: "raw pipe", value: 0},
		{label: "go-plugin", value: 202300},
	}}
	els := checkSVG(t, "bar chart", bc.svg())
	var heights []float64
	var texts []string
	for _, e := range els {
		if e.name == "rect" && e.attrs["class"] == "bar" {
			h, err := strconv.ParseFloat(e.attrs["height"], 64)
			if err != nil {
				t.Fatal(err)
			}
			heights = append(heights, h)
		}
		if e.name == "text" {
			texts = append(texts, e.text)
		}
	}
	if len(heights) != 3 {
		t.Fatalf("%d bars, want 3 (the zero one n/a)", len(heights))
	}
	if heights[0] >= heights[1] || heights[1] >= heights[2] {
		t.Errorf("bar heights %v do not grow with the values", heights)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"54 ns", "1.25 µs", "202 µs", "n/a", "log scale", "go-plugin", "100 ns", "1 ms"} {
		if !strings.Contains(joined, want) {
			t.Errorf("chart text lacks %q: %s", want, joined)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		hi   float64
		want string
	}{{209, "0 50 100 150 200 250"}, {1, "0 0.2 0.4 0.6 0.8 1"}, {33.3, "0 10 20 30 40"}, {0, "0 0.2 0.4 0.6 0.8 1"}} {
		var got []string
		for _, v := range niceTicks(0, c.hi) {
			got = append(got, sig3(v))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("niceTicks(0, %v) = %v, want %s", c.hi, got, c.want)
		}
	}
}

func TestParseEcho64(t *testing.T) {
	text := `pkg: x
                           │ echo.txt │
                           │  sec/op  │
Echo64/memlink-inprocess-2   53.88n ±  1%
Echo64/memlink-isolated-2    2.384µ ± 57%
Echo64/goplugin-netrpc-2     202.3µ ± 17%
geomean                      2.962µ
                           │   B/op   │
Echo64/goplugin-netrpc-2     569.0 ± 0%
`
	got := parseEcho64(text)
	want := map[string]float64{"memlink-inprocess": 53.88, "memlink-isolated": 2384, "goplugin-netrpc": 202300}
	if len(got) != len(want) {
		t.Errorf("parseEcho64 = %v, want %v", got, want)
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-6*v {
			t.Errorf("%s: %v ns, want %v", k, got[k], v)
		}
	}
}
