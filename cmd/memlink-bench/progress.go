package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Progress modes (-progress).
const (
	progressAuto  = "auto"  // tty on a terminal, lines elsewhere, off with -json
	progressTTY   = "tty"   // one line rewritten in place
	progressLines = "lines" // one plain line per variant
	progressOff   = "off"
)

// progress shows on stderr which measurement is running: on a terminal one
// line rewritten in place with the repetition, elsewhere one plain line
// per variant, or nothing.
type progress struct {
	w    io.Writer
	mode string // progressTTY, progressLines or progressOff
	last int    // runes of the line on screen (tty only)
}

// newProgress resolves mode (progressAuto: tty when w is a terminal, else
// lines; off when the JSON goes to stdout) for w.
func newProgress(w io.Writer, mode string, json bool) *progress {
	if mode == progressAuto {
		switch {
		case json:
			mode = progressOff
		case isTerminal(w):
			mode = progressTTY
		default:
			mode = progressLines
		}
	}
	return &progress{w: w, mode: mode}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
}

// step reports that repetition k of n of variant i of total (a row's
// variant) is running; k = 0 means the variant is being set up.
func (p *progress) step(i, total int, row, variant string, k, n int) {
	switch p.mode {
	case progressLines:
		if k == 0 {
			fmt.Fprintf(p.w, "[%d/%d] %s %s\n", i, total, row, variant)
		}
	case progressTTY:
		line := fmt.Sprintf("[%d/%d] %s %s: repetition %d of %d", i, total, row, variant, k, n)
		if k == 0 {
			line = fmt.Sprintf("[%d/%d] %s %s: setting up", i, total, row, variant)
		}
		width := utf8.RuneCountInString(line)
		pad := ""
		if width < p.last {
			pad = strings.Repeat(" ", p.last-width)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.last = width
	}
}

// done clears the progress line from a terminal.
func (p *progress) done() {
	if p.mode == progressTTY && p.last > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
		p.last = 0
	}
}
