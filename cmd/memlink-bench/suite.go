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
	// Unit is the unit of Values.
	Unit string
	// Values holds memlink's figure for each repetition.
	Values []float64
	// Baselines holds, in the row's order, each baseline's figure for the
	// same repetitions (Values[k] and Baselines[i].Values[k] were measured
	// side by side).
	Baselines []Series
	// Ratios, when not empty, hold the ratio to the first baseline per
	// repetition, replacing Values[k]/Baselines[0].Values[k] (the metrics
	// row, whose figure is a percentage).
	Ratios []float64
	// Allocs holds memlink's heap allocations per operation for each
	// repetition, on rows that count them.
	Allocs []float64
	// InFlight holds, per repetition, the mean number of calls in flight
	// when a reload switched the handle (the reload row).
	InFlight []float64
	// Scaling is the speed-up over the same variant at one goroutine:
	// ns per call at 1 over ns per call here (the concurrent row); 0
	// otherwise. Series.Scaling is the same for a baseline.
	Scaling float64
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

// Series is one baseline's figures over the repetitions of a variant.
type Series struct {
	// Name is the baseline's short name ("cgo", "purego", "dlopen").
	Name, Unit string
	Values     []float64
	// Allocs holds heap allocations per operation, on rows that count
	// them.
	Allocs []float64
	// Scaling is the concurrent row's speed-up over one goroutine.
	Scaling float64
}

// OK reports whether the result holds figures.
func (r *Result) OK() bool { return r.Err == nil && r.NA == "" && len(r.Values) > 0 }

// Median returns the median of Values.
func (r *Result) Median() float64 { return median(r.Values) }

// Min returns the smallest of Values.
func (r *Result) Min() float64 { return slices.Min(r.Values) }

// Max returns the largest of Values.
func (r *Result) Max() float64 { return slices.Max(r.Values) }

// Baseline returns the median of the first baseline, or 0 for none.
func (r *Result) Baseline() float64 {
	if len(r.Baselines) == 0 {
		return 0
	}
	return median(r.Baselines[0].Values)
}

// RatiosTo returns the per-repetition ratios of memlink's figure to
// baseline i: memlink's cost divided by the baseline's, so above 1 means
// memlink takes longer.
func (r *Result) RatiosTo(i int) []float64 {
	if i == 0 && len(r.Ratios) > 0 {
		return r.Ratios
	}
	if i >= len(r.Baselines) {
		return nil
	}
	b := r.Baselines[i].Values
	var rs []float64
	for k := range min(len(r.Values), len(b)) {
		if b[k] > 0 {
			rs = append(rs, r.Values[k]/b[k])
		}
	}
	return rs
}

// RatioTo returns the median of RatiosTo(i), or 0 when there is none.
func (r *Result) RatioTo(i int) float64 { return median(r.RatiosTo(i)) }

