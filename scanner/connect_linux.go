//go:build linux

package scanner

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// rawAvailable says the raw socket prober can be used here.
const rawAvailable = true

// connectProber runs TCP connect probes on non-blocking sockets, spread
// over one worker per CPU. Each worker owns an epoll instance, so tens of
// thousands of probes in flight cost no goroutines. Sockets ask for
// extended errors (IP_RECVERR), so an ICMP unreachable that refuses a
// connect is read with its type and code rather than guessed from errno.
// A socket whose connect was refused is reset (connect to AF_UNSPEC) and
// used again, which halves the system calls of a scan of closed ports.
//
// The workers share a budget of descriptors (see filePlan): a worker that
// finds none left closes the idle sockets of its pools and tries again,
// and failing that ends the probe to be sent again later, so the rest of
// the process always has the descriptors it needs.
type connectProber struct {
	workers []*worker
	next    int
	pending [][]*probe
	results chan []outcome
	n       int
	// The workers run in an errgroup: the first that fails cancels ctx
	// with its error, which ends the run.
	group *errgroup.Group
	ctx   context.Context
}

func newConnectProber(ctx context.Context, now func() time.Time, plan filePlan) (*connectProber, error) {
	c := &connectProber{results: make(chan []outcome, 4096)}
	c.group, c.ctx = errgroup.WithContext(ctx)
	k := min(max(runtime.GOMAXPROCS(0), 1), maxWorkers)
	var budget *fdBudget
	pool := poolSize
	if plan.workers > 0 {
		k = plan.workers
		budget = &fdBudget{max: int64(plan.sockets)}
		// Idle sockets kept for reuse take at most a quarter of the
		// budget, in each worker's four pools.
		pool = min(poolSize, plan.sockets/(16*k))
	}
	for i := 0; i < k; i++ {
		w, err := newWorker(now, c.results, budget, pool)
		if err != nil {
			c.close()
			return nil, err
		}
		c.workers = append(c.workers, w)
		c.group.Go(w.run)
	}
	c.pending = make([][]*probe, k)
	return c, nil
}

// err returns the error a worker failed with, if one did.
func (c *connectProber) err() error {
	if cause := context.Cause(c.ctx); cause != nil && c.ctx.Err() != nil &&
		!errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return nil
}

func (c *connectProber) inflight() int { return c.n }

func (c *connectProber) start(p *probe) {
	c.n++
	c.pending[c.next] = append(c.pending[c.next], p)
	c.next = (c.next + 1) % len(c.workers)
}

// flush hands the batched probes to the workers that can take them now.
func (c *connectProber) flush() {
	for i, batch := range c.pending {
		if len(batch) == 0 {
			continue
		}
		select {
		case c.workers[i].jobs <- batch:
			c.pending[i] = nil
			c.workers[i].wake()
		default: // the worker is busy; it will drain its queue soon
		}
	}
}

func (c *connectProber) wait(d time.Duration) []outcome {
	c.flush()
	var out []outcome
	if c.n > 0 {
		t := time.NewTimer(d)
		select {
		case out = <-c.results:
		case <-t.C:
		case <-c.ctx.Done():
		}
		t.Stop()
	} else if d > 0 {
		time.Sleep(min(d, 10*time.Millisecond))
	}
	for more := true; more; {
		select {
		case o := <-c.results:
			out = append(out, o...)
		default:
			more = false
		}
	}
	c.n -= len(out)
	return out
}

func (c *connectProber) close() {
	for _, w := range c.workers {
		close(w.jobs)
		w.wake()
	}
	c.group.Wait()
	for _, w := range c.workers {
		unix.Close(w.epfd)
		unix.Close(w.evfd)
	}
}

// worker owns the sockets of its share of the probes.
type worker struct {
	epfd, evfd int
	jobs       chan []*probe
	results    chan<- []outcome
	byFd       map[int]*probe
	timeouts   deadlineHeap
	ready      []outcome
	events     []unix.EpollEvent
	now        func() time.Time
	tcpPool    [2]fdPool      // reset TCP sockets ready for another connect; [1] is IPv6
	udpPool    [2]fdPool      // UDP sockets ready to connect elsewhere
	udpLocal   map[int]uint16 // the local port of UDP sockets
	fds        *fdBudget      // shared by the workers; nil: no limit
	poolCap    int            // the most sockets each pool keeps
	errbuf     []byte
	dgram      []byte // a UDP reply
	oob        []byte
	closed     bool
}

