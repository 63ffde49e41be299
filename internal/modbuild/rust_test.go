package modbuild

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
)

func TestRustTriple(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{"linux", "amd64"}, "x86_64-unknown-linux-gnu"},
		{Target{"linux", "arm64"}, "aarch64-unknown-linux-gnu"},
		{Target{"linux", "arm"}, "armv7-unknown-linux-gnueabihf"},
		{Target{"windows", "amd64"}, "x86_64-pc-windows-gnu"},
		{Target{"darwin", "arm64"}, "aarch64-apple-darwin"},
	} {
		got, err := RustTriple(tc.t)
		if err != nil || got != tc.want {
			t.Errorf("RustTriple(%s) = %q, %v; want %q", tc.t, got, err, tc.want)
		}
	}
	if _, err := RustTriple(Target{"plan9", "amd64"}); !errors.Is(err, ErrNoRust) {
		t.Errorf("RustTriple(plan9/amd64): err = %v, want ErrNoRust", err)
	}
	// A toolchain whose host is the target needs no --target; another does.
	host := HostTarget()
	hostTriple, err := RustTriple(host)
	if err != nil {
		t.Skipf("no Rust triple for the host: %v", err)
	}
	tc := RustToolchain{Host: hostTriple}
	if got, _ := tc.rustTarget(host); got != "" {
		t.Errorf("rustTarget(host) = %q, want none", got)
	}
	other := Target{"linux", "arm64"}
	if host == other {
		other = Target{"linux", "amd64"}
	}
	if got, _ := tc.rustTarget(other); got == "" {
		t.Errorf("rustTarget(%s) from a %s toolchain: no --target", other, hostTriple)
	}
}

func TestFindRustHonoursCARGO(t *testing.T) {
	t.Setenv("CARGO", "/nonexistent/cargo")
	if _, err := FindRust(); !errors.Is(err, ErrNoRust) {
		t.Fatalf("FindRust with CARGO naming nothing: err = %v, want ErrNoRust", err)
	}
}

func TestRustSourcesEmbedded(t *testing.T) {
	names, files, err := rustSources()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Cargo.toml", "Cargo.lock", "memlink-module/src/lib.rs", "examples/echo/src/lib.rs"} {
		if !slices.Contains(names, want) || len(files[want]) == 0 {
			t.Errorf("embedded Rust workspace lacks %s", want)
		}
	}
	for _, n := range names {
		if slices.Contains([]string{"target", ".rust"}, n) {
			t.Errorf("build output embedded: %s", n)
		}
	}
}

// TestBuildRustCaches builds one module into a fresh directory, finds it
// up to date the second time, and rebuilds it when its key is stale.
func TestBuildRustCaches(t *testing.T) {
	if testing.Short() {
		t.Skip("a cold cargo build takes tens of seconds; the modules/rust tests build through the shared cache")
	}
	tc, err := FindRust()
	if err == nil {
		err = tc.HasTarget(HostTarget())
	}
	if err != nil {
		if os.Getenv("MEMLINK_REQUIRE_RUST") != "" {
			t.Fatal(err)
		}
		t.Skipf("no Rust toolchain (set MEMLINK_REQUIRE_RUST=1 to make this a failure): %v", err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	rep, err := buildRust(ctx, tc, dir, HostTarget(), []string{"rust_echo"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Built, []string{"rust_echo"}) {
		t.Fatalf("first build: Built = %v", rep.Built)
	}
	checkMagic(t, HostTarget().GOOS, rep.Paths["rust_echo"])
	rep, err = buildRust(ctx, tc, dir, HostTarget(), []string{"rust_echo"})
	if err != nil || len(rep.Built) != 0 {
		t.Fatalf("second build: Built = %v, %v; want nothing built", rep.Built, err)
	}
	if err := os.WriteFile(rep.Paths["rust_echo"]+keyExt, []byte("stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = buildRust(ctx, tc, dir, HostTarget(), []string{"rust_echo"})
	if err != nil || !slices.Equal(rep.Built, []string{"rust_echo"}) {
		t.Fatalf("after a stale key: Built = %v, %v", rep.Built, err)
	}
	if _, err := buildRust(ctx, tc, dir, HostTarget(), []string{"nope"}); err == nil {
		t.Fatal("unknown Rust module: no error")
	}
}
