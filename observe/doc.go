// Package observe exports the counters of a memlink runtime as Prometheus
// metrics.
//
// NewCollector wraps a runtime (or anything with a Stats method, see
// Source) in a prometheus.Collector. Register it with a registry of your
// own and serve that registry; the package never uses the global default
// registry:
//
//	rt := memlink.New()
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(observe.NewCollector(rt))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # How values are read
//
// Nothing is pushed to Prometheus while modules are called. The runtime
// keeps its own counters in atomics, and each scrape calls Stats once and
// exports that one snapshot, so the values of a scrape were read together
// and registering a collector adds no work to a call.
//
// # Metrics
//
// Runtime-wide:
//
//	memlink_modules_loaded                gauge      modules loaded now
//	memlink_loads_total                   counter    successful loads
//	memlink_unloads_total                 counter    unloads, by Unload or Close
//	memlink_load_errors_total{reason}     counter    failed loads, by memlink.LoadErrorReason
//	memlink_load_duration_seconds         histogram  every load, successful or not
//	memlink_reload_duration_seconds       histogram  every hot reload, whatever its result
//
// memlink_load_errors_total has a series for every reason in
// memlink.LoadErrorReasons, zero or not.
//
// Per loaded module, labelled module and handle:
//
//	memlink_calls_total                   counter    calls, across reloads, failed ones included
//	memlink_call_errors_total{kind}       counter    failed calls: kind is code, panicked or corrupted
//	memlink_calls_in_flight               gauge      calls running now
//	memlink_reloads_total{result}         counter    reloads: result is ok, rolled_back or drain_timeout
//	memlink_module_generation             gauge      1 after load, one more per successful reload
//	memlink_arena_bytes                   gauge      off-heap memory the call buffers take
//	memlink_call_duration_seconds         histogram  sampled call durations
//	memlink_worker_restarts_total{reason} counter    isolated modules' lost workers, by reason
//
// memlink_worker_restarts_total exists only for modules loaded with
// memlink.WithIsolation, with a series for every reason in
// memlink.WorkerRestartReasons (crash, memory, timeout, canceled).
//
// The module label is the module's file base name without its extension
// ("echo" for /opt/modules/echo.so). Two loaded modules can share a name,
// for example two copies of one library in different directories, so every
// per-module series also carries the handle label, memlink.Handle's String
// form ("#1.1"): when module names repeat, tell the modules apart by
// handle. Handles are never reused while a runtime lives, so every load
// starts new series: a program that loads and unloads modules over and
// over creates as many series as it makes loads, over time.
//
// A module's series exist only while it is loaded: once it is unloaded, its
// series disappear from the next scrape (memlink_unloads_total counts the
// unload). A hot reload keeps the handle and the counters: a module's
// series go on across reloads without resetting, and
// memlink_module_generation shows which version is running.
//
// All durations are in seconds.
//
// # Latency sampling
//
// Reading the clock costs more than a call into a small module, so the
// runtime times only some calls: one in 256 by default, per lane. Change
// this with memlink.WithLatencySampling when creating the runtime (1 times
// every call, 0 turns timing off). memlink_call_duration_seconds_count
// therefore counts the sampled calls, not all calls; memlink_calls_total
// counts them all. Loads and reloads are rare and are timed every time.
package observe
