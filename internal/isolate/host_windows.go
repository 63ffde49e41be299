package isolate

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// EnvHandles carries, to a Windows worker, the values of the handles it
// inherits: the shared region and its size, the read end of the
// lifeline, then the doorbell events (see hostBell.childHandles), in
// decimal, separated by spaces. Only the handles listed are inherited
// (exec passes them in PROC_THREAD_ATTRIBUTE_HANDLE_LIST).
const EnvHandles = "MEMLINK_ISOLATE_HANDLES"

// workerSys is what a Windows worker keeps beyond the portable fields:
// a handle of its process and the Job Object it runs in.
type workerSys struct {
	proc windows.Handle
	// job holds the worker and everything its module starts. It is
	// created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and only the host
	// holds it, so that when the host goes, by any means, the job's
	// processes go with it; the reaper terminates the job once the
	// worker has ended.
	job windows.Handle
	// base is the worker's committed memory before the module loaded,
	// under a memory limit.
	base uint64
}

func (s *workerSys) release() {
	if s.job != 0 {
		_ = windows.CloseHandle(s.job) // kills whatever is left in it
	}
	if s.proc != 0 {
		_ = windows.CloseHandle(s.proc)
	}
	s.job, s.proc = 0, 0
}

// memoryAllowance is what a memory limit leaves the worker beyond its
// own committed memory and MemoryLimit: a few thread stacks and buffers
// the worker allocates while it serves (as limitMemory does on Linux).
const memoryAllowance = spareThreads * (1<<20 + 64<<10)

// startWorker creates a shared region and starts a worker process on it,
// in a Job Object of its own. The module is not loaded yet; see load.
func startWorker(c *Client) (*worker, error) {
	cfg := &c.cfg
	if cfg.Sandbox != nil {
		return nil, fmt.Errorf("isolate: no sandbox on windows: %w", errors.ErrUnsupported)
	}
	g := newGeometry(cfg.Slots, cfg.ArgCap, cfg.OutputCap, os.Getpagesize())
	shm, err := createShm(g.size())
	if err != nil {
		return nil, err
	}
	defer func() { _ = windows.CloseHandle(shm) }() // the views and the child's handle keep it alive
	mem, err := mapShared(shm, g.size())
	if err != nil {
		return nil, err
	}
	bell, err := newHostBell(g.slots)
	if err != nil {
		_ = unmap(mem) // the error to report is the one above
		return nil, err
	}
	h := newHeader(cfg, g)
	w := newWorker(c, g, mem, bell, &h)
	ok := false
	defer func() {
		if !ok {
			bell.close()
			_ = unmap(mem) // the error to report is the caller's
			w.sys.release()
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer lifeR.Close() // the child has its own
	defer func() {
		if !ok {
			lifeW.Close()
		}
	}()
	// The child inherits duplicates made for it, and only those; the
	// host's own handles stay uninheritable.
	var inherit []syscall.Handle
	defer func() {
		for _, h := range inherit {
			_ = windows.CloseHandle(windows.Handle(h))
		}
	}()
	values := []string{"", strconv.Itoa(g.size())}
	for i, src := range append([]windows.Handle{shm, windows.Handle(lifeR.Fd())}, bell.childHandles()...) {
		dup, err := inheritable(src)
		if err != nil {
			return nil, err
		}
		inherit = append(inherit, syscall.Handle(dup))
		v := strconv.FormatUint(uint64(dup), 10)
		if i == 0 {
			values[0] = v
		} else {
			values = append(values, v)
		}
	}
	w.sys.job, err = newJob()
	if err != nil {
		return nil, err
	}
	stdout, stderr, outStarted, err := outputs(cfg)
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:   exe,
		Args:   []string{"memlink-worker " + cfg.Name},
		Env:    append(workerEnv(cfg), EnvHandles+"="+strings.Join(values, " ")),
		Stdout: stdout,
		Stderr: stderr,
		SysProcAttr: &syscall.SysProcAttr{
			AdditionalInheritedHandles: inherit,
			// A console's Ctrl-C reaches only the host, which decides
			// what happens to its workers.
			CreationFlags: windows.CREATE_NEW_PROCESS_GROUP,
		},
	}
	err = cmd.Start()
	outStarted() // the child has its copies; the host keeps only the read ends
	if err != nil {
		return nil, err
	}
	w.proc, w.lifeline, w.born = cmd.Process, lifeW, time.Now()
	if err := w.contain(); err != nil {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		return nil, err
	}
	ok = true
	w.refs.Store(1) // the reaper's
	go w.reap()
	return w, nil
}

// newJob creates the Job Object of a worker: its processes die when the
// last handle of the job closes, which only the host holds.
func newJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("isolate: CreateJobObject: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if err := setJobLimits(job, &info); err != nil {
		_ = windows.CloseHandle(job)
		return 0, err
	}
	return job, nil
}

func setJobLimits(job windows.Handle, info *windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) error {
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(info)), uint32(unsafe.Sizeof(*info))); err != nil {
		return fmt.Errorf("isolate: SetInformationJobObject: %w", err)
	}
	return nil
}

