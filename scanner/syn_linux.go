//go:build linux

package scanner

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// synAvailable says the SYN prober can be used here.
const synAvailable = true

// synSourcePorts is how many source ports a SYN scan reserves: the
// tries of one port go from different ones, so that a late answer to
// one try is never taken for the answer to the next.
const synSourcePorts = 64

// synMSS is the maximum segment size a SYN offers, as real stacks do:
// some answer a SYN without options differently.
const synMSS = 1460

// synProber sends TCP SYNs from raw sockets and matches the answers with
// no state kept per probe but the engine's own: each SYN's sequence
// number is a keyed hash of its 4-tuple (cookieKey.cookie), which a
// SYN-ACK or RST acknowledges and an ICMP error quotes, so that replies
// to another run, to the host's own connections, or forged by someone
// who did not see the probe are dropped. The probes go from a range of
// source ports the run reserves (bound, never listening) outside the
// kernel's ephemeral range, and the kernel BPF filter passes only what
// is sent to them, so the host's own traffic never reaches user space;
// the kernel answers a SYN-ACK to them with a RST, which closes the
// half-open connection on the target.
//
// Frames go out on the interface of each destination's route, to the
// link address of its next hop (the kernel's neighbour table, else an
// ARP request or neighbour solicitation of its own); on loopback, and
// for the host's own addresses, through raw IP sockets bound to lo. A
// next hop that answers no request fails its probes as host-unreach, as
// a connect to it would, only sooner.
//
// UDP probes, for a run that scans both, go to a connect prober.
type synProber struct {
	now   func() time.Time
	key   cookieKey
	ports raw.PortRange
	held  []int // the sockets that reserve ports
	nl    *raw.Netlink
	b     *raw.Builder

	links map[int]*synLink       // by interface index
	dests map[netip.Addr]*synDst // by destination
	neigh map[neighKey]*synNeigh // next hops being or having been resolved
	// neighQ orders the resolutions waiting for an answer by the time
	// they asked (each waits as long, neighTimeout, so appending keeps
	// them in the order of their deadlines).
	neighQ []neighWait
	// link times the answers of hosts on the scanner's links (to ARP
	// and NDP, to SYNs): one hop away, none is far, so a probe to a host
	// on the link that has not answered yet waits as long as the link
	// needs (onLink, in the order sent), and so does a neighbour
	// request; minTimeout and initTimeout bound the wait.
	linkRTT                 timing
	onLink                  []linkWait
	minTimeout, initTimeout time.Duration

	pending  []*probe
	sent     map[synKey]*probe // the SYNs in flight
	timeouts deadlineHeap
	ready    []outcome
	n        int // probes started and not yet returned by wait

	rx       chan []synReply
	spare    chan []synReply // batches matched, for the readers to fill again
	batches  atomic.Int32    // the batches the readers have made
	jobs     chan *sendJob
	sentJobs chan *sendJob
	senders  int
	stop     chan struct{}
	wg       sync.WaitGroup
	rxErr    chan error
	failed   error

	udp prober // UDP probes; nil when the run scans none
}

// synLink is a raw socket on one interface, and its reader.
type synLink struct {
	ifi  raw.Interface
	conn *raw.Conn
	// The reader's progress (see horizon): waiting on an empty socket,
	// or the start of its last read that emptied it, in Unix nanoseconds.
	idle   atomic.Bool
	caught atomic.Int64
	frames [][]byte // of the flush under way
	probes []*probe // the probe of each frame, nil for a neighbour request
	slab   []byte
}

// synDst is where probes to one destination go.
type synDst struct {
	link  *synLink
	src   netip.Addr
	hop   *synNeigh     // nil when no link address is needed
	err   error         // the route lookup's, which fails every probe
	tmpl  *raw.Template // of its SYNs, once the link address is known
	users int           // probes pending or in flight
}

type neighKey struct {
	ifindex int
	addr    netip.Addr
}

// synNeigh is the link address of a next hop: known, being asked, or
// found missing.
type synNeigh struct {
	key     neighKey
	src     netip.Addr // the address the requests come from
	mac     net.HardwareAddr
	failed  bool
	tries   int
	asked   time.Time // when the last request went
	waiting []*probe
	users   int
}

