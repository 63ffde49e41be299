package isolate

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOutputPipeLineEnds: a worker's output lines reach the line function
// without their "\n" or "\r\n", on every platform (a Windows C runtime
// writes "\r\n" in text mode); a "\r" elsewhere in a line, or at the end
// of an unterminated last line, is the module's and stays.
func TestOutputPipeLineEnds(t *testing.T) {
	lines := make(chan string, 8)
	w, started, err := outputPipe(func(b []byte) { lines <- string(b) }, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("crlf\r\nlf\nin\rside\r\n\r\nlast\r"); err != nil {
		t.Fatal(err)
	}
	started() // closes the write end, as after a worker's start
	var got []string
	for range 5 {
		got = append(got, <-lines)
	}
	want := []string{"crlf", "lf", "in\rside", "", "last\r"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("lines (-want +got):\n%s", diff)
	}
}
