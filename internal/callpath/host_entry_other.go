//go:build !((darwin || freebsd || linux || netbsd) && (amd64 || arm64))

package callpath

// newHostCallbacks creates the two callbacks; the table points at them
// directly.
func newHostCallbacks(log LogFunc, call CallFunc) (logPtr, callPtr uintptr) {
	return newCallback(log), newCallback(call)
}
