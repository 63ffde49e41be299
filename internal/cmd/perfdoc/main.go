// Command perfdoc writes docs/performance.md from the results of a
// memlink-bench run:
//
//	go run ./cmd/memlink-bench -json > results.json
//	go run ./internal/cmd/perfdoc -in results.json -out docs/performance.md
//
// The input is memlink-bench's -json output: one JSON object per line, one
// per row variant (the schema is in the documentation of
// cmd/memlink-bench and is repeated in the generated page). Unknown fields
// are ignored.
//
// The page states the machine the figures come from: the CPU model (the
// first "model name" of /proc/cpuinfo), the number of logical CPUs, the
// platform and the Go version, all read by perfdoc itself, so run it on
// the machine that produced the results, with the same Go toolchain. The
// date is the modification date of the input file unless -date is given;
// -command states the command that produced the input, and -note adds a
// paragraph about the conditions of the run.
//
// Flags:
//
//	-in FILE         results of memlink-bench -json ("-" for stdin; required)
//	-out FILE        page to write (default: stdout)
//	-benchstat FILE  a benchstat table to include verbatim, such as the
//	                 comparison of the go test benchmarks of memlink, raw
//	                 purego and cgo
//	-isolation FILE  the output to include verbatim for fault isolation:
//	                 the benchstat table of internal/isolate/gopluginbench
//	                 (in process, isolated, go-plugin) and its footprint line
//	-command TEXT    the command that produced the input
//	-date DATE       the date of the run (default: the input's modification date)
//	-note TEXT       a paragraph on the conditions of the run
//	-svgdir DIR      where to write the plots (default: the directory of
//	                 -out; no plots when the page goes to stdout)
//
// The plots are SVG files written beside the page and linked from it:
// perf-call.svg (ns per call against payload size: memlink ABI 1 and 2,
// cgo, purego), perf-concurrent.svg (calls per second against goroutines:
// memlink, cgo, purego) and perf-isolation.svg (the 64-byte round trip in
// process, isolated, over a raw pipe and, from -isolation, through
// go-plugin). The section "Where the time goes" is the profile in
// wheretime.md, included as it is.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/memlink/memlink-go/internal/benchresult"
)

// defaultCommand is the command that -command names by default.
const defaultCommand = "go run ./cmd/memlink-bench -json > results.json"

// result is one line of memlink-bench -json.
type result = benchresult.Record

// machine describes where the figures were measured.
type machine struct {
	CPU       string
	CPUs      int
	Platform  string
	GoVersion string
}

// page is everything the generated document says.
type page struct {
	Results   []result
	Machine   machine
	Date      string
	Command   string
	Note      string
	Benchstat string // verbatim, or ""
	Isolation string // verbatim, or ""
	Plots     []plotFile
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "perfdoc:", err)
		os.Exit(1)
	}
}

// run parses args, reads the inputs and writes the page.
func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("perfdoc", flag.ContinueOnError)
	in := fs.String("in", "", `results of memlink-bench -json ("-" for stdin)`)
	out := fs.String("out", "", "page to write (default: stdout)")
	benchstat := fs.String("benchstat", "", "benchstat table to include verbatim")
	isolation := fs.String("isolation", "", "isolation benchmark output to include verbatim")
	command := fs.String("command", defaultCommand, "the command that produced the input")
	date := fs.String("date", "", "date of the run (default: the input's modification date)")
	note := fs.String("note", "", "a paragraph on the conditions of the run")
	svgDir := fs.String("svgdir", "", "directory for the SVG plots (default: the directory of -out; none with stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *in == "" {
		return errors.New("-in is required")
	}

	p := page{Command: *command, Note: strings.TrimSpace(*note), Date: *date, Machine: thisMachine()}
	r := stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		if p.Date == "" {
			if st, err := f.Stat(); err == nil {
				p.Date = st.ModTime().Format(time.DateOnly)
			}
		}
		r = f
	}
	if p.Date == "" {
		p.Date = time.Now().Format(time.DateOnly)
	}
	var err error
	if p.Results, err = readResults(r); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{*benchstat, &p.Benchstat}, {*isolation, &p.Isolation}} {
		if f.name == "" {
			continue
		}
		b, err := os.ReadFile(f.name)
		if err != nil {
			return err
		}
		*f.dst = string(b)
	}

	// The plots go beside the page (or into -svgdir), named by plots.
	dir := *svgDir
	if dir == "" && *out != "" {
		dir = filepath.Dir(*out)
	}
	if dir != "" {
		p.Plots = plots(&p)
		for _, pl := range p.Plots {
			if err := os.WriteFile(filepath.Join(dir, pl.name), []byte(pl.svg), 0o644); err != nil {
				return err
			}
		}
	}

	var b strings.Builder
	render(&b, &p)
	if *out == "" {
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	return os.WriteFile(*out, []byte(b.String()), 0o644)
}

// readResults reads JSON objects, one per line, skipping blank lines.
func readResults(r io.Reader) ([]result, error) {
	var rs []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var res result
		if err := json.Unmarshal([]byte(text), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if res.Row == "" {
			return nil, fmt.Errorf("line %d: no row field", line)
		}
		rs = append(rs, res)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errors.New("no results")
	}
	return rs, nil
}

// thisMachine describes the machine perfdoc runs on.
func thisMachine() machine {
	return machine{
		CPU:       benchresult.CPUModel(),
		CPUs:      runtime.NumCPU(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion: runtime.Version(),
	}
}
