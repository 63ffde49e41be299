package observe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/memlink/memlink-go/memlink"
)

// reloadResults returns the values of memlink_reloads_total's result label.
func reloadResults() []string {
	var rs []string
	for _, r := range memlink.ReloadResults() {
		rs = append(rs, string(r))
	}
	return rs
}

// Source is what a Collector reads: anything that can take a snapshot of a
// memlink runtime's counters. *memlink.Runtime satisfies it.
type Source interface {
	Stats() memlink.Stats
}

// Label values of memlink_call_errors_total's kind label.
const (
	kindCode      = "code"
	kindPanicked  = "panicked"
	kindCorrupted = "corrupted"
)

// collector exports one memlink.Stats snapshot per Collect.
type collector struct {
	src     Source
	reasons []string // memlink.LoadErrorReasons(), fixed at construction
	results []string // memlink.ReloadResults(), fixed at construction

	modulesLoaded  *prometheus.Desc
	loads          *prometheus.Desc
	unloads        *prometheus.Desc
	loadErrors     *prometheus.Desc
	loadDuration   *prometheus.Desc
	reloadDuration *prometheus.Desc

	calls        *prometheus.Desc
	callErrors   *prometheus.Desc
	inFlight     *prometheus.Desc
	reloads      *prometheus.Desc
	generation   *prometheus.Desc
	arenaBytes   *prometheus.Desc
	callDuration *prometheus.Desc

	restartReasons []string // memlink.WorkerRestartReasons(), fixed at construction
	workerRestarts *prometheus.Desc
}

// NewCollector returns a prometheus.Collector that exports the counters of
// src (normally a *memlink.Runtime). Every Collect takes one src.Stats()
// snapshot, so the values of a scrape are read together, at scrape time.
// Register it with a registry of your own; NewCollector never touches the
// global default registry. It panics if src is nil.
func NewCollector(src Source) prometheus.Collector {
	if src == nil {
		panic("observe: NewCollector(nil)")
	}
	module := []string{"module", "handle"}
	with := func(extra string) []string { return []string{"module", "handle", extra} }
	return &collector{
		src:     src,
		reasons: memlink.LoadErrorReasons(),
		results: reloadResults(),

		modulesLoaded: prometheus.NewDesc("memlink_modules_loaded",
			"Number of modules loaded now.", nil, nil),
		loads: prometheus.NewDesc("memlink_loads_total",
			"Modules loaded successfully since the runtime was created.", nil, nil),
		unloads: prometheus.NewDesc("memlink_unloads_total",
			"Modules unloaded since the runtime was created, by Unload or Close.", nil, nil),
		loadErrors: prometheus.NewDesc("memlink_load_errors_total",
			"Loads that failed, by reason.", []string{"reason"}, nil),
		loadDuration: prometheus.NewDesc("memlink_load_duration_seconds",
			"Duration of every load, successful or not.", nil, nil),
		reloadDuration: prometheus.NewDesc("memlink_reload_duration_seconds",
			"Duration of every hot reload, whatever its result.", nil, nil),

		calls: prometheus.NewDesc("memlink_calls_total",
			"Calls made on a loaded module, across reloads, failed ones included.", module, nil),
		callErrors: prometheus.NewDesc("memlink_call_errors_total",
			"Calls that failed, by kind: code (a non-zero result code other than -5), "+
				"panicked (code -5) or corrupted (the module overran its output buffer or misreported its length).",
			with("kind"), nil),
		inFlight: prometheus.NewDesc("memlink_calls_in_flight",
			"Calls running in the module now.", module, nil),
		reloads: prometheus.NewDesc("memlink_reloads_total",
			"Hot reloads of the module, by result.", with("result"), nil),
		generation: prometheus.NewDesc("memlink_module_generation",
			"Generation of the module's current version: 1 after load, one more after each successful reload.", module, nil),
		arenaBytes: prometheus.NewDesc("memlink_arena_bytes",
			"Off-heap memory the module's call buffers take, in bytes: the lanes calls have used in process, the region shared with the worker when isolated.", module, nil),
		callDuration: prometheus.NewDesc("memlink_call_duration_seconds",
			"Duration of sampled calls (see memlink.WithLatencySampling); the count is of sampled calls, not of all calls.",
			module, nil),

		restartReasons: memlink.WorkerRestartReasons(),
		workerRestarts: prometheus.NewDesc("memlink_worker_restarts_total",
			"Worker processes of an isolated module (memlink.WithIsolation) lost abnormally, by reason: "+
				"crash, memory (ran into its memory limit), timeout or canceled (killed because of a call).",
			with("reason"), nil),
	}
}

