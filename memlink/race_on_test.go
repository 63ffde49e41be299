//go:build race

package memlink_test

// raceEnabled reports a test binary built with -race, whose children (the
// mutation test starts one per file) take about a second each to start.
const raceEnabled = true
