//go:build !windows

package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// run serves compile requests on a loopback port until it is interrupted.
func run(args []string) error {
	fs := flag.NewFlagSet("winecc", flag.ContinueOnError)
	cc := fs.String("cc", "x86_64-w64-mingw32-gcc", "the compiler to run, with any fixed arguments")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := os.Getenv(envToken)
	if len(token) < 16 {
		return fmt.Errorf("%s must hold a secret of at least 16 characters", envToken)
	}
	words := strings.Fields(*cc)
	if len(words) == 0 {
		return errors.New("empty -cc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go serve(conn, token, words)
	}
}

// serve answers one request.
func serve(conn net.Conn, token string, cc []string) {
	defer conn.Close()
	var req request
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		return
	}
	if subtle.ConstantTimeCompare([]byte(req.Token), []byte(token)) != 1 {
		return
	}
	cmd := exec.Command(cc[0], append(cc[1:len(cc):len(cc)], req.Args...)...)
	cmd.Dir = req.Dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	status := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		} else {
			fmt.Fprintf(&out, "winecc: %v\n", err)
			status = 127
		}
	}
	_ = send(json.NewEncoder(conn), response{Output: out.Bytes(), Status: status})
}
