//go:build !(darwin || freebsd || linux || netbsd)

package main

import (
	"errors"
	"time"
)

// pipePeer is not available here: the isolated row's pipe baseline is n/a.
type pipePeer struct{}

func startPipePeer() (*pipePeer, error) { return nil, errors.ErrUnsupported }

func (p *pipePeer) check([]byte) error { return errors.ErrUnsupported }

func (p *pipePeer) roundTrips([]byte, time.Duration) (callCost, error) {
	return callCost{}, errors.ErrUnsupported
}

func (p *pipePeer) close() error { return nil }
