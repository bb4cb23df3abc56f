//go:build linux

package scanner

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// pingProber is raw host discovery: it sends the engine's discovery
// probes as raw frames (ARP requests and neighbour solicitations to the
// hosts of the scanner's links, ICMP queries and TCP and UDP pings to
// the others) and hands every other probe to the prober of the scan.
//
// Replies are matched with no state per probe but the engine's own, as
// the SYN prober matches its own: TCP pings go from a block of reserved
// source ports with a keyed hash of their 4-tuple for sequence number,
// ICMP queries carry the run's random identifier and a hash of the
// address for sequence number, and a kernel BPF filter (raw.PingFilter)
// passes nothing else to user space. A neighbour answer counts for the
// address it names, whoever asked (the kernel may have too): it shows
// the host there either way.
//
// Frames go out in batches, at most pingBurst a link every pingGap, so
// that a /16 of ARP requests does not overflow the queue of the link or
// of the hosts on it: the timeout of a probe runs from its send.
type pingProber struct {
	now   func() time.Time
	inner prober
	pings []Ping
	// The discovery probes of a host on a link, and beyond one by
	// family: shared by every host, which only reads them.
	onLink, beyond4, beyond6 []discProbe
	neighWait                time.Duration // the most a neighbour request waits
	minWait                  time.Duration // the least, MinRTTTimeout
	key                      cookieKey
	echoID                   uint16
	ports                    raw.PortRange
	held                     []int
	nl                       *raw.Netlink
	b                        *raw.Builder
	loopback                 int // the index of lo
	links                    map[int]*pingLink
	dests                    map[netip.Addr]*pingDst
	hops                     map[hopKey]*pingHop
	hopQ                     []*pingHop // resolutions waiting, by deadline
	pending                  []*probe
	sent                     map[pingKey]*probe
	timeouts                 deadlineHeap
	ready                    []outcome
	n                        int
	rx                       chan []synReply
	stop                     chan struct{}
	wg                       sync.WaitGroup
	rxErr                    chan error
	failed                   error
	nextFlush                time.Time
	sentFrames               int
}

// Frames a link takes at once, and the pause before the next batch: a
// peer's backlog holds 1000 frames (net.core.netdev_max_backlog).
const (
	pingBurst = 64
	pingGap   = time.Millisecond
)

// neighborTimeout is the most a neighbour request waits for its answer
// (unless MinRTTTimeout says more): a host on the link answers within
// milliseconds, and one that does not is down within about a second of
// two requests. Once hosts of the link have answered, a request waits
// as long as the link's round trips need (their smoothed time and four
// variations, as the engine times a host), but at least MinRTTTimeout:
// on a link, no host is farther than the others.
const neighborTimeout = 500 * time.Millisecond

// hopTries is how many requests a router gets before the pings that go
// through it fail as host-unreach.
const hopTries = 3

type pingLink struct {
	ifi    raw.Interface
	conn   *raw.Conn
	frames [][]byte // waiting to be sent
	probes []*probe // of each frame; nil for a router's resolution
	rtt    timing   // of the neighbour answers on the link
}

// neighborWait is how long a neighbour request on l waits: neighWait
// until the link's hosts have answered, then what their round trips
// need.
func (pp *pingProber) neighborWait(l *pingLink) time.Duration {
	if !l.rtt.measured() {
		return pp.neighWait
	}
	return min(max(l.rtt.timeout(), pp.minWait), pp.neighWait)
}

// timeLink takes the round trip of a neighbour answer on l. The first
// one shortens the wait of the requests in flight on the link to what
// the link needs: the first batch of a LAN's requests goes out before
// any host has answered.
func (pp *pingProber) timeLink(l *pingLink, rtt time.Duration) {
	first := !l.rtt.measured()
	l.rtt.sample(rtt)
	if !first {
		return
	}
	wait := pp.neighborWait(l)
	changed := false
	for _, p := range pp.timeouts {
		if p.ping != pingNeighbor {
			continue
		}
		if d := pp.dests[p.addr.Addr().Unmap()]; d != nil && d.link == l && p.deadline.Sub(p.sent) > wait {
			p.deadline = p.sent.Add(wait)
			changed = true
		}
	}
	if changed {
		heap.Init(&pp.timeouts)
	}
}

