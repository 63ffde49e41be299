package main

import (
	"fmt"
	"strings"

	"github.com/memlink/memlink-go/internal/benchresult"
)

// rowDoc describes one memlink-bench row on the page.
type rowDoc struct {
	title string
	// what says what the memlink figure is, baseline what it is set beside.
	what, baseline string
	// extra heads the row's extra column ("" for none).
	extra string
}

// rowDocs describes the rows memlink-bench runs, by id.
var rowDocs = map[string]rowDoc{
	"load": {
		title: "Load",
		what: "Microseconds per `Load` of the echo module: resolve the reference, validate the file, " +
			"copy it to a private path, open it, bind the exports and run `memlink_init`.",
		baseline: "`dlopen`: `Dlopen` and three `Dlsym` of the same file through purego (`LoadLibraryEx` and " +
			"`GetProcAddress` on Windows), with nothing around them.",
	},
	"call": {
		title: "Call",
		what: "Nanoseconds per `CallAppend` with a reused destination, by ABI and payload size: ABI 1 is the " +
			"echo module's method `process` through `memlink_call`, ABI 2 the binary module's method `echo` " +
			"through `memlink_call_v2`. Allocations are heap allocations per call (the change in " +
			"`runtime.MemStats.Mallocs` over the calls).",
		baseline: "`cgo` (in a cgo build): a `static inline` C function calling the same symbol through a " +
			"function pointer (package internal/cgobench); `purego`: `purego.SyscallN` of the same symbol with a " +
			"reused argument slice and output buffer. The three sides run interleaved in one process: a " +
			"repetition is a round of the same number of calls on each side in turn (300,000 by default), the " +
			"order rotating from round to round, and the ratio is the median of the per-round ratios.",
		extra: "allocs/call",
	},
	"unload": {
		title:    "Unload",
		what:     "Microseconds per `Unload` of the echo module: drain the calls in flight, run `memlink_shutdown`, close the library.",
		baseline: "`dlclose`: `Dlclose` (`FreeLibrary` on Windows).",
	},
	"reload": {
		title: "Hot reload",
		what: "Microseconds per `Reload` of the counter module, stateless or stateful (`PreserveState`, " +
			"the counter carried across), while 0 or 100 goroutines call the handle, each sleeping 1 ms " +
			"inside the module and then calling `increment`. The extra column is the mean " +
			"number of calls in flight when the handle switched. A stateful run also checks that no " +
			"increment was lost.",
		baseline: "`cycle`: `Load` and `Unload` of the same module through memlink, with the same callers running.",
		extra:    "in flight",
	},
	"concurrent": {
		title: "Concurrent calls",
		what: "Nanoseconds per 64-byte echo call with N goroutines calling at once, all of them together " +
			"(wall time over the calls made), on one shared handle (`same-handle/N`) or on one handle per " +
			"goroutine (`per-goroutine/N`): a cost, like every other row, so the ratio reads the same way. " +
			"The speed-up is ns per call at one goroutine over ns per call at N (calls per second at N over " +
			"calls per second at one); the plot shows calls per second.",
		baseline: "`cgo` and `purego`: echo's `memlink_call` from as many goroutines, each with its own buffers.",
		extra:    "speed-up",
	},
	"memory": {
		title: "Memory per loaded module",
		what: "Growth of resident memory (`VmRSS`, Linux only) per module while 100 private copies of the " +
			"echo module are loaded (memlink loads from a private copy by default), read after returning " +
			"free Go heap to the system.",
		baseline: "`dlopen`: `Dlopen` of 100 copies of the file.",
	},
	"metrics": {
		title: "Metrics overhead",
		what: "Percentage added to a 64-byte echo call by an `observe` collector registered with a " +
			"Prometheus registry and scraped every 10 ms, against no collector at all. Windows with and " +
			"without alternate within each repetition so that machine drift falls on both alike; an " +
			"overhead within noise can come out negative. The ratio is ns per call with the collector " +
			"over ns per call without.",
		baseline: "`bare`: nanoseconds per call with no collector.",
	},
	"rust": {
		title: "A module in Rust",
		what: "Nanoseconds per 64-byte `CallAppend` of `process` on the Rust SDK's echo example " +
			"(modules/rust, ABI 2, built with cargo), measured like the call row; compare the call row's " +
			"`abi2/64B` for the same work in C. n/a where there is no Rust toolchain.",
		baseline: "`cgo` and `purego`: the Rust module's `memlink_call_v2`, as in the call row.",
		extra:    "allocs/call",
	},
	"host": {
		title: "Host calls",
		what: "Nanoseconds per host call (the kv module calling the Go function `bench` through its " +
			"`memlink_host` table, 16 bytes of args and of result) in process and in a worker, and per " +
			"16-byte log record in process (to a handler that does nothing): kv makes 64 of them in one " +
			"module call (`many`, `logmany`), so that the module call's own cost is spread over them. " +
			"Allocations are Go heap allocations per host call or record.",
		baseline: "`purego`: the same kv code bound to a host table of plain `purego.NewCallback` functions " +
			"(the call copies its args, the log does nothing), its methods called through `purego.SyscallN`.",
		extra: "allocs",
	},
	"isolated": {
		title: "Isolated calls",
		what: "Nanoseconds per 64-byte and 4-KiB echo `CallAppend` on a module loaded with " +
			"`WithIsolation` (a worker process, default spin).",
		baseline: "`inproc`: the same call on the module loaded in process; `pipe`: a raw round trip of the " +
			"same bytes to a child process over two pipes, with blocking reads and writes on both sides, the " +
			"plainest cross-process call there is. go-plugin (about 200 µs) is not a column: it lives in its " +
			"own module (internal/isolate/gopluginbench) so that the main go.mod stays free of it; its figure " +
			"is in the plot and in the fault isolation section when that run is included.",
	},
}

