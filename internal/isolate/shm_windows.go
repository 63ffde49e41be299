package isolate

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// createShm returns a pagefile-backed file mapping of size bytes: no file
// in any file system, freed when the last handle and view go. The handle
// is not inheritable; the worker gets a duplicate of its own (see
// inheritable).
func createShm(size int) (windows.Handle, error) {
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE, uint32(uint64(size)>>32), uint32(size), nil)
	if err != nil {
		return 0, fmt.Errorf("isolate: CreateFileMapping: %w", err)
	}
	return h, nil
}

// mapShared maps size bytes of the file mapping h read-write.
func mapShared(h windows.Handle, size int) ([]byte, error) {
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_READ|windows.FILE_MAP_WRITE, 0, 0, uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("isolate: mapping the shared region: %w", err)
	}
	// The view is not Go memory: reading the address as a pointer (not
	// converting the integer) is what vet accepts for it.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), size), nil
}

func unmap(b []byte) error { return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&b[0]))) }

// protectNone makes b inaccessible, so that touching it faults.
func protectNone(b []byte) error {
	var old uint32
	return windows.VirtualProtect(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), windows.PAGE_NOACCESS, &old)
}

// inheritable returns a duplicate of h that a child process started with
// it in its handle list inherits. The caller closes it once the child is
// started: only the child's copy is meant to live on.
func inheritable(h windows.Handle) (windows.Handle, error) {
	self := windows.CurrentProcess()
	var dup windows.Handle
	if err := windows.DuplicateHandle(self, h, self, &dup, 0, true, windows.DUPLICATE_SAME_ACCESS); err != nil {
		return 0, fmt.Errorf("isolate: DuplicateHandle: %w", err)
	}
	return dup, nil
}
