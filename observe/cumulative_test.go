package observe

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memlink/memlink-go/memlink"
)

func TestCumulative(t *testing.T) {
	bounds := []float64{0.5, 1, 2}
	cases := []struct {
		name    string
		h       memlink.Histogram
		count   uint64
		sum     float64
		buckets map[float64]uint64
	}{
		{"empty", memlink.Histogram{}, 0, 0, map[float64]uint64{}},
		{"zeros", memlink.Histogram{Bounds: bounds, Counts: make([]uint64, 4)}, 0, 0,
			map[float64]uint64{0.5: 0, 1: 0, 2: 0}},
		{"each bucket adds the ones below", memlink.Histogram{Bounds: bounds, Counts: []uint64{1, 2, 3, 0}, Sum: 2500 * time.Millisecond},
			6, 2.5, map[float64]uint64{0.5: 1, 1: 3, 2: 6}},
		{"above every bound counts only in +Inf", memlink.Histogram{Bounds: bounds, Counts: []uint64{0, 0, 0, 5}, Sum: 15 * time.Second},
			5, 15, map[float64]uint64{0.5: 0, 1: 0, 2: 0}},
		{"short counts read as zeros", memlink.Histogram{Bounds: bounds, Counts: []uint64{4}},
			4, 0, map[float64]uint64{0.5: 4, 1: 4, 2: 4}},
		{"extra counts go to +Inf", memlink.Histogram{Bounds: bounds, Counts: []uint64{1, 0, 0, 1, 1}},
			3, 0, map[float64]uint64{0.5: 1, 1: 1, 2: 1}},
	}
	for _, c := range cases {
		count, sum, buckets := cumulative(c.h)
		if count != c.count || sum != c.sum {
			t.Errorf("%s: count %d, sum %v; want %d, %v", c.name, count, sum, c.count, c.sum)
		}
		if d := cmp.Diff(c.buckets, buckets); d != "" {
			t.Errorf("%s: buckets (-want +got):\n%s", c.name, d)
		}
	}
}
