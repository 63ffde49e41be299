package memlink

import (
	"encoding/hex"
	"runtime"
	"strings"
	"time"
)

// Option configures a Runtime; pass options to New. Every setting has a
// default, stated on the option that changes it.
type Option func(*options)

type options struct {
	resolver     Resolver
	registry     *Registry
	insecure     bool
	drainTimeout time.Duration
	outputCap    int
	maxOutput    int
	lanes        int
	sampleEvery  uint32
}

func defaultOptions() options {
	lanes := 8 * runtime.GOMAXPROCS(0)
	lanes = min(max(lanes, 64), 1024)
	return options{
		resolver:     LocalResolver{},
		drainTimeout: 30 * time.Second,
		outputCap:    DefaultOutputCapacity,
		maxOutput:    DefaultMaxOutput,
		lanes:        lanes,
		sampleEvery:  DefaultLatencySampling,
	}
}

// DefaultOutputCapacity is the size of the output buffer a call gets unless
// WithOutputCapacity says otherwise. ABI-1 modules are not told it.
const DefaultOutputCapacity = 4096

// DefaultMaxOutput bounds the output an ABI-2 module may ask for through
// code -4 unless WithMaxOutput says otherwise.
const DefaultMaxOutput = 256 << 20

// DefaultLatencySampling is how often a call's latency is measured unless
// WithLatencySampling says otherwise: one call in 256.
const DefaultLatencySampling = 256

// WithResolver sets how module references become files. Default:
// LocalResolver{} (paths relative to the working directory, registry
// references through WithRegistry or MEMLINK_REGISTRY).
func WithResolver(r Resolver) Option {
	if r == nil {
		panic("memlink: WithResolver(nil)")
	}
	return func(o *options) { o.resolver = r }
}

// WithDrainTimeout bounds how long Unload and Close wait for calls in flight
// before returning ErrDrainTimeout (the library is then closed when the
// last call returns). Default: 30s.
func WithDrainTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.drainTimeout = d
		}
	}
}

// WithOutputCapacity sets the size in bytes of each call's output buffer.
// ABI-1 modules must never write more than this; ABI-2 modules are told it
// and may ask for more. Default: DefaultOutputCapacity (4096). It panics
// for n < 1 or n > 64 MiB.
func WithOutputCapacity(n int) Option {
	if n < 1 || n > 64<<20 {
		panic("memlink: WithOutputCapacity out of range 1..64MiB")
	}
	return func(o *options) { o.outputCap = n }
}

// WithMaxOutput bounds the output size an ABI-2 module may request with
// code -4; a larger request fails with ErrOutputTooLarge. Default:
// DefaultMaxOutput (256 MiB).
func WithMaxOutput(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxOutput = n
		}
	}
}

// WithLanes sets how many calls per module get a private output buffer and
// counter lane at once; calls beyond that still run, on pooled buffers,
// at about twice the cost. A lane costs memory only once a call has used
// it (its buffer pages and about 400 bytes), so the default is generous:
// goroutines descheduled in the middle of a call keep their lanes, and
// with 16 goroutines on 2 CPUs 8 lanes were too few. Default:
// 8 x GOMAXPROCS, between 64 and 1024. Rounded up to a power of two.
func WithLanes(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.lanes = min(n, 4096)
		}
	}
}

// WithLatencySampling measures the latency of one call in every n for the
// call-duration histogram, whose count is therefore of sampled calls:
// about calls/n. Reading the clock costs more than a call, so the default
// is DefaultLatencySampling (1 in 256); n = 1 times every call and n = 0
// turns sampling off. Each call lane counts its own calls from a random
// starting point, so the expected number of samples is calls/n however the
// calls spread over lanes, at low traffic too.
func WithLatencySampling(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.sampleEvery = uint32(n)
		}
	}
}

// LoadOption configures one Load (or the new version of a Reload).
type LoadOption func(*loadOptions)

type loadOptions struct {
	config    []byte
	inPlace   bool
	digest    string
	isolation *Isolation // WithIsolation (isolation.go)
	name      string     // WithName (names.go)
	nameSet   bool
}

// WithConfig passes config to the module's memlink_init. Default: empty.
// The bytes are copied.
func WithConfig(config []byte) LoadOption {
	c := append([]byte(nil), config...)
	return func(o *loadOptions) { o.config = c }
}

// LoadInPlace opens the module file itself instead of a private copy.
// Default: a private copy. Loading in place saves the copy (a few tens of
// microseconds), and two handles loaded from one file then share one image
// and its global variables, with memlink_init and memlink_shutdown run once
// per handle. The price: the file must never be rewritten in place while
// loaded (replace it with a rename instead), because the process runs the
// mapped file and a changed mapping crashes it. Reload always uses a
// private copy, and a pinned digest cannot be combined with LoadInPlace
// (the digest is verified on the private copy).
func LoadInPlace() LoadOption {
	return func(o *loadOptions) { o.inPlace = true }
}

// WithRegistry resolves "name@version" references through the registry in
// dir (see Registry), for the default resolver. Default: the directory in
// the MEMLINK_REGISTRY environment variable, if set. It has no effect when
// WithResolver replaces the default resolver.
func WithRegistry(dir string) Option {
	return func(o *options) { o.registry = &Registry{Dir: dir} }
}

// WithInsecureModules lets the runtime load module files that other users
// could have replaced: files writable by everyone or owned by another user,
// and files in such directories. Default: such files are refused with
// ErrInsecureModule on Unix (Windows is not checked).
func WithInsecureModules() Option {
	return func(o *options) { o.insecure = true }
}

// WithDigest pins the module's SHA-256 (64 hex digits), like a
// "#sha256=…" suffix on the reference: Load refuses, with ErrDigestMismatch,
// a file whose bytes hash to anything else, before any of it runs. It
// panics on a malformed digest. Default: no pin.
func WithDigest(sha256Hex string) LoadOption {
	b, err := hex.DecodeString(sha256Hex)
	if err != nil || len(b) != 32 {
		panic("memlink: WithDigest needs 64 hex digits")
	}
	d := strings.ToLower(sha256Hex)
	return func(o *loadOptions) { o.digest = d }
}
