package memlink

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/memlink/memlink-go/hotreload"
)

// loadErrorReasons are the values LoadErrorReason returns, in a fixed order.
var loadErrorReasons = []string{"not_found", "invalid_module", "missing_symbol", "abi_version", "init_failed",
	"digest_mismatch", "insecure", "other"}

// LoadErrorReasons lists every value LoadErrorReason can return.
func LoadErrorReasons() []string { return slices.Clone(loadErrorReasons) }

// reloadResults are the possible reload results, in a fixed order.
var reloadResults = [...]hotreload.Result{hotreload.ResultOK, hotreload.ResultRolledBack, hotreload.ResultDrainTimeout}

type runtimeCounters struct {
	loads, unloads atomic.Uint64
	loadErrs       [8]atomic.Uint64 // indexed like loadErrorReasons
	loadDur        counters         // only hist and sumNanos are used
	reloadDur      counters         // only hist and sumNanos are used
}

func (c *runtimeCounters) loadErr(err error) {
	r := LoadErrorReason(err)
	c.loadErrs[slices.Index(loadErrorReasons, r)].Add(1)
}

// Error kinds counted per module (see ModuleStats.Errors).
const (
	errKindCode      = iota // the module returned a non-zero code
	errKindPanicked         // code -5
	errKindCorrupted        // canary overwritten or output length lie
	numErrKinds
)

// numBuckets is the number of finite buckets of the call-duration
// duration histogram (calls, loads, reloads); Histogram.Bounds lists them.
const numBuckets = 13

// callBuckets are the upper bounds, in seconds, of the sampled
// call-duration histogram (ModuleStats.Latency): 100ns times powers of 4.
var callBuckets = [numBuckets]float64{
	100e-9, 400e-9, 1.6e-6, 6.4e-6, 25.6e-6, 102.4e-6, 409.6e-6,
	1.6384e-3, 6.5536e-3, 26.2144e-3, 104.8576e-3, 419.4304e-3, 1.6777216,
}

// lifecycleBuckets are the upper bounds, in seconds, of the load and reload
// duration histograms, which take from tens of microseconds to a drain
// timeout.
var lifecycleBuckets = [numBuckets]float64{
	100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 1, 10, 60,
}

var callBucketNanos, lifecycleBucketNanos = nanos(&callBuckets), nanos(&lifecycleBuckets)

func nanos(bounds *[numBuckets]float64) *[numBuckets]int64 {
	var ns [numBuckets]int64
	for i, b := range bounds {
		ns[i] = int64(b * 1e9)
	}
	return &ns
}

// counters are the error and latency statistics of the calls made through
// one lane. A lane's owner updates them with a plain load and store (it is
// the only writer); shared counters (the overflow lane) use atomic adds.
// The gate counts the calls themselves.
type counters struct {
	errs     [numErrKinds]atomic.Uint64
	hist     [numBuckets + 1]atomic.Uint64
	sumNanos atomic.Uint64
}

func bump(c *atomic.Uint64, shared bool, n uint64) {
	if shared {
		c.Add(n)
		return
	}
	c.Store(c.Load() + n)
}

func (c *counters) observe(d time.Duration, shared bool, bounds *[numBuckets]int64) {
	ns := int64(d)
	i := 0
	for i < len(bounds) && ns > bounds[i] {
		i++
	}
	bump(&c.hist[i], shared, 1)
	bump(&c.sumNanos, shared, uint64(max(ns, 0)))
}

// addTo accumulates c into the plain totals t.
func (c *counters) addTo(t *totals) {
	for i := range c.errs {
		t.errs[i] += c.errs[i].Load()
	}
	for i := range c.hist {
		t.hist[i] += c.hist[i].Load()
	}
	t.sumNanos += c.sumNanos.Load()
}

// totals is a plain snapshot of counters.
type totals struct {
	calls    uint64
	errs     [numErrKinds]uint64
	hist     [numBuckets + 1]uint64
	sumNanos uint64
	restarts [numRestartReasons]uint64 // isolated modules' lost workers
}

func (t *totals) add(o *totals) {
	t.calls += o.calls
	for i := range t.errs {
		t.errs[i] += o.errs[i]
	}
	for i := range t.restarts {
		t.restarts[i] += o.restarts[i]
	}
	for i := range t.hist {
		t.hist[i] += o.hist[i]
	}
	t.sumNanos += o.sumNanos
}

// Histogram is a snapshot of a duration histogram with cumulative-free
// buckets: Counts[i] counts observations no greater than Bounds[i] (and
// greater than the previous bound); the last element of Counts counts those
// above every bound.
type Histogram struct {
	// Bounds are the upper bounds of the buckets, in seconds.
	Bounds []float64
	// Counts has len(Bounds)+1 elements.
	Counts []uint64
	// Sum is the total of all observations.
	Sum time.Duration
}

// Count returns the number of observations.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

func histogramOf(t *totals, bounds *[numBuckets]float64) Histogram {
	return Histogram{Bounds: slices.Clone(bounds[:]), Counts: slices.Clone(t.hist[:]), Sum: time.Duration(t.sumNanos)}
}

// ReloadResults lists every reload result a ModuleStats.Reloads map has a
// key for.
func ReloadResults() []hotreload.Result { return slices.Clone(reloadResults[:]) }

