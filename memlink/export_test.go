package memlink

import "sync"

// RemoveStalePrivateDirsForTest runs the stale-copy cleanup again.
func RemoveStalePrivateDirsForTest() {
	staleOnce = sync.Once{}
	removeStalePrivateDirs()
}