// Describe sends the descriptor of every metric the collector exports.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.modulesLoaded, c.loads, c.unloads, c.loadErrors, c.loadDuration, c.reloadDuration,
		c.calls, c.callErrors, c.inFlight, c.reloads, c.generation, c.arenaBytes, c.callDuration,
		c.workerRestarts,
	} {
		ch <- d
	}
}

// Collect takes one snapshot of the source and sends its metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()

	ch <- prometheus.MustNewConstMetric(c.modulesLoaded, prometheus.GaugeValue, float64(s.Loaded))
	ch <- prometheus.MustNewConstMetric(c.loads, prometheus.CounterValue, float64(s.Loads))
	ch <- prometheus.MustNewConstMetric(c.unloads, prometheus.CounterValue, float64(s.Unloads))
	for _, r := range c.reasons {
		ch <- prometheus.MustNewConstMetric(c.loadErrors, prometheus.CounterValue, float64(s.LoadErrors[r]), r)
	}
	ch <- constHistogram(c.loadDuration, s.LoadDuration)
	ch <- constHistogram(c.reloadDuration, s.ReloadDuration)

	for i := range s.Modules {
		m := &s.Modules[i]
		name, handle := m.Name, m.Handle.String()
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(m.Calls), name, handle)
		ch <- prometheus.MustNewConstMetric(c.callErrors, prometheus.CounterValue, float64(m.CodeErrors), name, handle, kindCode)
		ch <- prometheus.MustNewConstMetric(c.callErrors, prometheus.CounterValue, float64(m.Panics), name, handle, kindPanicked)
		ch <- prometheus.MustNewConstMetric(c.callErrors, prometheus.CounterValue, float64(m.Corruptions), name, handle, kindCorrupted)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(m.InFlight), name, handle)
		for _, r := range c.results {
			ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(m.Reloads[r]), name, handle, r)
		}
		ch <- prometheus.MustNewConstMetric(c.generation, prometheus.GaugeValue, float64(m.Generation), name, handle)
		ch <- prometheus.MustNewConstMetric(c.arenaBytes, prometheus.GaugeValue, float64(m.ArenaBytes), name, handle)
		ch <- constHistogram(c.callDuration, m.Latency, name, handle)
		if m.WorkerRestarts != nil { // isolated modules only
			for _, r := range c.restartReasons {
				ch <- prometheus.MustNewConstMetric(c.workerRestarts, prometheus.CounterValue, float64(m.WorkerRestarts[r]), name, handle, r)
			}
		}
	}
}

// constHistogram converts h into a Prometheus const histogram.
func constHistogram(d *prometheus.Desc, h memlink.Histogram, labelValues ...string) prometheus.Metric {
	count, sum, buckets := cumulative(h)
	return prometheus.MustNewConstHistogram(d, count, sum, buckets, labelValues...)
}

// cumulative turns memlink's per-bucket counts into what Prometheus wants:
// for each finite upper bound, the number of observations at or below it
// (so each bucket includes every bucket before it), plus the total count,
// which is the implicit +Inf bucket, and the sum in seconds.
//
// Counts normally has one element more than Bounds, for the observations
// above every bound. A shorter Counts is read as zeros for the missing
// buckets; any elements beyond len(Bounds) count only towards +Inf.
func cumulative(h memlink.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			count += h.Counts[i]
		}
		buckets[b] = count
	}
	for i := len(h.Bounds); i < len(h.Counts); i++ {
		count += h.Counts[i]
	}
	return count, h.Sum.Seconds(), buckets
}
