package modbuild

import "runtime"

// Target is an operating system and architecture pair, spelled as in
// GOOS and GOARCH.
type Target struct {
	GOOS   string
	GOARCH string
}

// HostTarget returns the target that the running program was built for.
func HostTarget() Target {
	return Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
}

// String returns the target as "goos/goarch".
func (t Target) String() string {
	return t.GOOS + "/" + t.GOARCH
}

// Ext returns the file name extension of shared libraries on the target:
// ".dll" on windows, ".dylib" on darwin and ".so" elsewhere.
func (t Target) Ext() string {
	switch t.GOOS {
	case "windows":
		return ".dll"
	case "darwin", "ios":
		return ".dylib"
	default:
		return ".so"
	}
}

// FileName returns the file name of the named module built for the target,
// such as "echo.so".
func (t Target) FileName(module string) string {
	return module + t.Ext()
}
