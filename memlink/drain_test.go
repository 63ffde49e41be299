package memlink

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/gate"
	"github.com/memlink/memlink-go/internal/modtest"
)

// heldCall is a call on an in-process module stopped between two of its
// steps, as the scheduler may stop one: admitted by the gate, and either
// not yet in C or back from its C call but not yet out of the gate.
type heldCall struct {
	in    *instance
	lane  int
	spare *spareLane
	frame *callpath.Frame
	out   unsafe.Pointer
}

// admit enters in's gate and takes the call's lane (a spare one when the
// gate gave none), as lane.call would.
func admit(t *testing.T, in *instance) *heldCall {
	t.Helper()
	li, ok := in.gate.Enter()
	if !ok {
		t.Fatal("the gate refused a call")
	}
	c := &heldCall{in: in, lane: li}
	if li == gate.Overflow {
		c.spare = in.native.getSpare()
		c.frame, c.out = &c.spare.frame, c.spare.out()
	} else {
		l := in.native.readyLane(li)
		if l == nil {
			l = in.native.newLane(li)
		}
		c.frame, c.out = &l.frame, l.out()
	}
	return c
}

// runC makes the call's C call (echo's memlink_call of "hello").
func (c *heldCall) runC(t *testing.T) {
	t.Helper()
	args := []byte("hello")
	if rc := c.in.native.mod.Call(c.frame, abi.MethodID("echo"), args, c.out); rc != 0 {
		t.Fatalf("echo returned %d", rc)
	}
}

// leave ends the call: the spare lane back, out of the gate.
func (c *heldCall) leave() {
	if c.spare != nil {
		c.in.native.putSpare(c.spare)
	}
	c.in.gate.Exit(c.lane)
}

func (in *instance) state() lifeState {
	in.life.mu.Lock()
	defer in.life.mu.Unlock()
	return in.life.state
}

func loadForDrain(t *testing.T, opts ...Option) (*Runtime, Handle, Ref, *instance) {
	t.Helper()
	rt := New(opts...)
	t.Cleanup(func() { _ = rt.Close() })
	ref := MustParseRef(modtest.Path(t, "echo"))
	h, err := rt.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	return rt, h, ref, rt.lookup(h).cur.Load()
}

func waitEnded(t *testing.T, in *instance) {
	t.Helper()
	select {
	case <-in.life.ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("the old version did not end after its last call left (state %d)", in.state())
	}
}

// TestReloadReturnsOnceCallsLeftC holds a call that has made its C call
// but not left the gate (its goroutine waiting for the scheduler): a
// stateless reload shuts the old version down and returns at once, and
// the old call buffers stay until the call leaves. Where calls are not
// marked (purego), the reload must wait for the call instead.
func TestReloadReturnsOnceCallsLeftC(t *testing.T) {
	for _, lanes := range []int{64, 1} { // 1: the held calls take a gate lane and a spare
		rt, h, ref, old := loadForDrain(t, WithLanes(lanes))
		calls := []*heldCall{admit(t, old)}
		if lanes == 1 {
			calls = append(calls, admit(t, old))
			if calls[1].spare == nil {
				t.Fatal("the second call got a gate lane of a one-lane gate")
			}
		}
		for _, c := range calls {
			c.runC(t)
		}
		cfg := hotreload.Config{DrainTimeout: 200 * time.Millisecond}
		if !callpath.MarksReturns {
			if _, err := rt.Reload(h, ref, cfg); !errors.Is(err, ErrDrainTimeout) {
				t.Fatalf("lanes=%d: Reload = %v; without return marks it must wait for the call and time out", lanes, err)
			}
			for _, c := range calls {
				c.leave()
			}
			waitEnded(t, old)
			continue
		}
		rep, err := rt.Reload(h, ref, cfg)
		if err != nil {
			t.Fatalf("lanes=%d: Reload = %v, want nil: the held calls have left C", lanes, err)
		}
		if rep.Drained != len(calls) {
			t.Errorf("lanes=%d: Report.Drained = %d, want %d", lanes, rep.Drained, len(calls))
		}
		if s := old.state(); s != lifeReleasing {
			t.Fatalf("lanes=%d: old version in state %d after Reload, want lifeReleasing (%d)", lanes, s, lifeReleasing)
		}
		// The library is closed; the buffers the calls still read are not.
		for i, c := range calls {
			if got := string(unsafe.Slice((*byte)(c.out), 5)); got != "hello" {
				t.Fatalf("lanes=%d: call %d reads %q from its buffer after the reload", lanes, i, got)
			}
		}
		if u, _ := rt.Usage(h); u.InFlight != len(calls) {
			t.Errorf("lanes=%d: Usage.InFlight = %d, want the %d held calls", lanes, u.InFlight, len(calls))
		}
		select {
		case <-old.life.ended:
			t.Fatalf("lanes=%d: the old version ended with calls in its gate", lanes)
		default:
		}
		for _, c := range calls {
			c.leave()
		}
		waitEnded(t, old)
		if u, _ := rt.Usage(h); u.InFlight != 0 || u.Calls != uint64(len(calls)) {
			t.Errorf("lanes=%d: Usage after the calls left: in flight %d, calls %d; want 0 and %d", lanes, u.InFlight, u.Calls, len(calls))
		}
		if got := call(t, rt, h); got != "hello" {
			t.Fatalf("lanes=%d: the new version answers %q", lanes, got)
		}
	}
}

