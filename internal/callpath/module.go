package callpath

import (
	"github.com/memlink/memlink-go/abi"

	"fmt"
	"unsafe"
)

// Module is a library bound to the module ABI: the addresses of its exports
// and the ABI version it announced. Its call methods are the raw C calls:
// they validate nothing and must only be used while the library is open.
type Module struct {
	lib *Library
	// Version is the ABI version the module announced (abi.Version1 when it has
	// no memlink_abi_version export).
	Version uint32

	init, call, callV2, shutdown      uintptr
	stateSize, serialize, deserialize uintptr
	release                           uintptr
	exports                           abi.Exports // what BindExports was told
}

// Bind looks up the exports of lib and checks the announced ABI version.
// memlink_init and memlink_shutdown are required, as is memlink_call for an
// ABI-1 module or memlink_call_v2 for an ABI-2 one. A version above
// [abi.MaxVersion] (or zero) yields an error wrapping [abi.ErrABIVersion].
func Bind(lib *Library) (*Module, error) { return BindExports(lib, abi.Exports{}) }

// BindExports is [Bind] for a library whose file's exports are known (see
// [abi.Exports]): the optional exports the file does not define are not
// looked up, which spares the loader a failing lookup each. The required
// ones are looked up whatever ex says, so a set that is wrong can only
// make an optional export be missed, never a call go astray.
func BindExports(lib *Library, ex abi.Exports) (*Module, error) {
	optional := func(name string) uintptr {
		if !ex.MayHave(name) {
			return 0
		}
		p, _ := lib.Lookup(name)
		return p
	}
	m := &Module{lib: lib, Version: abi.Version1, exports: ex}
	if p := optional(abi.SymVersion); p != 0 {
		v := uint32(callRaw(p))
		if v == 0 || v > abi.MaxVersion {
			return nil, fmt.Errorf("%w: %s announces ABI version %d; this runtime supports 1 to %d",
				abi.ErrABIVersion, lib.name, v, abi.MaxVersion)
		}
		m.Version = v
	}
	required := []struct {
		name string
		dst  *uintptr
	}{{abi.SymInit, &m.init}, {abi.SymShutdown, &m.shutdown}}
	if m.Version >= abi.Version2 {
		required = append(required, struct {
			name string
			dst  *uintptr
		}{abi.SymCallV2, &m.callV2})
	} else {
		required = append(required, struct {
			name string
			dst  *uintptr
		}{abi.SymCall, &m.call})
	}
	for _, r := range required {
		p, err := lib.Lookup(r.name)
		if err != nil {
			return nil, err
		}
		*r.dst = p
	}
	m.stateSize = optional(abi.SymStateSize)
	m.serialize = optional(abi.SymSerializeState)
	m.deserialize = optional(abi.SymDeserializeState)
	if m.Version >= abi.Version2 {
		m.release = optional(abi.SymReleaseOutput)
	}
	if m.Version >= abi.Version2 && m.call == 0 {
		m.call = optional(abi.SymCall)
	}
	return m, nil
}

// Library returns the library the module was bound from.
func (m *Module) Library() *Library { return m.lib }

// HasState reports whether the module exports all three state functions.
func (m *Module) HasState() bool {
	return m.stateSize != 0 && m.serialize != 0 && m.deserialize != 0
}

// Init calls memlink_init with config. A module that can hand results
// over (memlink_release_output) is first told that the caller takes them,
// with memlink_release_output(NULL, 0): a caller of Init must handle
// [abi.CodeHandedOver] from CallV2 (see [ReadHandedOutput]).
func (m *Module) Init(config []byte) int32 {
	if m.release != 0 {
		callBytes(m.release, nil)
	}
	return int32(callBytes(m.init, config))
}

// HandsOver reports whether the module exports memlink_release_output, so
// that CallV2's [abi.CodeHandedOver] means a result to take.
func (m *Module) HandsOver() bool { return m.release != 0 }

// HandedOutputSize is the size of the descriptor (C memlink_output: a
// pointer and a size_t) that a module stores in out with
// [abi.CodeHandedOver].
const HandedOutputSize = 2 * unsafe.Sizeof(uintptr(0))

// HandedOutput is a result a module handed over: module memory, valid until
// [Module.ReleaseOutput].
type HandedOutput struct {
	ptr unsafe.Pointer
	// Len is the length the module claims.
	Len uintptr
}

