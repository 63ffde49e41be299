package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"unsafe"
)

var (
	kernel32     = syscall.NewLazyDLL("kernel32.dll")
	unixFileName = kernel32.NewProc("wine_get_unix_file_name")
	heapFree     = kernel32.NewProc("HeapFree")
	processHeap  = kernel32.NewProc("GetProcessHeap")
)

// run sends the compiler arguments to the server and relays its answer.
func run(args []string) error {
	addr, token := os.Getenv(envAddr), os.Getenv(envToken)
	if addr == "" || token == "" {
		return fmt.Errorf("%s and %s must name the winecc server", envAddr, envToken)
	}
	if unixFileName.Find() != nil {
		return errors.New("this is not Wine: kernel32 has no wine_get_unix_file_name")
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	req := request{Token: token}
	if req.Dir, err = unixPath(wd); err != nil {
		return err
	}
	for _, a := range args {
		if req.Args, err = appendArg(req.Args, a); err != nil {
			return err
		}
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := send(json.NewEncoder(conn), req); err != nil {
		return err
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return fmt.Errorf("no answer from %s: %w", addr, err)
	}
	os.Stderr.Write(resp.Output)
	os.Exit(resp.Status)
	return nil
}

// appendArg appends a with any Windows path in it made a Linux one: the
// whole argument, or what follows -o, -I or -L.
func appendArg(args []string, a string) ([]string, error) {
	prefix, p := "", a
	for _, opt := range []string{"-o", "-I", "-L"} {
		if rest, ok := strings.CutPrefix(a, opt); ok && isDrivePath(rest) {
			prefix, p = opt, rest
		}
	}
	if !isDrivePath(p) {
		return append(args, a), nil
	}
	u, err := unixPath(p)
	if err != nil {
		return nil, err
	}
	return append(args, prefix+u), nil
}

// isDrivePath reports whether p starts like C:\ or C:/.
func isDrivePath(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
}

// unixPath asks Wine where a Windows path lies in the Linux file system.
// The last element need not exist.
func unixPath(p string) (string, error) {
	w, err := syscall.UTF16PtrFromString(p)
	if err != nil {
		return "", err
	}
	r, _, _ := unixFileName.Call(uintptr(unsafe.Pointer(w)))
	if r == 0 {
		return "", fmt.Errorf("wine_get_unix_file_name(%s) failed", p)
	}
	s := cString(r)
	heap, _, _ := processHeap.Call()
	_, _, _ = heapFree.Call(heap, 0, r)
	return s, nil
}

// cString copies the NUL-terminated bytes at the address p (memory Wine
// allocated, outside the Go heap).
func cString(p uintptr) string {
	start := *(*unsafe.Pointer)(unsafe.Pointer(&p))
	n := 0
	for *(*byte)(unsafe.Add(start, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(start), n))
}
