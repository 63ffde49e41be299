package memlink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/filewatch"
	"github.com/memlink/memlink-go/internal/plainfile"
)

// Watch reloads h from path whenever the file changes, with the rules of
// hotreload.Watch (debounce, pending while incomplete, one event per
// deploy). The reloads take path as it is, like FileRef: "#sha256=" in a
// file name is not a digest.
func (rt *Runtime) Watch(ctx context.Context, h Handle, path string, cfg hotreload.WatchConfig) (*hotreload.Watcher, error) {
	if rt.lookup(h) == nil {
		return nil, rt.unknown(h)
	}
	if cfg.Logger == nil {
		cfg.Logger = rt.logger()
	}
	return hotreload.Watch(ctx, pathReloader{rt}, h, path, cfg)
}

// pathReloader reloads from a path taken as it is.
type pathReloader struct{ rt *Runtime }

func (p pathReloader) ReloadFile(h Handle, path string, cfg hotreload.Config) (hotreload.Report, error) {
	return p.rt.Reload(h, FileRef(path), cfg)
}

// DirWatchConfig configures WatchDir. Its zero value watches with the
// defaults given on each field.
type DirWatchConfig struct {
	// Debounce is how long a new or changed file must stay the same, and a
	// removed one stay away, before anything is done. Default 200ms.
	Debounce time.Duration
	// Settle is how long a file that has stopped changing but is not yet a
	// valid module (or not yet listed in SHA256SUMS) is pending before it
	// is reported as failed. Default: ten times Debounce, at least 1s.
	Settle time.Duration
	// Interval is how often the directory is scanned when the operating
	// system gives no change notification (everywhere but Linux, where
	// inotify wakes the watcher and Interval is a safety net). Default
	// 250ms.
	Interval time.Duration
	// Unload unloads a module whose file is removed. Default false: the
	// module keeps serving, and a file of that name that comes back reloads
	// it through the same handle.
	Unload bool
	// Load holds the options of every module loaded from the directory
	// (isolation, sandbox, configuration...). The watcher adds WithName,
	// and WithDigest when the directory has a SHA256SUMS file.
	Load []LoadOption
	// Reload configures every reload of a changed file.
	Reload hotreload.Config
}

func (c DirWatchConfig) debounce() time.Duration {
	if c.Debounce <= 0 {
		return 200 * time.Millisecond
	}
	return c.Debounce
}

func (c DirWatchConfig) interval() time.Duration {
	if c.Interval <= 0 {
		return 250 * time.Millisecond
	}
	return c.Interval
}

// DirEventKind says what a directory watcher did.
type DirEventKind int

// The kinds of DirEvent.
const (
	// DirAdded: a new file was loaded (at start, or when it appeared).
	DirAdded DirEventKind = iota + 1
	// DirReloaded: a changed file was reloaded through its handle.
	DirReloaded
	// DirRolledBack: a changed file failed to reload; the previous version
	// keeps serving (Err says why, Report describes the reload).
	DirRolledBack
	// DirRemoved: the file is gone. With DirWatchConfig.Unload the module
	// was unloaded (Err holds any unload error); without, it keeps serving.
	DirRemoved
	// DirFailed: a new file did not load (Err says why); nothing serves
	// that name.
	DirFailed
)

var dirEventNames = [...]string{"", "added", "reloaded", "rolled_back", "removed", "failed"}

// String returns the kind's lower-case name ("added", "rolled_back", ...).
func (k DirEventKind) String() string {
	if k > 0 && int(k) < len(dirEventNames) {
		return dirEventNames[k]
	}
	return fmt.Sprintf("DirEventKind(%d)", int(k))
}

// DirEvent reports one thing a directory watcher did.
type DirEvent struct {
	Kind DirEventKind
	// Name is the module's name: the file name without its extension.
	Name string
	// Path is the file's path in the directory.
	Path string
	// Handle is the handle serving Name (zero for DirFailed, and for
	// DirRemoved when the module was unloaded it is the handle that was).
	Handle Handle
	// Err is the error of a failed load or reload, or of an unload.
	Err error
	// Report is the reload's report, for DirReloaded and DirRolledBack.
	Report hotreload.Report
	// Time is when the action finished.
	Time time.Time
}

