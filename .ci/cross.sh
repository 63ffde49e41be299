#!/usr/bin/env bash
# Builds, vets and compiles the tests (go test -c, nothing is run) of every
# GOOS/GOARCH of the README's platform table, with CGO_ENABLED=0.
#
#   bash .ci/cross.sh [goos/goarch...]   (default: every platform below)
#
# CROSS_NO_TEST_C lists targets to build and vet only, for callers that
# compile and run those targets' tests in another step anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
	set -- linux/amd64 linux/arm64 linux/386 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/memlink-cross-XXXXXX")
trap 'rm -rf "$out"' EXIT
for target in "$@"; do
	export CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/}
	go build ./...
	go vet ./...
	case " ${CROSS_NO_TEST_C:-} " in
	*" $target "*)
		echo "  $target: build, vet (tests compiled by another step)"
		continue
		;;
	esac
	# -o DIR/ writes one test binary a package; packages without tests
	# print "[no test files]", which is noise here.
	go test -c -o "$out/" ./... | { grep -v '\[no test files\]$' || true; }
	rm -f "$out"/*
	echo "  $target: build, vet, go test -c"
done
