// Command quickstart is the README's quick start as a program: it builds
// the bundled example modules with the C compiler it finds (into the user
// cache directory), loads three of them, calls them from several goroutines
// and prints what they answer and what the runtime counted.
//
//	go run ./internal/examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/memlink/memlink-go/internal/modbuild"
	"github.com/memlink/memlink-go/memlink"
)

func main() {
	log.SetFlags(0)
	dir, err := modbuild.DefaultCacheDir()
	if err != nil {
		log.Fatal(err)
	}
	rep, err := modbuild.BuildAll(context.Background(), dir, modbuild.HostTarget())
	if err != nil {
		log.Fatal(err)
	}

	rt := memlink.New()
	defer rt.Close()

	// Load a module, call it, unload it.
	h, err := rt.Load(memlink.MustParseRef(rep.Paths["echo"]))
	if err != nil {
		log.Fatal(err)
	}
	out, err := rt.Call(h, "process", []byte("input data"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo: %s\n", out)
	if err := rt.Unload(h); err != nil {
		log.Fatal(err)
	}

	// Several modules, called concurrently.
	handles := map[string]memlink.Handle{}
	for _, name := range []string{"math", "string", "crypto"} {
		h, err := rt.Load(memlink.MustParseRef(rep.Paths[name]))
		if err != nil {
			log.Fatal(err)
		}
		handles[name] = h
	}
	var wg sync.WaitGroup
	for name, h := range handles {
		wg.Go(func() {
			for i := range 100 {
				args := fmt.Sprintf("%s_%d", name, i)
				if name == "math" {
					args = fmt.Sprintf("%d,%d", i, i)
				}
				if _, err := rt.Call(h, "process", []byte(args)); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	for _, name := range []string{"math", "string", "crypto"} {
		arg := map[string]string{"math": "40,2", "string": "hello", "crypto": "hello"}[name]
		out, err := rt.Call(handles[name], "process", []byte(arg))
		if err != nil {
			log.Fatal(err)
		}
		u, _ := rt.Usage(handles[name])
		fmt.Printf("%-6s %-8q -> %-10q calls=%d arena=%dB\n", name, arg, out, u.Calls, u.ArenaBytes)
	}
}