// fdPool keeps a few sockets ready for reuse.
type fdPool []int

const poolSize = 64

func (p *fdPool) get() (int, bool) {
	n := len(*p)
	if n == 0 {
		return -1, false
	}
	fd := (*p)[n-1]
	*p = (*p)[:n-1]
	return fd, true
}

func (p *fdPool) put(fd int) { *p = append(*p, fd) }

// family indexes the pools: 0 for IPv4, 1 for IPv6.
func family(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

func newWorker(now func() time.Time, results chan<- []outcome, fds *fdBudget, poolCap int) (*worker, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	return &worker{
		epfd:     epfd,
		evfd:     evfd,
		jobs:     make(chan []*probe, 64),
		results:  results,
		byFd:     make(map[int]*probe),
		udpLocal: make(map[int]uint16),
		fds:      fds,
		poolCap:  poolCap,
		events:   make([]unix.EpollEvent, 512),
		now:      now,
		errbuf:   make([]byte, 256),
		dgram:    make([]byte, 65536),
		oob:      make([]byte, 512),
	}, nil
}

var one = [8]byte{1, 0, 0, 0, 0, 0, 0, 0}

// wake interrupts the worker's epoll wait.
func (w *worker) wake() { unix.Write(w.evfd, one[:]) }

func (w *worker) run() (err error) {
	defer func() {
		// A bug here must end the run with an error, so that the caller
		// still closes its output, rather than kill the process.
		if r := recover(); r != nil {
			w.shutdown()
			err = fmt.Errorf("worker failed: %v", r)
		}
	}()
	for {
		// Take every batch waiting.
		for more := true; more && !w.closed; {
			select {
			case batch, ok := <-w.jobs:
				if !ok {
					w.closed = true
					break
				}
				for i, p := range batch {
					w.start(p)
					if i%128 == 127 {
						// Settle what has answered meanwhile, so that a
						// long batch does not inflate measured RTTs.
						if err := w.poll(0); err != nil {
							w.shutdown()
							return err
						}
					}
				}
			default:
				more = false
			}
		}
		if w.closed {
			w.shutdown()
			return nil
		}
		if len(w.ready) > 0 {
			w.results <- w.ready
			w.ready = nil
		}
		timeout := -1
		if next := w.timeouts.next(); !next.IsZero() {
			d := next.Sub(w.now())
			timeout = max(0, int((d+time.Millisecond-1)/time.Millisecond))
		}
		if err := w.poll(timeout); err != nil {
			w.shutdown()
			return err
		}
	}
}

// poll waits up to timeout milliseconds (-1: no limit) for sockets to
// settle, then times out the probes whose deadline has passed.
func (w *worker) poll(timeout int) error {
	n, err := unix.EpollWait(w.epfd, w.events, timeout)
	if err != nil {
		if !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		n = 0
	}
	now := w.now()
	for i := 0; i < n; i++ {
		fd := int(w.events[i].Fd)
		if fd == w.evfd {
			var buf [8]byte
			unix.Read(w.evfd, buf[:])
			continue
		}
		if p, ok := w.byFd[fd]; ok {
			switch {
			case p.port.Proto == ports.TCP:
				w.settle(p, now)
			case fd == p.canaryFd:
				w.settleCanary(p)
			default:
				w.settleUDP(p, now)
			}
		}
	}
	for w.timeouts.Len() > 0 && !w.timeouts[0].deadline.After(now) {
		p := w.timeouts[0]
		w.forget(p)
		w.closeSock(p.fd)
		v := verdict{state: result.Filtered, reason: result.ReasonNoResponse}
		if p.port.Proto == ports.UDP {
			v = w.udpTimeout(p) // silent: open and quiet, or dropped
			w.closeCanary(p)
		}
		w.finish(p, v, now)
	}
	return nil
}

func (w *worker) shutdown() {
	for fd := range w.byFd {
		w.closeSock(fd)
	}
	w.dropPools()
	w.byFd = nil
}

// dropPools closes the idle sockets of the pools, and reports whether
// there were any.
func (w *worker) dropPools() bool {
	dropped := false
	for _, pool := range []*fdPool{&w.tcpPool[0], &w.tcpPool[1], &w.udpPool[0], &w.udpPool[1]} {
		for _, fd := range *pool {
			w.closeSock(fd)
			dropped = true
		}
		*pool = nil
	}
	return dropped
}

// newSocket opens a probe socket with open, within the budget. When the
// budget or the system has no descriptor left, the pools' idle sockets
// are closed to make room, once.
func (w *worker) newSocket(open func() (int, error)) (int, error) {
	for try := 0; ; try++ {
		var err error = unix.EMFILE // the budget is spent
		if w.fds.take() {
			fd, oerr := open()
			if oerr == nil {
				return fd, nil
			}
			w.fds.give()
			err = oerr
		}
		if try > 0 || !classify(err).again || !w.dropPools() {
			return -1, err
		}
	}
}

func (w *worker) finish(p *probe, v verdict, at time.Time) {
	w.ready = append(w.ready, outcome{p: p, v: v, rtt: at.Sub(p.sent)})
}

// socket returns a socket for family, from the pool when it has one.
func (w *worker) socket(v6 bool) (int, error) {
	if fd, ok := w.tcpPool[family(v6)].get(); ok {
		return fd, nil
	}
	fd, err := w.newSocket(func() (int, error) { return errSocket(v6, unix.SOCK_STREAM, unix.IPPROTO_TCP) })
	if err != nil {
		return -1, err
	}
	// Close with a reset: no TIME_WAIT left behind for each open port.
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	return fd, nil
}

// errSocket opens a non-blocking socket that queues the ICMP errors
// answering it (IP_RECVERR), with their type, code and sender.
func errSocket(v6 bool, typ, proto int) (int, error) {
	af, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR
	if v6 {
		af, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	fd, err := unix.Socket(af, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, err
	}
	// A failure leaves the default, which still works: the probe goes
	// on, reading errno instead of the ICMP message.
	unix.SetsockoptInt(fd, level, opt, 1)
	return fd, nil
}

// recycle resets a socket whose connect failed and keeps it for the next
// probe; a socket that cannot be reset is closed.
func (w *worker) recycle(fd int, v6 bool) {
	pool := &w.tcpPool[family(v6)]
	if len(*pool) >= w.poolCap || disconnect(fd) != nil {
		w.closeSock(fd)
		return
	}
	pool.put(fd)
}

// disconnect dissolves a socket's association (connect to AF_UNSPEC), so
// that it can connect again.
func disconnect(fd int) error {
	var sa [unix.SizeofSockaddrInet6]byte // zero: family AF_UNSPEC
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

func (w *worker) start(p *probe) {
	if p.port.Proto == ports.UDP {
		w.startUDP(p)
		return
	}
	addr := p.addr.Addr()
	v6 := addr.Is6() && !addr.Is4In6()
	fd, err := w.socket(v6)
	if err != nil {
		w.finish(p, classify(err), w.now())
		return
	}
	p.sent = w.now()
	err = unix.Connect(fd, sockaddr(p.addr))
	if errors.Is(err, unix.EINPROGRESS) {
		// On loopback the answer is often already in: read it now and
		// spare the epoll round.
		soerr, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if gerr != nil || soerr == 0 {
			w.watch(p, fd, unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP)
			return
		}
		err = unix.Errno(soerr)
	}
	w.conclude(p, fd, v6, err, w.now())
}

// watch waits on epoll for events on p's socket, until p's deadline. It
// reports false, having ended p to be sent again, when epoll refuses.
func (w *worker) watch(p *probe, fd int, events uint32) bool {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		w.closeSock(fd)
		w.finish(p, verdict{again: true}, w.now())
		return false
	}
	p.fd = fd
	w.byFd[fd] = p
	heap.Push(&w.timeouts, p)
	return true
}

// settle reads how the connect on p's socket ended.
func (w *worker) settle(p *probe, now time.Time) {
	fd := p.fd
	w.forget(p)
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	var err error
	soerr, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case gerr != nil:
		err = gerr
	case soerr != 0:
		err = unix.Errno(soerr)
	default:
		// An ICMP error that came while connect held the socket is only
		// a soft error: SO_ERROR stays 0, but the error queue has it
		// (and is why epoll woke us). That is no connection.
		if v, ok := w.readErrQueue(fd, p, ports.TCP); ok {
			w.closeSock(fd)
			w.finish(p, v, now)
			return
		}
	}
	a := p.addr.Addr()
	w.conclude(p, fd, a.Is6() && !a.Is4In6(), err, now)
}

// conclude turns the result of a connect into p's outcome and disposes of
// the socket.
func (w *worker) conclude(p *probe, fd int, v6 bool, err error, now time.Time) {
	v := classify(err)
	switch {
	case err == nil && selfConnected(fd, p):
		// A probe to a local port that nothing listens on can connect to
		// itself when the kernel picks that same port as the source (TCP
		// simultaneous open). That says nothing of the port: send it
		// again from another socket.
		w.closeSock(fd)
		v = verdict{again: true, self: true}
	case err == nil:
		w.closeSock(fd) // connected: the linger setting resets it
	case v.state == result.Closed:
		w.recycle(fd, v6)
	default:
		if v.state == result.Filtered {
			if icmp, ok := w.readErrQueue(fd, p, ports.TCP); ok {
				v = icmp
			}
		}
		w.closeSock(fd)
	}
	w.finish(p, v, now)
}

// selfConnected reports whether fd's connection runs from p's destination
// to itself.
func selfConnected(fd int, p *probe) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == int(p.addr.Port()) && a.Addr == p.addr.Addr().Unmap().As4()
	case *unix.SockaddrInet6:
		return a.Port == int(p.addr.Port()) && a.Addr == p.addr.Addr().As16()
	}
	return false
}

