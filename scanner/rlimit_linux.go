//go:build linux

package scanner

import (
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// fileLimit raises the soft limit on open files to the hard limit, once,
// and returns the soft limit then in force.
var fileLimit = sync.OnceValue(func() int {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 1024
	}
	if r.Cur < r.Max {
		want := r
		want.Cur = r.Max
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &want) == nil {
			r = want
		}
	}
	if r.Cur > 1<<20 {
		return 1 << 20
	}
	return int(r.Cur)
})

func zoneIndex(zone string) uint32 {
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