// Stats is a snapshot of a runtime's counters, for metrics collectors.
type Stats struct {
	// Loaded is the number of modules loaded now.
	Loaded int
	// Loads and Unloads count successful loads and unloads since New.
	Loads, Unloads uint64
	// LoadErrors counts failed loads by LoadErrorReason.
	LoadErrors map[string]uint64
	// LoadDuration is the histogram of load durations (every load is
	// timed), with bounds from 100µs to 60s.
	LoadDuration Histogram
	// ReloadDuration is the histogram of reload durations (every reload is
	// timed, whatever its result).
	ReloadDuration Histogram
	// Modules has one element per loaded module, in load order.
	Modules []ModuleStats
}

// Usage is the cheap part of a module's statistics, for one handle: see
// Runtime.Usage. Its fields mean what ModuleStats's of the same names mean.
type Usage struct {
	// Calls counts the calls made on the handle, across reloads,
	// including calls that returned an error.
	Calls uint64
	// InFlight counts the calls running in the module now.
	InFlight int
	// Generation is 1 after Load and grows by one with every successful
	// Reload.
	Generation uint64
	// Reloads counts reloads by result: "ok", "rolled_back" and
	// "drain_timeout" (hotreload.Result values). Every key is present.
	Reloads map[string]uint64
	// ArenaBytes is the off-heap memory the module's call buffers take:
	// in process, the buffers of the lanes calls have used so far (0
	// before the first call); for an isolated module, the region shared
	// with its worker, mapped whole when the worker starts.
	ArenaBytes int
}

func reloadCounts(n *[len(reloadResults)]uint64) map[string]uint64 {
	m := make(map[string]uint64, len(reloadResults))
	for i, r := range reloadResults {
		m[string(r)] = n[i]
	}
	return m
}

// ModuleStats is a snapshot of one loaded module's counters.
type ModuleStats struct {
	// Handle is the module's handle.
	Handle Handle
	// Name is the base name without extension of the file the handle was
	// first loaded from ("echo" for "/opt/echo.so"); it stays the same
	// across reloads, so metrics labelled with it stay continuous. Two
	// loaded modules can share a name; Handle tells them apart.
	Name string
	// Path is the file the current version was loaded from.
	Path string
	// Calls counts calls, across reloads.
	Calls uint64
	// CodeErrors counts calls that returned a non-zero code other than -5;
	// Panics those that returned -5; Corruptions those that overran their
	// output buffer or lied about its length.
	CodeErrors, Panics, Corruptions uint64
	// InFlight counts the calls running now.
	InFlight int
	// Generation is the current version's generation (1 after Load).
	Generation uint64
	// Reloads counts reloads by result: "ok", "rolled_back" and
	// "drain_timeout" (hotreload.Result values). Every key is present.
	Reloads map[string]uint64
	// ArenaBytes is the off-heap memory the module's call buffers take
	// (see Usage.ArenaBytes).
	ArenaBytes int
	// Latency is the histogram of sampled call durations (see
	// WithLatencySampling), with bounds from 100ns to 1.68s.
	Latency Histogram
	// WorkerRestarts counts, for a module loaded WithIsolation, the worker
	// processes lost abnormally, by reason: every one of
	// WorkerRestartReasons is a key. A loss is counted when the worker
	// ends, whether a new one is started (on the next call) or not
	// (RestartNever); an Unload is not counted. Counts continue across
	// reloads. Nil for a module loaded in process.
	WorkerRestarts map[string]uint64
}

// Stats takes a snapshot of the runtime's counters. It reads atomics and
// takes each module's own lock briefly; it never blocks calls.
func (rt *Runtime) Stats() Stats {
	s := Stats{
		Loads:      rt.stats.loads.Load(),
		Unloads:    rt.stats.unloads.Load(),
		LoadErrors: make(map[string]uint64, len(loadErrorReasons)),
	}
	for i, r := range loadErrorReasons {
		s.LoadErrors[r] = rt.stats.loadErrs[i].Load()
	}
	var lt totals
	rt.stats.loadDur.addTo(&lt)
	s.LoadDuration = histogramOf(&lt, &lifecycleBuckets)
	var rt2 totals
	rt.stats.reloadDur.addTo(&rt2)
	s.ReloadDuration = histogramOf(&rt2, &lifecycleBuckets)
	for _, h := range rt.Handles() {
		e := rt.lookup(h)
		if e == nil {
			continue
		}
		snap := e.snapshot()
		t := &snap.totals
		ms := ModuleStats{
			Handle: h, Name: e.name, Calls: t.calls,
			CodeErrors: t.errs[errKindCode], Panics: t.errs[errKindPanicked], Corruptions: t.errs[errKindCorrupted],
			InFlight: snap.inFlight, Latency: histogramOf(t, &callBuckets),
			Reloads: reloadCounts(&snap.reloads),
		}
		if cur := snap.cur; cur != nil {
			ms.Path, ms.Generation = cur.source(), cur.gen
			ms.ArenaBytes = cur.mod.arenaBytes()
			if cur.iso != nil {
				ms.WorkerRestarts = workerRestarts(&t.restarts)
			}
		}
		s.Modules = append(s.Modules, ms)
	}
	s.Loaded = len(s.Modules)
	return s
}