func (w *worker) forget(p *probe) {
	delete(w.byFd, p.fd)
	if p.heapIdx >= 0 {
		heap.Remove(&w.timeouts, p.heapIdx)
	}
}

// readErrQueue reads an ICMP error queued on fd by IP_RECVERR for the
// probe p, of proto.
func (w *worker) readErrQueue(fd int, p *probe, proto ports.Protocol) (verdict, bool) {
	_, oobn, _, _, err := unix.Recvmsg(fd, w.errbuf, w.oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err != nil {
		return verdict{}, false
	}
	m, from, ok := parseErrQueue(w.oob[:oobn], p.addr.Addr())
	if !ok {
		return verdict{}, false
	}
	return icmpVerdict(m, from, proto), true
}

// parseErrQueue finds the ICMP error in the control messages of an
// error-queue read, who sent it (SO_EE_OFFENDER, when the kernel says),
// and whether that was target.
func parseErrQueue(oob []byte, target netip.Addr) (result.ICMP, netip.Addr, bool) {
	m, from, ok := parseErrQueueFrom(oob)
	m.FromTarget = ok && (!from.IsValid() || from.Unmap() == target.Unmap())
	return m, from, ok
}

// parseErrQueueFrom reads the ICMP type and code of an error-queue read,
// and who sent the error when the kernel says.
func parseErrQueueFrom(oob []byte) (result.ICMP, netip.Addr, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return result.ICMP{}, netip.Addr{}, false
	}
	const eeSize = int(unsafe.Sizeof(unix.SockExtendedErr{}))
	for _, m := range msgs {
		isErr := (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR)
		if !isErr || len(m.Data) < eeSize {
			continue
		}
		// struct sock_extended_err: errno u32, origin u8, type u8, code u8,
		// pad u8, info u32, data u32; then the offender's sockaddr.
		origin, typ, code := m.Data[4], m.Data[5], m.Data[6]
		from := offender(m.Data[eeSize:])
		switch origin {
		case unix.SO_EE_ORIGIN_ICMP, unix.SO_EE_ORIGIN_ICMP6:
			return result.ICMP{V6: origin == unix.SO_EE_ORIGIN_ICMP6, Type: typ, Code: code}, from, true
		}
	}
	return result.ICMP{}, netip.Addr{}, false
}

// offender reads the sockaddr_in or sockaddr_in6 that follows a
// sock_extended_err.
func offender(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(b) { // sa_family, in host order
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24]))
		}
	}
	return netip.Addr{}
}

// deadlineHeap orders probes in flight by deadline.
type deadlineHeap []*probe

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *deadlineHeap) Push(x any) {
	p := x.(*probe)
	p.heapIdx = len(*h)
	*h = append(*h, p)
}
func (h *deadlineHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	p.heapIdx = -1
	*h = old[:len(old)-1]
	return p
}
func (h deadlineHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].deadline
}
