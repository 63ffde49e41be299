//go:build !linux

package main

// rssKB reports that resident memory is not measured on this platform.
func rssKB() (float64, error) {
	return 0, notAvailable{reason: "resident memory is read from VmRSS in /proc/self/status, which only Linux has"}
}
