//go:build !linux

package callpath

// MayStayLoaded reports, for a closed library, whether its image may
// still be loaded. Only Linux looks (loaded_linux.go) and records an image
// it saw gone; elsewhere nothing does, so the answer is always the
// cautious one, true.
func (l *Library) MayStayLoaded() bool { return !l.gone.Load() }
