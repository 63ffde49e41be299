package gate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHotPathInlines: TryEnter, Leave and Hint must stay within the
// inliner's budget (TryEnter is close to it), or the call path pays a call
// and the spills around it again on every call (docs/performance.md, "The
// call"). It asks the compiler, so it needs the go command.
func TestHotPathInlines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to ask the compiler")
	}
	out, err := exec.Command(goCmd, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{"(*Gate).TryEnter", "(*Gate).Leave", "Hint", "releaseLane"} {
		if !strings.Contains(string(out), "can inline "+fn+" ") && !strings.Contains(string(out), "can inline "+fn+"\n") {
			t.Errorf("%s is no longer inlinable:\n%s", fn, out)
		}
	}
}