// render writes the page for p.
func render(b *strings.Builder, p *page) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	// The planned repetitions are the fewest any ok variant ran (the call
	// row counts its rounds apart); variants with a wide spread ran more.
	n, rounds := 0, 0
	for _, r := range p.Results {
		if r.Status != "ok" || r.N == 0 {
			continue
		}
		if r.Row == "call" {
			rounds = minPositive(rounds, r.N)
		} else {
			n = minPositive(n, r.N)
		}
	}

	w("# Performance\n\n")
	w("<!-- Generated by internal/cmd/perfdoc from the -json output of cmd/memlink-bench; do not edit. -->\n\n")
	w("What memlink costs, measured by `cmd/memlink-bench` on one machine. Every figure stands beside raw\n")
	w("baselines measured in the same run: cgo calling the same C function (in a cgo build), the dynamic\n")
	w("loader and `purego.SyscallN` used directly, with no runtime around them. A figure is the median of\n")
	w("the repetitions (%d, more where the spread was wide; the call row: %d rounds at least); the\n", n, rounds)
	w("spread is their minimum and maximum. Within a repetition memlink and its baselines run\n")
	w("one after the other, in an order that changes from one repetition to the next.\n\n")
	w("**Ratio** means one thing everywhere: memlink's cost divided by the baseline's, taken per repetition\n")
	w("and then the median, so above 1 means memlink takes longer (or holds more memory). Rows that measure\n")
	w("throughput report it as a cost per call too, and their speed-up as a column of its own.\n\n")

	w("## Machine and run\n\n")
	cpu := p.Machine.CPU
	if cpu == "" {
		cpu = "unknown (no /proc/cpuinfo)"
	}
	w("| | |\n|---|---|\n")
	w("| CPU | %s |\n", mdEscape(cpu))
	w("| logical CPUs | %d |\n", p.Machine.CPUs)
	w("| platform | %s |\n", p.Machine.Platform)
	w("| Go | %s |\n", p.Machine.GoVersion)
	w("| date | %s |\n", p.Date)
	w("| command | `%s` |\n", p.Command)
	w("| repetitions | %d per figure, the call row %d rounds (at least) |\n\n", n, rounds)
	if p.Note != "" {
		w("%s\n\n", p.Note)
	}

	w("## Results\n")
	published := false
	for i := 0; i < len(p.Results); {
		j := i
		for j < len(p.Results) && p.Results[j].Row == p.Results[i].Row {
			if p.Results[j].Published != "" {
				published = true
			}
			j++
		}
		renderRow(b, p.Results[i:j])
		i = j
	}

	if len(p.Plots) > 0 {
		w("\n## Plots\n\n")
		w("Generated with the page from the same results (`task perfdoc`).\n\n")
		for _, pl := range p.Plots {
			w("![%s](%s)\n\n", pl.alt, pl.name)
		}
	}

	w("\n%s", strings.TrimLeft(whereTheTimeGoes, "\n"))

	if published {
		w("\n## Published figures of the reference\n\n")
		w("The *published* column repeats, beside the nearest variant, the figures the Rust reference\n")
		w("implementation publishes for itself (load 92 µs, a 64-byte call 210 ns, unload 52 µs, reload\n")
		w("237 µs, 2.5 M calls/s on 8 threads, 0.7 MB per module). They were measured on another machine\n")
		w("under conditions this page does not know, so they are there for orientation only: they are not a\n")
		w("comparison, and the raw baselines above are the yardstick.\n")
	}

	verbatim := func(text string) {
		fence := codeFence(text)
		w("%stext\n%s\n%s\n", fence, strings.TrimRight(text, "\n"), fence)
	}
	w("\n## go test benchmarks\n\n")
	if p.Benchstat != "" {
		w("The go test benchmarks of package memlink, compared with benchstat: `BenchmarkCallAppend`\n")
		w("for memlink, `BenchmarkRawSyscallN` for raw purego and `BenchmarkCgo` for cgo calling the\n")
		w("same function; `BenchmarkParallel` and `BenchmarkParallelCgo` for scaling over goroutines;\n")
		w("`BenchmarkLoadUnload` and `BenchmarkModuleRSS` (see its KB/module table; its sec/op is the\n")
		w("time to load 100 copies) for the module lifecycle.\n\n")
		verbatim(p.Benchstat)
	} else {
		w("No benchstat table was included in this run of perfdoc. To add one, run the benchmarks of\n")
		w("package memlink (memlink, raw purego and the cgo yardstick, which needs CGO_ENABLED=1), compare\n")
		w("them with benchstat and pass the output with `-benchstat FILE`:\n\n")
		w("```sh\nCGO_ENABLED=1 go test -run XXX -bench . -benchmem -count 6 ./memlink | tee bench.txt\n")
		w("benchstat bench.txt > benchstat.txt\n```\n")
	}

	w("\n## Fault isolation\n\n")
	w("A 64-byte echo in process, in a worker process (`memlink.WithIsolation`, default spin) and\n")
	w("through a hashicorp/go-plugin net/rpc plugin, in one benchmark run of the separate module\n")
	w("`internal/isolate/gopluginbench` (go-plugin never enters memlink-go's go.mod). The round trip\n")
	w("depends on how the two processes get the CPU: with another busy process on the same cores the\n")
	w("median stays near its quiet figure but the mean and the tail grow with the other process's time\n")
	w("slices (see internal/isolate's package documentation).\n\n")
	if p.Isolation != "" {
		verbatim(p.Isolation)
	} else {
		w("No isolation figures were included in this run of perfdoc. To add them (Linux), run\n\n")
		w("```sh\ncd internal/isolate/gopluginbench\n")
		w("go test -run XXX -bench Echo64 -benchmem -count 6 | tee echo.txt\n")
		w("benchstat echo.txt > isolation.txt\n")
		w("go test -run Footprint -v | grep 'resident memory' >> isolation.txt\n```\n\n")
		w("and pass the file with `-isolation FILE`.\n")
	}

	w("\n## The JSON results\n\n")
	w("`memlink-bench -json` writes one JSON object per line, one per row variant:\n\n")
	w("| field | type | meaning |\n|---|---|---|\n")
	for _, f := range schema {
		w("| `%s` | %s | %s |\n", f[0], f[1], f[2])
	}
	w("\nThe numbers are omitted when `status` is not `ok`; `allocs`, `scaling`, `in_flight` and\n")
	w("`published` appear only on the rows they belong to.\n")

	w("\n## Reproducing\n\n")
	w("```sh\n")
	w("go run ./cmd/memlink-bench                 # the table (about a minute)\n")
	w("go run ./cmd/memlink-bench -quick          # a short run, under 20 seconds\n")
	w("go run ./cmd/memlink-bench -json > results.json\n")
	w("go run ./internal/cmd/perfdoc -in results.json -out docs/performance.md\n")
	w("task perfdoc                               # all of it, with the benchstat tables, into docs/\n")
	w("```\n\n")
	w("memlink-bench compiles the bundled C modules with the C compiler it finds (`$CC`, `go env CC`,\n")
	w("`cc`, `gcc` or `clang`) into the user cache directory and reuses them while they are up to date;\n")
	w("`-modules DIR` runs on prebuilt modules instead. See `go doc ./cmd/memlink-bench` for every flag.\n")
}

