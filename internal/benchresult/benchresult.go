// Package benchresult is the JSON record memlink-bench writes with -json
// and perfdoc reads to generate docs/performance.md, and the number
// formatting both use, so that the table in a terminal and the table in the
// docs agree. cmd/memlink-bench's package documentation describes the
// fields.
package benchresult

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strings"
)

// Record is one row variant of a memlink-bench run, as one JSON object.
// Numbers are nil when the variant did not run (Status "n/a" or "failed").
type Record struct {
	Row             string   `json:"row"`
	Variant         string   `json:"variant"`
	Status          string   `json:"status"`
	Error           string   `json:"error,omitempty"`
	Unit            string   `json:"unit"`
	Median          *float64 `json:"median,omitempty"`
	Min             *float64 `json:"min,omitempty"`
	Max             *float64 `json:"max,omitempty"`
	Baseline        *float64 `json:"baseline,omitempty"`
	BaselineMin     *float64 `json:"baseline_min,omitempty"`
	BaselineMax     *float64 `json:"baseline_max,omitempty"`
	BaselineUnit    string   `json:"baseline_unit"`
	Ratio           *float64 `json:"ratio,omitempty"`
	Allocs          *float64 `json:"allocs,omitempty"`
	BaselineAllocs  *float64 `json:"baseline_allocs,omitempty"`
	Scaling         *float64 `json:"scaling,omitempty"`
	BaselineScaling *float64 `json:"baseline_scaling,omitempty"`
	InFlight        *float64 `json:"in_flight,omitempty"`
	N               int      `json:"n"`
	Ops             int64    `json:"ops"`
	Published       string   `json:"published,omitempty"`
	// BaselineName names the first baseline, which the fields above
	// describe; RatioMin and RatioMax are the spread of the per-repetition
	// ratios to it.
	BaselineName string   `json:"baseline_name,omitempty"`
	RatioMin     *float64 `json:"ratio_min,omitempty"`
	RatioMax     *float64 `json:"ratio_max,omitempty"`
	// Baselines lists every baseline of the variant, the first one too.
	Baselines []Baseline `json:"baselines,omitempty"`
}

// Baseline is one baseline's figures in a Record. Ratio is memlink's cost
// divided by the baseline's (median of the per-repetition ratios), so
// above 1 means memlink takes longer, on every row.
type Baseline struct {
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	Median   *float64 `json:"median,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	RatioMin *float64 `json:"ratio_min,omitempty"`
	RatioMax *float64 `json:"ratio_max,omitempty"`
	Allocs   *float64 `json:"allocs,omitempty"`
	Scaling  *float64 `json:"scaling,omitempty"`
}

// Find returns the baseline called name, or nil.
func (r *Record) Find(name string) *Baseline {
	for i := range r.Baselines {
		if r.Baselines[i].Name == name {
			return &r.Baselines[i]
		}
	}
	return nil
}

// RateScale returns the divisor and unit suffix that write v calls per
// second in millions, thousands or units.
func RateScale(v float64) (float64, string) {
	switch {
	case v >= 1e6:
		return 1e6, " M/s"
	case v >= 1e3:
		return 1e3, " k/s"
	}
	return 1, " /s"
}

// Sig3 writes v with about three significant digits (all of its integer
// digits when it has more).
func Sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or "" where
// there is none.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
