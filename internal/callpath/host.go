package callpath

import (
	"sync"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
)

// LogFunc receives a module's log record. level is the C int32_t in the
// low 32 bits of a register (the rest is undefined); msg points to n bytes
// of module memory, valid only during the call. The result is ignored.
type LogFunc func(ctx, level uintptr, msg *byte, n uintptr) uintptr

// CallFunc receives a module's host call. id is a uint32_t in the low 32
// bits of a register. It returns the int32_t result code (sign-extended or
// not: the module reads the low 32 bits).
type CallFunc func(ctx, id uintptr, args *byte, argsLen uintptr, out *byte, outCap uintptr, outLen *uintptr) uintptr

var hostCallbacks struct {
	once      sync.Once
	log, call uintptr
}

// HostCallbacks returns the C function pointers of log and call, created
// on the first use in the process. Callbacks are a scarce resource that is
// never freed (purego and the Windows runtime allow a fixed number per
// process), so there is exactly one pair: the functions passed to the first
// call are the ones used for ever, and every module reaches them, told
// apart by HostTable.Ctx. It returns zeros where callbacks are not
// supported.
func HostCallbacks(log LogFunc, call CallFunc) (logPtr, callPtr uintptr) {
	hostCallbacks.once.Do(func() {
		if HostCallbacksSupported {
			hostCallbacks.log, hostCallbacks.call = newHostCallbacks(log, call)
		}
	})
	return hostCallbacks.log, hostCallbacks.call
}

// HostBind calls the module's memlink_host_bind with t, which must stay put
// (and outside the Go heap) while the module may use it. present is false,
// and nothing is called, when the module does not export it.
func (m *Module) HostBind(t *abi.HostTable) (rc int32, present bool) {
	if !m.exports.MayHave(abi.SymHostBind) {
		return 0, false
	}
	p, err := m.lib.Lookup(abi.SymHostBind)
	if err != nil {
		return 0, false
	}
	// One pointer argument; the length callBytes adds lands in a register
	// the C function does not read.
	return int32(callBytes(p, unsafe.Slice((*byte)(unsafe.Pointer(t)), abi.HostTableSize))), true
}