func jobLimits(job windows.Handle) (windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION, error) {
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	err := windows.QueryInformationJobObject(job, windows.JobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return info, err
}

// contain puts the new worker in its job and, under a memory limit,
// bounds what it may commit once it is set up: its own committed memory
// then, plus MemoryLimit, plus memoryAllowance. Nothing of the module
// has run yet: it is loaded by the first request, which comes later.
func (w *worker) contain() error {
	const access = windows.PROCESS_TERMINATE | windows.SYNCHRONIZE | windows.PROCESS_QUERY_INFORMATION | windows.PROCESS_SET_QUOTA | windows.PROCESS_VM_READ
	ph, err := windows.OpenProcess(access, false, uint32(w.proc.Pid))
	if err != nil {
		return fmt.Errorf("isolate: OpenProcess: %w", err)
	}
	w.sys.proc = ph
	if err := windows.AssignProcessToJobObject(w.sys.job, ph); err != nil {
		return fmt.Errorf("isolate: AssignProcessToJobObject: %w", err)
	}
	limit := uint64(max(w.c.cfg.MemoryLimit, 0))
	if limit == 0 {
		return nil
	}
	ready := (*atomic.Uint32)(unsafe.Pointer(&w.mem[hReady]))
	for deadline := time.Now().Add(StartAllowance); ready.Load() == 0; {
		if ev, _ := windows.WaitForSingleObject(ph, 1); ev == windows.WAIT_OBJECT_0 {
			return errors.New("isolate: the worker ended while it started")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("isolate: the worker did not start within %v", StartAllowance)
		}
	}
	pm, err := processMemory(ph)
	if err != nil {
		return err
	}
	w.sys.base = uint64(pm.PagefileUsage)
	info, err := jobLimits(w.sys.job)
	if err != nil {
		return fmt.Errorf("isolate: QueryInformationJobObject: %w", err)
	}
	info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY
	info.ProcessMemoryLimit = uintptr(w.sys.base + limit + memoryAllowance)
	return setJobLimits(w.sys.job, &info)
}

// processMemoryCounters is PROCESS_MEMORY_COUNTERS.
type processMemoryCounters struct {
	cb                         uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
}

var procGetProcessMemoryInfo = windows.NewLazySystemDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")

func processMemory(ph windows.Handle) (processMemoryCounters, error) {
	pm := processMemoryCounters{cb: uint32(unsafe.Sizeof(processMemoryCounters{}))}
	if r, _, err := procGetProcessMemoryInfo.Call(uintptr(ph), uintptr(unsafe.Pointer(&pm)), uintptr(pm.cb)); r == 0 {
		return pm, fmt.Errorf("isolate: GetProcessMemoryInfo: %w", err)
	}
	return pm, nil
}

// goCrashStatus is the exit status of a Go program that dies of an
// exception it cannot handle (one raised in module code, in a worker):
// the runtime prints it and exits with 2.
const goCrashStatus = 2

// wait waits for the worker process to end and says how it did, and
// whether that looks like running into the memory limit.
func (w *worker) wait() (ex Exit, memoryHit bool) {
	ps, err := w.proc.Wait()
	// What the module started goes with the worker, as a process group
	// does on Unix.
	_ = windows.TerminateJobObject(w.sys.job, 1) // fails only when the job is empty
	ex = Exit{Pid: w.proc.Pid, Status: -1}
	if err != nil {
		ex.Detail = "wait: " + err.Error()
		return ex, false
	}
	code := uint32(ps.ExitCode())
	ex.Status = int(code)
	fault := (*atomic.Uint32)(unsafe.Pointer(&w.mem[hFault])).Load()
	switch {
	case code >= 0xC0000000:
		ex.Signal = exceptionName(code)
	case code == goCrashStatus && fault >= 0xC0000000:
		// The worker's exception handler saw it before the runtime
		// caught it (see watchFaults).
		ex.Signal, ex.Status = exceptionName(fault), int(fault)
	}
	if pm, err := processMemory(w.sys.proc); err == nil {
		ex.MaxRSS = uint64(pm.PeakWorkingSetSize)
	}
	limit := uint64(max(w.c.cfg.MemoryLimit, 0))
	if limit == 0 {
		return ex, false
	}
	info, err := jobLimits(w.sys.job)
	return ex, err == nil && uint64(info.PeakProcessMemoryUsed) >= w.sys.base+limit/4*3
}

// exceptionNames names the exception codes a crash in native code ends a
// process with.
var exceptionNames = map[uint32]string{
	0xC0000005: "EXCEPTION_ACCESS_VIOLATION",
	0xC0000006: "EXCEPTION_IN_PAGE_ERROR",
	0xC000001D: "EXCEPTION_ILLEGAL_INSTRUCTION",
	0xC0000025: "EXCEPTION_NONCONTINUABLE_EXCEPTION",
	0xC0000026: "EXCEPTION_INVALID_DISPOSITION",
	0xC000008C: "EXCEPTION_ARRAY_BOUNDS_EXCEEDED",
	0xC000008D: "EXCEPTION_FLT_DENORMAL_OPERAND",
	0xC000008E: "EXCEPTION_FLT_DIVIDE_BY_ZERO",
	0xC000008F: "EXCEPTION_FLT_INEXACT_RESULT",
	0xC0000090: "EXCEPTION_FLT_INVALID_OPERATION",
	0xC0000091: "EXCEPTION_FLT_OVERFLOW",
	0xC0000092: "EXCEPTION_FLT_STACK_CHECK",
	0xC0000093: "EXCEPTION_FLT_UNDERFLOW",
	0xC0000094: "EXCEPTION_INT_DIVIDE_BY_ZERO",
	0xC0000095: "EXCEPTION_INT_OVERFLOW",
	0xC0000096: "EXCEPTION_PRIV_INSTRUCTION",
	0xC00000FD: "EXCEPTION_STACK_OVERFLOW",
	0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
	0xC0000374: "STATUS_HEAP_CORRUPTION",
	0xC000013A: "STATUS_CONTROL_C_EXIT",
}

// exceptionName names an exception code, or describes one it does not
// know.
func exceptionName(code uint32) string {
	if n, ok := exceptionNames[code]; ok {
		return n
	}
	return fmt.Sprintf("exception 0x%08X", code)
}
