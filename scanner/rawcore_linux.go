//go:build linux

package scanner

import (
	"container/heap"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// rawCore is what the raw probers (the SYN scan, raw host discovery)
// share: the raw sockets of the interfaces that destinations' routes go
// out on, each with a reader; the route and next hop of each
// destination, and the resolution of next hops' link addresses by ARP
// and NDP; the probes in flight, keyed by what their answers carry, and
// their timeouts; the source ports reserved for the run. The probers
// keep what a probe's frame is, how a reply is matched, when frames are
// sent, and how long a probe waits.
//
// A prober embeds it, sets what it differs in (the fields before now),
// then calls open.
type rawCore struct {
	// filter is the kernel filter of a link's socket: what passes is
	// the answers to the run's probes, and neighbour answers.
	filter func(raw.Interface) ([]bpf.Instruction, error)
	// readBatch is how many frames a reader takes at once.
	readBatch int
	// neighTries is how many requests a next hop gets before it is
	// taken to be missing.
	neighTries int
	// routersOnly is for probers that ask the hosts of their links with
	// probes of their own (raw discovery): only routers are next hops to
	// resolve, and, being few, each has the kernel's neighbour table
	// read for it as it comes. Otherwise every destination's next hop is
	// resolved, and the table is read once, as a link opens.
	routersOnly bool
	// burst is for probers that send each link's queue a burst at a
	// time (raw discovery): each frame is copied on its own, and freed
	// once sent. A queue sent whole is cut from one slab, which grows
	// for as long as frames wait.
	burst bool
	// other takes the probes that are not this prober's (a connect
	// prober's UDP, raw discovery's connects); nil when there are none.
	other prober

	now   func() time.Time
	key   cookieKey
	ports raw.PortRange
	held  []int // the sockets that reserve ports
	nl    *raw.Netlink
	b     *raw.Builder

	links map[int]*rawLink       // by interface index
	dests map[netip.Addr]*rawDst // by destination
	neigh map[neighKey]*rawNeigh // next hops being or having been resolved
	// neighQ orders the resolutions waiting for an answer by the time
	// they asked (each waits as long, the prober's neighbour timeout, so
	// appending keeps them in the order of their deadlines).
	neighQ []neighWait

	pending  []*probe
	sent     map[rawKey]*probe // the probes in flight
	timeouts deadlineHeap
	ready    []outcome
	n        int // probes started and not yet returned by wait

	rx      chan []rawReply
	spare   chan []rawReply // batches matched, for the readers to fill again
	batches atomic.Int32    // the batches the readers have made
	stop    chan struct{}
	wg      sync.WaitGroup
	rxErr   chan error
	failed  error
}

// rawLink is a raw socket on one interface, its reader, and the frames
// waiting to go out on it.
type rawLink struct {
	ifi  raw.Interface
	conn *raw.Conn
	// The reader's progress (see horizon): waiting on an empty socket,
	// or the start of its last read that emptied it, in Unix nanoseconds.
	idle   atomic.Bool
	caught atomic.Int64
	frames [][]byte // waiting to be sent
	probes []*probe // the probe of each frame, nil for a neighbour request
	slab   []byte
	burst  bool   // see rawCore.burst
	rtt    timing // of the neighbour answers on the link, for raw discovery
}

// rawDst is where probes to one destination go.
type rawDst struct {
	link   *rawLink
	src    netip.Addr
	onLink bool          // on one of the scanner's links
	hop    *rawNeigh     // nil when no link address is needed
	err    error         // the route lookup's, which fails every probe
	tmpl   *raw.Template // of its SYNs, once the link address is known
	users  int           // probes pending or in flight
}

type neighKey struct {
	ifindex int
	addr    netip.Addr
}

// rawNeigh is the link address of a next hop: known, being asked, or
// found missing.
type rawNeigh struct {
	key     neighKey
	src     netip.Addr // the address the requests come from
	mac     net.HardwareAddr
	failed  bool
	tries   int
	asked   time.Time // when the last request went
	waiting []*probe
	users   int
}

type neighWait struct {
	n     *rawNeigh
	asked time.Time
}

// rawKey finds the probe a reply answers: the target, the port probed
// (0 for a ping of none), and what tells apart the probes of one port:
// the source port a SYN went from, the kind of a ping.
type rawKey struct {
	addr      [16]byte // As16 of the unmapped address: plain bytes hash and compare faster than a netip.Addr
	port, tag uint16
}

func newRawKey(addr netip.Addr, port, tag uint16) rawKey {
	return rawKey{addr.Unmap().As16(), port, tag}
}

// keyOf is the key p is in flight under: track keeps its port and tag
// in p.fd.
func keyOf(p *probe) rawKey {
	return newRawKey(p.addr.Addr(), uint16(p.fd>>16), uint16(p.fd))
}

// rawReply is a frame the filter passed, decoded by the reader.
type rawReply struct {
	p  raw.Packet
	at time.Time
}

// silent is the verdict on a probe nothing answered.
var silent = verdict{state: result.Filtered, reason: result.ReasonNoResponse}

// open opens the netlink socket and reserves sourcePorts source ports.
func (c *rawCore) open(now func() time.Time, sourcePorts int) error {
	nl, err := raw.OpenNetlink()
	if err != nil {
		return err
	}
	c.now = now
	c.key = cookieKey{rand.Uint64(), rand.Uint64()}
	c.nl = nl
	c.b = raw.NewBuilder()
	c.links = map[int]*rawLink{}
	c.dests = map[netip.Addr]*rawDst{}
	c.neigh = map[neighKey]*rawNeigh{}
	c.sent = map[rawKey]*probe{}
	c.rx = make(chan []rawReply, 1024)
	c.spare = make(chan []rawReply, 1024)
	c.stop = make(chan struct{})
	c.rxErr = make(chan error, 16)
	c.ports, c.held, err = reservePorts(sourcePorts)
	if err != nil {
		nl.Close()
		return err
	}
	return nil
}

// ephemeralPorts reads the kernel's range of ephemeral ports.
func ephemeralPorts() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) == 2 {
		l, err1 := strconv.Atoi(f[0])
		h, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && l <= h {
			return l, h
		}
	}
	return lo, hi
}

