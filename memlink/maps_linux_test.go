package memlink_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seesMappings reports whether mapsOf and totalMappings work here.
const seesMappings = true

// mapsOf lists the mappings of /proc/self/maps whose file is named base
// (or a memfd private copy of it).
func mapsOf(t testing.TB, base string) []mapping {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	var ms []mapping
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.Join(f[5:], " "), " (deleted)")
		switch {
		case p == "/memfd:memlink:"+base:
			ms = append(ms, mapping{key: f[4], path: p, private: true})
		case filepath.Base(p) == base:
			ms = append(ms, mapping{key: f[4], path: p, private: strings.Contains(p, "/memlink-go-")})
		}
	}
	return ms
}

// totalMappings counts the process's mappings.
func totalMappings(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}
