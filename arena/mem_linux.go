package arena

import "golang.org/x/sys/unix"

// mapNoReserve asks Linux not to reserve swap space for the mapping, so a
// large arena does not count against the overcommit limit.
const mapNoReserve = unix.MAP_NORESERVE
