package memlink_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// modulePath returns the path of one of the bundled example modules, built
// for this machine. In a program it would be a literal path.
func modulePath(name string) string {
	p, err := modtest.Shared(name)
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// The quick start: load a module, call it, unload it.
func Example() {
	rt := memlink.New()
	defer rt.Close()

	ref, err := memlink.ParseRef(modulePath("echo"))
	if err != nil {
		log.Fatal(err)
	}
	h, err := rt.Load(ref)
	if err != nil {
		log.Fatal(err)
	}
	out, err := rt.Call(h, "process", []byte("input data"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Result: %s\n", out)
	if err := rt.Unload(h); err != nil {
		log.Fatal(err)
	}
	// Output: Result: input data
}

// Several modules called from several goroutines at once.
func Example_concurrent() {
	rt := memlink.New()
	defer rt.Close()
	mods := map[string]memlink.Handle{}
	for _, name := range []string{"math", "string", "crypto"} {
		h, err := rt.Load(memlink.MustParseRef(modulePath(name)))
		if err != nil {
			log.Fatal(err)
		}
		mods[name] = h
	}
	var wg sync.WaitGroup
	for name, h := range mods {
		wg.Go(func() {
			for i := range 100 {
				if _, err := rt.Call(h, "process", fmt.Appendf(nil, "%d,%d", i, i)); err != nil && name == "math" {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	out, _ := rt.Call(mods["math"], "process", []byte("40,2"))
	fmt.Println(len(rt.Handles()), "modules; 40+2 =", string(out))
	// Output: 3 modules; 40+2 = 42
}

// CallAppend reuses the caller's buffer: with enough capacity it does not
// allocate.
func ExampleRuntime_CallAppend() {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modulePath("string")))
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	for _, word := range []string{"hello", "world"} {
		buf, err = rt.CallAppend(buf[:0], h, "process", []byte(word))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(buf))
	}
	// Output:
	// HELLO
	// WORLD
}

// A non-zero return from a module is a *CallError; reserved codes also
// match sentinel errors.
func ExampleCallError() {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modulePath("errors")))
	if err != nil {
		log.Fatal(err)
	}
	_, err = rt.Call(h, "custom", nil)
	var ce *memlink.CallError
	if errors.As(err, &ce) {
		fmt.Println("code", ce.Code, "from method", ce.Method)
	}
	_, err = rt.Call(h, "panic", nil)
	fmt.Println("panicked:", errors.Is(err, memlink.ErrModulePanicked))
	// Output:
	// code 17 from method custom
	// panicked: true
}

// Load errors say what is wrong with the file and wrap a sentinel.
func ExampleLoadError() {
	rt := memlink.New()
	defer rt.Close()
	_, err := rt.Load(memlink.MustParseRef(modulePath("initfail")))
	var le *memlink.LoadError
	if errors.As(err, &le) {
		fmt.Println("init failed:", errors.Is(le, memlink.ErrInitFailed))
	}
	_, err = rt.Load(memlink.MustParseRef("/nonexistent/module.so"))
	fmt.Println("not found:", errors.Is(err, memlink.ErrNotFound))
	// Output:
	// init failed: true
	// not found: true
}

// Usage reports what a module has done.
func ExampleRuntime_Usage() {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modulePath("echo")))
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		rt.Call(h, "process", []byte("x"))
	}
	u, _ := rt.Usage(h)
	fmt.Println("calls:", u.Calls, "generation:", u.Generation, "in flight:", u.InFlight)
	// Output: calls: 3 generation: 1 in flight: 0
}

// Reload swaps in a new build behind the same handle.
func ExampleRuntime_Reload() {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modulePath("version_v1")))
	if err != nil {
		log.Fatal(err)
	}
	before, _ := rt.Call(h, "version", nil)

	rep, err := rt.Reload(h, memlink.MustParseRef(modulePath("version_v2")), hotreload.Config{})
	if err != nil {
		log.Fatal(err)
	}
	after, _ := rt.Call(h, "version", nil)
	fmt.Printf("%s -> %s, generation %d\n", before, after, rep.Generation)
	// Output: v1 -> v2, generation 2
}

// A registry resolves name@version references and enforces the digest its
// manifest records.
func ExampleRegistry() {
	dir, err := os.MkdirTemp("", "registry")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	reg := &memlink.Registry{Dir: dir}
	for ver, mod := range map[string]string{"1.0.0": "version_v1", "1.4.2": "version_v2"} {
		if err := reg.Publish("greeter", ver, modulePath(mod)); err != nil {
			log.Fatal(err)
		}
	}

	rt := memlink.New(memlink.WithRegistry(dir))
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef("greeter@^1.0"))
	if err != nil {
		log.Fatal(err)
	}
	out, _ := rt.Call(h, "version", nil)
	fmt.Println("greeter@^1.0 runs", string(out))
	// Output: greeter@^1.0 runs v2
}

// A path from a flag or a configuration file is taken literally with
// FileRef: nothing in a file name is parsed, and nothing about it panics.
func ExampleFileRef() {
	rt := memlink.New()
	defer rt.Close()
	path := modulePath("echo") // e.g. flag.String("module", "", "...")
	h, err := rt.Load(memlink.FileRef(path))
	if err != nil {
		log.Fatal(err)
	}
	out, _ := rt.Call(h, "process", []byte("hi"))
	fmt.Println(string(out), h)
	// Output: hi #1.1
}

// An option value out of range fails the Load that uses it.
func ExampleErrInvalidOption() {
	rt := memlink.New()
	defer rt.Close()
	_, err := rt.Load(memlink.FileRef(modulePath("echo")), memlink.WithDigest("not-a-digest"))
	fmt.Println(errors.Is(err, memlink.ErrInvalidOption))
	// Output: true
}

// greeter is a service that depends on ModuleRuntime rather than on
// *memlink.Runtime.
type greeter struct {
	rt memlink.ModuleRuntime
	h  memlink.Handle
}

func (g greeter) greet(name string) (string, error) {
	out, err := g.rt.Call(g.h, "process", []byte("hello, "+name))
	return string(out), err
}

// fakeRuntime stands in for a runtime in the service's tests: embedding the
// interface, it implements only the methods the service calls.
type fakeRuntime struct{ memlink.ModuleRuntime }

func (fakeRuntime) Call(h memlink.Handle, method string, args []byte) ([]byte, error) {
	return append([]byte("fake "), args...), nil
}

// A service depends on ModuleRuntime, and its tests substitute a fake.
func ExampleModuleRuntime() {
	g := greeter{rt: fakeRuntime{}}
	s, _ := g.greet("gopher")
	fmt.Println(s)
	// Output: fake hello, gopher
}
