//go:build !race

package memlink_test

// raceEnabled reports a test binary built with -race.
const raceEnabled = false
