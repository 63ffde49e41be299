//go:build darwin || freebsd || netbsd

package arena

// mapNoReserve is 0 where MAP_NORESERVE is missing or has no effect.
const mapNoReserve = 0
