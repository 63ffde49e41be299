package abi

import "unsafe"

// SymHostBind is the optional export through which a module receives the
// host table (see docs/abi.md, "Host functions").
const SymHostBind = "memlink_host_bind"

// HostVersion is the version of the host table this package builds
// (MEMLINK_HOST_VERSION in memlink.h).
const HostVersion = 1

// HostTable is the C struct memlink_host: what memlink_host_bind receives.
// Its layout is the C one on every supported platform (two 32-bit words,
// then three pointer-sized ones); fields may only ever be added at the end.
// A table handed to a module must live outside the Go heap for as long as
// the module may read it.
type HostTable struct {
	Version uint32
	Size    uint32
	Ctx     uintptr // opaque to the module; routes its calls back
	Log     uintptr // void (*)(void *ctx, int32_t level, const uint8_t *msg, size_t msg_len)
	Call    uintptr // int32_t (*)(void *ctx, uint32_t fn_id, const uint8_t *args, size_t args_len, uint8_t *out, size_t out_cap, size_t *out_len)
}

// HostTableSize is sizeof(memlink_host).
const HostTableSize = unsafe.Sizeof(HostTable{})