// pingDst is how frames reach one destination.
type pingDst struct {
	link   *pingLink
	src    netip.Addr
	onLink bool     // on one of the scanner's links: asked by ARP or NDP
	hop    *pingHop // the router, when the link needs link addresses
	err    error    // of the route lookup
	users  int
}

type hopKey struct {
	ifindex int
	addr    netip.Addr
}

// pingHop is a router's link address: known, being asked, or missing.
type pingHop struct {
	key      hopKey
	src      netip.Addr
	mac      net.HardwareAddr
	failed   bool
	tries    int
	deadline time.Time
	waiting  []*probe
}

// pingKey names the probe a reply answers.
type pingKey struct {
	addr netip.Addr
	kind PingKind
	port uint16
}

func newPingProber(now func() time.Time, inner prober, cfg *Config) (*pingProber, error) {
	if err := raw.Check(); err != nil {
		return nil, err
	}
	if err := CheckPings(cfg.Pings); err != nil {
		return nil, err
	}
	nl, err := raw.OpenNetlink()
	if err != nil {
		return nil, err
	}
	pp := &pingProber{
		now:       now,
		inner:     inner,
		pings:     cfg.pings(),
		neighWait: max(neighborTimeout, cfg.minRTTTimeout()),
		minWait:   cfg.minRTTTimeout(),
		key:       cookieKey{rand.Uint64(), rand.Uint64()},
		echoID:    uint16(rand.Uint32()),
		nl:        nl,
		b:         raw.NewBuilder(),
		links:     map[int]*pingLink{},
		dests:     map[netip.Addr]*pingDst{},
		hops:      map[hopKey]*pingHop{},
		sent:      map[pingKey]*probe{},
		rx:        make(chan []synReply, 1024),
		stop:      make(chan struct{}),
		rxErr:     make(chan error, 16),
	}
	pp.onLink = []discProbe{{kind: pingNeighbor}}
	for _, p := range pp.pings {
		d := discProbe{kind: p.Kind, port: p.Port}
		pp.beyond4 = append(pp.beyond4, d)
		if p.Kind != PingTimestamp {
			pp.beyond6 = append(pp.beyond6, d)
		}
	}
	if lo, err := net.InterfaceByName("lo"); err == nil {
		pp.loopback = lo.Index
	}
	pp.ports, pp.held, err = reservePorts(pingSourcePorts)
	if err != nil {
		nl.Close()
		return nil, err
	}
	return pp, nil
}

// plan chooses the discovery probes of addr: a neighbour request on one
// of the scanner's links, else the pings (no timestamp for IPv6).
func (pp *pingProber) plan(addr netip.Addr) []discProbe {
	addr = addr.Unmap()
	switch d := pp.dest(addr); {
	case d.err == nil && d.onLink:
		return pp.onLink
	case addr.Is6():
		return pp.beyond6
	}
	return pp.beyond4
}

// dest returns how frames reach addr, looking its route up the first
// time.
func (pp *pingProber) dest(addr netip.Addr) *pingDst {
	if d, ok := pp.dests[addr]; ok {
		return d
	}
	d := &pingDst{}
	pp.dests[addr] = d
	r, err := pp.nl.Route(addr)
	if err != nil {
		d.err = err
		return d
	}
	ifindex := r.Ifindex
	if r.Local() && pp.loopback != 0 {
		ifindex = pp.loopback // the host's own address: over loopback
	}
	l, err := pp.link(ifindex)
	if err != nil {
		d.err = err
		if pp.failed == nil {
			pp.failed = err // no raw socket: a failure of the run
		}
		return d
	}
	d.link, d.src = l, r.Src
	if !d.src.IsValid() {
		d.src = addr
	}
	switch {
	case l.ifi.NoARP:
	case !r.Gateway.IsValid() && !r.Local():
		d.onLink = true
	default:
		k := hopKey{ifindex, r.Gateway}
		h, ok := pp.hops[k]
		if !ok {
			h = &pingHop{key: k, src: d.src}
			pp.hops[k] = h
			pp.knownNeighbors(l)
		}
		d.hop = h
	}
	return d
}