// ErrNoSourcePorts is returned by Run for a SYN scan when no block of
// free source ports outside the kernel's ephemeral range could be had.
var ErrNoSourcePorts = errors.New("no free block of source ports outside the ephemeral range")

// reservePorts finds n consecutive ports outside the kernel's ephemeral
// range that no socket holds, and binds a TCP socket to each (both
// families, never listening), so that no other program takes them while
// the run uses them. Replies to them are the run's alone.
func reservePorts(n int) (raw.PortRange, []int, error) {
	lo, hi := ephemeralPorts()
	type span struct{ first, last int }
	var spans []span
	if hi+n <= 65535 {
		spans = append(spans, span{hi + 1, 65535})
	}
	if 1024+n <= lo {
		spans = append(spans, span{1024, lo - 1})
	}
	for _, sp := range spans {
		blocks := (sp.last - sp.first + 1) / n
		start := rand.IntN(blocks)
		for i := range blocks {
			first := sp.first + ((start+i)%blocks)*n
			if fds, ok := bindBlock(first, n); ok {
				return raw.PortRange{First: uint16(first), Last: uint16(first + n - 1)}, fds, nil
			}
		}
	}
	return raw.PortRange{}, nil, fmt.Errorf("%w (ephemeral ports %d-%d)", ErrNoSourcePorts, lo, hi)
}

// bindBlock binds a TCP socket to each of the n ports from first, on
// the wildcard address of both families; it gives up, closing them, on
// the first that is taken.
func bindBlock(first, n int) ([]int, bool) {
	var fds []int
	fail := func() ([]int, bool) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, false
	}
	for port := first; port < first+n; port++ {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
			err = unix.Bind(fd, &unix.SockaddrInet6{Port: port})
		} else if errors.Is(err, unix.EAFNOSUPPORT) {
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err == nil {
				err = unix.Bind(fd, &unix.SockaddrInet4{Port: port})
			}
		}
		if err != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			return fail()
		}
		fds = append(fds, fd)
	}
	return fds, true
}

// startFor takes p: the other prober's kind of probe goes to it, the
// others wait for the next wait to route them.
func (c *rawCore) startFor(p *probe, otherKind bool) {
	if otherKind && c.other != nil {
		c.other.start(p)
		return
	}
	c.n++
	c.pending = append(c.pending, p)
}

