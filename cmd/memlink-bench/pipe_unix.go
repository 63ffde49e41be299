//go:build darwin || freebsd || linux || netbsd

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

// The isolated row's raw baseline: a child process (this program, started
// again with peerEnv set) that reads a length-prefixed message from one
// pipe and writes it back on another, with blocking reads and writes on
// both sides. It is the plainest cross-process round trip there is, with
// nothing of memlink's shared memory, spinning or slots.

// peerEnv makes this program the pipe peer instead of the benchmark.
const peerEnv = "MEMLINK_BENCH_PIPE_PEER"

// Descriptors of the peer's pipes in the child (ExtraFiles start at 3).
const (
	peerIn  = 3
	peerOut = 4
)

func init() {
	if os.Getenv(peerEnv) == "1" {
		os.Exit(servePipePeer())
	}
}

// servePipePeer echoes messages until its input closes and returns the
// exit status.
func servePipePeer() int {
	buf := make([]byte, 4+maxPeerMessage)
	for {
		if err := readFull(peerIn, buf[:4]); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "pipe peer:", err)
			return 1
		}
		n := int(binary.LittleEndian.Uint32(buf))
		if n > maxPeerMessage {
			fmt.Fprintln(os.Stderr, "pipe peer: message too long:", n)
			return 1
		}
		if err := readFull(peerIn, buf[4:4+n]); err != nil {
			fmt.Fprintln(os.Stderr, "pipe peer:", err)
			return 1
		}
		if err := writeFull(peerOut, buf[:4+n]); err != nil {
			fmt.Fprintln(os.Stderr, "pipe peer:", err)
			return 1
		}
	}
}

// maxPeerMessage bounds a message to the peer.
const maxPeerMessage = 1 << 20

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.EOF
		}
		b = b[n:]
	}
	return nil
}

func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// pipePeer is a running peer and the host's ends of its pipes.
type pipePeer struct {
	cmd     *exec.Cmd
	toPeer  *os.File
	fromPer *os.File
	to      int // toPeer's descriptor, in blocking mode
	from    int
	buf     []byte
}

// startPipePeer starts the peer.
func startPipePeer() (*pipePeer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), peerEnv+"=1")
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	// Fd puts the files in blocking mode: reads and writes block the
	// thread, as a plain C program's would, instead of parking on the
	// network poller.
	p := &pipePeer{cmd: cmd, toPeer: inW, fromPer: outR, to: int(inW.Fd()), from: int(outR.Fd())}
	return p, nil
}

// roundTrip sends args and reads them back into the peer's buffer.
func (p *pipePeer) roundTrip(args []byte) ([]byte, error) {
	need := 4 + len(args)
	if cap(p.buf) < need {
		p.buf = make([]byte, need)
	}
	b := p.buf[:need]
	binary.LittleEndian.PutUint32(b, uint32(len(args)))
	copy(b[4:], args)
	if err := writeFull(p.to, b); err != nil {
		return nil, err
	}
	if err := readFull(p.from, b); err != nil {
		return nil, err
	}
	return b[4:], nil
}

// check makes one round trip and compares the answer.
func (p *pipePeer) check(args []byte) error {
	got, err := p.roundTrip(args)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, args) {
		return fmt.Errorf("%w: the peer returned other bytes", errMismatch)
	}
	return nil
}

// roundTrips makes round trips with args for at least d.
func (p *pipePeer) roundTrips(args []byte, d time.Duration) (callCost, error) {
	var n int64
	start := time.Now()
	var elapsed time.Duration
	for {
		for range callBatch / 16 {
			if _, err := p.roundTrip(args); err != nil {
				return callCost{}, err
			}
		}
		n += callBatch / 16
		if elapsed = time.Since(start); elapsed >= d {
			break
		}
	}
	return callCost{ns: perOp(elapsed, n), n: n}, nil
}

// close ends the peer: it exits when its input closes.
func (p *pipePeer) close() error {
	p.toPeer.Close()
	err := p.cmd.Wait()
	p.fromPer.Close()
	return err
}
