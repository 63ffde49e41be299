// Package filewatch is the change detection shared by hotreload.Watch (one
// module file) and memlink's WatchDir (a directory of them): file
// signatures that notice every kind of deploy, a notifier that wakes the
// watcher (inotify on Linux, a timer elsewhere), and a Tracker that decides
// when a changed file is finished, so that a file still being written is
// pending rather than a failure.
//
// The rules, in one place (docs/design.md explains why):
//
//   - A file is identified by its signature: device, inode, size,
//     modification time, status-change time and mode. A rename over it
//     changes the inode, a rewrite the size or times, and a rewrite that
//     keeps size and modification time (cp -p, rsync -t) still changes the
//     status-change time.
//   - A changed file is acted on once its signature has stayed the same
//     for the debounce period and it passes validation (a complete shared
//     library for this platform).
//   - A stable file that fails validation is pending, not failed: writers
//     that pause (a linker on a loaded machine, a copy over a slow disk)
//     leave a stable, incomplete file for a while. It becomes a failure
//     only when it has stayed the same and invalid for the settle period.
//   - A file that disappears is removed only once it has stayed away for
//     the debounce period: a deploy by unlink and create is a change, not a
//     removal followed by an addition.
package filewatch
