// Command buildmodules compiles every bundled C module for one target into
// a directory and prints that directory's absolute path, for scripts that
// run the test suite under an emulator with MEMLINK_TEST_MODULES.
//
// Usage:
//
//	go run ./internal/cmd/buildmodules [-goos GOOS] [-goarch GOARCH] [-dir DIR] [-rust]
//
// The target defaults to $GOOS/$GOARCH, then to the host. The directory
// defaults to a new temporary one. The compiler is the one
// modbuild.FindCompiler picks for the target (CC_<goos>_<goarch> or a
// known cross compiler on PATH). Compiler output of any kind is an error:
// the modules are meant to compile silently.
//
// With -rust it also builds the Rust example modules (modbuild.BuildRust)
// into the same directory when a Rust toolchain that can build for the
// target is found, and otherwise says on stderr why not and goes on: a
// script can tell from the presence of rust_echo<ext> whether to require
// the Rust tests (MEMLINK_REQUIRE_RUST).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/memlink/memlink-go/internal/modbuild"
)

func main() {
	goos := flag.String("goos", envOr("GOOS", runtime.GOOS), "target operating system")
	goarch := flag.String("goarch", envOr("GOARCH", runtime.GOARCH), "target architecture")
	dir := flag.String("dir", "", "output directory (default: a new temporary directory)")
	withRust := flag.Bool("rust", false, "also build the Rust modules, if a Rust toolchain can build for the target")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "buildmodules: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	out, err := run(*dir, modbuild.Target{GOOS: *goos, GOARCH: *goarch}, *withRust)
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildmodules:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(dir string, t modbuild.Target, withRust bool) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "memlink-modules-"+t.GOOS+"_"+t.GOARCH+"-")
		if err != nil {
			return "", err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := modbuild.BuildAll(ctx, abs, t)
	if err != nil {
		return "", err
	}
	if len(rep.Warnings) > 0 {
		names := make([]string, 0, len(rep.Warnings))
		for n := range rep.Warnings {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "module %s:\n%s\n", n, rep.Warnings[n])
		}
		return "", fmt.Errorf("%d module(s) did not compile silently for %s", len(names), t)
	}
	fmt.Fprintf(os.Stderr, "buildmodules: %d modules for %s with %s in %s (%d compiled, %v)\n",
		len(rep.Paths), t, rep.Compiler, abs, len(rep.Built), time.Since(start).Round(time.Millisecond))
	if withRust {
		if err := buildRust(ctx, abs, t); err != nil {
			return "", err
		}
	}
	return abs, nil
}

// buildRust builds the Rust modules into dir, or says why it cannot.
func buildRust(ctx context.Context, dir string, t modbuild.Target) error {
	tc, err := modbuild.FindRust()
	if err == nil {
		err = tc.HasTarget(t)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "buildmodules: no Rust modules for %s: %v\n", t, err)
		return nil
	}
	start := time.Now()
	rep, err := modbuild.BuildRust(ctx, dir, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "buildmodules: %d Rust modules for %s with %s (%d built, %v)\n",
		len(rep.Paths), t, rep.Compiler, len(rep.Built), time.Since(start).Round(time.Millisecond))
	return nil
}
