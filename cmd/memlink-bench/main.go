package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/memlink/memlink-go/internal/cgobench"
	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a measurement failed, or the modules are not available
	exitUsage  = 2
)

// Defaults of the flags, and of -quick.
const (
	defaultDuration = 200 * time.Millisecond
	defaultCount    = 5
	quickDuration   = 20 * time.Millisecond
	quickCount      = 3
	// The call row's interleaved harness: rounds, and calls per side in
	// each round (fewer with -quick).
	defaultRounds = 8
	defaultCalls  = 300_000
	quickCalls    = 100_000
)

// cgoAvailable tells whether this binary has the cgo yardstick; a
// variable so that tests can run the suite as a cgo-less build would.
var cgoAvailable = cgobench.Available

// config is what the flags ask for.
type config struct {
	duration    time.Duration
	count       int
	rows        []string
	payloads    []int
	goroutines  []int
	json        bool
	progress    string
	rounds      int
	calls       int
	metricsAddr string
	quick       bool
	modulesDir  string
	cacheDir    string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it parses args, prepares the modules, runs the
// selected rows and reports them on stdout (the table, or JSON) and stderr
// (progress and errors). It returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "memlink-bench:", err)
		return exitUsage
	}

	mods, err := prepareModules(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "memlink-bench:", err)
		return exitFailed
	}

	// The runtime's own records (every reload the reload row makes, a
	// worker restarted on purpose) are the measurement's expected events;
	// a failure reaches the table and stderr as the row's error instead.
	rt := memlink.New(memlink.WithLogger(slog.New(nopHandler{})))
	defer rt.Close()
	if cfg.metricsAddr != "" {
		shutdown, err := serveMetrics(cfg.metricsAddr, rt, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "memlink-bench:", err)
			return exitFailed
		}
		defer shutdown()
	}

	s := &suite{
		cfg:      cfg,
		rt:       rt,
		modules:  mods,
		progress: newProgress(stderr, cfg.progress, cfg.json),
		cgo:      cgoAvailable,
	}
	results := s.run(ctx)
	s.progress.done()

	failed := false
	for _, r := range results {
		if r.Err != nil {
			failed = true
			fmt.Fprintf(stderr, "memlink-bench: %s %s: %v\n", r.Row, r.Variant, r.Err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "memlink-bench: interrupted")
		failed = true
	}

	env := describeEnv(cfg, s.cgo)
	if cfg.json {
		if err := writeJSON(stdout, results); err != nil {
			fmt.Fprintln(stderr, "memlink-bench:", err)
			return exitFailed
		}
		writeTable(stderr, env, results)
	} else {
		writeTable(stdout, env, results)
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// parseFlags turns the command line into a config. Usage errors are
// printed to stderr by the flag package as well as returned.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("memlink-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: memlink-bench [flags]")
		fmt.Fprintln(fs.Output(), "Measures memlink beside raw baselines; see go doc ./cmd/memlink-bench.")
		fs.PrintDefaults()
	}
	var cfg config
	fs.DurationVar(&cfg.duration, "duration", defaultDuration, "time spent on each side of one measurement")
	fs.IntVar(&cfg.count, "count", defaultCount, "repetitions of every measurement")
	rows := fs.String("rows", strings.Join(rowIDs(), ","), "rows to run, comma-separated")
	payloads := fs.String("payloads", "0,64,256,1024,4096", "call payload sizes in bytes, comma-separated")
	goroutines := fs.String("goroutines", "1,2,4,8,16", "goroutine counts of the concurrent row, comma-separated")
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object per result on stdout (the table goes to stderr)")
	fs.StringVar(&cfg.progress, "progress", progressAuto,
		"progress on stderr: auto (tty on a terminal, lines elsewhere, off with -json), tty, lines or off")
	fs.IntVar(&cfg.rounds, "rounds", defaultRounds, "rounds of the call row's interleaved harness")
	fs.IntVar(&cfg.calls, "calls", defaultCalls, "calls per side in each round of the call row (-quick: 100000)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve /metrics for the runtime under test on this address, e.g. :9090")
	fs.BoolVar(&cfg.quick, "quick", false, "a short run (under 20 s): -duration 20ms -count 3 unless given")
	fs.StringVar(&cfg.modulesDir, "modules", "", "directory of prebuilt modules (echo, binary, counter) instead of compiling")
	fs.StringVar(&cfg.cacheDir, "cache", "", "directory for compiled modules (default: the user cache directory)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() != 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		if !set["duration"] {
			cfg.duration = quickDuration
		}
		if !set["count"] {
			cfg.count = quickCount
		}
		if !set["calls"] {
			cfg.calls = quickCalls
		}
	}
	switch cfg.progress {
	case progressAuto, progressTTY, progressLines, progressOff:
	default:
		return cfg, fmt.Errorf("-progress: %q is not auto, tty, lines or off", cfg.progress)
	}
	if cfg.rounds < 1 {
		return cfg, fmt.Errorf("-rounds must be at least 1, not %d", cfg.rounds)
	}
	if cfg.calls < 1 {
		return cfg, fmt.Errorf("-calls must be at least 1, not %d", cfg.calls)
	}
	if cfg.duration <= 0 {
		return cfg, fmt.Errorf("-duration must be positive, not %v", cfg.duration)
	}
	if cfg.count < 1 {
		return cfg, fmt.Errorf("-count must be at least 1, not %d", cfg.count)
	}
	var err error
	if cfg.rows, err = parseRows(*rows); err != nil {
		return cfg, err
	}
	if cfg.payloads, err = parseInts("-payloads", *payloads, 0, memlink.DefaultOutputCapacity); err != nil {
		return cfg, err
	}
	if cfg.goroutines, err = parseInts("-goroutines", *goroutines, 1, 4096); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// parseRows checks a comma-separated list of row ids and returns it in the
// order the rows run, without repeats.
func parseRows(s string) ([]string, error) {
	want := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(rowIDs(), f) {
			return nil, fmt.Errorf("-rows: unknown row %q (rows: %s)", f, strings.Join(rowIDs(), ", "))
		}
		want[f] = true
	}
	if len(want) == 0 {
		return nil, errors.New("-rows: no rows selected")
	}
	var rows []string
	for _, id := range rowIDs() {
		if want[id] {
			rows = append(rows, id)
		}
	}
	return rows, nil
}

// parseInts parses a comma-separated list of integers within [lo, hi],
// sorted and without repeats.
func parseInts(name, s string, lo, hi int) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a whole number from %d to %d", name, f, lo, hi)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty list", name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// serveMetrics serves the runtime's metrics, from a registry of their own,
// at /metrics on addr until the returned function is called.
func serveMetrics(addr string, rt *memlink.Runtime, stderr io.Writer) (func(), error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(observe.NewCollector(rt)); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "memlink-bench: metrics server:", err)
		}
	}()
	fmt.Fprintf(stderr, "metrics: serving http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
