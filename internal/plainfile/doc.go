// Package plainfile opens module files for reading, the way loading them
// needs.
//
// On Unix, os.Open offers every descriptor it opens to the runtime's
// network poller. For a regular file on Linux that costs five system calls
// more than the open itself (two fcntl to make the descriptor
// non-blocking, an epoll_ctl that fails with EPERM, two fcntl to undo it),
// about 7 µs on the VMs memlink was measured on, where a system call costs
// over a microsecond. Loading a module opens two or three files, so this
// is a measurable part of a Load. Open skips the poller: the descriptor
// stays blocking, which is what reads of regular files do anyway.
//
// On Windows, Open waits out a sharing violation (another process holding
// the file open without read sharing, as a linker writing it does) for up
// to two seconds instead of failing at once.
package plainfile
