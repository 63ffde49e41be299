package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// progress shows on stderr which measurement is running: on a terminal
// one line rewritten in place, elsewhere one line per step.
type progress struct {
	w    io.Writer
	tty  bool
	last int // runes of the line on screen (tty only)
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w)}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// step reports that repetition k of n of a row's variant is running; k = 0
// means the variant is being set up.
func (p *progress) step(row, variant string, k, n int) {
	if !p.tty {
		// Plain lines: one per repetition, none for the set-up step.
		if k > 0 {
			fmt.Fprintf(p.w, "running %s %s: repetition %d of %d\n", row, variant, k, n)
		}
		return
	}
	line := fmt.Sprintf("running %s %s: repetition %d of %d", row, variant, k, n)
	if k == 0 {
		line = fmt.Sprintf("running %s %s: setting up", row, variant)
	}
	width := utf8.RuneCountInString(line)
	pad := ""
	if width < p.last {
		pad = strings.Repeat(" ", p.last-width)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.last = width
}

// done clears the progress line from a terminal.
func (p *progress) done() {
	if p.tty && p.last > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
		p.last = 0
	}
}
