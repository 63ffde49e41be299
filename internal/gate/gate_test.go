package gate

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGateCountsAndCloses(t *testing.T) {
	g := NewGate(3)
	if g.Lanes() != 4 {
		t.Fatalf("Lanes() = %d, want 4 (rounded up)", g.Lanes())
	}
	var lanes []int
	for range 6 {
		l, ok := g.Enter()
		if !ok {
			t.Fatal("open gate refused a call")
		}
		lanes = append(lanes, l)
	}
	overflow := 0
	seen := map[int]bool{}
	for _, l := range lanes {
		if l == Overflow {
			overflow++
			continue
		}
		if seen[l] {
			t.Fatalf("lane %d handed out twice", l)
		}
		seen[l] = true
	}
	if overflow != 2 || g.InFlight() != 6 {
		t.Fatalf("overflow %d, in flight %d; want 2 and 6", overflow, g.InFlight())
	}
	g.Close()
	if _, ok := g.Enter(); ok {
		t.Fatal("closed gate admitted a call")
	}
	for _, l := range lanes {
		g.Exit(l)
	}
	if g.InFlight() != 0 || g.Calls() != 6 {
		t.Fatalf("after exits: in flight %d, calls %d", g.InFlight(), g.Calls())
	}
	g.Open()
	if l, ok := g.Enter(); !ok {
		t.Fatal("reopened gate refused a call")
	} else {
		g.Exit(l)
	}
	if g.Calls() != 7 {
		t.Fatalf("calls = %d, want 7 (refused calls do not count)", g.Calls())
	}
}

// TestGateOverflowExitElsewhere enters calls without a lane on one
// goroutine and exits them on others, whose stacks pick other overflow
// shards: the sums must still come out exact and Drain must finish.
func TestGateOverflowExitElsewhere(t *testing.T) {
	g := NewGate(1)
	first, _ := g.Enter()
	var over []int
	for range 64 {
		l, ok := g.Enter()
		if !ok || l != Overflow {
			t.Fatalf("Enter on a full gate = %d, %v; want Overflow, true", l, ok)
		}
		over = append(over, l)
	}
	if got := g.InFlight(); got != 65 {
		t.Fatalf("in flight %d, want 65", got)
	}
	g.Close()
	var wg sync.WaitGroup
	for _, l := range over {
		wg.Go(func() { g.Exit(l) })
	}
	wg.Wait()
	if got := g.InFlight(); got != 1 {
		t.Fatalf("in flight %d after the overflow exits, want 1", got)
	}
	moved := false
	for i := range g.over {
		moved = moved || g.over[i].inFlight.Load() != 0
	}
	if !moved {
		t.Fatal("every exit landed on the entry's shard: the test did not exercise moving shards")
	}
	g.Exit(first)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if g.Calls() != 65 {
		t.Fatalf("calls = %d, want 65", g.Calls())
	}
}

func TestGateDrain(t *testing.T) {
	g := NewGate(4)
	if err := g.Drain(context.Background()); err != nil {
		t.Fatalf("drain of an idle gate: %v", err)
	}
	l, _ := g.Enter()
	g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := g.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("drain with a call in flight = %v", err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		g.Exit(l)
	}()
	start := time.Now()
	if err := g.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("drain noticed the exit after %v", d)
	}
}

// TestGateHammer closes and drains a gate while 16 goroutines enter and
// exit it: once Drain returns, no call may be inside, ever.
func TestGateHammer(t *testing.T) {
	for round := range 50 {
		g := NewGate(8)
		var inside atomic.Int64
		var violations atomic.Int64
		var drained atomic.Bool
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for i := 0; i < 2000; i++ {
					// Half the calls take the hot path's TryEnter and
					// Leave, falling back to Enter and Exit.
					fast := i%2 == 0
					l, ok := 0, false
					if fast {
						l, ok = g.TryEnter(Hint())
					}
					if !ok {
						fast = false
						if l, ok = g.Enter(); !ok {
							return
						}
					}
					inside.Add(1)
					if drained.Load() {
						violations.Add(1)
					}
					inside.Add(-1)
					if !fast {
						g.Exit(l)
					} else if g.Leave(l) {
						g.Wake()
					}
				}
			})
		}
		time.Sleep(time.Duration(round%3) * time.Millisecond)
		g.Close()
		if err := g.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		drained.Store(true)
		if n := inside.Load(); n != 0 {
			t.Fatalf("round %d: %d calls inside after Drain", round, n)
		}
		wg.Wait()
		if v := violations.Load(); v != 0 {
			t.Fatalf("round %d: %d calls entered after Drain returned", round, v)
		}
	}
}

func TestGateDoesNotAllocate(t *testing.T) {
	g := NewGate(8)
	if n := testing.AllocsPerRun(1000, func() {
		l, _ := g.Enter()
		g.Exit(l)
		if l, ok := g.TryEnter(Hint()); ok && g.Leave(l) {
			g.Wake()
		}
	}); n != 0 {
		t.Fatalf("Enter+Exit and TryEnter+Leave allocate %v times", n)
	}
}

func BenchmarkGate(b *testing.B) {
	g := NewGate(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, _ := g.Enter()
			g.Exit(l)
		}
	})
}

// TestGateTryEnter: TryEnter admits on the hinted lane only, refuses a
// busy one and a closed gate without counting anything, and Leave reports
// whether the gate was closed while the call ran.
func TestGateTryEnter(t *testing.T) {
	g := NewGate(4)
	const hint = 6 // lane 2 of 4
	l, ok := g.TryEnter(hint)
	if !ok || l != 2 {
		t.Fatalf("TryEnter(%d) on an idle gate = %d, %v; want 2, true", hint, l, ok)
	}
	if _, ok := g.TryEnter(2); ok {
		t.Fatal("TryEnter admitted a second call on a busy lane")
	}
	if g.InFlight() != 1 {
		t.Fatalf("in flight %d, want 1", g.InFlight())
	}
	if closed := g.Leave(l); closed {
		t.Fatal("Leave reported an open gate closed")
	}
	if g.InFlight() != 0 || g.Calls() != 1 {
		t.Fatalf("after Leave: in flight %d, calls %d; want 0 and 1", g.InFlight(), g.Calls())
	}

	l, _ = g.TryEnter(1)
	g.Close()
	for hint := range uint32(8) {
		if _, ok := g.TryEnter(hint); ok {
			t.Fatalf("closed gate admitted a call on lane %d", hint%4)
		}
	}
	if g.InFlight() != 1 || g.Calls() != 1 {
		t.Fatalf("refused calls counted: in flight %d, calls %d; want 1 and 1", g.InFlight(), g.Calls())
	}
	if closed := g.Leave(l); !closed {
		t.Fatal("Leave did not report the closed gate")
	}
	g.Wake()
	if err := g.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.Open()
	if l, ok := g.TryEnter(1); !ok || l != 1 {
		t.Fatalf("TryEnter on the reopened gate = %d, %v", l, ok)
	}
}

// TestGateLeaveWakesDrain: a call that leaves with Leave and Wake ends a
// Drain at once, not at its periodic re-check.
func TestGateLeaveWakesDrain(t *testing.T) {
	g := NewGate(2)
	l, ok := g.TryEnter(Hint())
	if !ok {
		t.Fatal("TryEnter refused on an idle gate")
	}
	g.Close()
	done := make(chan error, 1)
	go func() { done <- g.Drain(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Drain returned with a call in flight: %v", err)
	default:
	}
	if g.Leave(l) {
		g.Wake()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return after the call left")
	}
}
