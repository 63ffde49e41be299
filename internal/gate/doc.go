// Package gate provides the [Gate] that admits calls into one version of a
// module and counts those in flight, so that the version can be drained
// before it is shut down. It is package memlink's machinery, not a public
// API; docs/design.md describes how it works.
package gate
