package main

import (
	"context"
	"errors"
	"slices"

	"github.com/memlink/memlink-go/memlink"
)

// Result is the outcome of one variant of a row over all its repetitions.
// The measuring code fills it; the reporting code only reads it.
type Result struct {
	// Row is the row id ("call") and Variant the variant ("abi1/64B").
	Row, Variant string
	// Unit is the unit of Values, BaselineUnit that of Baselines.
	Unit, BaselineUnit string
	// Values and Baselines hold memlink's and the baseline's figure for
	// each repetition.
	Values, Baselines []float64
	// Ratios, when not empty, hold a ratio per repetition that replaces
	// median(Values)/median(Baselines) (the metrics row).
	Ratios []float64
	// Allocs and BaselineAllocs hold heap allocations per operation for
	// each repetition, on rows that count them.
	Allocs, BaselineAllocs []float64
	// InFlight holds, per repetition, the mean number of calls in flight
	// when a reload switched the handle (the reload row).
	InFlight []float64
	// Scaling and BaselineScaling are the median calls/s relative to the
	// same variant at one goroutine (the concurrent row); 0 otherwise.
	Scaling, BaselineScaling float64
	// Goroutines is the concurrency of a concurrent-row variant.
	Goroutines int
	// Kind groups the variants of a row that scale together (concurrent:
	// "same-handle" or "per-goroutine").
	Kind string
	// Ops counts the memlink operations measured over all repetitions.
	Ops int64
	// Published is the reference implementation's published figure for
	// this variant, or "".
	Published string
	// NA, when not empty, says why the variant cannot be measured here.
	NA string
	// Err is why the variant failed, or nil.
	Err error
}

// OK reports whether the result holds figures.
func (r *Result) OK() bool { return r.Err == nil && r.NA == "" && len(r.Values) > 0 }

// Median returns the median of Values.
func (r *Result) Median() float64 { return median(r.Values) }

// Min returns the smallest of Values.
func (r *Result) Min() float64 { return slices.Min(r.Values) }

// Max returns the largest of Values.
func (r *Result) Max() float64 { return slices.Max(r.Values) }

// Baseline returns the median of Baselines.
func (r *Result) Baseline() float64 { return median(r.Baselines) }

// Ratio returns memlink's figure relative to the baseline's.
func (r *Result) Ratio() float64 {
	if len(r.Ratios) > 0 {
		return median(r.Ratios)
	}
	b := r.Baseline()
	if b == 0 {
		return 0
	}
	return r.Median() / b
}

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sample is what one repetition of a measurement yields.
type sample struct {
	value, baseline float64
	// ratio, when set, is the repetition's own ratio (see Result.Ratios).
	ratio float64
	// allocs and baselineAllocs are allocations per operation; counted
	// tells whether they were measured.
	allocs, baselineAllocs float64
	counted                bool
	// inFlight is the reload row's mean number of calls drained.
	inFlight    float64
	hasInFlight bool
	ops         int64
}

// measureFunc runs repetition k (from 0) of a measurement.
type measureFunc func(k int) (sample, error)

// variant is one measurement of a row.
type variant struct {
	name      string
	published string
	// kind and goroutines label concurrent-row variants (see Result).
	kind       string
	goroutines int
	// setup prepares the measurement and returns it with a function that
	// releases what setup acquired and reports any error found then.
	setup func() (measureFunc, func() error, error)
}

// row is one kind of operation the suite measures: a section of the table.
type row struct {
	id           string
	unit         string
	baselineUnit string
	// title and baseline describe the row in the table's section header.
	title, baseline string
	// extra names the table's extra column for the row ("allocs").
	extra    string
	variants func(s *suite) []variant
	// finish derives figures across variants (the concurrent row's
	// scaling) once they have all run.
	finish func(rs []Result)
}

// notAvailable is the error a variant's setup returns when the
// measurement cannot be made on this platform; it becomes Result.NA.
type notAvailable struct{ reason string }

func (e notAvailable) Error() string { return "n/a: " + e.reason }

// suite runs rows against one runtime.
type suite struct {
	cfg      config
	rt       *memlink.Runtime
	modules  map[string]string // module name -> library path
	progress *progress
}

// run measures the configured rows in order and returns their results.
// It stops early, returning what it has, when ctx is done.
func (s *suite) run(ctx context.Context) []Result {
	var results []Result
	for _, id := range s.cfg.rows {
		r := rowByID(id)
		var rs []Result
		for _, v := range r.variants(s) {
			if ctx.Err() != nil {
				break
			}
			rs = append(rs, s.runVariant(ctx, r, v))
		}
		if r.finish != nil {
			r.finish(rs)
		}
		results = append(results, rs...)
		if ctx.Err() != nil {
			break
		}
	}
	return results
}

// runVariant sets v up, runs its repetitions and tears it down.
func (s *suite) runVariant(ctx context.Context, r *row, v variant) Result {
	res := Result{
		Row: r.id, Variant: v.name, Unit: r.unit, BaselineUnit: r.baselineUnit,
		Published: v.published, Kind: v.kind, Goroutines: v.goroutines,
	}
	s.progress.step(r.id, v.name, 0, s.cfg.count)
	measure, teardown, err := v.setup()
	if err != nil {
		var na notAvailable
		if errors.As(err, &na) {
			res.NA = na.reason
		} else {
			res.Err = err
		}
		return res
	}
	for k := range s.cfg.count {
		if err := ctx.Err(); err != nil {
			res.Err = err
			break
		}
		s.progress.step(r.id, v.name, k+1, s.cfg.count)
		smp, err := measure(k)
		if err != nil {
			res.Err = err
			break
		}
		res.Values = append(res.Values, smp.value)
		res.Baselines = append(res.Baselines, smp.baseline)
		if smp.ratio != 0 {
			res.Ratios = append(res.Ratios, smp.ratio)
		}
		if smp.counted {
			res.Allocs = append(res.Allocs, smp.allocs)
			res.BaselineAllocs = append(res.BaselineAllocs, smp.baselineAllocs)
		}
		if smp.hasInFlight {
			res.InFlight = append(res.InFlight, smp.inFlight)
		}
		res.Ops += smp.ops
	}
	if teardown != nil {
		if err := teardown(); err != nil && res.Err == nil {
			res.Err = err
		}
	}
	return res
}
