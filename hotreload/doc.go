// Package hotreload holds what a caller of memlink's zero-downtime reload
// sees: the [Config] and [Report] of a reload, its [Result] values, the
// errors a reload can end with, and [Watch], which reloads a module when
// its file changes.
//
// It does not import package memlink (memlink builds on it). Most programs
// use it through memlink.Runtime.Reload.
package hotreload
