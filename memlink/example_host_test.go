package memlink_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"

	"github.com/memlink/memlink-go/memlink"
)

// A module calling back into Go: the kv module's "put" and "get" call the
// host functions "kv.put" and "kv.get", and its records go to the
// runtime's logger with the module's attributes.
func ExampleWithHostFunc() {
	var mu sync.Mutex
	store := map[string]string{}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "handle" {
				return slog.Attr{} // steady output for the example
			}
			return a
		},
	}))
	rt := memlink.New(
		memlink.WithLogger(logger),
		memlink.WithHostFunc("kv.put", func(ctx context.Context, args, out []byte) ([]byte, error) {
			k, v, _ := bytes2(args)
			mu.Lock()
			store[k] = v
			mu.Unlock()
			return out, nil
		}),
		memlink.WithHostFunc("kv.get", func(ctx context.Context, args, out []byte) ([]byte, error) {
			c, _ := memlink.CallerFrom(ctx)
			mu.Lock()
			defer mu.Unlock()
			v, ok := store[string(args)]
			if !ok {
				return nil, fmt.Errorf("%s asked for a missing key %q in method %s", c.Module, args, c.Method)
			}
			return append(out, v...), nil
		}),
	)
	defer rt.Close()

	h, err := rt.Load(memlink.MustParseRef(modulePath("kv")))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := rt.Call(h, "put", []byte("colour=blue")); err != nil {
		log.Fatal(err)
	}
	out, err := rt.Call(h, "get", []byte("colour"))
	fmt.Printf("%s %v\n", out, err)
	_, err = rt.Call(h, "get", []byte("size"))
	var ce *memlink.CallError
	if errors.As(err, &ce) { // the host function's error, passed on by the module
		fmt.Println(ce.Code, ce.Message)
	}
	// Output:
	// level=INFO msg="kv ready" module=kv generation=1
	// blue <nil>
	// -1 kv asked for a missing key "size" in method get
}

// bytes2 splits "key=value".
func bytes2(b []byte) (k, v string, ok bool) {
	for i, c := range b {
		if c == '=' {
			return string(b[:i]), string(b[i+1:]), true
		}
	}
	return string(b), "", false
}
