// Command memlink-bench measures what memlink costs: loading, calling,
// unloading and hot-reloading native modules, calls from many goroutines,
// calls into a module isolated in a worker process, memory per loaded module
// and the overhead of the Prometheus collector. Every figure is printed
// beside raw baselines measured in the same run on the same machine: cgo
// calling the same C function (when this binary is built with cgo, as
// "go run" is wherever a C compiler is found), the dynamic loader and
// purego.SyscallN used directly with no runtime around them.
//
// A ratio always means the same thing: memlink's cost divided by the
// baseline's, taken per repetition (memlink and the baseline measured side
// by side) and then the median, so above 1 means memlink takes longer.
// The concurrent row reports nanoseconds per call for that reason, with
// the speed-up over one goroutine in a column of its own.
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
//	-rounds N       rounds of the call row's interleaved harness (default 8)
//	-calls N        calls per side in each round of the call row (default
//	                300000)
//	-rows LIST      rows to run, comma-separated (default all): load, call,
//	                unload, reload, concurrent, isolated, host, rust,
//	                memory, metrics
//	-payloads LIST  call payload sizes in bytes (default 0,64,256,1024,4096)
//	-goroutines L   goroutine counts of the concurrent row (default 1,2,4,8,16)
//	-json           print one JSON object per result on stdout (the table then
//	                goes to stderr)
//	-progress MODE  auto (default: one line rewritten in place on a terminal,
//	                one line per variant elsewhere, none with -json), tty,
//	                lines or off
//	-metrics-addr A serve /metrics for the runtime under test on A (":9090")
//	-quick          a short run (under 20 seconds on a quiet machine):
//	                -duration 20ms -count 3 -calls 100000, unless those flags
//	                are given too
//	-modules DIR    use the prebuilt modules in DIR instead of compiling
//	-cache DIR      where compiled modules are kept (default: the user cache
//	                directory, <cache>/memlink-go/modules/<goos>_<goarch>)
//
// Whether the terminal is one is asked with the terminal-attributes ioctl
// (GetConsoleMode on Windows). The exit status is 0 when every
// measurement succeeded, 1 when any failed (the others still run and are
// reported) or the modules could not be prepared, and 2 for bad flags.
//
// # Rows
//
// Each measurement runs -count times (the call row: -rounds). One
// repetition measures memlink and then its baselines, in an order that
// rotates from one repetition to the next, so machine drift affects all
// alike. A figure is the median of the repetitions; the spread is their
// minimum and maximum. A variant whose figures (or ratios) are still
// scattered after its planned repetitions, an interquartile range above
// 20% of the median, runs more, up to three times as many.
//
//	load        µs per Load of the echo module (resolve, validate, private
//	            copy, open, bind, init); baseline dlopen: Dlopen and three
//	            Dlsym (LoadLibraryEx and GetProcAddress on Windows)
//	call        ns per CallAppend with a reused destination, per ABI (1:
//	            echo "process" through memlink_call; 2: binary "echo"
//	            through memlink_call_v2) and payload size, with heap
//	            allocations per call; baselines cgo (a static inline C
//	            function calling the same symbol through a pointer, package
//	            internal/cgobench; cgo builds only) and purego
//	            (purego.SyscallN of the symbol with a reused argument slice).
//	            The harness of issue 20: a repetition is a round of -calls
//	            calls on each side in turn, and the ratio is the median of
//	            the per-round ratios
//	unload      µs per Unload (drain, shutdown, close); baseline dlclose
//	reload      µs per Reload of the counter module, stateless and stateful,
//	            with 0 or 100 goroutines calling the handle throughout (a
//	            1 ms "sleep" inside the module, then "increment"), and the
//	            mean number of calls in flight at the switch; baseline
//	            cycle: Load and Unload of the same module under the same
//	            callers. Stateful runs also check that no increment was lost
//	concurrent  ns per 64-byte echo call with N goroutines calling at once
//	            (wall time over all their calls), on one shared handle or
//	            one handle per goroutine, and the speed-up over one
//	            goroutine; baselines cgo and purego from N goroutines
//	isolated    ns per 64-byte and 4-KiB echo call on a module loaded with
//	            WithIsolation; baselines inproc (the same call in process)
//	            and pipe (a round trip of the same bytes over two pipes to a
//	            child process, this program started again, that echoes
//	            them with blocking reads and writes; Unix only). go-plugin,
//	            the usual alternative, is measured by the separate module
//	            internal/isolate/gopluginbench, so that it stays out of
//	            memlink-go's go.mod
//	host        ns per host call (a module calling a Go function through
//	            its memlink_host table, 16 bytes each way), in process and
//	            isolated, and per log record in process: kv makes 64 in
//	            one module call; baseline purego (the same kv code bound to
//	            raw purego.NewCallback functions)
//	rust        ns per 64-byte call of "process" on the Rust SDK's echo
//	            (modules/rust, ABI 2), built with cargo beside the C modules
//	            (-modules: DIR/rust_echo.so or the platform's name for it);
//	            measured and compared like the call row; n/a without a
//	            Rust toolchain
//	memory      KB of resident memory (VmRSS, Linux only) per loaded module,
//	            loading 100 private copies of echo; baseline dlopen of 100
//	            copies of the file
//	metrics     % added to a 64-byte call by an observe collector scraped
//	            every 10 ms; baseline bare: ns per call with no collector,
//	            in windows interleaved with the scraped ones
//
// A new kind of measurement (host calls, a module written in Rust) is one
// entry in the rows table (rows.go): an id, a title, its baselines and a
// function returning its variants.
//
// The table also names, for orientation, the figures published by the
// Rust reference implementation for the nearest row. They were measured on
// another machine and are not a comparison.
//
// # JSON output
//
// With -json, stdout carries one JSON object per line, one per row variant,
// in the order the rows ran:
//
//	row              string  row id (see Rows)
//	variant          string  e.g. "echo", "abi1/64B", "stateful/100",
//	                         "same-handle/8", "per-goroutine/8"
//	status           string  "ok", "n/a" (not measurable here; see error) or
//	                         "failed" (see error)
//	error            string  why the variant failed or is n/a (omitted on ok)
//	unit             string  unit of median, min and max: "µs", "ns/call",
//	                         "KB" or "%"
//	median, min, max number  memlink's figure over the repetitions
//	baseline_name    string  the first baseline, which the baseline and
//	                         ratio fields below describe
//	baseline         number  median of the first baseline
//	baseline_min     number  minimum of the first baseline
//	baseline_max     number  maximum of the first baseline
//	baseline_unit    string  unit of the first baseline's figures
//	ratio            number  memlink's cost / the first baseline's, median of
//	                         the per-repetition ratios; for metrics, ns per
//	                         call with the collector / without it
//	ratio_min        number  smallest per-repetition ratio
//	ratio_max        number  largest per-repetition ratio
//	baselines        array   every baseline, the first one too: name, unit,
//	                         median, min, max, ratio, ratio_min, ratio_max,
//	                         and allocs or scaling on the rows that have
//	                         them (figures omitted for a baseline that is
//	                         not measurable here)
//	allocs           number  call: heap allocations per memlink call
//	                         (runtime.MemStats.Mallocs delta / calls)
//	baseline_allocs  number  call: the same for the first baseline
//	scaling          number  concurrent: speed-up, ns per call at 1
//	                         goroutine / ns per call here
//	baseline_scaling number  concurrent: the same for the first baseline
//	in_flight        number  reload: mean calls in flight when the handle
//	                         switched (hotreload.Report.Drained)
//	n                number  repetitions the figures are taken over
//	ops              number  memlink operations measured, all repetitions
//	published        string  the reference's published figure for this
//	                         variant (another machine; orientation only)
//
// The numbers are omitted when status is not "ok"; allocs, scaling,
// in_flight and published appear only on the rows they belong to. The
// command internal/cmd/perfdoc turns this output into docs/performance.md
// and its plots (task perfdoc).
package main
