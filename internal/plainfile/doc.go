// Package plainfile opens the files memlink reads on a user's word (module
// files, registry manifests) safely and cheaply.
//
// Open accepts regular files only, and decides that on the descriptor it
// opened, not on the path: a FIFO, a character device (/dev/zero, a
// terminal), a socket or a directory is refused with an error matching
// ErrNotRegular before a single byte is read, so a file of the wrong kind
// can neither hang the caller (a FIFO with no writer) nor feed it bytes for
// ever (/dev/zero). On Unix the open itself never waits either: it is
// non-blocking (a FIFO opens at once), takes no controlling terminal, and
// the descriptor is close-on-exec. Symbolic links are followed; whether a
// link may be trusted is the caller's decision (memlink checks the
// directories a lookup passes through, see memlink/trust_unix.go).
//
// On Unix, os.Open offers every descriptor it opens to the runtime's
// network poller. For a regular file on Linux that costs five system calls
// more than the open itself (two fcntl to make the descriptor
// non-blocking, an epoll_ctl that fails with EPERM, two fcntl to undo it).
// Loading a module opens two or three files, so this is a measurable part
// of a Load. Open skips the poller: once the descriptor is known to be a
// regular file it is made blocking again, which is what reads of regular
// files are anyway.
//
// On Windows, Open waits out a sharing violation (another process holding
// the file open without read sharing, as a linker writing it does) for up
// to two seconds instead of failing at once, and refuses handles that are
// not disk files (GetFileType: consoles such as CON, pipes, devices) and
// directories.
package plainfile
