package filewatch

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestOutboxNeverBlocksAndCountsDrops(t *testing.T) {
	var logs bytes.Buffer
	o := NewOutbox[int](2, slog.New(slog.NewJSONHandler(&logs, nil)), "plugins")
	for i := range 5 {
		o.Send(i) // would block on the third without the drop path
	}
	if got := o.Dropped(); got != 3 {
		t.Fatalf("Dropped = %d, want 3", got)
	}
	if n := strings.Count(logs.String(), `"watcher":"plugins"`); n != 3 {
		t.Fatalf("%d drop records logged, want 3:\n%s", n, logs.String())
	}
	o.Close()
	var got []int
	for v := range o.C() {
		got = append(got, v)
	}
	if len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("delivered %v, want the first two", got)
	}
}
