//go:build !linux && !windows

package memlink_test

import "testing"

// seesMappings reports whether mapsOf and totalMappings work here: they do
// not (no /proc/self/maps, no module list taken here), and tests that need
// them skip.
const seesMappings = false

func mapsOf(t testing.TB, base string) []mapping {
	t.Fatal("mapsOf: no way to list mappings on this system")
	return nil
}

func totalMappings(t testing.TB) int {
	t.Fatal("totalMappings: no way to list mappings on this system")
	return 0
}