type linkWait struct {
	p          *probe
	sent, base time.Time // p's send time, and when its wait started
}

type neighWait struct {
	n     *synNeigh
	asked time.Time
}

// synKey finds the probe a reply answers: the target, its port, and the
// source port the probe went from.
type synKey struct {
	addr         [16]byte // As16 of the unmapped address: plain bytes hash and compare faster than a netip.Addr
	dport, sport uint16
}

func newSynKey(addr netip.Addr, dport, sport uint16) synKey {
	return synKey{addr.Unmap().As16(), dport, sport}
}

// synReply is a frame the filter passed, decoded by the reader.
type synReply struct {
	p  raw.Packet
	at time.Time
}

func newSynProber(ctx context.Context, now func() time.Time, minTimeout, initTimeout time.Duration, udp func() (prober, error)) (*synProber, error) {
	if err := raw.Check(); err != nil {
		return nil, err
	}
	nl, err := raw.OpenNetlink()
	if err != nil {
		return nil, err
	}
	s := &synProber{
		now:         now,
		minTimeout:  minTimeout,
		initTimeout: initTimeout,
		key:         cookieKey{rand.Uint64(), rand.Uint64()},
		nl:          nl,
		b:           raw.NewBuilder(),
		links:       map[int]*synLink{},
		dests:       map[netip.Addr]*synDst{},
		neigh:       map[neighKey]*synNeigh{},
		sent:        map[synKey]*probe{},
		rx:          make(chan []synReply, 1024),
		spare:       make(chan []synReply, 1024),
		jobs:        make(chan *sendJob, 64),
		sentJobs:    make(chan *sendJob, 256),
		senders:     max(1, runtime.GOMAXPROCS(0)),
		stop:        make(chan struct{}),
		rxErr:       make(chan error, 16),
	}
	s.ports, s.held, err = reservePorts(synSourcePorts)
	if err != nil {
		nl.Close()
		return nil, err
	}
	for range s.senders {
		s.wg.Add(1)
		go s.send()
	}
	if udp != nil {
		if s.udp, err = udp(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
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

func (s *synProber) start(p *probe) {
	if p.port.Proto == ports.UDP && s.udp != nil {
		s.udp.start(p)
		return
	}
	s.n++
	s.pending = append(s.pending, p)
}

func (s *synProber) inflight() int {
	n := s.n
	if s.udp != nil {
		n += s.udp.inflight()
	}
	return n
}

func (s *synProber) err() error {
	if s.failed != nil {
		return s.failed
	}
	select {
	case err := <-s.rxErr:
		s.failed = err
		return err
	default:
	}
	if s.udp != nil {
		return s.udp.err()
	}
	return nil
}

// wait sends the probes started since the last call, then returns those
// that ended, waiting up to d for the first.
func (s *synProber) wait(d time.Duration) []outcome {
	s.flush()
	if s.udp != nil && s.udp.inflight() > 0 {
		return s.waitBoth(d)
	}
	return s.waitOwn(d)
}

// waitBoth waits on this prober and the UDP one, a little at a time.
func (s *synProber) waitBoth(d time.Duration) []outcome {
	const step = 2 * time.Millisecond
	deadline := s.now().Add(d)
	for {
		out := s.udp.wait(0)
		if s.n > 0 {
			out = append(out, s.waitOwn(0)...)
		}
		left := deadline.Sub(s.now())
		if len(out) > 0 || left <= 0 {
			return out
		}
		if s.n > 0 {
			out = s.waitOwn(min(step, left))
		} else {
			out = s.udp.wait(min(step, left))
		}
		if len(out) > 0 {
			return out
		}
	}
}

func (s *synProber) waitOwn(d time.Duration) []outcome {
	deadline := s.now().Add(d)
	for {
		s.expire()
		if len(s.ready) > 0 || s.n == 0 || s.failed != nil {
			break
		}
		now := s.now()
		if !now.Before(deadline) {
			break
		}
		wait := deadline.Sub(now)
		if next := s.nextDeadline(); !next.IsZero() {
			// A deadline past, but not yet the readers' horizon: wait
			// for them a little.
			wait = min(wait, max(next.Sub(now), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case batch := <-s.rx:
			s.match(batch)
			s.flushLinks() // probes whose next hop answered
		case j := <-s.sentJobs:
			s.sent1(j)
		case <-t.C:
		}
		t.Stop()
	}
	s.flushLinks() // neighbour answers released probes
	out := s.ready
	// The engine is done with out by the next wait: its array takes
	// the next outcomes, rather than growing again from nothing.
	s.ready = out[:0]
	s.n -= len(out)
	return out
}

// drain matches the replies read so far, before any probe is timed out:
// an answer waiting in the queue is an answer.
func (s *synProber) drain() {
	for {
		select {
		case j := <-s.sentJobs:
			s.sent1(j)
		case batch := <-s.rx:
			s.match(batch)
		default:
			return
		}
	}
}

// horizon is the time up to which the readers have handed over every
// frame that came: now for a reader waiting on an empty socket, else the
// start of its last read that found fewer frames than it could take.
func (s *synProber) horizon(now time.Time) time.Time {
	h := now
	for _, l := range s.links {
		if l.idle.Load() {
			continue
		}
		if c := time.Unix(0, l.caught.Load()); c.Before(h) {
			h = c
		}
	}
	return h
}

// nextDeadline is the earliest deadline of a probe in flight or of a
// neighbour resolution.
func (s *synProber) nextDeadline() time.Time {
	next := s.timeouts.next()
	if len(s.neighQ) > 0 {
		if d := s.neighQ[0].asked.Add(s.neighTimeout()); next.IsZero() || d.Before(next) {
			next = d
		}
	}
	if c := s.linkTimeout(); c > 0 && len(s.onLink) > 0 {
		if d := s.onLink[0].base.Add(c); next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next
}

// finish ends p with v, and lets go of its destination.
func (s *synProber) finish(p *probe, v verdict, at time.Time) {
	s.ready = append(s.ready, outcome{p: p, v: v, rtt: at.Sub(p.sent)})
	if d := s.dests[p.addr.Addr().Unmap()]; d != nil {
		d.users--
		if d.hop != nil {
			d.hop.users--
		}
	}
}

// flush routes the pending probes and sends them, one batch a link.
func (s *synProber) flush() {
	if len(s.pending) == 0 {
		return
	}
	now := s.now()
	for i, p := range s.pending {
		s.pending[i] = nil
		d := s.dest(p.addr.Addr().Unmap())
		d.users++
		if d.hop != nil {
			d.hop.users++
		}
		switch {
		case d.err != nil && s.failed != nil:
			s.finish(p, verdict{again: true, cause: d.err}, now)
		case d.err != nil:
			s.finish(p, classify(d.err), now) // no route: net-unreach, host-unreach, ...
		case d.hop != nil && d.hop.failed:
			s.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
		case d.hop != nil && d.hop.mac == nil:
			d.hop.waiting = append(d.hop.waiting, p)
			s.ask(d.hop, d.link, now)
		default:
			s.queue(p, d)
		}
	}
	s.pending = s.pending[:0]
	s.flushLinks()
	s.trim()
}

// dest returns where probes to addr go, looking the route up the first
// time.
func (s *synProber) dest(addr netip.Addr) *synDst {
	if d, ok := s.dests[addr]; ok {
		return d
	}
	d := &synDst{}
	s.dests[addr] = d
	r, err := s.nl.Route(addr)
	if err != nil {
		d.err = err
		return d
	}
	ifindex := r.Ifindex
	if r.Local() {
		ifindex = 1 // the host's own address: loopback
		if lo, ok := s.loopback(); ok {
			ifindex = lo
		}
	}
	l, err := s.link(ifindex)
	if err != nil {
		// No raw socket on the interface: that is no answer of the
		// network's but a failure of the run.
		d.err = err
		if s.failed == nil {
			s.failed = err
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
	k := neighKey{ifindex, r.NextHop()}
	n, ok := s.neigh[k]
	if !ok {
		n = &synNeigh{key: k, src: d.src}
		s.neigh[k] = n
	}
	d.hop = n
	return d
}

// loopback finds the index of the loopback interface.
func (s *synProber) loopback() (int, bool) {
	for i, l := range s.links {
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
// time, with the filter that passes replies to the reserved ports.
func (s *synProber) link(index int) (*synLink, error) {
	if l, ok := s.links[index]; ok {
		return l, nil
	}
	ifi, err := s.nl.Link(index)
	if err != nil {
		return nil, err
	}
	conn, err := raw.Open(ifi)
	if err != nil {
		return nil, err
	}
	prog, err := raw.Filter{TCPPorts: &s.ports, Neighbors: !ifi.NoARP}.Program()
	if err == nil {
		err = conn.SetFilter(prog)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	l := &synLink{ifi: ifi, conn: conn}
	l.caught.Store(s.now().UnixNano())
	s.links[index] = l
	if !ifi.NoARP {
		s.loadNeighbors(l)
	}
	s.wg.Add(1)
	go s.read(l)
	return l, nil
}

// loadNeighbors takes the link addresses the kernel already knows on l,
// so that they are not asked again.
func (s *synProber) loadNeighbors(l *synLink) {
	list, err := s.nl.Neighbors(l.ifi.Index)
	if err != nil {
		return
	}
	for _, nb := range list {
		if !nb.Usable() {
			continue
		}
		k := neighKey{l.ifi.Index, nb.Addr.Unmap()}
		s.neigh[k] = &synNeigh{key: k, mac: nb.MAC}
	}
}

// ask sends a neighbour request for n, unless one is out already.
func (s *synProber) ask(n *synNeigh, l *synLink, now time.Time) {
	if n.tries > 0 {
		return
	}
	s.request(n, l, now)
}

func (s *synProber) request(n *synNeigh, l *synLink, now time.Time) {
	var f []byte
	var err error
	if n.key.addr.Is4() {
		f, err = s.b.ARPRequest(l.ifi.MAC, n.src, n.key.addr)
	} else {
		f, err = s.b.NeighborSolicitation(l.ifi.MAC, n.src, n.key.addr)
	}
	if err != nil {
		s.neighFailed(n, now)
		return
	}
	l.add(f, nil)
	n.tries++
	n.asked = now
	s.neighQ = append(s.neighQ, neighWait{n, now})
}

// neighTries is how many requests a next hop gets before it is taken to
// be missing.
const neighTries = 2

// neighTimeout is how long a neighbour request waits for its answer: the
// measured round trips of the link's answers, as a probe's timeout is
// derived from them, else the initial timeout.
func (s *synProber) neighTimeout() time.Duration {
	if c := s.linkTimeout(); c > 0 {
		return min(c, s.initTimeout)
	}
	return s.initTimeout
}

// linkTimeout is the timeout the link's round trips give (0: none
// measured yet).
func (s *synProber) linkTimeout() time.Duration {
	if !s.linkRTT.measured() {
		return 0
	}
	return max(s.linkRTT.timeout(), s.minTimeout)
}

// onTheLink reports whether p's destination is on a link of the scanner.
func (s *synProber) onTheLink(p *probe) bool {
	dst := p.addr.Addr().Unmap()
	d := s.dests[dst]
	return d != nil && d.hop != nil && d.hop.key.addr == dst
}

// neighFailed fails the probes waiting on n: nobody holds the address.
func (s *synProber) neighFailed(n *synNeigh, now time.Time) {
	n.failed = true
	for _, p := range n.waiting {
		s.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
	}
	n.waiting = nil
}

// queue builds p's SYN into its link's batch, and records it in flight.
func (s *synProber) queue(p *probe, d *synDst) {
	dst := p.addr.Addr().Unmap()
	if d.tmpl == nil {
		seg := raw.Segment{SrcMAC: d.link.ifi.MAC, Src: d.src, Dst: dst, Flags: raw.FlagSYN, MSS: synMSS}
		if d.hop != nil {
			seg.DstMAC = d.hop.mac
		}
		t, err := s.b.Template(seg)
		if err != nil {
			s.finish(p, verdict{state: result.Filtered, reason: result.ReasonError}, s.now())
			return
		}
		d.tmpl = t
	}
	sport := s.ports.First + uint16((int(p.port.Number)+p.try)%synSourcePorts)
	k := newSynKey(dst, p.port.Number, sport)
	if old, ok := s.sent[k]; ok && old != p {
		// The same port and try of the same host, twice in flight: the
		// engine never does this; should it, the older one is silent.
		s.drop(old)
		s.finish(old, verdict{state: result.Filtered, reason: result.ReasonNoResponse}, s.now())
	}
	s.sent[k] = p
	p.fd = int(sport)
	seq := s.key.cookie(d.src, dst, sport, p.port.Number)
	l := d.link
	n := len(l.slab)
	if cap(l.slab) == 0 {
		k := max(64, len(s.pending))
		l.slab = make([]byte, 0, d.tmpl.Len()*k)
		l.frames, l.probes = make([][]byte, 0, k), make([]*probe, 0, k)
	}
	l.slab = slices.Grow(l.slab, d.tmpl.Len())[:n+d.tmpl.Len()]
	l.frames = append(l.frames, d.tmpl.Put(l.slab[n:], sport, p.port.Number, seq, uint16(rand.Uint32())))
	l.probes = append(l.probes, p)
}

func (l *synLink) add(f []byte, p *probe) {
	l.slab = append(l.slab, f...)
	l.frames = append(l.frames, l.slab[len(l.slab)-len(f):])
	l.probes = append(l.probes, p)
}

// flushLinks hands the batches built to the senders, a share each. A
// probe's time runs from when its frame was sent, which the sender says
// (sent): one that waited for its next hop's link address, or for a
// sender, keeps all of its timeout. The kernel's work of sending, and on
// loopback of answering too, is done on the senders' threads: with a
// sender a CPU it spreads over them, while this goroutine goes on.
func (s *synProber) flushLinks() {
	now := s.now()
	for _, l := range s.links {
		if len(l.frames) == 0 {
			continue
		}
		// The slab may have moved as it grew: cut the frames again.
		off := 0
		for i, f := range l.frames {
			l.frames[i] = l.slab[off : off+len(f)]
			off += len(f)
		}
		waits := make([]time.Duration, len(l.probes))
		for i, p := range l.probes {
			if p != nil {
				waits[i] = p.deadline.Sub(p.sent)
				p.sent = now
			}
		}
		chunk := min(max(64, (len(l.frames)+s.senders-1)/s.senders), 1024)
		for i := 0; i < len(l.frames); i += chunk {
			j := min(i+chunk, len(l.frames))
			job := &sendJob{l: l, frames: l.frames[i:j], probes: l.probes[i:j], waits: waits[i:j]}
			for {
				select {
				case s.jobs <- job:
				case d := <-s.sentJobs:
					s.sent1(d) // a sender waits to say it is done
					continue
				}
				break
			}
		}
		// The frames are the senders' now: the next batch starts afresh.
		l.frames, l.probes, l.slab = nil, nil, nil
	}
}

// sent1 takes a batch a sender has sent: its probes' time starts now;
// those it could not send go back.
func (s *synProber) sent1(j *sendJob) {
	for i, p := range j.probes {
		if p == nil {
			continue
		}
		k := newSynKey(p.addr.Addr(), p.port.Number, uint16(p.fd))
		if s.sent[k] != p {
			continue // answered already
		}
		if i >= j.n {
			s.sendFailed(p, j.err, j.done)
			continue
		}
		p.deadline = j.done.Add(j.waits[i])
		heap.Push(&s.timeouts, p)
		if !p.host.rtt.measured() && s.onTheLink(p) {
			s.onLink = append(s.onLink, linkWait{p: p, sent: p.sent, base: j.done})
		}
	}
}

// sendJob is a batch of frames for a sender to send on l, the probe of
// each frame (nil for a neighbour request) and its timeout; the sender
// says how many went, the error that stopped the rest, and when.
type sendJob struct {
	l      *synLink
	frames [][]byte
	probes []*probe
	waits  []time.Duration
	n      int
	err    error
	done   time.Time
}

// send sends the batches given it until the prober closes.
func (s *synProber) send() {
	defer s.wg.Done()
	for job := range s.jobs {
		job.n, job.err = job.l.conn.WriteBatch(job.frames)
		job.done = s.now()
		select {
		case s.sentJobs <- job:
		case <-s.stop:
			return
		}
	}
}

// sendFailed takes back a probe the kernel did not send: the engine sends
// it again later when the kernel's queue was full, and the run ends on
// any other error.
func (s *synProber) sendFailed(p *probe, err error, now time.Time) {
	if err == nil {
		err = unix.ENOBUFS
	}
	full := errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM)
	if !full && s.failed == nil {
		s.failed = err
	}
	s.drop(p)
	s.finish(p, verdict{again: true, cause: err}, now)
}

// drop forgets a probe in flight.
func (s *synProber) drop(p *probe) {
	k := newSynKey(p.addr.Addr(), p.port.Number, uint16(p.fd))
	if s.sent[k] == p {
		delete(s.sent, k)
	}
	if p.heapIdx >= 0 {
		heap.Remove(&s.timeouts, p.heapIdx)
	}
}

// expire ends the probes whose time is up, silent, and asks again the
// next hops that have not answered.
func (s *synProber) expire() {
	// Only what the readers had read by now is known: a probe whose
	// answer is still in a socket's queue is not silent.
	now := s.now()
	horizon := s.horizon(now)
	s.drain()
	for s.timeouts.Len() > 0 && !s.timeouts[0].deadline.After(horizon) {
		p := s.timeouts[0]
		s.drop(p)
		s.finish(p, verdict{state: result.Filtered, reason: result.ReasonNoResponse}, now)
	}
	if c := s.linkTimeout(); c > 0 {
		for len(s.onLink) > 0 && !s.onLink[0].base.Add(c).After(horizon) {
			w := s.onLink[0]
			s.onLink[0] = linkWait{}
			s.onLink = s.onLink[1:]
			k := newSynKey(w.p.addr.Addr(), w.p.port.Number, uint16(w.p.fd))
			if s.sent[k] == w.p && w.p.sent == w.sent {
				s.drop(w.p)
				s.finish(w.p, verdict{state: result.Filtered, reason: result.ReasonNoResponse}, now)
			}
		}
		if len(s.onLink) == 0 {
			s.onLink = nil
		}
	}
	for len(s.neighQ) > 0 && !s.neighQ[0].asked.Add(s.neighTimeout()).After(horizon) {
		w := s.neighQ[0]
		s.neighQ[0] = neighWait{}
		s.neighQ = s.neighQ[1:]
		n := w.n
		if n.mac != nil || n.failed || n.asked != w.asked {
			continue // answered, or asked again since
		}
		if n.tries >= neighTries {
			s.neighFailed(n, now)
			continue
		}
		if l := s.links[n.key.ifindex]; l != nil {
			s.request(n, l, now)
		}
	}
	if len(s.neighQ) == 0 {
		s.neighQ = nil
	}
}

// match takes a batch of replies from a reader, and gives it back.
func (s *synProber) match(batch []synReply) {
	defer func() {
		select {
		case s.spare <- batch[:0]:
		default:
		}
	}()
	for i := range batch {
		r := &batch[i]
		switch r.p.Kind {
		case raw.KindTCP:
			s.matchTCP(r)
		case raw.KindICMP:
			s.matchICMP(r)
		case raw.KindNeighbor:
			s.matchNeighbor(r)
		}
	}
}

// matchTCP takes a SYN-ACK (open) or a RST (closed) that acknowledges
// its probe's cookie.
func (s *synProber) matchTCP(r *synReply) {
	t := r.p.TCP
	if t.Flags&raw.FlagACK == 0 || t.Ack-1 != s.key.cookie(r.p.Dst, r.p.Src, t.DstPort, t.SrcPort) {
		return // not an answer to a SYN of this run
	}
	var v verdict
	switch {
	case t.Flags&raw.FlagRST != 0:
		v = verdict{state: result.Closed, reason: result.ReasonReset, answered: true}
	case t.Flags&raw.FlagSYN != 0:
		v = verdict{state: result.Open, reason: result.ReasonSynAck, answered: true}
	default:
		return
	}
	s.settle(newSynKey(r.p.Src, t.SrcPort, t.DstPort), v, r.at)
}

// matchICMP takes an ICMP error that quotes a probe of this run, cookie
// and all.
func (s *synProber) matchICMP(r *synReply) {
	q := r.p.ICMP.Quote
	if q.Proto != unix.IPPROTO_TCP || !s.ports.Contains(q.SrcPort) || q.Seq != s.key.cookie(q.Src, q.Dst, q.SrcPort, q.DstPort) {
		return
	}
	m := result.ICMP{V6: r.p.ICMP.V6, Type: r.p.ICMP.Type, Code: r.p.ICMP.Code, FromTarget: r.p.Src == q.Dst}
	s.settle(newSynKey(q.Dst, q.DstPort, q.SrcPort), icmpVerdict(m, ports.TCP), r.at)
}

func (s *synProber) settle(k synKey, v verdict, at time.Time) {
	p, ok := s.sent[k]
	if !ok {
		return // a late answer to a try that timed out, or a duplicate
	}
	if s.onTheLink(p) && p.host.rtt.n < 8 {
		s.linkRTT.sample(at.Sub(p.sent)) // a few from each host: enough for a link
	}
	s.drop(p)
	s.finish(p, v, at)
}

// matchNeighbor takes an ARP reply or neighbour advertisement, and sends
// the probes that waited for it.
func (s *synProber) matchNeighbor(r *synReply) {
	for _, l := range s.links {
		n, ok := s.neigh[neighKey{l.ifi.Index, r.p.Neighbor.Addr}]
		if !ok || n.mac != nil || len(r.p.Neighbor.MAC) != 6 {
			continue
		}
		n.mac, n.failed = r.p.Neighbor.MAC, false
		if n.tries == 1 {
			s.linkRTT.sample(r.at.Sub(n.asked)) // the answer to the one request sent
		}
		waiting := n.waiting
		n.waiting = nil
		for _, p := range waiting {
			s.queue(p, s.dests[p.addr.Addr().Unmap()])
		}
	}
}

// trim forgets the destinations and next hops no probe uses, once there
// are many: memory follows the hosts in flight, not the hosts scanned.
func (s *synProber) trim() {
	const keep = 1 << 14
	if len(s.dests) > keep {
		for a, d := range s.dests {
			if d.users <= 0 {
				delete(s.dests, a)
			}
		}
	}
	if len(s.neigh) > keep {
		for k, n := range s.neigh {
			if n.users <= 0 && len(n.waiting) == 0 && (n.mac != nil || n.failed) {
				delete(s.neigh, k)
			}
		}
	}
}

// read reads l's socket until the prober closes, decoding the frames and
// handing them to the engine's goroutine in batches.
func (s *synProber) read(l *synLink) {
	defer s.wg.Done()
	const batch = 256
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	lens := make([]int, batch)
	d := raw.NewDecoder()
	for {
		start := s.now()
		n, err := l.conn.ReadBatch(bufs, lens, 0)
		if n == 0 && err == nil {
			// Everything that came is handed over: the engine may time
			// out what has not come, while this waits for more.
			l.idle.Store(true)
			n, err = l.conn.ReadBatch(bufs, lens, -1)
			l.idle.Store(false)
			start = s.now()
		}
		if err != nil {
			if !errors.Is(err, raw.ErrClosed) {
				select {
				case s.rxErr <- err:
				default:
				}
			}
			return
		}
		at := s.now()
		out, ok := s.batch(batch)
		if !ok {
			return
		}
		for i := range n {
			p, err := d.Decode(bufs[i][:lens[i]])
			if err != nil || p.Kind == raw.KindOther {
				continue // not a reply: malformed, or not ours
			}
			out = append(out, synReply{p: p, at: at})
		}
		if len(out) > 0 {
			select {
			case s.rx <- out:
			case <-s.stop:
				return
			}
		}
		if n < batch {
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
func (s *synProber) batch(size int) ([]synReply, bool) {
	select {
	case b := <-s.spare:
		return b, true
	default:
	}
	if s.batches.Add(1) <= maxBatches {
		return make([]synReply, 0, size), true
	}
	s.batches.Add(-1)
	select {
	case b := <-s.spare:
		return b, true
	case <-s.stop:
		return nil, false
	}
}

func (s *synProber) close() {
	close(s.stop)
	close(s.jobs)
	for _, l := range s.links {
		l.conn.Close()
	}
	s.wg.Wait()
	for _, fd := range s.held {
		unix.Close(fd)
	}
	s.nl.Close()
	if s.udp != nil {
		s.udp.close()
	}
}
