# shellcheck shell=bash
# Helpers shared by the .ci/test-*.sh scripts. Source it; do not run it.
# The scripts run as root on a fresh Debian machine with Go and gcc only,
# so each installs what it needs, and only what is missing.

# log prints one progress line on stderr, so that stdout stays for results.
log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# apt_ensure PACKAGE... installs the Debian packages that are not installed
# yet, with apt-get update first. Nothing is fetched when all are present.
apt_ensure() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		sudo=(sudo)
	fi
	log "installing ${missing[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_modules GOOS GOARCH DIR compiles every bundled C module for the
# target into DIR with the cross compiler modbuild knows for it, and the
# Rust modules too when a Rust toolchain has the target's standard library
# (rustup target add ...), and prints DIR's absolute path. The program runs
# for the host: GOOS and GOARCH from the caller's environment must not leak
# into "go run".
build_modules() {
	env -u GOOS -u GOARCH -u CGO_ENABLED go run ./internal/cmd/buildmodules -goos "$1" -goarch "$2" -dir "$3" -rust
}

# rust_requirement DIR EXT requires the Rust tests (MEMLINK_REQUIRE_RUST=1)
# when build_modules put the Rust modules into DIR, and otherwise unsets
# MEMLINK_REQUIRE_RUST, so that they skip, naming the missing module, rather
# than fail for want of a Rust target this machine cannot install.
rust_requirement() {
	if [ -e "$1/rust_echo$2" ]; then
		export MEMLINK_REQUIRE_RUST=1
	else
		unset MEMLINK_REQUIRE_RUST
		log "no Rust modules for this target (buildmodules said why): the Rust tests skip"
	fi
}

# go_test LABEL GO-TEST-ARGS... runs "go test -json" with the flags every
# emulated run uses and prints a summary (internal/cmd/testsummary): the
# output of failed tests, every skipped test with its reason, the package
# result lines and a closing "LABEL: N passed, N failed, N skipped" line
# (subtests count as tests). -short keeps the soak tests out, since calls
# are an order of magnitude slower under an emulator; benchmarks never run
# without -bench. GO_TEST_FLAGS adds flags, e.g. GO_TEST_FLAGS='-run Reload'.
# The caller sets GOOS, GOARCH and CGO_ENABLED. With SUMMARY_FLAGS=-known
# the tests run are known failures, reported without failing.
go_test() {
	# Options set here (set +e for PIPESTATUS) end with the function.
	local -
	set +e
	local label=$1
	shift
	local summary
	summary=$(mktemp "${TMPDIR:-/tmp}/memlink-testsummary-XXXXXX")
	if ! env -u GOOS -u GOARCH -u CGO_ENABLED go build -o "$summary" ./internal/cmd/testsummary; then
		rm -f "$summary"
		return 1
	fi
	# shellcheck disable=SC2086 # GO_TEST_FLAGS and SUMMARY_FLAGS are lists of flags
	go test -json -short -count=1 -timeout=15m ${GO_TEST_FLAGS:-} "$@" 2>&1 | "$summary" -label "$label" ${SUMMARY_FLAGS:-}
	local status=("${PIPESTATUS[@]}")
	rm -f "$summary"
	if [ "${SUMMARY_FLAGS:-}" = -known ]; then
		# go test fails, as expected; the summary says whether that is all.
		return "${status[1]}"
	fi
	[ "${status[0]}" -eq 0 ] && [ "${status[1]}" -eq 0 ]
}
