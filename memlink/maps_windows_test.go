package memlink_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// seesMappings reports whether mapsOf and totalMappings work here.
const seesMappings = true

// modules lists the paths of the modules loaded in this process.
func modules(t testing.TB) []string {
	t.Helper()
	proc := windows.CurrentProcess()
	hs := make([]windows.Handle, 256)
	for {
		var need uint32
		if err := windows.EnumProcessModules(proc, &hs[0], uint32(len(hs))*uint32(unsafe.Sizeof(hs[0])), &need); err != nil {
			t.Fatal(err)
		}
		n := int(need / uint32(unsafe.Sizeof(hs[0])))
		if n <= len(hs) {
			hs = hs[:n]
			break
		}
		hs = make([]windows.Handle, n+16) // more modules than room: ask again
	}
	paths := make([]string, 0, len(hs))
	buf := make([]uint16, windows.MAX_LONG_PATH)
	for _, h := range hs {
		if err := windows.GetModuleFileNameEx(proc, h, &buf[0], uint32(len(buf))); err != nil {
			continue // unloaded since the list was taken
		}
		paths = append(paths, windows.UTF16ToString(buf))
	}
	return paths
}

// mapsOf lists the loaded modules whose file is named base.
func mapsOf(t testing.TB, base string) []mapping {
	t.Helper()
	var ms []mapping
	for _, p := range modules(t) {
		if strings.EqualFold(filepath.Base(p), base) {
			ms = append(ms, mapping{key: strings.ToLower(p), path: p, private: strings.Contains(p, "memlink-go-")})
		}
	}
	return ms
}

// totalMappings counts the loaded modules.
func totalMappings(t testing.TB) int {
	t.Helper()
	return len(modules(t))
}