// schema documents the fields of a JSON result: name, type, meaning.
var schema = [][3]string{
	{"row", "string", "row id: `load`, `call`, `unload`, `reload`, `concurrent`, `isolated`, `rust`, `memory` or `metrics`"},
	{"variant", "string", "variant within the row, e.g. `abi1/64B`, `stateful/100`, `same-handle/8`"},
	{"status", "string", "`ok`; `n/a` when the figure cannot be measured on the platform; `failed`"},
	{"error", "string", "why the variant failed or is n/a (omitted when `ok`)"},
	{"unit", "string", "unit of `median`, `min` and `max`: `µs`, `ns/call`, `KB` or `%`"},
	{"median", "number", "memlink's figure, median over the repetitions"},
	{"min", "number", "smallest of memlink's repetitions"},
	{"max", "number", "largest of memlink's repetitions"},
	{"baseline_name", "string", "the first baseline's name, which the `baseline*` and `ratio*` fields describe"},
	{"baseline", "number", "the first baseline's median"},
	{"baseline_min", "number", "smallest of the first baseline's repetitions"},
	{"baseline_max", "number", "largest of the first baseline's repetitions"},
	{"baseline_unit", "string", "unit of the first baseline's figures"},
	{"ratio", "number", "memlink's cost over the first baseline's, median of the per-repetition ratios (for `metrics`, ns per call with the collector over ns per call without)"},
	{"ratio_min", "number", "smallest per-repetition ratio"},
	{"ratio_max", "number", "largest per-repetition ratio"},
	{"baselines", "array", "every baseline: `name`, `unit`, `median`, `min`, `max`, `ratio`, `ratio_min`, `ratio_max`, and `allocs` or `scaling` where the row has them; the figures are omitted for a baseline not measurable here (the pipe off Unix)"},
	{"allocs", "number", "`call` only: heap allocations per memlink call"},
	{"baseline_allocs", "number", "`call` only: the same for the first baseline"},
	{"scaling", "number", "`concurrent` only: speed-up, ns per call at 1 goroutine over ns per call here"},
	{"baseline_scaling", "number", "`concurrent` only: the same for the first baseline"},
	{"in_flight", "number", "`reload` only: mean number of calls in flight when the handle switched"},
	{"n", "number", "repetitions the figures are taken over"},
	{"ops", "number", "memlink operations measured over all repetitions"},
	{"published", "string", "the reference's published figure for the nearest variant (another machine)"},
}

