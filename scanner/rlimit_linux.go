//go:build linux

package scanner

import (
	"net"
	"os"
	"strconv"
	"sync"
	"time"

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

// openFiles counts the descriptors open below limit: those above it, which
// a process may inherit, take no room under the limit. A small limit is
// probed descriptor by descriptor, which opens nothing; a large one is
// read from /proc.
func openFiles(limit int) int {
	if limit > 4096 {
		if n, ok := procFiles(limit); ok {
			return n
		}
		limit = 1 << 16
	}
	n := 0
	for fd := 0; fd < limit; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// procFiles counts the entries of /proc/self/fd below limit, less the one
// that reading them opens.
func procFiles(limit int) (int, bool) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, false
	}
	n := 0
	for _, name := range names {
		if fd, err := strconv.Atoi(name); err == nil && fd < limit && uintptr(fd) != d.Fd() {
			n++
		}
	}
	return n, true
}

// prepareRuntime makes the Go runtime open what it opens lazily: the
// network poller's epoll and eventfd, at the first timer put on its heap
// (a function timer is, at once), and the local time zone, read at the
// first time formatted.
var prepareRuntime = sync.OnceFunc(func() {
	time.AfterFunc(time.Hour, func() {}).Stop()
	time.Now().Zone()
})

func zoneIndex(zone string) uint32 {
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