// ReadHandedOutput reads the descriptor a module stored at out (n bytes,
// what it reported in out_len). ok is false for a descriptor that cannot
// be one: n is not [HandedOutputSize], or the pointer is NULL with a
// non-zero length.
func ReadHandedOutput(out unsafe.Pointer, n uintptr) (h HandedOutput, ok bool) {
	if n != HandedOutputSize {
		return HandedOutput{}, false
	}
	// Copied out as bytes: the module wrote it as by memcpy, unaligned.
	var raw [2]uintptr
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&raw[0])), HandedOutputSize),
		unsafe.Slice((*byte)(out), HandedOutputSize))
	// The address is module memory, outside the Go heap: turning it into a
	// pointer is safe, and going through memory keeps vet quiet.
	h.ptr = *(*unsafe.Pointer)(unsafe.Pointer(&raw[0]))
	h.Len = raw[1]
	return h, h.ptr != nil || h.Len == 0
}

// Bytes returns the result in module memory, without copying: valid until
// the output is released.
func (h HandedOutput) Bytes() []byte {
	if h.ptr == nil {
		return nil
	}
	return unsafe.Slice((*byte)(h.ptr), h.Len)
}

// ReleaseOutput calls memlink_release_output through f to give a handed-over
// result back. It does nothing for an empty descriptor (NULL pointer).
func (m *Module) ReleaseOutput(f *Frame, h HandedOutput) {
	if h.ptr == nil || m.release == 0 {
		return
	}
	f.fn = m.release
	f.a = [6]uintptr{uintptr(h.ptr), h.Len}
	invoke(f, 2)
	f.result()
}

// Shutdown calls memlink_shutdown.
func (m *Module) Shutdown() int32 {
	return int32(callRaw(m.shutdown))
}

// StateSize calls memlink_get_state_size. It returns 0 when the module has
// no state exports.
func (m *Module) StateSize() uint64 {
	if !m.HasState() {
		return 0
	}
	return uint64(callRaw(m.stateSize))
}

// SerializeState calls memlink_serialize_state with buf.
func (m *Module) SerializeState(buf []byte) int32 {
	return int32(callBytes(m.serialize, buf))
}

// DeserializeState calls memlink_deserialize_state with buf.
func (m *Module) DeserializeState(buf []byte) int32 {
	return int32(callBytes(m.deserialize, buf))
}

// Call calls memlink_call (ABI 1) through f. out must point to memory that
// stays put and is large enough for whatever the module writes; the module
// is not told its size.
func (m *Module) Call(f *Frame, id uint32, args []byte, out unsafe.Pointer) int32 {
	m.SetCall(f, id, args, out)
	return f.Invoke(4)
}

// CallV2 calls memlink_call_v2 (ABI 2) through f with an output buffer of
// outCap bytes at out; the module stores the output length (or the size it
// needs) at outLen, which must not be Go memory.
func (m *Module) CallV2(f *Frame, id uint32, args []byte, out unsafe.Pointer, outCap uintptr, outLen unsafe.Pointer) int32 {
	m.SetCallV2(f, id, args, out, outCap, outLen)
	return f.Invoke(6)
}

// SetCall fills f for the call Call makes, without making it: with
// [Frame.Invoke](4) after it, the two inline into the caller, one call
// level less than Call on the hottest path.
//
// Pointer arguments are recorded in the frame's keep-alive fields, which
// makes the memory they point to escape to the heap (a stack could move
// while C runs on it) and keeps it reachable for the call; Invoke clears
// them. memlink_call ignores the fifth and sixth argument registers, so
// their words are left as they are.
func (m *Module) SetCall(f *Frame, id uint32, args []byte, out unsafe.Pointer) {
	p := unsafe.Pointer(unsafe.SliceData(args))
	f.fn = m.call
	f.keep[0], f.keep[1] = p, out
	f.a[0], f.a[1], f.a[2], f.a[3] = uintptr(id), uintptr(p), uintptr(len(args)), uintptr(out)
}

// SetCallV2 fills f for the call CallV2 makes; [Frame.Invoke](6) makes it.
func (m *Module) SetCallV2(f *Frame, id uint32, args []byte, out unsafe.Pointer, outCap uintptr, outLen unsafe.Pointer) {
	m.SetCall(f, id, args, out)
	f.fn = m.callV2
	f.a[4], f.a[5] = outCap, uintptr(outLen)
}
