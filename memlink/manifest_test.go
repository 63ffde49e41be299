package memlink_test

import (
	"strings"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// TestParseManifestStrict checks that the manifest parser reads what a
// reviewer reads: exact key case, no key twice at any depth, no unknown
// keys, no value of the wrong type, nothing after the object.
func TestParseManifestStrict(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	mod := `{"file":"echo.so","sha256":"` + sum + `"}`
	good := `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":` + mod + `}}`
	m, err := memlink.ParseManifest([]byte(good + "\n \t"))
	if err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	if m.Name != "echo" || m.Version != "1.2.0" || m.Modules["linux/amd64"] != (memlink.ManifestModule{File: "echo.so", SHA256: sum}) {
		t.Fatalf("parsed %+v", m)
	}
	cases := []struct{ name, in, want string }{
		{"second pair in upper case", `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":{"file":"echo.so","sha256":"` + sum +
			`","FILE":"evil.so","SHA256":"` + other + `"}}}`, `unknown key "modules.linux/amd64.FILE"`},
		{"key in other case only", `{"NAME":"echo","version":"1.2.0","modules":{"linux/amd64":` + mod + `}}`, `unknown key "NAME"`},
		{"duplicate top-level key", `{"name":"echo","name":"evil","version":"1.2.0","modules":{"linux/amd64":` + mod + `}}`, `duplicate key "name"`},
		{"duplicate platform", `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":` + mod + `,"linux/amd64":` + mod + `}}`, `duplicate key "modules.linux/amd64"`},
		{"duplicate file", `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":{"file":"echo.so","file":"evil.so","sha256":"` + sum + `"}}}`, `duplicate key "modules.linux/amd64.file"`},
		{"duplicate modules", `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":` + mod + `},"modules":{"linux/amd64":` + mod + `}}`, `duplicate key "modules"`},
		{"trailing brackets", good + `]]]}`, "trailing data"},
		{"second object", good + good, "trailing data"},
		{"trailing garbage", good + ` x`, "trailing data"},
		{"unknown key", `{"name":"echo","version":"1.2.0","signature":"x","modules":{"linux/amd64":` + mod + `}}`, `unknown key "signature"`},
		{"null name", `{"name":null,"version":"1.2.0","modules":{"linux/amd64":` + mod + `}}`, "name: want a string"},
		{"number version", `{"name":"echo","version":120,"modules":{"linux/amd64":` + mod + `}}`, "version: want a string"},
		{"modules array", `{"name":"echo","version":"1.2.0","modules":[]}`, "modules: want an object"},
		{"module null", `{"name":"echo","version":"1.2.0","modules":{"linux/amd64":null}}`, "modules.linux/amd64: want an object"},
		{"not an object", `["echo"]`, "want an object"},
		{"invalid UTF-8", strings.Replace(good, "echo", "ech\xff", 1), "UTF-8"},
		{"truncated", good[:len(good)-1], "manifest"},
		{"empty", ``, "manifest"},
	}
	for _, c := range cases {
		_, err := memlink.ParseManifest([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ParseManifest = %v; want an error mentioning %q", c.name, err, c.want)
		}
	}
}
