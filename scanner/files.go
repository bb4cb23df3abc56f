package scanner

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/portscan/portscan/ports"
)

// ErrFileLimit is matched (errors.Is) by the *FileLimitError that Run,
// CheckFileLimit and PrepareFiles return when the open-file limit is too
// low for the process to run a scan at all.
var ErrFileLimit = errors.New("open-file limit too low")

// ErrNoSockets is returned, wrapped with the system's error, by Run when
// no probe socket could be opened for a long while with no probe in
// flight: the descriptors are held by something outside the scan.
var ErrNoSockets = errors.New("no socket could be opened")

// FileLimitError says how many descriptors a scan needs, and the limit
// that is below it.
type FileLimitError struct {
	Limit int // the open-file limit in force (RLIMIT_NOFILE, once raised to its hard limit)
	Need  int // the least the process needs, counting those it has open
}

func (e *FileLimitError) Error() string {
	return fmt.Sprintf("the open-file limit (%d) is below the %d descriptors the scan needs; raise it with ulimit -n", e.Limit, e.Need)
}

// Is makes a *FileLimitError match ErrFileLimit.
func (e *FileLimitError) Is(target error) bool { return target == ErrFileLimit }

// What a scan needs besides the descriptors the process has open when it
// starts (standard streams, output files, the Go runtime's own).
const (
	// runtimeFiles are what the Go runtime opens at the first timer or
	// file: its network poller's epoll instance and eventfd. Should it
	// find no descriptor then, the process dies (fatal error: runtime:
	// eventfd failed), so PrepareFiles has them opened early.
	runtimeFiles = 2
	// spareFiles stay free while a scan runs, for what the process opens
	// meanwhile: name resolution reads /etc/hosts and /etc/resolv.conf,
	// and the cgo resolver may load a library.
	spareFiles = 3
	// workerFiles are each prober worker's epoll instance and eventfd.
	workerFiles = 2
	// filesPerWorker is the share of descriptors below which one more
	// worker costs more than it brings.
	filesPerWorker = 64
	// maxWorkers caps the workers, whatever the CPUs.
	maxWorkers = 8
)

// PrepareFiles raises the soft limit on open files to the hard one, and
// has the Go runtime open now the descriptors it would otherwise open at
// first use (its network poller's, the local time zone's), so that a
// shortage of descriptors later cannot kill the process. Call it before
// opening files; Run and CheckFileLimit call it too. It returns a
// *FileLimitError when the limit leaves no room even for that.
func PrepareFiles() error {
	limit := fileLimit()
	open := openFiles(limit)
	// The poller's two, and one file to be of use. Were they open
	// already, the limit would still be below any scan's needs.
	if limit-open < runtimeFiles+1 {
		return &FileLimitError{Limit: limit, Need: open + runtimeFiles + spareFiles + workerFiles + 1}
	}
	prepareRuntime()
	return nil
}

// CheckFileLimit reports, as a *FileLimitError, whether the open-file
// limit leaves too few descriptors for a scan with cfg beside those the
// process has open now: one prober worker's, one probe's (two for UDP,
// whose probe may take a canary) and a few spare. Above that floor a scan
// always makes progress, down to one probe in flight. Call it after
// opening the output files, so that they are counted; Run checks again.
func CheckFileLimit(cfg Config) error {
	_, err := planFiles(&cfg)
	return err
}

// filePlan shares the descriptors free for a scan with the raw prober.
type filePlan struct {
	workers int // prober workers, each with its epoll and eventfd
	sockets int // probe sockets open at most at once, pools included
	per     int // sockets one probe may take
}

// planFiles plans the descriptors of a scan with cfg's raw prober. It
// plans nothing (zero) for an injected Dial, which opens what it likes.
func planFiles(cfg *Config) (filePlan, error) {
	if cfg.Dial != nil || !rawAvailable {
		return filePlan{}, nil
	}
	if err := PrepareFiles(); err != nil {
		return filePlan{}, err
	}
	limit := fileLimit()
	return newFilePlan(limit, openFiles(limit)+cfg.rawDiscoveryFiles(), runtime.GOMAXPROCS(0), cfg.Ports != nil && cfg.Ports.Len(ports.UDP) > 0)
}

// newFilePlan plans for limit descriptors of which open are taken, procs
// CPUs, and UDP probes or not.
func newFilePlan(limit, open, procs int, udp bool) (filePlan, error) {
	per := 1
	if udp {
		per = 2
	}
	free := limit - open - spareFiles
	workers := min(max(procs, 1), maxWorkers, max(1, free/filesPerWorker))
	sockets := free - workerFiles*workers
	if sockets < per {
		return filePlan{}, &FileLimitError{Limit: limit, Need: open + spareFiles + workerFiles + per}
	}
	return filePlan{workers: workers, sockets: sockets, per: per}, nil
}

// probes is how many probes the plan has room for at once (0: no plan).
func (p filePlan) probes() int {
	if p.sockets == 0 {
		return 0
	}
	return max(1, p.sockets/p.per)
}

// fdBudget counts the probe sockets the prober's workers hold, so that
// they never take the descriptors the rest of the process needs. A nil
// budget allows any number.
type fdBudget struct {
	max int64
	n   atomic.Int64
}

// take claims a descriptor, and reports false if none is left.
func (b *fdBudget) take() bool {
	if b == nil {
		return true
	}
	if b.n.Add(1) > b.max {
		b.n.Add(-1)
		return false
	}
	return true
}

// give returns a descriptor that take claimed.
func (b *fdBudget) give() {
	if b != nil {
		b.n.Add(-1)
	}
}
