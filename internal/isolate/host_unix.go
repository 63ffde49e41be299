//go:build unix

package isolate

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// workerSys is what a worker keeps on Unix beyond the portable fields:
// nothing (the process group and the lifeline do the work).
type workerSys struct{}

func (workerSys) release() {}

// startWorker creates a shared region and starts a worker process on it.
// The module is not loaded yet; see load.
func startWorker(c *Client) (*worker, error) {
	cfg := &c.cfg
	g := newGeometry(cfg.Slots, cfg.ArgCap, cfg.OutputCap, os.Getpagesize())
	f, err := createShm(g.size())
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mappings and the child's copy keep it alive
	mem, err := mapShared(f, g.size())
	if err != nil {
		return nil, err
	}
	bell, err := newHostBell(g.slots)
	if err != nil {
		_ = unmap(mem) // the error to report is the one above
		return nil, err
	}
	h := newHeader(cfg, g)
	extra := []*os.File{f, nil}
	if cfg.File != nil {
		extra = append(extra, cfg.File)
	}
	if children := bell.childFiles(); len(children) > 0 {
		h.pipeBase = uint32(fdRegion + len(extra))
		extra = append(extra, children...)
	}
	cleanup := func() {
		bell.close()
		_ = unmap(mem) // the error to report is the caller's
	}
	exe, exeFile, err := executable()
	if err != nil {
		cleanup()
		return nil, err
	}
	if exeFile != nil {
		// Executed through the child's own descriptor table, once the
		// inherited descriptors are in place.
		h.exeFD = uint32(fdRegion + len(extra))
		exe = "/proc/self/fd/" + strconv.Itoa(int(h.exeFD))
		extra = append(extra, exeFile)
	}
	w := newWorker(c, g, mem, bell, &h)
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		cleanup()
		return nil, err
	}
	extra[fdLifeline-fdRegion] = lifeR
	sb, err := newWorkerSandbox(cfg, &extra)
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		cleanup()
		return nil, err
	}
	defer sb.close()
	stdout, stderr, outStarted, err := outputs(cfg)
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		cleanup()
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{"memlink-worker " + cfg.Name},
		Env:         sb.env(workerEnv(cfg)),
		ExtraFiles:  extra,
		Stdout:      stdout,
		Stderr:      stderr,
		SysProcAttr: sysProcAttr(),
	}
	err = sb.start(cmd, exeFile)
	outStarted() // the child has its copies; the host keeps only the read ends
	lifeR.Close()
	bell.started()
	if err != nil {
		lifeW.Close()
		cleanup()
		return nil, err
	}
	w.proc, w.lifeline, w.born = cmd.Process, lifeW, time.Now()
	w.refs.Store(1) // the reaper's
	go w.reap()
	return w, nil
}

// wait waits for the worker process to end and says how it did, and
// whether that looks like running into the memory limit.
func (w *worker) wait() (ex Exit, memoryHit bool) {
	// The worker leads a process group of its own, which the processes
	// its module forks inherit; the group is killed once the worker has
	// ended, whatever ended it: a module's processes do not outlive it.
	ps, err := waitGroup(w.proc)
	ex = Exit{Pid: w.proc.Pid, Status: -1}
	if err != nil {
		ex.Detail = "wait: " + err.Error()
		return ex, false
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			ex.Signal = signalName(ws.Signal())
		} else {
			ex.Status = ws.ExitStatus()
		}
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > 0 {
		ex.MaxRSS = uint64(ru.Maxrss) * maxRSSUnit
	}
	limit := uint64(max(w.c.cfg.MemoryLimit, 0))
	return ex, MemoryLimitEnforced && limit > 0 && ex.MaxRSS >= limit/4*3
}
