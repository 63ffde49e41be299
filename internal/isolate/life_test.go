package isolate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/memlink/memlink-go/abi"
)

// TestRestartNeverHammer: many callers racing a crash on a client without
// restarts see one loss, counted once, and no second worker, whatever
// order they are woken in; after it every call fails with FailLost naming
// the original crash.
func TestRestartNeverHammer(t *testing.T) {
	for round := range 5 {
		c := start(t, "crashy", Config{})
		pid := c.Pid()
		var wg sync.WaitGroup
		errs := make(chan error, 8*20)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					method := "echo"
					if g == 0 && i == 5 {
						method = "segv"
					}
					_, _, err := c.Call(context.Background(), nil, abi.MethodID(method), []byte("x"))
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			var f *Failure
			if !errors.As(err, &f) || f.Kind != FailLost || f.Exit == nil || !strings.Contains(f.Exit.String(), segvName) {
				t.Fatalf("round %d: %v, want the loss of the %s worker", round, err, segvName)
			}
		}
		if n := c.Restarts(); n[ReasonCrash] != 1 || n[ReasonMemory]+n[ReasonTimeout]+n[ReasonCanceled] != 0 {
			t.Fatalf("round %d: restarts %v, want one crash", round, n)
		}
		if c.Pid() != pid {
			t.Fatalf("round %d: a second worker (%d, first %d) started without restarts", round, c.Pid(), pid)
		}
	}
}
