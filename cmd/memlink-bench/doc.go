// Command memlink-bench measures what memlink costs: loading, calling,
// unloading and hot-reloading native modules, calls from many goroutines,
// memory per loaded module and the overhead of the Prometheus collector.
// Every figure is printed beside a raw baseline measured in the same run on
// the same machine (the dynamic loader and purego.SyscallN used directly,
// with no runtime around them) and the ratio of the two.
//
// Usage:
//
//	go run ./cmd/memlink-bench [flags]
//
// On first use it finds a C compiler (CC, then "go env CC", then cc, gcc or
// clang on PATH), compiles the bundled C modules from the sources embedded
// in package modules into the user cache directory, and reuses them on
// later runs until a source, the compiler or the target changes. Without a
// compiler it says how to install one; -modules DIR runs on prebuilt
// modules instead (echo, binary and counter, named as the platform names
// shared libraries: echo.so, echo.dylib or echo.dll).
//
// # Flags
//
//	-duration D     time spent on each side of one measurement (default 200ms)
//	-count N        repetitions of every measurement (default 5)
//	-rows LIST      rows to run, comma-separated (default all):
//	                load, call, unload, reload, concurrent, memory, metrics
//	-payloads LIST  call payload sizes in bytes (default 0,64,256,1024,4096)
//	-goroutines L   goroutine counts of the concurrent row (default 1,2,4,8,16)
//	-json           print one JSON object per result on stdout (the table then
//	                goes to stderr)
//	-metrics-addr A serve /metrics for the runtime under test on A (":9090")
//	-quick          a short run (under 20 seconds): -duration 20ms -count 3,
//	                unless those flags are given too
//	-modules DIR    use the prebuilt modules in DIR instead of compiling
//	-cache DIR      where compiled modules are kept (default: the user cache
//	                directory, <cache>/memlink-go/modules/<goos>_<goarch>)
//
// While rows run, a progress line on stderr names the row, the variant and
// the repetition (rewritten in place on a terminal, one line per step
// otherwise). The exit status is 0 when every measurement succeeded, 1 when
// any failed (the others still run and are reported) or the modules could
// not be prepared, and 2 for bad flags.
//
// # Rows
//
// Each measurement runs -count times. One repetition measures memlink and
// then its baseline (in alternating order from one repetition to the next)
// for -duration each, so machine drift affects both alike. A figure is the
// median of the repetitions; the spread is their minimum and maximum.
//
//	load        µs per Load of the echo module (resolve, validate, private
//	            copy, open, bind, init); baseline: Dlopen and three Dlsym
//	            (LoadLibraryEx and GetProcAddress on Windows) of the file
//	call        ns per CallAppend with a reused destination, per ABI (1:
//	            echo "process" through memlink_call; 2: binary "echo"
//	            through memlink_call_v2) and payload size, with heap
//	            allocations per call; baseline: purego.SyscallN of the same
//	            symbol with a reused argument slice
//	unload      µs per Unload (drain, shutdown, close); baseline: Dlclose
//	reload      µs per Reload of the counter module, stateless and stateful,
//	            with 0 or 100 goroutines calling the handle throughout (a
//	            1 ms "sleep" inside the module, then "increment"), and the
//	            mean number of calls in flight at the switch;
//	            baseline: Load and Unload of the same module under the same
//	            callers. Stateful runs also check that no increment was lost
//	concurrent  calls/s of 64-byte echo calls from N goroutines, on one
//	            shared handle or one handle per goroutine, and the scaling
//	            relative to one goroutine; baseline: purego.SyscallN from N
//	            goroutines
//	memory      KB of resident memory (VmRSS, Linux only) per loaded module,
//	            loading 100 private copies of echo; baseline: Dlopen of 100
//	            copies of the file
//	metrics     % added to a 64-byte call by an observe collector scraped
//	            every 10 ms; baseline: ns per call with no collector, in
//	            windows interleaved with the scraped ones
//
// The table also shows, for orientation, the figures published by the Rust
// reference implementation for the nearest row. They were measured on
// another machine and are not a comparison.
//
// # JSON output
//
// With -json, stdout carries one JSON object per line, one per row variant,
// in the order the rows ran:
//
//	row              string  row id: load, call, unload, reload, concurrent,
//	                         memory or metrics
//	variant          string  e.g. "echo", "abi1/64B", "stateful/100",
//	                         "same-handle/8", "per-goroutine/8"
//	status           string  "ok", "n/a" (not measurable here; see error) or
//	                         "failed" (see error)
//	error            string  why the variant failed or is n/a (omitted on ok)
//	unit             string  unit of median, min and max: "µs", "ns/call",
//	                         "calls/s", "KB" or "%"
//	median, min, max number  memlink's figure over the repetitions
//	baseline         number  median of the baseline
//	baseline_min     number  minimum of the baseline
//	baseline_max     number  maximum of the baseline
//	baseline_unit    string  unit of the baseline figures
//	ratio            number  median / baseline; for metrics, ns per call with
//	                         the collector / ns per call without it
//	allocs           number  call: heap allocations per memlink call
//	                         (runtime.MemStats.Mallocs delta / calls)
//	baseline_allocs  number  call: the same for the baseline
//	scaling          number  concurrent: median / median at 1 goroutine
//	baseline_scaling number  concurrent: the same for the baseline
//	in_flight        number  reload: mean calls in flight when the handle
//	                         switched (hotreload.Report.Drained)
//	n                number  repetitions the figures are taken over
//	ops              number  memlink operations measured, all repetitions
//	published        string  the reference's published figure for this
//	                         variant (another machine; orientation only)
//
// The numbers are omitted when status is not "ok"; allocs, scaling,
// in_flight and published appear only on the rows they belong to. The
// command internal/cmd/perfdoc turns this output into docs/performance.md.
package main
