package observe_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/memlink/memlink-go/observe"
)

// BenchmarkCallAppendWithCollector measures a 64-byte call on echo with no
// collector ("none") and with a registered collector scraped every 10 ms
// while the calls run ("scraped"). The collector reads the runtime's
// counters only when scraped, so the two should be within noise.
func BenchmarkCallAppendWithCollector(b *testing.B) {
	for _, scraped := range []bool{false, true} {
		name := "none"
		if scraped {
			name = "scraped"
		}
		b.Run(name, func(b *testing.B) {
			rt := newRuntime(b)
			h := mustLoad(b, rt, "echo")
			if scraped {
				reg := prometheus.NewRegistry()
				reg.MustRegister(observe.NewCollector(rt))
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := reg.Gather(); err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
				defer func() { close(stop); wg.Wait() }()
			}
			args := []byte(strings.Repeat("a", 64))
			dst := make([]byte, 0, 128)
			b.ReportAllocs()
			for b.Loop() {
				out, err := rt.CallAppend(dst[:0], h, "process", args)
				if err != nil || len(out) != 64 {
					b.Fatalf("CallAppend = %d bytes, %v", len(out), err)
				}
			}
		})
	}
}

// BenchmarkCollect measures one Gather of a registry holding the collector
// of a runtime with 10 loaded modules.
func BenchmarkCollect(b *testing.B) {
	rt := newRuntime(b)
	for range 10 {
		h := mustLoad(b, rt, "echo")
		callN(b, rt, h, "process", "x", 100)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(observe.NewCollector(rt))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
