// Package abi binds the memlink module ABI: the C functions a module
// exports, the FNV-1a method ids callers use to name methods, the ABI
// versions, the reserved result codes, and the validation of a shared
// library's header before the dynamic loader ever sees it.
//
// It is the leaf package of memlink-go: it imports nothing else from the
// project, and everything else builds on it. Most programs use package
// memlink instead; abi is public so that tools (and modules written in Go
// tests) can compute method ids and inspect files the same way the runtime
// does.
//
// # The ABI in brief
//
// Every module exports memlink_init, memlink_shutdown and either
// memlink_call (ABI 1, the reference project's) or memlink_call_v2 (ABI 2,
// exact-length output with a capacity and an error message). The optional
// memlink_abi_version export announces ABI 2; the optional state exports
// (memlink_get_state_size, memlink_serialize_state,
// memlink_deserialize_state) let hot reload carry state from one version
// to the next. docs/abi.md in the repository and modules/c/memlink.h give
// the full specification.
//
// Opening libraries and calling into them is package memlink's job (its
// machinery lives under internal/); abi only describes and checks files.
package abi
