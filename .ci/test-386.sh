#!/usr/bin/env bash
# Runs the whole test suite for linux/386 on a linux/amd64 machine, with
# the C modules cross-compiled by i686-linux-gnu-gcc.
#
#   bash .ci/test-386.sh [go test flags and packages]   (default ./...)
#
# The test binaries run natively, through the i386 dynamic loader of the
# cross sysroot (qemu-i386 is no use: Go binaries crash in it). That needs
# a kernel that executes 32-bit x86 programs (CONFIG_IA32_EMULATION).
# Where the kernel cannot, the script builds, vets and compiles the tests
# for linux/386, says why it ran nothing, and exits 0, or 1 when
# MEMLINK_REQUIRE_RUN=1 (as in the GitHub workflow, whose runners can).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

libdir=/usr/i686-linux-gnu/lib
loader=$libdir/ld-linux.so.2
apt_ensure gcc-i686-linux-gnu libc6-dev-i386-cross

export CGO_ENABLED=0 GOOS=linux GOARCH=386
if ! probe=$("$loader" --version 2>&1 | head -n 1); then
	log "this kernel cannot run 32-bit x86 programs ($loader: ${probe:-no output}; $(uname -sr))"
	log "compiling only: go build, go vet and go test -c for linux/386"
	go build ./...
	go vet ./...
	out=$(mktemp -d "${TMPDIR:-/tmp}/memlink-386-XXXXXX")
	trap 'rm -rf "$out"' EXIT
	go test -c -o "$out/" ./... | { grep -v '\[no test files\]$' || true; }
	log "SKIPPED: the linux/386 tests were compiled but not run: the kernel has no 32-bit x86 support"
	if [ "${MEMLINK_REQUIRE_RUN:-}" = 1 ]; then
		exit 1
	fi
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/memlink-386-XXXXXX")
trap 'rm -rf "$work"' EXIT
MEMLINK_TEST_MODULES=$(build_modules linux 386 "$work/modules")
export MEMLINK_TEST_MODULES
rust_requirement "$MEMLINK_TEST_MODULES" .so
# Inside a 386 test process the host C compiler is the cross compiler:
# internal/modbuild's tests compile modules for the target they run on.
export CC=i686-linux-gnu-gcc

if [ $# -eq 0 ]; then
	set -- ./...
fi
log "go test for linux/386 through $loader"
go_test linux/386 -exec "$loader --library-path $libdir" "$@"