// TestReloadWaitsForCallsNotYetInC holds calls admitted but not yet in C,
// on a gate lane and on a spare one: they will run module code, so the
// reload must not close the library under them. The drain times out, the
// calls then run on the old version, and it ends after them.
func TestReloadWaitsForCallsNotYetInC(t *testing.T) {
	for _, lanes := range []int{64, 1} {
		rt, h, ref, old := loadForDrain(t, WithLanes(lanes))
		calls := []*heldCall{admit(t, old)}
		if lanes == 1 {
			// One spare call done with C, one not yet in it: the count of
			// spares done must not pass for all of them.
			calls[0].runC(t) // the gate lane's call is done: only the spares decide
			done, waiting := admit(t, old), admit(t, old)
			done.runC(t)
			calls = append(calls, done, waiting)
		}
		_, err := rt.Reload(h, ref, hotreload.Config{DrainTimeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrDrainTimeout) {
			t.Fatalf("lanes=%d: Reload = %v, want ErrDrainTimeout", lanes, err)
		}
		if s := old.state(); s != lifeDraining {
			t.Fatalf("lanes=%d: old version in state %d, want lifeDraining (%d): its library must stay open", lanes, s, lifeDraining)
		}
		for _, c := range calls {
			c.runC(t) // the library is still there
			c.leave()
		}
		waitEnded(t, old)
		if got := call(t, rt, h); got != "hello" {
			t.Fatalf("lanes=%d: the new version answers %q", lanes, got)
		}
	}
}

// TestFinalMask checks which results end a call's C calls, per ABI.
func TestFinalMask(t *testing.T) {
	for _, tc := range []struct {
		module string
		want   uint32
	}{{"echo", 0}, {"binary", ^uint32(0)}} {
		rt := New()
		h, err := rt.Load(MustParseRef(modtest.Path(t, tc.module)))
		if err != nil {
			t.Fatal(err)
		}
		if got := rt.lookup(h).cur.Load().native.finalMask(); got != tc.want {
			t.Errorf("%s: finalMask %#x, want %#x", tc.module, got, tc.want)
		}
		_ = rt.Close()
	}
}

// call calls echo's "echo" with "hello".
func call(t *testing.T, rt *Runtime, h Handle) string {
	t.Helper()
	out, err := rt.Call(h, "echo", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestSparesBeyondTheBound fills a one-lane gate's spare list and checks
// that one more call gets an unlisted spare of its own, which no drain
// can see done: the first phase waits for that call to leave the gate.
func TestSparesBeyondTheBound(t *testing.T) {
	_, _, _, in := loadForDrain(t, WithLanes(1))
	n := in.native
	calls := []*heldCall{admit(t, in)}
	for range n.maxSpares() + 1 {
		calls = append(calls, admit(t, in))
	}
	if got := len(n.spare.list()); got != n.maxSpares() {
		t.Fatalf("%d spares listed, want the bound %d", got, n.maxSpares())
	}
	extra := calls[len(calls)-1]
	if extra.spare.listed {
		t.Fatal("the call beyond the bound got a listed spare")
	}
	for _, c := range calls {
		c.runC(t)
	}
	in.gate.Close()
	if callpath.MarksReturns && n.left() {
		t.Fatal("left() with an unlisted spare's call in flight")
	}
	extra.leave()
	if got := n.left(); got != callpath.MarksReturns {
		t.Fatalf("left() = %v once only marked calls remain, want %v", got, callpath.MarksReturns)
	}
	for _, c := range calls[:len(calls)-1] {
		c.leave()
	}
	in.gate.Open() // the runtime's Close drains and ends it
	// Reused, not grown: the listed spares are free again.
	again := admit(t, in)
	if again.spare != nil {
		t.Fatal("a call on an idle one-lane gate got a spare")
	}
	more := admit(t, in)
	if !more.spare.listed || len(n.spare.list()) != n.maxSpares() {
		t.Fatalf("a spare call after the burst: listed %v, %d spares", more.spare.listed, len(n.spare.list()))
	}
	more.leave()
	again.leave()
}
