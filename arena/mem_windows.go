package arena

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// reserve reserves and commits n bytes of read-write memory. Committed
// pages are not backed by physical memory until first touched.
func reserve(n int) ([]byte, error) {
	addr, err := windows.VirtualAlloc(0, uintptr(n),
		windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		return nil, err
	}
	// The address is outside the Go heap, so turning it into a pointer is
	// safe; going through memory keeps vet's unsafeptr check quiet.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), n), nil
}

// release frees memory obtained from reserve.
func release(b []byte) error {
	return windows.VirtualFree(uintptr(unsafe.Pointer(unsafe.SliceData(b))), 0, windows.MEM_RELEASE)
}
