package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/memlink/memlink-go/internal/modbuild"
)

// neededModules are the bundled modules the rows load.
var neededModules = []string{"echo", "binary", "counter"}

// buildTimeout bounds the compilation of the bundled modules.
const buildTimeout = 5 * time.Minute

// prepareModules returns the path of each module in neededModules: from
// -modules when given, else compiled into the cache directory (only those
// whose sources or compiler changed since the last run). It tells stderr
// what it did, ending in "modules: N up to date" when nothing needed
// compiling.
func prepareModules(ctx context.Context, cfg config, stderr io.Writer) (map[string]string, error) {
	host := modbuild.HostTarget()
	if cfg.modulesDir != "" {
		return prebuiltModules(cfg.modulesDir, host, stderr)
	}
	dir := cfg.cacheDir
	if dir == "" {
		d, err := modbuild.DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("%w; pass -cache DIR or -modules DIR", err)
		}
		dir = d
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	start := time.Now()
	rep, err := modbuild.Build(ctx, dir, host, neededModules...)
	if errors.Is(err, modbuild.ErrNoCompiler) {
		return nil, fmt.Errorf("%w\nmemlink-bench compiles its C modules from the embedded sources; "+
			"with no compiler, run it with -modules DIR on modules built elsewhere (%s)",
			err, strings.Join(fileNames(host), ", "))
	}
	paths := map[string]string{}
	var missing []string
	for _, name := range neededModules {
		if p, ok := rep.Paths[name]; ok {
			paths[name] = p
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if err == nil {
			err = errors.New("no error reported")
		}
		return nil, fmt.Errorf("building modules %s in %s: %w", strings.Join(missing, ", "), dir, err)
	}
	if err != nil {
		// A module the rows do not use failed to build: say so, go on.
		fmt.Fprintf(stderr, "modules: warning: %v\n", err)
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Warnings)) {
		fmt.Fprintf(stderr, "modules: %s compiled with warnings:\n%s\n", name, rep.Warnings[name])
	}
	prepareRust(ctx, dir, host, paths, stderr)
	upToDate := len(rep.Paths) - len(rep.Built)
	if len(rep.Built) == 0 {
		fmt.Fprintf(stderr, "modules: %d up to date in %s\n", upToDate, dir)
	} else {
		fmt.Fprintf(stderr, "modules: compiled %d (%s) with %s in %v, %d up to date, in %s\n",
			len(rep.Built), strings.Join(rep.Built, " "), rep.Compiler,
			time.Since(start).Round(time.Millisecond), upToDate, dir)
	}
	return paths, nil
}

// prebuiltModules finds the needed modules in dir.
func prebuiltModules(dir string, host modbuild.Target, stderr io.Writer) (map[string]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("-modules: %w", err)
	}
	paths := map[string]string{}
	var missing []string
	for _, name := range neededModules {
		p := filepath.Join(abs, host.FileName(name))
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			missing = append(missing, host.FileName(name))
			continue
		}
		paths[name] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("-modules %s: missing %s (needs %s)", dir,
			strings.Join(missing, ", "), strings.Join(fileNames(host), ", "))
	}
	fmt.Fprintf(stderr, "modules: using prebuilt modules in %s\n", abs)
	if p := filepath.Join(abs, host.FileName(rustEchoModule)); regularFile(p) {
		paths[rustEcho] = p
	} else {
		rustNA = "no prebuilt Rust echo at " + p
	}
	return paths, nil
}

// The Rust row's module: the echo example of the Rust SDK (modules/rust),
// built with cargo beside the C modules. rustEcho is its key in the
// suite's module paths.
const (
	rustEcho       = "rust-echo"
	rustEchoModule = "rust_echo"
)

// rustNA says why the Rust row cannot run ("" when it can).
var rustNA string

// prepareRust builds the Rust echo into dir with cargo, when there is a
// Rust toolchain, and adds it to paths; otherwise it records why not in
// rustNA. Either way the other rows run.
func prepareRust(ctx context.Context, dir string, host modbuild.Target, paths map[string]string, stderr io.Writer) {
	start := time.Now()
	rep, err := modbuild.BuildRust(ctx, dir, host, rustEchoModule)
	p, ok := rep.Paths[rustEchoModule]
	switch {
	case errors.Is(err, modbuild.ErrNoRust):
		rustNA = "no Rust toolchain (cargo) to build the Rust SDK's echo"
		return
	case err != nil || !ok || !regularFile(p):
		rustNA = fmt.Sprintf("building the Rust echo: %v", err)
		fmt.Fprintf(stderr, "modules: Rust echo: %v\n", err)
		return
	}
	paths[rustEcho] = p
	if len(rep.Built) > 0 {
		fmt.Fprintf(stderr, "modules: compiled the Rust echo with %s in %v\n", rep.Compiler, time.Since(start).Round(time.Millisecond))
	}
}

func regularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// fileNames returns the file names of the needed modules on t.
func fileNames(t modbuild.Target) []string {
	var names []string
	for _, n := range neededModules {
		names = append(names, t.FileName(n))
	}
	return names
}
