// Command winecc lets Windows programs running under Wine use a Linux C
// compiler, for running the test suite for windows/amd64 under Wine
// (.ci/test-windows.sh). Wine cannot start a Linux program from a Windows
// one, and Debian has no C compiler that runs as a Windows program, so the
// tests that compile modules for their own platform would have none.
//
// The same source builds two programs:
//
//   - on Linux, the server: winecc -cc x86_64-w64-mingw32-gcc prints the
//     loopback address it listens on, then runs each compile request it is
//     sent, in the requested directory, and answers with the compiler's
//     output and exit status;
//   - on Windows, the client, installed as gcc.exe on the Wine PATH: it
//     sends its arguments and working directory, with Windows paths turned
//     into Linux ones (through Wine's wine_get_unix_file_name), prints the
//     compiler's output and exits with its status.
//
// Both ends find the server through MEMLINK_WINECC_ADDR and authenticate
// with the secret in MEMLINK_WINECC_TOKEN, which the server's caller sets.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

const (
	envAddr  = "MEMLINK_WINECC_ADDR"
	envToken = "MEMLINK_WINECC_TOKEN"
)

// request is one compiler run: the arguments after the program name, and
// the directory to run in, both as the server sees the file system.
type request struct {
	Token string
	Dir   string
	Args  []string
}

// response is what the compiler printed (stdout and stderr, interleaved)
// and its exit status.
type response struct {
	Output []byte
	Status int
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "winecc:", err)
		os.Exit(2)
	}
}

// send writes v as one JSON value.
func send(enc *json.Encoder, v any) error { return enc.Encode(v) }
