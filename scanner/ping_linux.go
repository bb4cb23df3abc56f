//go:build linux

package scanner

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/bpf"
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
	rawCore

	pings []Ping
	// The discovery probes of a host on a link, and beyond one by
	// family: shared by every host, which only reads them.
	onLink, beyond4, beyond6 []discProbe
	neighWait                time.Duration // the most a neighbour request waits
	minWait                  time.Duration // the least, MinRTTTimeout
	echoID                   uint16
	nextFlush                time.Time
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

// neighborWait is how long a neighbour request on l waits: neighWait
// until the link's hosts have answered, then what their round trips
// need.
func (pp *pingProber) neighborWait(l *rawLink) time.Duration {
	if !l.rtt.measured() {
		return pp.neighWait
	}
	return min(max(l.rtt.timeout(), pp.minWait), pp.neighWait)
}

// timeLink takes the round trip of a neighbour answer on l. The first
// one shortens the wait of the requests in flight on the link to what
// the link needs: the first batch of a LAN's requests goes out before
// any host has answered.
func (pp *pingProber) timeLink(l *rawLink, rtt time.Duration) {
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

func newPingProber(now func() time.Time, inner prober, cfg *Config) (*pingProber, error) {
	if err := raw.Check(); err != nil {
		return nil, err
	}
	if err := CheckPings(cfg.Pings); err != nil {
		return nil, err
	}
	pp := &pingProber{
		// On a link, the hosts are asked by neighbour requests of
		// their own: only routers are next hops.
		rawCore:   rawCore{readBatch: 64, neighTries: hopTries, routersOnly: true, burst: true, other: inner},
		pings:     cfg.pings(),
		neighWait: max(neighborTimeout, cfg.minRTTTimeout()),
		minWait:   cfg.minRTTTimeout(),
		echoID:    uint16(rand.Uint32()),
	}
	pp.filter = pp.linkFilter
	pp.onLink = []discProbe{{kind: pingNeighbor}}
	for _, p := range pp.pings {
		d := discProbe{kind: p.Kind, port: p.Port}
		pp.beyond4 = append(pp.beyond4, d)
		if p.Kind != PingTimestamp {
			pp.beyond6 = append(pp.beyond6, d)
		}
	}
	if err := pp.open(now, pingSourcePorts); err != nil {
		return nil, err
	}
	return pp, nil
}

// linkFilter passes the run's answers: neighbour answers where there are
// link addresses, echo and timestamp replies of the run's identifier,
// and what comes to the reserved ports.
func (pp *pingProber) linkFilter(ifi raw.Interface) ([]bpf.Instruction, error) {
	return raw.PingFilter{Neighbors: !ifi.NoARP, Echo: true, EchoID: pp.echoID, Ports: &pp.ports}.Program()
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

func (pp *pingProber) start(p *probe) { pp.startFor(p, p.ping == pingConnect) }

func (pp *pingProber) wait(d time.Duration) []outcome {
	pp.route()
	return pp.waitWith(d, pp.waitOwn)
}

func (pp *pingProber) waitOwn(d time.Duration) []outcome {
	deadline := pp.now().Add(d)
	for {
		pp.send()
		pp.expire()
		if pp.waitOver() {
			break
		}
		now := pp.now()
		wait := deadline.Sub(now)
		if next := pp.timeouts.next(); !next.IsZero() {
			wait = min(wait, next.Sub(now))
		}
		if next := pp.neighNext(pp.neighWait); !next.IsZero() {
			wait = min(wait, next.Sub(now))
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
	return pp.outcomes()
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
		if d := pp.rawCore.route(p, now, p.ping == pingNeighbor); d != nil {
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

// pingKey is the key of the ping of kind to addr (and port, for the
// kinds that have one).
func pingKey(addr netip.Addr, kind PingKind, port uint16) rawKey {
	return newRawKey(addr, port, uint16(kind))
}

// queue builds p's frame into its link's queue, and records it in
// flight.
func (pp *pingProber) queue(p *probe, d *rawDst) {
	dst := p.addr.Addr().Unmap()
	l := d.link
	var dmac net.HardwareAddr
	if d.hop != nil {
		dmac = d.hop.mac
	}
	var f []byte
	var err error
	var port uint16
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
		port = p.port.Number
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
		port = p.port.Number
		f, err = pp.b.UDP(raw.Datagram{SrcMAC: l.ifi.MAC, DstMAC: dmac, Src: d.src, Dst: dst,
			SrcPort: pp.sourcePort(p.ping, p.port.Number, p.try), DstPort: p.port.Number, ID: uint16(rand.Uint32())})
	default:
		err = errors.New("unknown ping")
	}
	if err != nil {
		pp.finish(p, verdict{state: result.Filtered, reason: result.ReasonError}, pp.now())
		return
	}
	pp.track(p, pingKey(dst, p.ping, port))
	l.add(f, p)
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
		sent, refused, err := writeAll(l.conn, l.frames[:n])
		for _, i := range refused {
			if p := l.probes[i]; p != nil {
				pp.refused(p, now)
			}
		}
		if err != nil {
			for _, p := range l.probes[sent:n] {
				if p != nil {
					pp.sendFailed(p, err, now)
				}
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

// expire ends the probes whose time is up, silent, and asks routers
// that have not answered again.
func (pp *pingProber) expire() {
	now := pp.now()
	pp.expireProbes(now, now)
	pp.expireNeighbors(now, now, pp.neighWait)
}

// match takes a batch of replies from a reader, and gives it back.
func (pp *pingProber) match(batch []rawReply) {
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
				pp.settle(pingKey(r.p.Src, kind, 0), replyVerdict(reason, r), r.at)
			}
		case raw.KindTCP:
			pp.matchTCP(r)
		case raw.KindUDP:
			if pp.ports.Contains(r.p.UDP.DstPort) {
				pp.settle(pingKey(r.p.Src, PingUDP, r.p.UDP.SrcPort), replyVerdict(result.ReasonUDPResponse, r), r.at)
			}
		case raw.KindICMP:
			pp.matchICMP(r)
		}
	}
	pp.recycle(batch)
	pp.send() // what the answers released
}

// replyVerdict is aliveVerdict for the reply r, with its TTL.
func replyVerdict(reason string, r *rawReply) verdict {
	v := aliveVerdict(reason)
	v.ttl = r.p.TTL
	return v
}

// matchNeighbor takes an ARP reply or neighbour advertisement: the
// answer to a host's neighbour request, or a router's link address.
// It has no TTL to give (ARP has no IP header; nmap gives NDP's none).
func (pp *pingProber) matchNeighbor(r *rawReply) {
	nb := r.p.Neighbor
	if len(nb.MAC) != 6 {
		return
	}
	reason := result.ReasonARPResponse
	if nb.Addr.Is6() {
		reason = result.ReasonNDResponse
	}
	k := pingKey(nb.Addr, pingNeighbor, 0)
	if p, ok := pp.sent[k]; ok {
		p.mac = nb.MAC
		if d := pp.dests[nb.Addr]; d != nil && d.link != nil {
			pp.timeLink(d.link, r.at.Sub(p.sent))
		}
		pp.settle(k, aliveVerdict(reason), r.at)
	}
	for h := range pp.resolved(nb) {
		for _, p := range h.release() {
			pp.queue(p, pp.dests[p.addr.Addr().Unmap()])
		}
	}
}

// matchTCP takes the answer to a SYN ping (a SYN-ACK, or a RST that
// acknowledges the cookie) or to an ACK ping (a RST whose sequence
// number is the cookie).
func (pp *pingProber) matchTCP(r *rawReply) {
	t := r.p.TCP
	c := pp.key.cookie(r.p.Dst, r.p.Src, t.DstPort, t.SrcPort)
	switch {
	case t.Flags&raw.FlagACK != 0 && t.Ack-1 == c && t.Flags&raw.FlagSYN != 0:
		pp.settle(pingKey(r.p.Src, PingSYN, t.SrcPort), replyVerdict(result.ReasonSynAck, r), r.at)
	case t.Flags&raw.FlagACK != 0 && t.Ack-1 == c && t.Flags&raw.FlagRST != 0:
		pp.settle(pingKey(r.p.Src, PingSYN, t.SrcPort), replyVerdict(result.ReasonReset, r), r.at)
	case t.Flags&raw.FlagRST != 0 && t.Seq == c:
		pp.settle(pingKey(r.p.Src, PingACK, t.SrcPort), replyVerdict(result.ReasonReset, r), r.at)
	}
}

// matchICMP takes an ICMP error quoting a TCP or UDP ping of the run. A
// port or protocol unreachable from the host itself shows it up; any
// other error says why it is not.
func (pp *pingProber) matchICMP(r *rawReply) {
	q := r.p.ICMP.Quote
	if !pp.ports.Contains(q.SrcPort) {
		return
	}
	m := result.ICMP{V6: r.p.ICMP.V6, Type: r.p.ICMP.Type, Code: r.p.ICMP.Code, FromTarget: r.p.Src == q.Dst}
	v := verdict{state: result.Filtered, reason: m.Reason(), answered: true}
	if m.FromTarget && (v.reason == result.ReasonPortUnreach || v.reason == result.ReasonProtoUnreach) {
		v = aliveVerdict(v.reason)
	}
	v.ttl = r.p.TTL // the ICMP packet's own: the host's, or a router's
	v.from = router(m, r.p.Src)
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
	for _, kind := range kinds {
		k := pingKey(q.Dst, kind, q.DstPort)
		if p, ok := pp.sent[k]; ok && pp.sourcePort(kind, q.DstPort, p.try) == q.SrcPort {
			pp.settle(k, v, r.at)
			return
		}
	}
}
