package memlink

import (
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Option configures a Runtime; pass options to New. Every setting has a
// default, stated on the option that changes it. An option given a value
// outside its documented range makes New panic (see the package
// documentation, "Options").
type Option func(*options)

type options struct {
	invalid []error // values outside an option's range, reported by New

	resolver      Resolver
	registry      *Registry
	insecure      bool
	drainTimeout  time.Duration
	outputCap     int
	maxOutput     int
	lanes         int
	sampleEvery   uint32
	maxModuleSize int64
}

func defaultOptions() options {
	lanes := 8 * runtime.GOMAXPROCS(0)
	lanes = min(max(lanes, 64), 1024)
	return options{
		resolver:      LocalResolver{},
		drainTimeout:  30 * time.Second,
		outputCap:     DefaultOutputCapacity,
		maxOutput:     DefaultMaxOutput,
		lanes:         lanes,
		sampleEvery:   DefaultLatencySampling,
		maxModuleSize: DefaultMaxModuleSize,
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
	return func(o *options) {
		if r == nil {
			o.refuse("WithResolver(nil): a resolver is required")
			return
		}
		o.resolver = r
	}
}

// refuse records an option value outside its range, for New to report.
func (o *options) refuse(format string, args ...any) {
	o.invalid = append(o.invalid, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
}

// refuse records an option value outside its range, for Load to report.
func (o *loadOptions) refuse(format string, args ...any) {
	o.invalid = append(o.invalid, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
}

// WithDrainTimeout bounds how long Unload and Close wait for calls in flight
// before returning ErrDrainTimeout (the library is then closed when the
// last call returns). It must be positive. Default: 30s.
func WithDrainTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.refuse("WithDrainTimeout(%v): the timeout must be positive", d)
			return
		}
		o.drainTimeout = d
	}
}

// WithOutputCapacity sets the size in bytes of each call's output buffer.
// ABI-1 modules must never write more than this; ABI-2 modules are told it
// and may ask for more. n is 1 to 64 MiB. Default: DefaultOutputCapacity
// (4096).
func WithOutputCapacity(n int) Option {
	return func(o *options) {
		if n < 1 || n > 64<<20 {
			o.refuse("WithOutputCapacity(%d): the capacity is 1 byte to 64 MiB", n)
			return
		}
		o.outputCap = n
	}
}

// WithMaxOutput bounds the output size an ABI-2 module may request with
// code -4; a larger request fails with ErrOutputTooLarge. n must be
// positive. Default: DefaultMaxOutput (256 MiB).
func WithMaxOutput(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.refuse("WithMaxOutput(%d): the bound must be positive", n)
			return
		}
		o.maxOutput = n
	}
}

// WithLanes sets how many calls per module get a private output buffer and
// counter lane at once; calls beyond that still run, on pooled buffers,
// at about twice the cost. A lane costs memory only once a call has used
// it (its buffer pages and a few hundred bytes), so the default is
// generous: goroutines descheduled in the middle of a call keep their
// lanes (docs/design.md says why few lanes fall short). n is 1 to 4096.
// Default: 8 x GOMAXPROCS, between 64 and 1024. Rounded up to a power of
// two.
func WithLanes(n int) Option {
	return func(o *options) {
		if n < 1 || n > 4096 {
			o.refuse("WithLanes(%d): a module has 1 to 4096 lanes", n)
			return
		}
		o.lanes = n
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
		if n < 0 || n > 1<<30 {
			o.refuse("WithLatencySampling(%d): n is 0 (off) to 2^30", n)
			return
		}
		o.sampleEvery = uint32(n)
	}
}

// DefaultMaxModuleSize bounds the size of a module file unless
// WithMaxModuleSize says otherwise: 1 GiB. docs/security.md says why.
const DefaultMaxModuleSize = 1 << 30

// WithMaxModuleSize bounds the size in bytes of the module files Load and
// Reload accept; a larger file is refused with ErrModuleTooLarge (which
// also matches ErrInvalidModule) before any of it is copied. A private
// copy holds the whole file in memory (a memfd on Linux) for as long as
// the module is loaded, so the bound is also a bound on that memory.
// n must be positive. Default: DefaultMaxModuleSize (1 GiB).
func WithMaxModuleSize(n int64) Option {
	return func(o *options) {
		if n < 1 {
			o.refuse("WithMaxModuleSize(%d): the bound must be positive", n)
			return
		}
		o.maxModuleSize = n
	}
}

// LoadOption configures one Load (or the new version of a Reload). An
// option given a value outside its documented range makes Load (or
// Reload) fail with ErrInvalidOption before anything is opened.
type LoadOption func(*loadOptions)

type loadOptions struct {
	invalid []error // values outside an option's range, reported by Load

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
// Default: a private copy. Loading in place saves the copy (its cost is in
// docs/design.md), and two handles loaded from one file then share one image
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
	return func(o *options) {
		if dir == "" {
			o.refuse("WithRegistry(\"\"): a registry directory is required")
			return
		}
		o.registry = &Registry{Dir: dir}
	}
}

// WithInsecureModules lets the runtime load module files that other users
// could have replaced: files writable by everyone, by another group or
// owned by another user, and files in such directories or reached through
// such directories or links. Default: such files are refused with
// ErrInsecureModule on Unix (Windows is not checked).
func WithInsecureModules() Option {
	return func(o *options) { o.insecure = true }
}

// WithDigest pins the module's SHA-256 (64 hex digits), like a
// "#sha256=…" suffix on the reference: Load refuses, with ErrDigestMismatch,
// a file whose bytes hash to anything else, before any of it runs. A
// digest that is not 64 hex digits makes Load fail with ErrInvalidOption.
// Default: no pin.
func WithDigest(sha256Hex string) LoadOption {
	b, err := hex.DecodeString(sha256Hex)
	valid := err == nil && len(b) == 32
	d := strings.ToLower(sha256Hex)
	return func(o *loadOptions) {
		if !valid {
			o.refuse("WithDigest(%q): a SHA-256 digest is 64 hex digits", sha256Hex)
			return
		}
		o.digest = d
	}
}

// check reports the load options' values out of range, if any.
func (lo *loadOptions) check() error {
	errs := lo.invalid
	if lo.nameSet {
		if err := checkName(lo.name); err != nil {
			errs = append(errs, fmt.Errorf("%w: WithName: %w", ErrInvalidOption, err))
		}
	}
	if iso := lo.isolation; iso != nil {
		if iso.CallTimeout < 0 || iso.MemoryLimit < 0 || iso.Slots < 0 || iso.Slots > maxSlots ||
			(iso.Restart != RestartOnCrash && iso.Restart != RestartNever) {
			errs = append(errs, fmt.Errorf("%w: WithIsolation(%+v): CallTimeout and MemoryLimit must not be negative, Slots is 0 (default) to %d, Restart a RestartPolicy",
				ErrInvalidOption, *iso, maxSlots))
		}
	}
	return errors.Join(errs...)
}