// link returns the raw socket on an interface, opening it the first
// time with the filter of the run's answers, and starts its reader.
func (pp *pingProber) link(index int) (*pingLink, error) {
	if l, ok := pp.links[index]; ok {
		return l, nil
	}
	ifi, err := pp.nl.Link(index)
	if err != nil {
		return nil, err
	}
	conn, err := raw.Open(ifi)
	if err != nil {
		return nil, err
	}
	prog, err := raw.PingFilter{Neighbors: !ifi.NoARP, Echo: true, EchoID: pp.echoID, Ports: &pp.ports}.Program()
	if err == nil {
		err = conn.SetFilter(prog)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	l := &pingLink{ifi: ifi, conn: conn}
	pp.links[index] = l
	pp.wg.Add(1)
	go pp.read(l)
	return l, nil
}

// knownNeighbors takes the routers' link addresses the kernel knows on l.
func (pp *pingProber) knownNeighbors(l *pingLink) {
	list, err := pp.nl.Neighbors(l.ifi.Index)
	if err != nil {
		return
	}
	for _, nb := range list {
		if h, ok := pp.hops[hopKey{l.ifi.Index, nb.Addr.Unmap()}]; ok && nb.Usable() && h.mac == nil {
			h.mac = nb.MAC
		}
	}
}

func (pp *pingProber) start(p *probe) {
	if p.ping == pingConnect {
		pp.inner.start(p)
		return
	}
	pp.n++
	pp.pending = append(pp.pending, p)
}

func (pp *pingProber) inflight() int { return pp.n + pp.inner.inflight() }

func (pp *pingProber) err() error {
	if pp.failed != nil {
		return pp.failed
	}
	select {
	case err := <-pp.rxErr:
		pp.failed = err
		return err
	default:
	}
	return pp.inner.err()
}

func (pp *pingProber) wait(d time.Duration) []outcome {
	pp.route()
	if pp.inner.inflight() > 0 {
		return pp.waitBoth(d)
	}
	return pp.waitOwn(d)
}

// waitBoth waits on the pings and on the scan's prober, a little at a
// time.
func (pp *pingProber) waitBoth(d time.Duration) []outcome {
	const step = 2 * time.Millisecond
	deadline := pp.now().Add(d)
	for {
		out := pp.inner.wait(0)
		if pp.n > 0 {
			out = append(out, pp.waitOwn(0)...)
		}
		left := deadline.Sub(pp.now())
		if len(out) > 0 || left <= 0 {
			return out
		}
		if pp.n > 0 {
			out = pp.waitOwn(min(step, left))
		} else {
			out = pp.inner.wait(min(step, left))
		}
		if len(out) > 0 {
			return out
		}
	}
}

func (pp *pingProber) waitOwn(d time.Duration) []outcome {
	deadline := pp.now().Add(d)
	for {
		pp.send()
		pp.expire()
		if len(pp.ready) > 0 || pp.n == 0 || pp.failed != nil {
			break
		}
		now := pp.now()
		wait := deadline.Sub(now)
		if next := pp.timeouts.next(); !next.IsZero() {
			wait = min(wait, next.Sub(now))
		}
		if len(pp.hopQ) > 0 {
			wait = min(wait, pp.hopQ[0].deadline.Sub(now))
		}
		if pp.queued() {
			wait = min(wait, pp.nextFlush.Sub(now))
		}
		if wait <= 0 {
			if !now.Before(deadline) {
				break
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case batch := <-pp.rx:
			pp.match(batch)
		case <-t.C:
		}
		t.Stop()
	}
	for more := true; more; {
		select {
		case batch := <-pp.rx:
			pp.match(batch)
		default:
			more = false
		}
	}
	pp.expire()
	out := pp.ready
	pp.ready = nil
	pp.n -= len(out)
	return out
}

// finish ends p with v.
func (pp *pingProber) finish(p *probe, v verdict, at time.Time) {
	pp.ready = append(pp.ready, outcome{p: p, v: v, rtt: at.Sub(p.sent)})
	if d := pp.dests[p.addr.Addr().Unmap()]; d != nil {
		d.users--
	}
}

// route takes the probes started since the last call to their links'
// queues, or to their router's resolution.
func (pp *pingProber) route() {
	if len(pp.pending) == 0 {
		return
	}
	now := pp.now()
	for i, p := range pp.pending {
		pp.pending[i] = nil
		addr := p.addr.Addr().Unmap()
		d := pp.dest(addr)
		d.users++
		switch {
		case d.err != nil && pp.failed != nil:
			pp.finish(p, verdict{again: true, cause: d.err}, now)
		case d.err != nil:
			pp.finish(p, classify(d.err), now) // no route: net-unreach, host-unreach, ...
		case p.ping == pingNeighbor:
			pp.queue(p, d)
		case d.hop != nil && d.hop.failed:
			pp.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
		case d.hop != nil && d.hop.mac == nil:
			d.hop.waiting = append(d.hop.waiting, p)
			if d.hop.tries == 0 {
				pp.askHop(d.hop, d.link, now)
			}
		default:
			pp.queue(p, d)
		}
	}
	pp.pending = pp.pending[:0]
	pp.trim()
}

// echoSeq is the sequence number of the ICMP queries to addr.
func (pp *pingProber) echoSeq(addr netip.Addr, kind PingKind) uint16 {
	return uint16(pp.key.cookie(addr, addr, 0, uint16(kind)))
}

// sourcePort is the port a TCP or UDP ping of kind to port goes from on
// its try: another on each try, so that a late answer to one is not
// taken for the next's.
func (pp *pingProber) sourcePort(kind PingKind, port uint16, try int) uint16 {
	return pp.ports.First + uint16((int(port)+int(kind)*7+try)%pingSourcePorts)
}

// queue builds p's frame into its link's queue, and records it in
// flight.
func (pp *pingProber) queue(p *probe, d *pingDst) {
	dst := p.addr.Addr().Unmap()
	l := d.link
	var dmac net.HardwareAddr
	if d.hop != nil {
		dmac = d.hop.mac
	}
	var f []byte
	var err error
	k := pingKey{addr: dst, kind: p.ping}
	switch p.ping {
	case pingNeighbor:
		if dst.Is4() {
			f, err = pp.b.ARPRequest(l.ifi.MAC, d.src, dst)
		} else {
			f, err = pp.b.NeighborSolicitation(l.ifi.MAC, d.src, dst)
		}
	case PingEcho, PingTimestamp:
		f, err = pp.b.ICMPEcho(raw.Echo{SrcMAC: l.ifi.MAC, DstMAC: dmac, Src: d.src, Dst: dst,
			Timestamp: p.ping == PingTimestamp, ID: pp.echoID, Seq: pp.echoSeq(dst, p.ping),
			IPID: uint16(rand.Uint32()), Originate: pp.now()})
	case PingSYN, PingACK:
		k.port = p.port.Number
		sport := pp.sourcePort(p.ping, p.port.Number, p.try)
		c := pp.key.cookie(d.src, dst, sport, p.port.Number)
		seg := raw.Segment{SrcMAC: l.ifi.MAC, DstMAC: dmac, Src: d.src, Dst: dst, SrcPort: sport, DstPort: p.port.Number,
			Seq: c, Flags: raw.FlagSYN, MSS: synMSS, ID: uint16(rand.Uint32())}
		if p.ping == PingACK {
			// A host answers an ACK of no connection with a RST whose
			// sequence number is the ACK's acknowledgement.
			seg.Flags, seg.Ack, seg.MSS = raw.FlagACK, c, 0
		}
		f, err = pp.b.TCP(seg)
	case PingUDP:
		k.port = p.port.Number
		f, err = pp.b.UDP(raw.Datagram{SrcMAC: l.ifi.MAC, DstMAC: dmac, Src: d.src, Dst: dst,
			SrcPort: pp.sourcePort(p.ping, p.port.Number, p.try), DstPort: p.port.Number, ID: uint16(rand.Uint32())})
	default:
		err = errors.New("unknown ping")
	}
	if err != nil {
		pp.finish(p, verdict{state: result.Filtered, reason: result.ReasonError}, pp.now())
		return
	}
	if old, ok := pp.sent[k]; ok && old != p {
		// The same ping of one host twice in flight: the engine never
		// does this; should it, the older one is silent.
		pp.drop(old)
		pp.finish(old, verdict{state: result.Filtered, reason: result.ReasonNoResponse}, pp.now())
	}
	pp.sent[k] = p
	p.fd = int(k.port)
	l.add(f, p)
}

func (l *pingLink) add(f []byte, p *probe) {
	l.frames = append(l.frames, append([]byte(nil), f...))
	l.probes = append(l.probes, p)
}

// queued says whether frames wait to be sent.
func (pp *pingProber) queued() bool {
	for _, l := range pp.links {
		if len(l.frames) > 0 {
			return true
		}
	}
	return false
}

// send sends the next batch of each link's queue, once the pause after
// the last batch is over. A batch the kernel takes only in part (its
// queue full) sends the rest back to the engine, which backs off; any
// other failure ends the run.
func (pp *pingProber) send() {
	now := pp.now()
	if now.Before(pp.nextFlush) {
		return
	}
	any := false
	for _, l := range pp.links {
		if len(l.frames) == 0 {
			continue
		}
		any = true
		n := min(len(l.frames), pingBurst)
		for _, p := range l.probes[:n] {
			if p == nil {
				continue
			}
			limit := p.deadline.Sub(p.sent)
			if p.ping == pingNeighbor {
				limit = min(limit, pp.neighborWait(l))
			}
			p.sent, p.deadline = now, now.Add(limit)
			heap.Push(&pp.timeouts, p)
		}
		sent, err := l.conn.WriteBatch(l.frames[:n])
		if err != nil {
			for _, p := range l.probes[sent:n] {
				if p == nil {
					continue
				}
				pp.drop(p)
				if !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.ENOMEM) && pp.failed == nil {
					pp.failed = err
				}
				pp.finish(p, verdict{again: true, cause: err}, now)
			}
		}
		rest := copy(l.frames, l.frames[n:])
		copy(l.probes, l.probes[n:])
		clear(l.frames[rest:])
		clear(l.probes[rest:])
		l.frames, l.probes = l.frames[:rest], l.probes[:rest]
	}
	if any {
		pp.nextFlush = now.Add(pingGap)
	}
}

// askHop sends a request for a router's link address.
func (pp *pingProber) askHop(h *pingHop, l *pingLink, now time.Time) {
	var f []byte
	var err error
	if h.key.addr.Is4() {
		f, err = pp.b.ARPRequest(l.ifi.MAC, h.src, h.key.addr)
	} else {
		f, err = pp.b.NeighborSolicitation(l.ifi.MAC, h.src, h.key.addr)
	}
	if err != nil {
		pp.hopFailed(h, now)
		return
	}
	l.add(f, nil)
	h.tries++
	h.deadline = now.Add(pp.neighWait)
	pp.hopQ = append(pp.hopQ, h)
}

// hopFailed fails the pings waiting on a router nobody answers for.
func (pp *pingProber) hopFailed(h *pingHop, now time.Time) {
	h.failed = true
	for _, p := range h.waiting {
		pp.finish(p, verdict{state: result.Filtered, reason: result.ReasonHostUnreach}, now)
	}
	h.waiting = nil
}

// drop forgets a probe in flight.
func (pp *pingProber) drop(p *probe) {
	k := pingKey{p.addr.Addr().Unmap(), p.ping, uint16(p.fd)}
	if pp.sent[k] == p {
		delete(pp.sent, k)
	}
	if p.heapIdx >= 0 {
		heap.Remove(&pp.timeouts, p.heapIdx)
	}
}

// expire ends the probes whose time is up, silent, and asks routers
// that have not answered again.
func (pp *pingProber) expire() {
	now := pp.now()
	for pp.timeouts.Len() > 0 && !pp.timeouts[0].deadline.After(now) {
		p := pp.timeouts[0]
		pp.drop(p)
		pp.finish(p, verdict{state: result.Filtered, reason: result.ReasonNoResponse}, now)
	}
	for len(pp.hopQ) > 0 && !pp.hopQ[0].deadline.After(now) {
		h := pp.hopQ[0]
		pp.hopQ[0] = nil
		pp.hopQ = pp.hopQ[1:]
		switch {
		case h.mac != nil || h.failed:
		case h.tries >= hopTries:
			pp.hopFailed(h, now)
		default:
			if l := pp.links[h.key.ifindex]; l != nil {
				pp.askHop(h, l, now)
			}
		}
	}
	if len(pp.hopQ) == 0 {
		pp.hopQ = nil
	}
}

// match takes a batch of replies from a reader.
func (pp *pingProber) match(batch []synReply) {
	for i := range batch {
		r := &batch[i]
		switch r.p.Kind {
		case raw.KindNeighbor:
			pp.matchNeighbor(r)
		case raw.KindEcho:
			kind, reason := PingEcho, result.ReasonEchoReply
			if r.p.Echo.Timestamp {
				kind, reason = PingTimestamp, result.ReasonTimestampReply
			}
			if r.p.Echo.ID == pp.echoID && r.p.Echo.Seq == pp.echoSeq(r.p.Src, kind) {
				pp.settle(pingKey{r.p.Src, kind, 0}, aliveVerdict(reason), r.at)
			}
		case raw.KindTCP:
			pp.matchTCP(r)
		case raw.KindUDP:
			if pp.ports.Contains(r.p.UDP.DstPort) {
				pp.settle(pingKey{r.p.Src, PingUDP, r.p.UDP.SrcPort}, aliveVerdict(result.ReasonUDPResponse), r.at)
			}
		case raw.KindICMP:
			pp.matchICMP(r)
		}
	}
	pp.send() // what the answers released
}

// matchNeighbor takes an ARP reply or neighbour advertisement: the
// answer to a host's neighbour request, or a router's link address.
func (pp *pingProber) matchNeighbor(r *synReply) {
	nb := r.p.Neighbor
	if len(nb.MAC) != 6 {
		return
	}
	reason := result.ReasonARPResponse
	if nb.Addr.Is6() {
		reason = result.ReasonNDResponse
	}
	if p, ok := pp.sent[pingKey{nb.Addr, pingNeighbor, 0}]; ok {
		p.mac = nb.MAC
		if d := pp.dests[nb.Addr]; d != nil && d.link != nil {
			pp.timeLink(d.link, r.at.Sub(p.sent))
		}
		pp.settle(pingKey{nb.Addr, pingNeighbor, 0}, aliveVerdict(reason), r.at)
	}
	for _, l := range pp.links {
		h, ok := pp.hops[hopKey{l.ifi.Index, nb.Addr}]
		if !ok || h.mac != nil {
			continue
		}
		h.mac, h.failed = nb.MAC, false
		waiting := h.waiting
		h.waiting = nil
		for _, p := range waiting {
			pp.queue(p, pp.dests[p.addr.Addr().Unmap()])
		}
	}
}

// matchTCP takes the answer to a SYN ping (a SYN-ACK, or a RST that
// acknowledges the cookie) or to an ACK ping (a RST whose sequence
// number is the cookie).
func (pp *pingProber) matchTCP(r *synReply) {
	t := r.p.TCP
	c := pp.key.cookie(r.p.Dst, r.p.Src, t.DstPort, t.SrcPort)
	switch {
	case t.Flags&raw.FlagACK != 0 && t.Ack-1 == c && t.Flags&raw.FlagSYN != 0:
		pp.settle(pingKey{r.p.Src, PingSYN, t.SrcPort}, aliveVerdict(result.ReasonSynAck), r.at)
	case t.Flags&raw.FlagACK != 0 && t.Ack-1 == c && t.Flags&raw.FlagRST != 0:
		pp.settle(pingKey{r.p.Src, PingSYN, t.SrcPort}, aliveVerdict(result.ReasonReset), r.at)
	case t.Flags&raw.FlagRST != 0 && t.Seq == c:
		pp.settle(pingKey{r.p.Src, PingACK, t.SrcPort}, aliveVerdict(result.ReasonReset), r.at)
	}
}

// matchICMP takes an ICMP error quoting a TCP or UDP ping of the run. A
// port or protocol unreachable from the host itself shows it up; any
// other error says why it is not.
func (pp *pingProber) matchICMP(r *synReply) {
	q := r.p.ICMP.Quote
	if !pp.ports.Contains(q.SrcPort) {
		return
	}
	m := result.ICMP{V6: r.p.ICMP.V6, Type: r.p.ICMP.Type, Code: r.p.ICMP.Code, FromTarget: r.p.Src == q.Dst}
	v := verdict{state: result.Filtered, reason: m.Reason(), answered: true}
	if m.FromTarget && (v.reason == result.ReasonPortUnreach || v.reason == result.ReasonProtoUnreach) {
		v = aliveVerdict(v.reason)
	}
	var kinds []PingKind
	switch q.Proto {
	case unix.IPPROTO_TCP:
		if q.Seq != pp.key.cookie(q.Src, q.Dst, q.SrcPort, q.DstPort) {
			return
		}
		kinds = []PingKind{PingSYN, PingACK}
	case unix.IPPROTO_UDP:
		kinds = []PingKind{PingUDP}
	}
	for _, k := range kinds {
		if p, ok := pp.sent[pingKey{q.Dst, k, q.DstPort}]; ok && pp.sourcePort(k, q.DstPort, p.try) == q.SrcPort {
			pp.settle(pingKey{q.Dst, k, q.DstPort}, v, r.at)
			return
		}
	}
}

func (pp *pingProber) settle(k pingKey, v verdict, at time.Time) {
	p, ok := pp.sent[k]
	if !ok {
		return // a late answer to a try that timed out, or a duplicate
	}
	pp.drop(p)
	pp.finish(p, v, at)
}

// trim forgets the destinations no probe uses, once there are many:
// memory follows the hosts in flight, not the hosts scanned.
func (pp *pingProber) trim() {
	const keep = 1 << 14
	if len(pp.dests) > keep {
		for a, d := range pp.dests {
			if d.users <= 0 {
				delete(pp.dests, a)
			}
		}
	}
}

// read reads l's socket until the prober closes, decoding what the
// filter passed and handing it to the engine's goroutine in batches.
func (pp *pingProber) read(l *pingLink) {
	defer pp.wg.Done()
	const batch = 64
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	lens := make([]int, batch)
	d := raw.NewDecoder()
	for {
		n, err := l.conn.ReadBatch(bufs, lens, -1)
		if err != nil {
			if !errors.Is(err, raw.ErrClosed) {
				select {
				case pp.rxErr <- err:
				default:
				}
			}
			return
		}
		at := pp.now()
		out := make([]synReply, 0, n)
		for i := range n {
			p, err := d.Decode(bufs[i][:lens[i]])
			if err != nil || p.Kind == raw.KindOther {
				continue
			}
			out = append(out, synReply{p: p, at: at})
		}
		if len(out) == 0 {
			continue
		}
		select {
		case pp.rx <- out:
		case <-pp.stop:
			return
		}
	}
}

func (pp *pingProber) close() {
	close(pp.stop)
	for _, l := range pp.links {
		l.conn.Close()
	}
	pp.wg.Wait()
	for _, fd := range pp.held {
		unix.Close(fd)
	}
	pp.nl.Close()
	pp.inner.close()
}