// SumsFile is the name of the digest list WatchDir enforces when a watched
// directory has one: lines of a SHA-256 digest in hexadecimal, white space
// and a file name, as sha256sum writes them.
const SumsFile = "SHA256SUMS"

// maxSumsSize bounds the digest list that is read.
const maxSumsSize = 1 << 20

// DirWatcher keeps a directory and the modules loaded from it in step. Make
// one with Runtime.WatchDir; stop it with Close or by cancelling the
// context given to WatchDir.
type DirWatcher struct {
	rt     *Runtime
	dir    string
	cfg    DirWatchConfig
	out    *filewatch.Outbox[DirEvent]
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex // guards handles for Handles
	handles map[string]Handle

	files map[string]*dirFile // the watcher goroutine's own
	sums  filewatch.Sig       // SHA256SUMS as last read
	list  map[string]string   // its digests by file name; nil without the file
	bad   error               // why SHA256SUMS could not be used
}

type dirFile struct {
	tr filewatch.Tracker
	h  Handle
}

// dirEventBuffer is how many events wait on the channel before new ones are
// dropped and counted: enough for a directory's initial load.
const dirEventBuffer = 256

// WatchDir loads the modules of dir (as LoadDir does, each under its module
// name, each outcome reported as an event) and then keeps the loaded set
// and the directory in step: a new file is loaded, a changed one reloaded
// through the same handle, a removed one unloaded or kept (cfg.Unload).
// Handles stay the same for the life of a name, so Lookup(name) always
// finds the version serving now.
//
// Every deploy style is seen once: a copy or a build in place, a rename
// over the old file (mv, rsync, install), a symbolic link switched to a new
// target, a rewrite that keeps size and modification time (cp -p). A file
// is acted on when it has been stable for cfg.Debounce and is a complete
// module; a half-written file is pending, and becomes DirFailed or
// DirRolledBack only when it has stayed invalid for cfg.Settle.
//
// When dir has a SHA256SUMS file, every module must be listed in it, and
// its digest is pinned (WithDigest) for the load, so the bytes checked are
// the bytes run; an unlisted file is refused with ErrNotListed.
//
// Events are delivered on Events, never blocking the watcher. Actions run
// one at a time on the watcher's goroutine. dir must exist.
func (rt *Runtime) WatchDir(ctx context.Context, dir string, cfg DirWatchConfig) (*DirWatcher, error) {
	if rt.closed.Load() {
		return nil, fmt.Errorf("memlink: watch dir %s: %w", dir, ErrClosed)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("memlink: watch dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("memlink: watch dir %s: not a directory", dir)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &DirWatcher{
		rt:      rt,
		dir:     dir,
		cfg:     cfg,
		out:     filewatch.NewOutbox[DirEvent](dirEventBuffer, rt.logger(), dir),
		cancel:  cancel,
		done:    make(chan struct{}),
		handles: make(map[string]Handle),
		files:   make(map[string]*dirFile),
	}
	w.scan(time.Now(), true)
	go w.run(ctx)
	return w, nil
}

// Events returns the channel on which the watcher reports what it did. It
// is closed when the watcher stops. When nobody reads it, events beyond a
// buffer of 256 are dropped, counted by Dropped and logged.
func (w *DirWatcher) Events() <-chan DirEvent { return w.out.C() }

// Dropped counts the events that found the Events channel full.
func (w *DirWatcher) Dropped() uint64 { return w.out.Dropped() }

// Handles returns the modules the watcher serves now, by name.
func (w *DirWatcher) Handles() map[string]Handle {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := make(map[string]Handle, len(w.handles))
	for k, v := range w.handles {
		m[k] = v
	}
	return m
}

// Close stops the watcher and waits for it; an action in progress
// completes first. The modules it loaded stay loaded. Close is idempotent
// and returns nil.
func (w *DirWatcher) Close() error {
	w.once.Do(w.cancel)
	<-w.done
	return nil
}

func (w *DirWatcher) run(ctx context.Context) {
	defer close(w.done)
	defer w.out.Close()
	dirSig := dirIdentity(w.dir)
	n := w.notifier()
	defer func() { n.Close() }()
	for {
		wait := w.cfg.interval()
		for _, f := range w.files {
			if next := f.tr.Next(); !next.IsZero() {
				wait = min(wait, time.Until(next))
			}
		}
		if !n.Wait(ctx, max(wait, time.Millisecond)) {
			return
		}
		// A directory renamed over, or a symbolic link to it switched:
		// watch the one the path names now.
		if id := dirIdentity(w.dir); id != dirSig {
			dirSig = id
			n.Close()
			n = w.notifier()
		}
		w.scan(time.Now(), false)
	}
}

// notifier watches the directory and its parent (where a rename over the
// directory, or a switch of a link to it, happens).
func (w *DirWatcher) notifier() filewatch.Notifier {
	return filewatch.NewNotifier(w.dir, filepath.Dir(filepath.Clean(w.dir)))
}

// dirIdentity identifies the directory the path names now (zero while it
// is missing).
func dirIdentity(dir string) filewatch.ID {
	id, _ := filewatch.Identify(dir)
	return id
}

// scan observes every module file of the directory and acts on what the
// trackers answer. At start, valid files are loaded at once and invalid
// ones wait like files that appeared later.
func (w *DirWatcher) scan(now time.Time, initial bool) {
	w.readSums()
	names, err := moduleFiles(w.dir)
	if err != nil {
		names = nil // the directory is gone for now: every file looks removed
	}
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
		if w.files[n] == nil {
			w.files[n] = &dirFile{tr: filewatch.Tracker{Debounce: w.cfg.debounce(), Settle: w.settle()}}
		}
	}
	for file, f := range w.files {
		path := filepath.Join(w.dir, file)
		var sig filewatch.Sig
		if present[file] {
			sig, _ = filewatch.Stat(path)
		}
		check := func() error { return w.check(file, path) }
		if initial && sig.Exists() {
			// A file that is there at start counts as stable; one that has
			// not changed for a settle period and is invalid is bad now.
			f.tr.Debounce = 0
			if now.Sub(sig.ModTime()) >= w.settle() {
				f.tr.Settle = 0
			}
			_, _ = f.tr.Observe(now, sig, check) // records the version; the next observation acts
		}
		act, cerr := f.tr.Observe(now, sig, check)
		f.tr.Debounce, f.tr.Settle = w.cfg.debounce(), w.settle()
		switch act {
		case filewatch.Ready, filewatch.Bad:
			w.act(file, path, f, cerr)
		case filewatch.Gone:
			w.gone(file, path, f)
		}
		if !present[file] && !f.tr.Present() && f.h == 0 && f.tr.Next().IsZero() {
			delete(w.files, file)
		}
	}
}

