// Command testsummary reads the output of "go test -json" on standard input
// and prints a short report: the output of every failed test, every
// skipped test with the reason it gave, each package's result line, and a
// closing count of passed, failed and skipped tests. It is for test runs on
// emulated targets, where a plain "go test" would hide why a test was
// skipped and a "go test -v" log is too long to read.
//
// Usage:
//
//	go test -json ./... | testsummary [-label linux/arm64]
//
// The exit status is 1 when a test or a package failed (including a build
// failure), and 0 otherwise. With -known, the tests run are known failures
// kept visible: their output is printed as usual, the closing line says how
// many still fail, and the exit status is 0 unless a package failed to
// build.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// event is one line of go test -json output (cmd/test2json), with the
// fields this program reads.
type event struct {
	Time       time.Time
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// testKey names one test of one package.
type testKey struct{ pkg, test string }

// summary accumulates a run.
type summary struct {
	out    io.Writer
	known  bool                 // the tests run are known failures
	output map[testKey][]string // output lines of tests still running
	build  map[string][]string  // build output, by import path

	passed, failed, skipped int
	failedPkgs              []string
	buildFailed             bool
	skips                   []string // "pkg.Test: reason" lines
}

func main() {
	label := flag.String("label", "", "name of the run in the closing line, e.g. the target")
	known := flag.Bool("known", false, "the tests are known failures: report them, do not fail")
	flag.Parse()
	s := &summary{out: os.Stdout, output: map[testKey][]string{}, build: map[string][]string{}, known: *known}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if s.finish(*label) {
		os.Exit(1)
	}
}

// read consumes go test -json lines. Lines that are not JSON (go test
// writes some errors as plain text) are copied through.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
		return
	case "build-fail":
		fmt.Fprintf(s.out, "# %s\n%s", e.ImportPath, strings.Join(s.build[e.ImportPath], ""))
		delete(s.build, e.ImportPath)
		s.buildFailed = true
		return
	}
	if e.Test == "" {
		// Package-level lines: "ok", "FAIL", "PASS", panics outside a
		// test, "[no test files]". Keep the result lines and anything
		// unusual; drop the bare PASS that precedes "ok".
		if e.Action == "output" && strings.TrimSpace(e.Output) != "PASS" {
			fmt.Fprint(s.out, e.Output)
		}
		if e.Action == "fail" {
			s.failedPkgs = append(s.failedPkgs, e.Package)
		}
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output":
		if !isMarker(e.Output) {
			s.output[k] = append(s.output[k], e.Output)
		}
	case "pass":
		s.passed++
		delete(s.output, k)
	case "skip":
		s.skipped++
		s.skips = append(s.skips, fmt.Sprintf("%s.%s: %s", shortPkg(e.Package), e.Test, reason(s.output[k])))
		delete(s.output, k)
	case "fail":
		s.failed++
		fmt.Fprintf(s.out, "--- FAIL: %s %s (%.2fs)\n%s", shortPkg(e.Package), e.Test, e.Elapsed, strings.Join(s.output[k], ""))
		delete(s.output, k)
	}
}

// isMarker reports whether a line is one of go test -v's progress or result
// markers, which the summary leaves out (it prints its own result lines).
func isMarker(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP", "--- FAIL"} {
		if strings.HasPrefix(strings.TrimLeft(line, " "), p) {
			return true
		}
	}
	return false
}

// reason returns what a skipped test printed, on one line.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// shortPkg drops the module path from a package path.
func shortPkg(p string) string {
	const mod = "github.com/memlink/memlink-go/"
	if rest, ok := strings.CutPrefix(p, mod); ok {
		return rest
	}
	return p
}

// finish prints the skips and the closing count, and reports whether the
// run failed.
func (s *summary) finish(label string) bool {
	// Tests that started but never reported an end: the binary crashed or
	// timed out while they ran. Their output is what explains it.
	var open []testKey
	for k := range s.output {
		open = append(open, k)
	}
	slices.SortFunc(open, func(a, b testKey) int {
		return strings.Compare(a.pkg+"."+a.test, b.pkg+"."+b.test)
	})
	for _, k := range open {
		fmt.Fprintf(s.out, "--- UNFINISHED: %s %s\n%s", shortPkg(k.pkg), k.test, strings.Join(s.output[k], ""))
	}
	if len(s.skips) > 0 {
		fmt.Fprintf(s.out, "\nSkipped tests and their reasons:\n")
		for _, l := range s.skips {
			fmt.Fprintf(s.out, "  %s\n", l)
		}
	}
	prefix := ""
	if label != "" {
		prefix = label + ": "
	}
	if s.known {
		fmt.Fprintf(s.out, "\n%sknown failures: %d still fail, %d now pass, %d skipped\n", prefix, s.failed, s.passed, s.skipped)
		if s.passed > 0 {
			fmt.Fprintf(s.out, "%sa known failure now passes: take it off the list of known failures\n", prefix)
		}
		return s.buildFailed
	}
	fmt.Fprintf(s.out, "\n%s%d passed, %d failed, %d skipped\n", prefix, s.passed, s.failed, s.skipped)
	return s.failed > 0 || len(s.failedPkgs) > 0 || len(open) > 0 || s.buildFailed
}
