package observe_test

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

// Export a runtime's metrics from a registry of its own. A real program
// serves the handler with http.Handle("/metrics", handler); here a
// recorder stands in for the network and two lines of the scrape are
// printed.
func ExampleNewCollector() {
	rt := memlink.New()
	defer rt.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(observe.NewCollector(rt))
	handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))

	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "memlink_modules_loaded ") || strings.HasPrefix(line, "memlink_loads_total ") {
			fmt.Println(line)
		}
	}
	// Output:
	// memlink_loads_total 0
	// memlink_modules_loaded 0
}
