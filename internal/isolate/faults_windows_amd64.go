package isolate

// vehHandler is the vectored exception handler (faults_windows.go). It
// follows the Windows x64 calling convention, not Go's: never call it.
func vehHandler() //nolint:unused // its address is taken in assembly (vehAddr)

// vehAddr returns the address of vehHandler's code.
func vehAddr() uintptr
