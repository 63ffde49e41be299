//go:build unix

package rust_test

import (
	"testing"
)

func TestIsolatedHostCalls(t *testing.T) {
	rt, logs := hostRuntime(t)
	h := isolated(t, rt, "rust_hostcall")
	hostCalls(t, rt, h, logs, false)
}
