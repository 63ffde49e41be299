// Package hotreload holds the machinery behind memlink's zero-downtime
// reload: the [Gate] that admits calls into one version of a module and
// counts them so that the version can be drained, the [Config] and [Report]
// of a reload, and the errors a reload can end with.
//
// It does not import package memlink (memlink builds on it), so it can be
// read and tested on its own. Most programs use it through
// memlink.Runtime.Reload.
package hotreload