func (w *DirWatcher) settle() time.Duration {
	return filewatch.SettleFor(w.cfg.Settle, w.cfg.debounce())
}

// check is the readiness test of a stable file: a complete module, and
// listed with its digest when the directory has SHA256SUMS.
func (w *DirWatcher) check(file, path string) error {
	if err := filewatch.CheckModule(path); err != nil {
		return err
	}
	want, err := w.digest(file)
	if err != nil || want == "" {
		return err
	}
	got, err := fileDigest(path, w.rt.opts.maxModuleSize)
	if err != nil {
		return err
	}
	if got != want {
		return &DigestError{Path: path, Expected: want, Actual: got}
	}
	return nil
}

// digest returns the pinned digest of file ("" without SHA256SUMS).
func (w *DirWatcher) digest(file string) (string, error) {
	if w.bad != nil {
		return "", w.bad
	}
	if w.list == nil {
		return "", nil
	}
	d, ok := w.list[file]
	if !ok {
		return "", fmt.Errorf("%s: %w", file, ErrNotListed)
	}
	return d, nil
}

func (w *DirWatcher) act(file, path string, f *dirFile, checkErr error) {
	name := moduleName(file)
	opts := append(w.cfg.Load[:len(w.cfg.Load):len(w.cfg.Load)], WithName(name))
	digest, derr := w.digest(file)
	if digest != "" {
		opts = append(opts, WithDigest(digest))
	}
	ev := DirEvent{Name: name, Path: path, Handle: f.h}
	switch {
	case f.h == 0 && derr != nil:
		ev.Kind, ev.Err = DirFailed, &LoadError{Ref: path, Err: derr}
	case f.h == 0:
		h, err := w.rt.Load(FileRef(path), opts...)
		ev.Kind, ev.Handle, ev.Err = DirAdded, h, err
		if err != nil {
			ev.Kind = DirFailed
		} else {
			f.h = h
			w.setHandle(name, h)
		}
	case derr != nil:
		// Unlisted: refused before the loader sees it, and reported as the
		// rollback it is; the old version keeps serving.
		ev.Kind, ev.Err = DirRolledBack, &LoadError{Ref: path, Err: derr}
		if u, ok := w.rt.Usage(f.h); ok {
			ev.Report = hotreload.Report{Generation: u.Generation, Result: hotreload.ResultRolledBack}
		}
	default:
		var ropts []LoadOption
		if digest != "" {
			ropts = append(ropts, WithDigest(digest))
		}
		rep, err := w.rt.Reload(f.h, FileRef(path), w.cfg.Reload, ropts...)
		ev.Kind, ev.Report, ev.Err = DirReloaded, rep, err
		switch {
		case errors.Is(err, ErrUnknownHandle) || errors.Is(err, ErrClosed):
			// Unloaded behind the watcher's back: load it afresh.
			f.h = 0
			w.setHandle(name, 0)
			w.act(file, path, f, checkErr)
			return
		case err != nil && rep.Result != hotreload.ResultDrainTimeout:
			ev.Kind = DirRolledBack
		}
	}
	ev.Time = time.Now()
	w.out.Send(ev)
}

