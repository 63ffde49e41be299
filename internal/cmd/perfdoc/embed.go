package main

import _ "embed"

// whereTheTimeGoes is the page's profile of the call path, the load and
// the reload (Markdown, included as it is). It is written by hand from
// callgrind, strace and pprof runs: figures in it name the run they come
// from, and it is revised when the code it describes changes.
//
//go:embed wheretime.md
var whereTheTimeGoes string
