package memlink

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/internal/modtest"
)

// nativeOf returns the in-process module behind h.
func nativeOf(t *testing.T, rt *Runtime, h Handle) *nativeModule {
	t.Helper()
	e := rt.lookup(h)
	if e == nil || e.cur.Load() == nil || e.cur.Load().native == nil {
		t.Fatalf("handle %v has no in-process module", h)
	}
	return e.cur.Load().native
}

// bufAddr is the address of a module's lane buffers.
func bufAddr(n *nativeModule) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(n.bufs))) }

// Each test below uses an output capacity of its own, so that the arenas
// it recycles are the only ones of their size (sizes a few pages apart:
// the arenas are rounded to pages).

// TestLaneArenaRecycledCleared unloads a module whose lane a call wrote and
// checks that the next module of the same size gets the same arena back,
// with that lane, its canary and out_len cell and the spare page all zero,
// and that its own calls work (its canary armed anew).
func TestLaneArenaRecycledCleared(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arenas are recycled only where an unmapped image is seen gone (Linux)")
	}
	const capacity = 3 * 4096
	rt := New(WithOutputCapacity(capacity), WithLanes(1))
	defer rt.Close()
	ref := MustParseRef(modtest.Path(t, "echo"))
	h, err := rt.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, capacity-1)
	for i := range payload {
		payload[i] = 'x'
	}
	if out, err := rt.Call(h, "process", payload); err != nil || len(out) != len(payload) {
		t.Fatalf("call: %d bytes, %v", len(out), err)
	}
	n := nativeOf(t, rt, h)
	mem, addr := n.mem, bufAddr(n)
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	h, err = rt.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	n2 := nativeOf(t, rt, h)
	if n2.mem != mem || bufAddr(n2) != addr {
		t.Fatalf("the second module got another arena (%#x, want %#x): nothing recycled", bufAddr(n2), addr)
	}
	mem.Reset()
	whole, err := mem.Alloc(mem.Capacity(), 64)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range whole {
		if b != 0 {
			t.Fatalf("byte %d of the recycled arena is %#x, want 0 (of %d)", i, b, len(whole))
		}
	}
	mem.Reset()
	if _, err := mem.Alloc(len(n2.bufs), 64); err != nil { // as allocLanes left it
		t.Fatal(err)
	}
	if out, err := rt.Call(h, "process", []byte("again")); err != nil || string(out) != "again" {
		t.Fatalf("call on the recycled arena: %q, %v", out, err)
	}
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
}

// TestLaneArenaNotRecycledAfterCorruption has a module break its canary
// and checks that its arena is not kept: the next module of the same size
// gets fresh memory.
func TestLaneArenaNotRecycledAfterCorruption(t *testing.T) {
	const capacity = 5 * 4096
	rt := New(WithOutputCapacity(capacity), WithLanes(1))
	defer rt.Close()
	h, err := rt.Load(MustParseRef(modtest.Path(t, "overflow")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Call(h, "fill", []byte("20600")); !errors.Is(err, ErrModuleCorrupted) {
		t.Fatalf("overflowing call: %v, want ErrModuleCorrupted", err)
	}
	mem := nativeOf(t, rt, h).mem
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	if a := takeArena(mem.Capacity()); a != nil {
		t.Fatalf("the corrupted module's arena was kept (%p, the module's %p)", a, mem)
	}
}

// TestLaneArenaNotRecycledWhenImageStays unloads a module that pins itself
// in memory: its code may still run, so its arena must not go to another
// module.
func TestLaneArenaNotRecycledWhenImageStays(t *testing.T) {
	const capacity = 7 * 4096
	rt := New(WithOutputCapacity(capacity), WithLanes(1))
	defer rt.Close()
	h, err := rt.Load(MustParseRef(modtest.Path(t, "pinned")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Call(h, "process", nil); err != nil {
		t.Fatal(err)
	}
	mem := nativeOf(t, rt, h).mem
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	if a := takeArena(mem.Capacity()); a != nil {
		t.Fatalf("the pinned module's arena was kept (%p, the module's %p)", a, mem)
	}
}

// TestLaneArenaNeverShared loads and unloads from several goroutines at
// once and checks that no two modules loaded at the same time ever have
// the same buffers, and that the free list stays bounded.
func TestLaneArenaNeverShared(t *testing.T) {
	const capacity = 9 * 4096
	rt := New(WithOutputCapacity(capacity), WithLanes(2))
	defer rt.Close()
	ref := MustParseRef(modtest.Path(t, "echo"))
	var (
		mu   sync.Mutex
		live = map[uintptr]Handle{}
		wg   sync.WaitGroup
	)
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				h, err := rt.Load(ref)
				if err != nil {
					t.Error(err)
					return
				}
				addr := bufAddr(nativeOf(t, rt, h))
				mu.Lock()
				if other, ok := live[addr]; ok {
					mu.Unlock()
					t.Errorf("goroutine %d round %d: %v got the buffers of %v, still loaded", g, i, h, other)
					return
				}
				live[addr] = h
				mu.Unlock()
				if out, err := rt.Call(h, "process", []byte("mine")); err != nil || string(out) != "mine" {
					t.Errorf("call: %q, %v", out, err)
				}
				mu.Lock()
				delete(live, addr)
				mu.Unlock()
				if err := rt.Unload(h); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	laneArenas.mu.Lock()
	kept := len(laneArenas.free)
	laneArenas.mu.Unlock()
	if kept > maxFreeArenas {
		t.Errorf("%d arenas kept, more than %d", kept, maxFreeArenas)
	}
}

// TestKeepArenaEvictsTheOldest fills the free list past its bound with
// arenas of sizes no module here uses and checks that the oldest is
// handed back to be closed, the newest are kept, and each comes out once.
func TestKeepArenaEvictsTheOldest(t *testing.T) {
	ps := arena.PageSize()
	var made []*arena.Arena
	for i := range maxFreeArenas + 1 {
		a, err := arena.New((101 + i) * ps)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, a)
	}
	defer func() {
		for _, a := range made {
			a.Close()
		}
	}()
	for i, a := range made {
		if old := keepArena(a); i < maxFreeArenas && old != nil && slices.Contains(made, old) {
			t.Fatalf("keeping arena %d evicted one of this test's, %p", i, old)
		} else if i == maxFreeArenas && old != made[0] {
			t.Fatalf("keeping arena %d evicted %p, want the oldest, %p", i, old, made[0])
		} else if old != nil && !slices.Contains(made, old) {
			old.Close() // an earlier test's
		}
	}
	if a := takeArena(made[0].Capacity()); a != nil {
		t.Errorf("the evicted arena is still kept")
	}
	for _, want := range made[1:] {
		if a := takeArena(want.Capacity()); a != want {
			t.Errorf("takeArena(%d) = %p, want %p", want.Capacity(), a, want)
		}
		if a := takeArena(want.Capacity()); a != nil {
			t.Errorf("takeArena(%d) handed %p out twice", want.Capacity(), a)
		}
	}
}