func (c *rawCore) inflight() int {
	n := c.n
	if c.other != nil {
		n += c.other.inflight()
	}
	return n
}

func (c *rawCore) err() error {
	if c.failed != nil {
		return c.failed
	}
	select {
	case err := <-c.rxErr:
		c.failed = err
		return err
	default:
	}
	if c.other != nil {
		return c.other.err()
	}
	return nil
}

// waitWith returns the probes that ended, the prober's own (waitOwn)
// and the other prober's, waiting up to d for the first. The caller has
// routed the probes started since the last wait.
func (c *rawCore) waitWith(d time.Duration, waitOwn func(time.Duration) []outcome) []outcome {
	if c.other != nil && c.other.inflight() > 0 {
		return c.waitBoth(d, waitOwn)
	}
	return waitOwn(d)
}

// waitBoth waits on the prober's own probes (waitOwn) and on the other
// prober's, a little at a time.
func (c *rawCore) waitBoth(d time.Duration, waitOwn func(time.Duration) []outcome) []outcome {
	const step = 2 * time.Millisecond
	deadline := c.now().Add(d)
	for {
		out := c.other.wait(0)
		if c.n > 0 {
			out = append(out, waitOwn(0)...)
		}
		left := deadline.Sub(c.now())
		if len(out) > 0 || left <= 0 {
			return out
		}
		if c.n > 0 {
			out = waitOwn(min(step, left))
		} else {
			out = c.other.wait(min(step, left))
		}
		if len(out) > 0 {
			return out
		}
	}
}

// waitOver says whether a wait has what it waited for: probes that
// ended, or none left to wait on, or a failure of the prober.
func (c *rawCore) waitOver() bool { return len(c.ready) > 0 || c.n == 0 || c.failed != nil }

// outcomes returns the probes that ended since the last call.
func (c *rawCore) outcomes() []outcome {
	out := c.ready
	// The engine is done with out by the next wait: its array takes
	// the next outcomes, rather than growing again from nothing.
	c.ready = out[:0]
	c.n -= len(out)
	return out
}

// horizon is the time up to which the readers have handed over every
// frame that came: now for a reader waiting on an empty socket, else the
// start of its last read that found fewer frames than it could take.
func (c *rawCore) horizon(now time.Time) time.Time {
	h := now
	for _, l := range c.links {
		if l.idle.Load() {
			continue
		}
		if ct := time.Unix(0, l.caught.Load()); ct.Before(h) {
			h = ct
		}
	}
	return h
}

// finish ends p with v, and lets go of its destination.
func (c *rawCore) finish(p *probe, v verdict, at time.Time) {
	c.ready = append(c.ready, outcome{p: p, v: v, rtt: at.Sub(p.sent)})
	if d := c.dests[p.addr.Addr().Unmap()]; d != nil {
		d.users--
		if d.hop != nil {
			d.hop.users--
		}
	}
}

// route takes p to its destination, which it now uses: it returns the
// destination when p's frame is to be built, nil when p ended here or
// waits for its next hop's link address. A broadcast frame needs none.
func (c *rawCore) route(p *probe, now time.Time, broadcast bool) *rawDst {
	d := c.dest(p.addr.Addr().Unmap())
	d.users++
	if d.hop != nil {
		d.hop.users++
	}
	switch {
	case d.err != nil && c.failed != nil:
		c.finish(p, verdict{again: true, cause: d.err}, now)
	case d.err != nil:
		c.finish(p, classify(d.err), now) // no route: net-unreach, host-unreach, ...
	case broadcast:
		return d
	case d.hop != nil && d.hop.failed:
		c.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
	case d.hop != nil && d.hop.mac == nil:
		d.hop.waiting = append(d.hop.waiting, p)
		c.ask(d.hop, d.link, now)
	default:
		return d
	}
	return nil
}