// renderRow writes the section of one row.
func renderRow(b *strings.Builder, rs []result) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	id := rs[0].Row
	d, ok := rowDocs[id]
	if !ok {
		d = rowDoc{title: id}
	}
	w("\n### %s (`%s`)\n\n", d.title, id)
	if d.what != "" {
		w("%s Baseline: %s\n\n", d.what, d.baseline)
	}
	pub := false
	var names []string
	for _, r := range rs {
		pub = pub || r.Published != ""
		if len(r.Baselines) > len(names) {
			names = names[:0]
			for _, b := range r.Baselines {
				names = append(names, b.Name)
			}
		}
	}
	head := []string{"variant", "memlink", "min … max"}
	for _, n := range names {
		head = append(head, n, "×"+n)
	}
	head = append(head, "× range")
	if d.extra != "" {
		head = append(head, d.extra)
	}
	if pub {
		head = append(head, "published")
	}
	w("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rs {
		cells := []string{"`" + r.Variant + "`"}
		if r.Status != "ok" || r.Median == nil {
			msg := r.Status
			if r.Error != "" {
				msg += ": " + r.Error
			}
			cells = append(cells, mdEscape(firstLine(msg)))
			for len(cells) < len(head) {
				cells = append(cells, "")
			}
			w("| %s |\n", strings.Join(cells, " | "))
			continue
		}
		cells = append(cells, value(r.Unit, *r.Median), spread(r.Unit, r.Min, r.Max))
		for _, n := range names {
			b := r.Find(n)
			if b == nil || b.Median == nil {
				cells = append(cells, "n/a", "")
				continue
			}
			cells = append(cells, value(b.Unit, *b.Median), ratio(b.Ratio))
		}
		rr := ""
		if r.RatioMin != nil && r.RatioMax != nil {
			rr = fmt.Sprintf("%s … %s", ratioNum(*r.RatioMin), ratioNum(*r.RatioMax))
		}
		cells = append(cells, rr)
		if d.extra != "" {
			cells = append(cells, extra(id, &r))
		}
		if pub {
			cells = append(cells, r.Published)
		}
		w("| %s |\n", strings.Join(cells, " | "))
	}
}