// Ratio returns the ratio to the first baseline.
func (r *Result) Ratio() float64 { return r.RatioTo(0) }

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile returns the q-quantile of xs (linear interpolation between
// order statistics), 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// wideSpread reports whether xs are too scattered for their median to be
// trusted: an interquartile range above maxRelIQR of the median.
func wideSpread(xs []float64) bool {
	m := median(xs)
	if m == 0 || len(xs) < 2 {
		return false
	}
	iqr := quantile(xs, 0.75) - quantile(xs, 0.25)
	return iqr/m > maxRelIQR
}

// scattered reports whether memlink's figures or their ratios to the first
// baseline are too scattered (only the ratios where the figure is a
// percentage around zero, as in the metrics row).
func (r *Result) scattered() bool {
	if len(r.Ratios) > 0 {
		return wideSpread(r.Ratios)
	}
	return wideSpread(r.Values) || wideSpread(r.RatiosTo(0))
}

// maxRelIQR is the interquartile range, relative to the median, above which
// a variant gets more repetitions (see runVariant).
const maxRelIQR = 0.2

// extraRepsFactor bounds the repetitions of a variant whose spread stays
// wide: at most this many times the planned count.
const extraRepsFactor = 3

// sample is what one repetition of a measurement yields.
type sample struct {
	value float64
	// base holds the baselines' figures, in the row's baseline order.
	base []float64
	// ratio, when set, is the repetition's own ratio (see Result.Ratios).
	ratio float64
	// allocs and baseAllocs are allocations per operation; counted tells
	// whether they were measured.
	allocs     float64
	baseAllocs []float64
	counted    bool
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

// baseline describes one baseline of a row: its column name and unit.
type baseline struct {
	name, unit string
}

// row is one kind of operation the suite measures: a section of the
// table. A new kind of measurement (host calls, a module in another
// language) is one more entry in rows: an id, a title, its baselines and a
// function returning its variants.
type row struct {
	id   string
	unit string
	// title and legend describe the row in the table's section header;
	// legend names what each baseline is.
	title, legend string
	// baselines lists the row's baselines as measured in this run (the
	// cgo one only in a cgo build).
	baselines func(s *suite) []baseline
	// extra names the table's extra column for the row ("allocs").
	extra string
	// reps returns how many repetitions a variant runs before its spread
	// is looked at (default: -count).
	reps     func(s *suite) int
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
	// cgo tells whether the cgo yardstick is in this binary.
	cgo bool
	// total and done count the variants for the progress line.
	total, done int
}

// run measures the configured rows in order and returns their results.
// It stops early, returning what it has, when ctx is done.
func (s *suite) run(ctx context.Context) []Result {
	type planned struct {
		r  *row
		vs []variant
	}
	var plan []planned
	for _, id := range s.cfg.rows {
		r := rowByID(id)
		vs := r.variants(s)
		plan = append(plan, planned{r, vs})
		s.total += len(vs)
	}
	var results []Result
	for _, p := range plan {
		var rs []Result
		for _, v := range p.vs {
			if ctx.Err() != nil {
				break
			}
			rs = append(rs, s.runVariant(ctx, p.r, v))
			s.done++
		}
		if p.r.finish != nil {
			p.r.finish(rs)
		}
		results = append(results, rs...)
		if ctx.Err() != nil {
			break
		}
	}
	return results
}

// runVariant sets v up, runs its repetitions and tears it down. A variant
// whose figures are still scattered after the planned repetitions (see
// wideSpread) runs more, up to extraRepsFactor times as many, so that one
// disturbed repetition does not move the median.
func (s *suite) runVariant(ctx context.Context, r *row, v variant) Result {
	bs := r.baselines(s)
	res := Result{
		Row: r.id, Variant: v.name, Unit: r.unit,
		Published: v.published, Kind: v.kind, Goroutines: v.goroutines,
	}
	for _, b := range bs {
		res.Baselines = append(res.Baselines, Series{Name: b.name, Unit: b.unit})
	}
	reps := s.cfg.count
	if r.reps != nil {
		reps = r.reps(s)
	}
	s.progress.step(s.done+1, s.total, r.id, v.name, 0, reps)
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
	for k := 0; k < reps*extraRepsFactor; k++ {
		if k >= reps && !res.scattered() {
			break
		}
		if err := ctx.Err(); err != nil {
			res.Err = err
			break
		}
		s.progress.step(s.done+1, s.total, r.id, v.name, k+1, max(reps, k+1))
		smp, err := measure(k)
		if err != nil {
			res.Err = err
			break
		}
		if len(smp.base) != len(bs) {
			res.Err = errors.New("internal error: a measurement returned the wrong number of baselines")
			break
		}
		res.Values = append(res.Values, smp.value)
		for i, b := range smp.base {
			res.Baselines[i].Values = append(res.Baselines[i].Values, b)
		}
		if smp.ratio != 0 {
			res.Ratios = append(res.Ratios, smp.ratio)
		}
		if smp.counted {
			res.Allocs = append(res.Allocs, smp.allocs)
			for i, a := range smp.baseAllocs {
				res.Baselines[i].Allocs = append(res.Baselines[i].Allocs, a)
			}
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