// dest returns where probes to addr go, looking the route up the first
// time.
func (c *rawCore) dest(addr netip.Addr) *rawDst {
	if d, ok := c.dests[addr]; ok {
		return d
	}
	d := &rawDst{}
	c.dests[addr] = d
	r, err := c.nl.Route(addr)
	if err != nil {
		d.err = err
		return d
	}
	ifindex := r.Ifindex
	if r.Local() {
		ifindex = 1 // the host's own address: loopback
		if lo, ok := c.loopback(); ok {
			ifindex = lo
		}
	}
	l, err := c.link(ifindex)
	if err != nil {
		// No raw socket on the interface: that is no answer of the
		// network's but a failure of the run.
		d.err = err
		if c.failed == nil {
			c.failed = err
		}
		return d
	}
	d.link, d.src = l, r.Src
	if !d.src.IsValid() {
		d.src = addr // a local address answers itself
	}
	if l.ifi.NoARP {
		return d
	}
	d.onLink = !r.Gateway.IsValid() && !r.Local()
	if d.onLink && c.routersOnly {
		return d
	}
	d.hop = c.nextHop(neighKey{ifindex, r.NextHop()}, d.src, l)
	return d
}

// nextHop returns the resolution of k's link address, making it the
// first time.
func (c *rawCore) nextHop(k neighKey, src netip.Addr, l *rawLink) *rawNeigh {
	if n, ok := c.neigh[k]; ok {
		return n
	}
	n := &rawNeigh{key: k, src: src}
	c.neigh[k] = n
	if c.routersOnly {
		c.kernelNeighbors(l)
	}
	return n
}

// loopback finds the index of the loopback interface.
func (c *rawCore) loopback() (int, bool) {
	for i, l := range c.links {
		if l.ifi.Loopback {
			return i, true
		}
	}
	ifi, err := net.InterfaceByName("lo")
	if err != nil {
		return 0, false
	}
	return ifi.Index, true
}