// extra is the text of a row's extra column.
func extra(id string, r *result) string {
	switch id {
	case "call", "rust", "host":
		if r.Allocs == nil {
			return ""
		}
		if *r.Allocs < 0.005 {
			return "0"
		}
		return fmt.Sprintf("%.2f", *r.Allocs)
	case "concurrent":
		if r.Scaling == nil {
			return ""
		}
		s := fmt.Sprintf("%.2f×", *r.Scaling)
		if b := r.Find("cgo"); b != nil && b.Scaling != nil {
			s += fmt.Sprintf(" (cgo %.2f×)", *b.Scaling)
		} else if r.BaselineScaling != nil {
			s += fmt.Sprintf(" (%s %.2f×)", r.BaselineName, *r.BaselineScaling)
		}
		return s
	case "reload":
		if r.InFlight == nil {
			return ""
		}
		return fmt.Sprintf("%.1f", *r.InFlight)
	}
	return ""
}

// value writes v in unit, to about three significant digits.
func value(unit string, v float64) string {
	switch unit {
	case "calls/s":
		div, suffix := benchresult.RateScale(v)
		return benchresult.Sig3(v/div) + suffix
	case "%":
		return fmt.Sprintf("%+.1f %%", v)
	case "ns/call":
		return benchresult.Sig3(v) + " ns"
	}
	return benchresult.Sig3(v) + " " + unit
}

// spread writes "min … max" without the unit.
func spread(unit string, lo, hi *float64) string {
	if lo == nil || hi == nil {
		return ""
	}
	switch unit {
	case "calls/s":
		div, suffix := benchresult.RateScale(*hi)
		return benchresult.Sig3(*lo/div) + " … " + benchresult.Sig3(*hi/div) + suffix
	case "%":
		return fmt.Sprintf("%+.1f … %+.1f", *lo, *hi)
	}
	return benchresult.Sig3(*lo) + " … " + benchresult.Sig3(*hi)
}

func ratio(r *float64) string {
	if r == nil {
		return ""
	}
	return ratioNum(*r) + "×"
}

// ratioNum writes a ratio with two decimals below 10, fewer above.
func ratioNum(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// minPositive returns the smaller of a and b, ignoring a 0 a.
func minPositive(a, b int) int {
	if a == 0 || b < a {
		return b
	}
	return a
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// codeFence returns a fence of backticks longer than any run of backticks
// in s, so that s can sit verbatim inside it.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