func (w *DirWatcher) gone(file, path string, f *dirFile) {
	name := moduleName(file)
	ev := DirEvent{Kind: DirRemoved, Name: name, Path: path, Handle: f.h}
	if f.h == 0 {
		return // never loaded: nothing to report
	}
	if w.cfg.Unload {
		ev.Err = w.rt.Unload(f.h)
		if errors.Is(ev.Err, ErrUnknownHandle) {
			ev.Err = nil // unloaded already
		}
		f.h = 0
		w.setHandle(name, 0)
	}
	ev.Time = time.Now()
	w.out.Send(ev)
}

func (w *DirWatcher) setHandle(name string, h Handle) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h == 0 {
		delete(w.handles, name)
	} else {
		w.handles[name] = h
	}
}

// readSums reads SHA256SUMS again when it changed.
func (w *DirWatcher) readSums() {
	path := filepath.Join(w.dir, SumsFile)
	sig, err := filewatch.Stat(path)
	if err != nil && errors.Is(err, os.ErrNotExist) {
		w.sums, w.list, w.bad = filewatch.Sig{}, nil, nil
		return
	}
	if err == nil && sig == w.sums && (w.list != nil || w.bad != nil) {
		return
	}
	w.sums = sig
	w.list, w.bad = nil, nil
	if err != nil {
		w.bad = fmt.Errorf("%s: %w", SumsFile, err)
		return
	}
	list, err := readSums(path)
	if err != nil {
		w.bad = err
		return
	}
	w.list = list
}

// readSums parses a sha256sum listing: "<64 hex digits> <name>" or
// "<digits> *<name>" per line; blank lines and lines starting with '#' are
// skipped. Any other line makes the whole file unusable, so that a
// truncated or hand-edited list refuses modules rather than trusting them.
func readSums(path string) (map[string]string, error) {
	b, err := plainfile.ReadFile(path, maxSumsSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SumsFile, err)
	}
	list := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		d, name, ok := strings.Cut(t, " ")
		name = strings.TrimPrefix(strings.TrimLeft(name, " "), "*")
		name = strings.TrimPrefix(name, "./")
		if _, err := hex.DecodeString(d); !ok || err != nil || len(d) != 64 || name == "" || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("%s line %d: want a SHA-256 digest and a file name of this directory", SumsFile, line)
		}
		if _, dup := list[name]; dup {
			return nil, fmt.Errorf("%s line %d: %s is listed twice", SumsFile, line, name)
		}
		list[name] = strings.ToLower(d)
	}
	return list, nil
}

// fileDigest is the SHA-256 of the file at path, in hexadecimal. A file
// larger than limit (the runtime's maximum module size, which Load would
// refuse anyway) is not read to its end: a huge file dropped into a
// watched directory is checked again every debounce period while pending.
func fileDigest(path string, limit int64) (string, error) {
	f, err := plainfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit+1))
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("%s: %w: more than %d bytes", path, ErrModuleTooLarge, limit)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