// link returns the raw socket on the interface, opening it the first
// time with the prober's filter, and starts its reader.
func (c *rawCore) link(index int) (*rawLink, error) {
	if l, ok := c.links[index]; ok {
		return l, nil
	}
	ifi, err := c.nl.Link(index)
	if err != nil {
		return nil, err
	}
	conn, err := raw.Open(ifi)
	if err != nil {
		return nil, err
	}
	prog, err := c.filter(ifi)
	if err == nil {
		err = conn.SetFilter(prog)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	l := &rawLink{ifi: ifi, conn: conn, burst: c.burst}
	l.caught.Store(c.now().UnixNano())
	c.links[index] = l
	if !ifi.NoARP && !c.routersOnly {
		c.kernelNeighbors(l)
	}
	c.wg.Add(1)
	go c.read(l)
	return l, nil
}

// kernelNeighbors takes the link addresses the kernel already knows on
// l, so that they are not asked again.
func (c *rawCore) kernelNeighbors(l *rawLink) {
	list, err := c.nl.Neighbors(l.ifi.Index)
	if err != nil {
		return
	}
	for _, nb := range list {
		if !nb.Usable() {
			continue
		}
		k := neighKey{l.ifi.Index, nb.Addr.Unmap()}
		switch n, ok := c.neigh[k]; {
		case !ok:
			c.neigh[k] = &rawNeigh{key: k, mac: nb.MAC}
		case n.mac == nil:
			n.mac = nb.MAC
		}
	}
}

// add queues f, the frame of p (nil for a neighbour request).
func (l *rawLink) add(f []byte, p *probe) {
	if l.burst {
		l.frames = append(l.frames, append([]byte(nil), f...))
	} else {
		l.slab = append(l.slab, f...)
		l.frames = append(l.frames, l.slab[len(l.slab)-len(f):])
	}
	l.probes = append(l.probes, p)
}

// ask sends a neighbour request for n, unless one is out already.
func (c *rawCore) ask(n *rawNeigh, l *rawLink, now time.Time) {
	if n.tries > 0 {
		return
	}
	c.request(n, l, now)
}

// request queues an ARP request or neighbour solicitation for n's link
// address.
func (c *rawCore) request(n *rawNeigh, l *rawLink, now time.Time) {
	var f []byte
	var err error
	if n.key.addr.Is4() {
		f, err = c.b.ARPRequest(l.ifi.MAC, n.src, n.key.addr)
	} else {
		f, err = c.b.NeighborSolicitation(l.ifi.MAC, n.src, n.key.addr)
	}
	if err != nil {
		c.neighFailed(n, now)
		return
	}
	l.add(f, nil)
	n.tries++
	n.asked = now
	c.neighQ = append(c.neighQ, neighWait{n, now})
}

// neighFailed fails the probes waiting on n: nobody holds the address.
func (c *rawCore) neighFailed(n *rawNeigh, now time.Time) {
	n.failed = true
	for _, p := range n.waiting {
		c.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
	}
	n.waiting = nil
}

// neighNext is when the first neighbour request waiting for an answer
// times out, waiting timeout (zero: none waits).
func (c *rawCore) neighNext(timeout time.Duration) time.Time {
	if len(c.neighQ) == 0 {
		return time.Time{}
	}
	return c.neighQ[0].asked.Add(timeout)
}

// expireNeighbors asks again the next hops whose request, timeout ago,
// has had no answer by limit, and fails those asked neighTries times.
func (c *rawCore) expireNeighbors(limit, now time.Time, timeout time.Duration) {
	for len(c.neighQ) > 0 && !c.neighQ[0].asked.Add(timeout).After(limit) {
		w := c.neighQ[0]
		c.neighQ[0] = neighWait{}
		c.neighQ = c.neighQ[1:]
		n := w.n
		if n.mac != nil || n.failed || n.asked != w.asked {
			continue // answered, or asked again since
		}
		if n.tries >= c.neighTries {
			c.neighFailed(n, now)
			continue
		}
		if l := c.links[n.key.ifindex]; l != nil {
			c.request(n, l, now)
		}
	}
	if len(c.neighQ) == 0 {
		c.neighQ = nil
	}
}

// resolved yields the next hops that an ARP reply or neighbour
// advertisement gives the link address of, which they had not had: the
// caller sends the probes that waited for it (release).
func (c *rawCore) resolved(nb raw.NeighborReply) iter.Seq[*rawNeigh] {
	return func(yield func(*rawNeigh) bool) {
		if len(nb.MAC) != 6 {
			return
		}
		for _, l := range c.links {
			n, ok := c.neigh[neighKey{l.ifi.Index, nb.Addr}]
			if !ok || n.mac != nil {
				continue
			}
			n.mac, n.failed = nb.MAC, false
			if !yield(n) {
				return
			}
		}
	}
}

// release returns the probes that waited for n's link address.
func (n *rawNeigh) release() []*probe {
	waiting := n.waiting
	n.waiting = nil
	return waiting
}

// track records p in flight under k.
func (c *rawCore) track(p *probe, k rawKey) {
	if old, ok := c.sent[k]; ok && old != p {
		// The same probe twice in flight (a ping of one host, a port
		// and try of a SYN): the engine never does this; should it,
		// the older one is silent.
		c.drop(old)
		c.finish(old, silent, c.now())
	}
	c.sent[k] = p
	p.fd = int(k.port)<<16 | int(k.tag)
}

// drop forgets a probe in flight.
func (c *rawCore) drop(p *probe) {
	k := keyOf(p)
	if c.sent[k] == p {
		delete(c.sent, k)
	}
	if p.heapIdx >= 0 {
		heap.Remove(&c.timeouts, p.heapIdx)
	}
}

// settle ends the probe in flight under k with v, and returns it: nil
// when there is none.
func (c *rawCore) settle(k rawKey, v verdict, at time.Time) *probe {
	p, ok := c.sent[k]
	if !ok {
		return nil // a late answer to a try that timed out, or a duplicate
	}
	c.drop(p)
	c.finish(p, v, at)
	return p
}

// expireProbes ends, silent, the probes in flight whose deadline is not
// after limit.
func (c *rawCore) expireProbes(limit, now time.Time) {
	for c.timeouts.Len() > 0 && !c.timeouts[0].deadline.After(limit) {
		p := c.timeouts[0]
		c.drop(p)
		c.finish(p, silent, now)
	}
}

// writeAll sends frames on conn, going on past a frame a firewall's
// output chain refuses (EPERM, EACCES: the kernel stops a batch there),
// and says which it refused. n is how many frames it got through, sent
// or refused; err is what stopped the others.
func writeAll(conn *raw.Conn, frames [][]byte) (n int, refused []int, err error) {
	for n < len(frames) {
		k, err := conn.WriteBatch(frames[n:])
		n += k
		if err == nil {
			continue
		}
		if !refusedSend(err) {
			return n, refused, err
		}
		refused = append(refused, n)
		n++
	}
	return n, refused, nil
}

// refusedSend says the kernel refused to send a frame because a
// firewall rule drops it.
func refusedSend(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// refused ends a probe whose frame the kernel refused to send: a
// firewall's output chain dropped it, and the port is filtered, as a
// connect to it finds it.
func (c *rawCore) refused(p *probe, now time.Time) {
	c.drop(p)
	c.finish(p, classify(unix.EPERM), now)
}

// sendFailed takes back a probe the kernel did not send: the engine sends
// it again later when the kernel's queue was full, and the run ends on
// any other error.
func (c *rawCore) sendFailed(p *probe, err error, now time.Time) {
	if err == nil {
		err = unix.ENOBUFS
	}
	full := errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM)
	if !full && c.failed == nil {
		c.failed = err
	}
	c.drop(p)
	c.finish(p, verdict{again: true, cause: err}, now)
}

// trim forgets the destinations and next hops no probe uses, once there
// are many: memory follows the hosts in flight, not the hosts scanned.
func (c *rawCore) trim() {
	const keep = 1 << 14
	if len(c.dests) > keep {
		for a, d := range c.dests {
			if d.users <= 0 {
				delete(c.dests, a)
			}
		}
	}
	if len(c.neigh) > keep {
		for k, n := range c.neigh {
			if n.users <= 0 && len(n.waiting) == 0 && (n.mac != nil || n.failed) {
				delete(c.neigh, k)
			}
		}
	}
}

// recycle gives a matched batch of replies back to the readers.
func (c *rawCore) recycle(batch []rawReply) {
	select {
	case c.spare <- batch[:0]:
	default:
	}
}

// read reads l's socket until the prober closes, decoding the frames and
// handing them to the engine's goroutine in batches.
func (c *rawCore) read(l *rawLink) {
	defer c.wg.Done()
	size := c.readBatch
	bufs := make([][]byte, size)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	lens := make([]int, size)
	d := raw.NewDecoder()
	for {
		start := c.now()
		n, err := l.conn.ReadBatch(bufs, lens, 0)
		if n == 0 && err == nil {
			// Everything that came is handed over: the engine may time
			// out what has not come, while this waits for more.
			l.idle.Store(true)
			n, err = l.conn.ReadBatch(bufs, lens, -1)
			l.idle.Store(false)
			start = c.now()
		}
		if err != nil {
			if !errors.Is(err, raw.ErrClosed) {
				select {
				case c.rxErr <- err:
				default:
				}
			}
			return
		}
		at := c.now()
		out, ok := c.batch(size)
		if !ok {
			return
		}
		for i := range n {
			p, err := d.Decode(bufs[i][:lens[i]])
			if err != nil || p.Kind == raw.KindOther {
				continue // not a reply: malformed, or not ours
			}
			out = append(out, rawReply{p: p, at: at})
		}
		if len(out) > 0 {
			select {
			case c.rx <- out:
			case <-c.stop:
				return
			}
		}
		if n < size {
			l.caught.Store(start.UnixNano()) // the socket was empty after this read
		}
	}
}

// maxBatches bounds the batches of replies the readers make: past them a
// reader waits for the engine to give one back, and the frames wait in
// the socket's queue. The few that circulate are all the memory replies
// take, however many come.
const maxBatches = 64

// batch returns an empty batch of replies for a reader to fill: one the
// engine gave back, a new one, or, when maxBatches are out, the next one
// given back. It is false once the prober closes.
func (c *rawCore) batch(size int) ([]rawReply, bool) {
	select {
	case b := <-c.spare:
		return b, true
	default:
	}
	if c.batches.Add(1) <= maxBatches {
		return make([]rawReply, 0, size), true
	}
	c.batches.Add(-1)
	select {
	case b := <-c.spare:
		return b, true
	case <-c.stop:
		return nil, false
	}
}

func (c *rawCore) close() {
	close(c.stop)
	// The close of a packet socket waits for an RCU grace period
	// (synchronize_net, 10 to 20 ms): the links, and the prober this one
	// wraps, close at once rather than one after another.
	var closing sync.WaitGroup
	for _, l := range c.links {
		closing.Go(func() { l.conn.Close() })
	}
	if c.other != nil {
		closing.Go(c.other.close)
	}
	closing.Wait()
	c.wg.Wait()
	for _, fd := range c.held {
		unix.Close(fd)
	}
	c.nl.Close()
}
