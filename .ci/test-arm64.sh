#!/usr/bin/env bash
# Runs the whole test suite for linux/arm64 on this linux/amd64 machine,
# under qemu-user, with the C modules cross-compiled by aarch64-linux-gnu-gcc.
#
#   bash .ci/test-arm64.sh [go test flags and packages]   (default ./...)
#
# Test binaries are built with CGO_ENABLED=0 but still name the dynamic
# loader (purego needs libc's dlopen), so qemu is pointed at the arm64
# sysroot with -L (and QEMU_LD_PREFIX for the programs they start).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

sysroot=/usr/aarch64-linux-gnu
apt_ensure qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross

# Tests that start child processes (isolated modules run in a worker that
# is the test binary itself) exec an arm64 program. That works only when
# the kernel hands arm64 binaries to qemu through binfmt_misc, as
# qemu-user-binfmt registers them. MEMLINK_QEMU_BINFMT=1 installs and
# registers it (without systemd, which would do it, the registration is
# done here; it lasts until reboot). Otherwise those tests skip, saying
# they cannot start a child process: under emulation every worker start
# costs a Go runtime start-up in qemu, which makes those tests minutes
# long and trips their start-up timeouts.
binfmt=/proc/sys/fs/binfmt_misc
if [ "${MEMLINK_QEMU_BINFMT:-}" = 1 ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
	apt_ensure qemu-user-binfmt
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		sudo=(sudo)
	fi
	if [ ! -e "$binfmt/qemu-aarch64" ] && {
		! { mountpoint -q "$binfmt" || "${sudo[@]}" mount -t binfmt_misc binfmt_misc "$binfmt"; } ||
			! "${sudo[@]}" /lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf
	}; then
		log "cannot register qemu-aarch64 with binfmt_misc: tests that start child processes will skip"
	fi
fi
# The arm64 loader and libc for programs started through binfmt_misc.
export QEMU_LD_PREFIX="$sysroot"

work=$(mktemp -d "${TMPDIR:-/tmp}/memlink-arm64-XXXXXX")
trap 'rm -rf "$work"' EXIT
MEMLINK_TEST_MODULES=$(build_modules linux arm64 "$work/modules")
export MEMLINK_TEST_MODULES
rust_requirement "$MEMLINK_TEST_MODULES" .so
# Inside an arm64 test process the host C compiler is the cross compiler:
# internal/modbuild's tests compile modules for the target they run on.
export CC=aarch64-linux-gnu-gcc

export CGO_ENABLED=0 GOOS=linux GOARCH=arm64
# Starting a worker process forks the test process, and a fork of a
# multithreaded program (every Go program is one) under qemu-user now and
# then leaves the child hung before it can exec, and the test with it until
# the timeout (seen in 1 of 6 runs of internal/isolate). So, unless
# MEMLINK_QEMU_BINFMT=1 asks for them, the tests that start workers do not
# run here: the package internal/isolate, and every test in a file named
# isolation_test.go or *_isolation_test.go. They run natively on every other target.
skip=()
if [ "${MEMLINK_QEMU_BINFMT:-}" != 1 ]; then
	mapfile -t worker_tests < <(find . -name '*isolation_test.go' -not -path './.git/*' -exec grep -ho '^func Test[A-Za-z0-9_]*' {} + | sed 's/^func //' | sort -u)
	if [ ${#worker_tests[@]} -gt 0 ]; then
		skip=(-skip "^($(IFS='|'; echo "${worker_tests[*]}"))\$")
	fi
	log "not run under qemu-user, since they fork worker processes: package internal/isolate; ${worker_tests[*]}"
fi
if [ $# -eq 0 ]; then
	mapfile -t pkgs < <(go list ./... | grep -vx 'github.com/memlink/memlink-go/internal/isolate')
	if [ "${MEMLINK_QEMU_BINFMT:-}" = 1 ]; then
		pkgs=(./...)
	fi
	set -- "${pkgs[@]}"
fi
log "go test for linux/arm64 under qemu-aarch64 -L $sysroot"
go_test linux/arm64 "${skip[@]}" -exec "qemu-aarch64 -L $sysroot" "$@"
