package gate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestDrainUntil checks the three ways out of DrainUntil: the gate empty,
// the caller's condition met while calls are still in, and the context.
func TestDrainUntil(t *testing.T) {
	g := NewGate(2)
	never := func() bool { return false }
	g.Close()
	if err := g.DrainUntil(context.Background(), never); err != nil {
		t.Fatalf("empty gate: %v", err)
	}

	g = NewGate(2)
	li, ok := g.Enter()
	if !ok {
		t.Fatal("refused")
	}
	g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.DrainUntil(ctx, never); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call in flight, condition never met: %v, want the deadline", err)
	}

	var met atomic.Bool
	done := make(chan error, 1)
	go func() { done <- g.DrainUntil(context.Background(), met.Load) }()
	time.Sleep(5 * time.Millisecond) // past the spin: the polls decide
	select {
	case err := <-done:
		t.Fatalf("returned %v with the call in flight and the condition unmet", err)
	default:
	}
	met.Store(true)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the condition was met but DrainUntil went on waiting")
	}
	if g.InFlight() != 1 {
		t.Fatalf("in flight %d, want the call still in", g.InFlight())
	}

	go func() { done <- g.DrainUntil(context.Background(), never) }()
	g.Exit(li)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the last call left but DrainUntil went on waiting")
	}
}

// TestLaneWords checks what the two-phase drain reads of a gate: a lane's
// word is odd while a call holds it, different for every call, and at
// the address SeqWord gives; calls without a lane are counted apart.
func TestLaneWords(t *testing.T) {
	g := NewGate(1)
	li, _ := g.Enter()
	first := g.LaneSeq(li)
	if first&1 != 1 || *g.SeqWord(li) != first {
		t.Fatalf("held lane: word %d (at SeqWord: %d), want an odd word", first, *g.SeqWord(li))
	}
	over, _ := g.Enter()
	if over != Overflow || g.OverflowInFlight() != 1 {
		t.Fatalf("second call on a one-lane gate: lane %d, %d without a lane", over, g.OverflowInFlight())
	}
	g.Exit(over)
	g.Exit(li)
	if g.LaneSeq(li)&1 != 0 || g.OverflowInFlight() != 0 {
		t.Fatalf("after both left: word %d, %d without a lane", g.LaneSeq(li), g.OverflowInFlight())
	}
	li, _ = g.Enter()
	if s := g.LaneSeq(li); s&1 != 1 || s == first {
		t.Fatalf("next call's word %d, want odd and not %d", s, first)
	}
	g.Exit(li)
}
