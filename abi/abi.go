package abi

import (
	"errors"
	"strconv"
)

// ABI versions a module can announce through memlink_abi_version.
const (
	// Version1 is the reference project's ABI: memlink_call with an output
	// buffer whose capacity the module is not told. A module without a
	// memlink_abi_version export is Version1.
	Version1 uint32 = 1
	// Version2 adds memlink_call_v2 with an explicit output capacity and an
	// exact output length.
	Version2 uint32 = 2
	// MaxVersion is the highest ABI version this package can drive.
	MaxVersion = Version2
)

// Names of the exported C symbols.
const (
	SymInit             = "memlink_init"
	SymCall             = "memlink_call"
	SymShutdown         = "memlink_shutdown"
	SymVersion          = "memlink_abi_version"
	SymCallV2           = "memlink_call_v2"
	SymStateSize        = "memlink_get_state_size"
	SymSerializeState   = "memlink_serialize_state"
	SymDeserializeState = "memlink_deserialize_state"
	SymReleaseOutput    = "memlink_release_output"
)

// Result codes reserved by the ABI. Zero is success; positive codes belong
// to the module.
const (
	CodeOK             int32 = 0
	CodeGeneral        int32 = -1
	CodeInvalidArgs    int32 = -2
	CodeInternal       int32 = -3
	CodeOutputTooSmall int32 = -4
	CodePanicked       int32 = -5
	CodeUnknownMethod  int32 = -6
	// CodeHandedOver is memlink_call_v2's answer when out holds a
	// descriptor of a module-owned result (see [HandedOutput]); only
	// meaningful from a module that exports memlink_release_output.
	CodeHandedOver int32 = -7
)

// CodeText returns a short description of a result code, such as
// "invalid arguments" for CodeInvalidArgs, or "module code 17" for a code
// the ABI does not reserve.
func CodeText(code int32) string {
	switch code {
	case CodeOK:
		return "ok"
	case CodeGeneral:
		return "general error"
	case CodeInvalidArgs:
		return "invalid arguments"
	case CodeInternal:
		return "internal error"
	case CodeOutputTooSmall:
		return "output too small"
	case CodePanicked:
		return "module panicked"
	case CodeUnknownMethod:
		return "unknown method"
	case CodeHandedOver:
		return "output handed over"
	}
	return "module code " + strconv.FormatInt(int64(code), 10)
}

// FNV-1a (32-bit) parameters used for method ids.
const (
	fnvOffset32 uint32 = 2166136261
	fnvPrime32  uint32 = 16777619
)

// MethodID returns the id a module receives for the method called name: the
// 32-bit FNV-1a hash of its bytes. It does not allocate.
func MethodID(name string) uint32 {
	h := fnvOffset32
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= fnvPrime32
	}
	return h
}

// Errors reported about module files, checked with errors.Is. Package
// memlink re-exports these three under the same names.
var (
	// ErrInvalidModule reports a file that cannot be loaded as a module: not
	// a shared library, built for another CPU or operating system,
	// unreadable, or refused by the dynamic loader.
	ErrInvalidModule = errors.New("invalid module")
	// ErrMissingSymbol reports that a required export is absent.
	ErrMissingSymbol = errors.New("missing symbol")
	// ErrABIVersion reports a module announcing an ABI version this package
	// cannot drive.
	ErrABIVersion = errors.New("unsupported ABI version")
)
