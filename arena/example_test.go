package arena_test

import (
	"errors"
	"fmt"

	"github.com/memlink/memlink-go/arena"
)

func Example() {
	a, err := arena.New(1 << 20)
	if err != nil {
		panic(err)
	}
	defer a.Close()

	// Buffers for one foreign call: they never move and the GC ignores them.
	name, _ := a.Alloc(10, 1)
	out, _ := a.Alloc(64, 8)
	copy(name, "memlink\x00")
	fmt.Println(len(name), len(out), a.Used())

	// When the call returns, all of its buffers go back at once.
	a.Reset()
	fmt.Println(a.Used())
	// Output:
	// 10 64 80
	// 0
}

func ExampleArena_Alloc() {
	a, err := arena.New(arena.PageSize())
	if err != nil {
		panic(err)
	}
	defer a.Close()

	_, err = a.Alloc(a.Capacity()+1, 1)
	fmt.Println(errors.Is(err, arena.ErrFull))

	buf, err := a.Alloc(a.Capacity(), 1)
	fmt.Println(len(buf) == a.Capacity(), err)
	// Output:
	// true
	// true <nil>
}

func ExampleArena_Close() {
	a, err := arena.New(4096)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Close(), a.Close())

	_, err = a.Alloc(8, 8)
	fmt.Println(errors.Is(err, arena.ErrClosed))
	// Output:
	// <nil> <nil>
	// true
}
