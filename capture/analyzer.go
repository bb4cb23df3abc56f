package capture

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// Defaults of the Analyzer's bounds.
const (
	// DefaultIdleTimeout is how long, in capture time, a flow may go
	// without a packet before it is evicted and its evidence finalised.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxFlows bounds the flow table: about 200 bytes a flow.
	// When it is full the least recently active flow is evicted.
	DefaultMaxFlows = 1 << 17
	// DefaultMaxServices bounds the service table: at most about 1.3 KB a
	// service. Flows to services beyond it are counted, not reported.
	DefaultMaxServices = 1 << 16
)

// maxRequests bounds the UDP requests to broadcast and multicast
// addresses an Analyzer remembers (two entries each), for IdleTimeout, to
// know their answers: about 50 bytes an entry.
const maxRequests = 1 << 12

// Options tune an Analyzer. The zero value uses the defaults and labels
// nothing.
type Options struct {
	// Label names a port from the catalog; nil leaves every port
	// unlabelled. It also tells known ports when the server side of a
	// flow must be guessed.
	Label services.Labeler
	// IdleTimeout is DefaultIdleTimeout when zero.
	IdleTimeout time.Duration
	// MaxFlows is DefaultMaxFlows when zero.
	MaxFlows int
	// MaxServices is DefaultMaxServices when zero.
	MaxServices int
	// NoDetect turns service detection off: the first bytes of flows
	// are not kept, and results carry no Detected.
	NoDetect bool
}

func (o *Options) idle() int64 {
	if o.IdleTimeout > 0 {
		return int64(o.IdleTimeout)
	}
	return int64(DefaultIdleTimeout)
}

func (o *Options) maxFlows() int {
	if o.MaxFlows > 0 {
		return o.MaxFlows
	}
	return DefaultMaxFlows
}

func (o *Options) maxServices() int {
	if o.MaxServices > 0 {
		return o.MaxServices
	}
	return DefaultMaxServices
}

// Counters say what an Analyzer did with the packets it was given.
type Counters struct {
	Packets  uint64 // packets given to Add
	Used     uint64 // TCP, UDP and ICMP errors that fed a flow
	Skipped  [numSkips]uint64
	Flows    uint64 // flows opened
	Idle     uint64 // flows evicted after IdleTimeout without a packet
	Full     uint64 // flows evicted early because the table was full
	Unknown  uint64 // flows that showed nothing about a server port
	Overflow uint64 // flows not reported because the service table was full
}

// SkippedTotal is the number of packets skipped for any reason.
func (c *Counters) SkippedTotal() uint64 {
	var n uint64
	for _, s := range c.Skipped {
		n += s
	}
	return n
}

// Side says which endpoint of a packet is the server, as far as known.
type Side uint8

// The sides of a packet.
const (
	SideUnknown Side = iota
	SideSrc          // the packet comes from the server
	SideDst          // the packet goes to the server
)

// Analyzer infers from a capture's packets which server ports were open
// or closed, and gathers traffic counts per service. Feed it packets in
// capture order with Add, then call Report. Its memory is bounded by
// Options.MaxFlows and Options.MaxServices, not by the capture's size. An
// Analyzer is not safe for concurrent use.
type Analyzer struct {
	opt      Options
	idle     int64
	flows    *table
	services map[svcKey]*service
	requests map[reqKey]int64 // requests to a group address: when sent
	counters Counters
	clock    int64 // latest packet time seen, Unix ns
	start    int64 // earliest
	last     int32 // flow of the last packet, -1 if none
	lastSide int   // side of the last packet in that flow
	pool     pool  // buffers for the first bytes of flows
	recent   recent
}

// recent is the flow of the last TCP or UDP packet, by its endpoints as
// that packet had them: consecutive packets are often of one flow, which
// it finds without computing a key and looking it up.
type recent struct {
	src, dst netip.Addr
	sport    uint16
	dport    uint16
	proto    ports.Protocol
	i        int32 // its slot; -1 when none
	side     int
	valid    bool
}

// find returns the slot and side of a packet's flow if it is the recent
// one, in either direction.
func (r *recent) find(src, dst netip.Addr, sport, dport uint16, proto ports.Protocol) (int32, int, bool) {
	if !r.valid || proto != r.proto {
		return 0, 0, false
	}
	if sport == r.sport && dport == r.dport && src == r.src && dst == r.dst {
		return r.i, r.side, true
	}
	if sport == r.dport && dport == r.sport && src == r.dst && dst == r.src {
		return r.i, 1 - r.side, true
	}
	return 0, 0, false
}

// NewAnalyzer returns an empty Analyzer.
func NewAnalyzer(opt Options) *Analyzer {
	return &Analyzer{
		opt:      opt,
		idle:     opt.idle(),
		flows:    newTable(opt.maxFlows()),
		services: make(map[svcKey]*service),
		requests: make(map[reqKey]int64),
		last:     -1,
	}
}

// Counters returns the counts so far.
func (a *Analyzer) Counters() Counters { return a.counters }

// Times beyond what int64 nanoseconds hold (before 1678, after 2262) are
// taken as the latest time seen.
const minUnix, maxUnix = -9_000_000_000, 9_000_000_000

// Add feeds one decoded packet captured at ts.
func (a *Analyzer) Add(ts time.Time, d *Decoded) {
	a.counters.Packets++
	a.last = -1
	now := a.clock
	if s := ts.Unix(); s > minUnix && s < maxUnix && !ts.IsZero() {
		now = ts.UnixNano()
	}
	if a.start == 0 || now < a.start {
		a.start = now
	}
	if now > a.clock {
		a.clock = now
	}
	a.evictIdle()
	switch d.Kind {
	case TCP, UDP:
		a.addTransport(now, d)
	case ICMPError:
		a.addICMP(now, d)
	default:
		a.counters.Skipped[d.Skip]++
		return
	}
	a.counters.Used++
}

// flowFor finds or opens the flow of a packet from src to dst.
func (a *Analyzer) flowFor(now int64, src, dst netip.Addr, sport, dport uint16, proto ports.Protocol) (*flow, int) {
	if i, side, ok := a.recent.find(src, dst, sport, dport, proto); ok {
		a.flows.touch(i)
		a.last, a.lastSide = i, side
		f := &a.flows.flows[i]
		f.last = now
		return f, side
	}
	k, side := newFlowKey(src, dst, sport, dport, uint8(proto))
	i, ok := a.flows.lookup(k)
	if !ok {
		if a.flows.len() >= a.opt.maxFlows() {
			a.counters.Full++
			a.finish(a.flows.head)
		}
		i = a.flows.insert(k)
		a.counters.Flows++
		f := &a.flows.flows[i]
		f.first = now
		f.firstSide = int8(side)
	} else {
		a.flows.touch(i)
	}
	a.last, a.lastSide = i, side
	a.recent = recent{src: src, dst: dst, sport: sport, dport: dport, proto: proto, i: i, side: side, valid: true}
	f := &a.flows.flows[i]
	f.last = now
	return f, side
}

// addTransport files a TCP segment or UDP datagram under its flow.
func (a *Analyzer) addTransport(now int64, d *Decoded) {
	f, side := a.flowFor(now, d.Src, d.Dst, d.SrcPort, d.DstPort, d.Proto)
	if d.Kind == TCP && d.Flags&(SYN|ACK) == SYN && f.saw(sawSYN, side) && f.synSeq != d.Seq &&
		f.bits&^(sawSYN<<side) != 0 {
		// A new connection on the same ports: close the books on the old one.
		a.finish(a.last)
		f, side = a.flowFor(now, d.Src, d.Dst, d.SrcPort, d.DstPort, d.Proto)
	}
	opened := f.pkts[0]+f.pkts[1] == 0
	if f.firstFrom[side] == 0 {
		f.firstFrom[side] = now
	}
	f.pkts[side]++
	f.bytes[side] += uint64(d.IPLen)
	if d.Kind == UDP {
		f.bits |= sawOther << side
		a.answerGroup(now, f, side, opened, d)
		if len(d.Payload) > 0 && !a.opt.NoDetect {
			a.feedUDP(f, side, d.Payload)
		}
		return
	}
	switch {
	case d.Flags&RST != 0:
		f.bits |= sawRST << side
	case d.Flags&(SYN|ACK) == SYN:
		f.bits |= sawSYN << side
		f.synSeq, f.isn[side] = d.Seq, d.Seq
	case d.Flags&(SYN|ACK) == SYN|ACK:
		f.bits |= sawSYNACK << side
		f.isn[side] = d.Seq
	default:
		f.bits |= sawOther << side
	}
	if d.Flags&FIN != 0 {
		f.bits |= sawFIN << side
	}
	if len(d.Payload) > 0 && d.Flags&RST == 0 && !a.opt.NoDetect {
		a.feedTCP(f, side, d)
	}
}

// answerGroup remembers the UDP requests sent to a broadcast or
// multicast address, and marks a flow whose first datagram answers one:
// its sender is the server, though the request went elsewhere. A DHCP
// server answers the DISCOVER that 0.0.0.0:68 sent to 255.255.255.255:67
// from its own address to the address it offers, or to broadcast; a
// DHCPv6 server answers a SOLICIT to ff02::1:2 from its link-local
// address. An answer goes from the port the request went to, within
// IdleTimeout, to the port it came from at the address it came from, at
// any address if that was unspecified, or to a group address. It asks
// nothing itself.
func (a *Analyzer) answerGroup(now int64, f *flow, side int, opened bool, d *Decoded) {
	if opened && serverAddr(d.Src) {
		if t, ok := a.answers(now, d); ok {
			f.replySide, f.reqTime = int8(side), t
			return
		}
	}
	if serverAddr(d.Dst) {
		return
	}
	if len(a.requests) > maxRequests-2 {
		for k, t := range a.requests {
			if a.clock-t > a.idle {
				delete(a.requests, k)
			}
		}
		if len(a.requests) > maxRequests-2 {
			clear(a.requests)
		}
	}
	k := reqKey{addr: toAddr16(d.Src), port: [2]uint16{d.DstPort, d.SrcPort}}
	a.requests[k] = now
	k.addr, k.group = anyAddr(d.Src), true
	a.requests[k] = now
}

// answers returns when the request was sent that datagram d answers.
func (a *Analyzer) answers(now int64, d *Decoded) (int64, bool) {
	k := reqKey{port: [2]uint16{d.SrcPort, d.DstPort}}
	sent := func() (int64, bool) {
		t, ok := a.requests[k]
		return t, ok && t <= now && now-t <= a.idle
	}
	if !serverAddr(d.Dst) {
		if d.SrcPort == d.DstPort {
			// To a group between equal ports, as mDNS: as likely
			// another request as an answer.
			return 0, false
		}
		k.addr, k.group = anyAddr(d.Dst), true
		return sent()
	}
	k.addr = toAddr16(d.Dst)
	if t, ok := sent(); ok {
		return t, true
	}
	k.addr = anyAddr(d.Dst)
	return sent()
}

// addICMP files an ICMP error under the flow of the datagram it quotes,
// which went from Quote.Src to Quote.Dst.
func (a *Analyzer) addICMP(now int64, d *Decoded) {
	q := &d.Quote
	f, side := a.flowFor(now, q.Src, q.Dst, q.SrcPort, q.DstPort, q.Proto)
	target := 1 - side
	a.lastSide = target // the error speaks for the quoted destination
	if f.pkts[0]+f.pkts[1] == 0 {
		f.firstSide = int8(side)
	}
	f.pkts[target]++
	f.bytes[target] += uint64(d.IPLen)
	icmp := d.ICMP()
	// A direct answer from the host outweighs a router's word.
	if f.icmpSide < 0 || icmp.FromTarget && !f.icmp.FromTarget {
		f.icmpSide = int8(target)
		f.icmp = icmp
		f.icmpTime = now
	}
}

// LastServer says which endpoint of the packet last given to Add is the
// server, as the flow shows so far: from the handshake, an ICMP error or
// the first packet. It is SideUnknown for packets that fed no flow, or
// when the flow does not tell yet.
func (a *Analyzer) LastServer() Side {
	if a.last < 0 {
		return SideUnknown
	}
	f := &a.flows.flows[a.last]
	s, _ := a.serverSide(f)
	if s < 0 || !serverAddr(f.key.addr[s].addr()) {
		return SideUnknown
	}
	if s == a.lastSide {
		return SideSrc
	}
	return SideDst
}

// evictIdle finishes the flows that have been idle too long.
func (a *Analyzer) evictIdle() {
	for h := a.flows.head; h >= 0; h = a.flows.head {
		if a.clock-a.flows.flows[h].last <= a.idle {
			return
		}
		a.counters.Idle++
		a.finish(h)
	}
}

// Flush finishes every flow still open, as at the end of a capture.
func (a *Analyzer) Flush() {
	for h := a.flows.head; h >= 0; h = a.flows.head {
		a.finish(h)
	}
	a.last = -1
}

// known reports whether the catalog names port p.
func (a *Analyzer) known(p uint16, proto uint8) bool {
	return a.opt.Label != nil && a.opt.Label(ports.Port{Number: p, Proto: ports.Protocol(proto)}) != nil
}

// serverSide decides which side of a flow is the server: the one that got
// the SYN or sent the SYN-ACK, the one an ICMP error was about, and
// otherwise a guess from the ports. It returns -1 when the flow does not
// tell.
func (a *Analyzer) serverSide(f *flow) (side int, guessed bool) {
	if ports.Protocol(f.key.proto) == ports.TCP {
		switch s0, s1 := f.saw(sawSYN, 0), f.saw(sawSYN, 1); {
		case s0 && !s1:
			return 1, false
		case s1 && !s0:
			return 0, false
		}
		switch s0, s1 := f.saw(sawSYNACK, 0), f.saw(sawSYNACK, 1); {
		case s0 && !s1:
			return 0, false
		case s1 && !s0:
			return 1, false
		}
		if f.icmpSide >= 0 {
			return int(f.icmpSide), false
		}
		if f.pkts[0]+f.pkts[1] == 0 {
			return -1, false
		}
		return a.guess(f), true
	}
	if f.icmpSide >= 0 && f.bits&(sawOther|sawOther<<1) == 0 {
		// Only the ICMP error: its quote went from client to server.
		return int(f.icmpSide), false
	}
	if f.replySide >= 0 {
		return int(f.replySide), false
	}
	// UDP: whoever spoke first is the client, unless the first datagram
	// came from a service port to an ephemeral one, or between ports
	// only a server sends between, the reply to a request sent before the
	// capture began.
	first := int(f.firstSide)
	srv := 1 - first
	fp, sp := f.key.port[first], f.key.port[srv]
	if answerPorts[[2]uint16{fp, sp}] {
		return first, true
	}
	if sp >= 32768 && !a.known(sp, f.key.proto) && (fp < 1024 || a.known(fp, f.key.proto)) {
		return first, true
	}
	return srv, false
}

// answerPorts are the UDP port pairs on which, by its protocol, only a
// server sends from the first port to the second: DHCP and BOOTP servers
// answer from 67 to the client's 68 (RFC 2131 section 4.1), DHCPv6
// servers and relay agents from 547 to 546 (RFC 8415 section 7.2). A
// datagram so sent is an answer even when the request it answers, sent to
// a broadcast or multicast address or before the capture began, is not
// in the capture.
var answerPorts = map[[2]uint16]bool{
	{67, 68}:   true,
	{547, 546}: true,
}

// guess picks the server side of a TCP flow whose handshake was not
// captured: the side whose port the catalog knows, else the one below
// 1024, else the lower port, else the side that did not speak first.
func (a *Analyzer) guess(f *flow) int {
	p0, p1 := f.key.port[0], f.key.port[1]
	if k0, k1 := a.known(p0, f.key.proto), a.known(p1, f.key.proto); k0 != k1 {
		if k0 {
			return 0
		}
		return 1
	}
	if (p0 < 1024) != (p1 < 1024) || p0 != p1 {
		if p0 < p1 {
			return 0
		}
		return 1
	}
	return 1 - int(f.firstSide)
}

// weakGuess says that the ports alone could not tell the server of a
// flow whose handshake was not captured: neither or both are catalogued,
// and both are below 1024 or neither is. Its content may then.
func (a *Analyzer) weakGuess(f *flow) bool {
	p0, p1 := f.key.port[0], f.key.port[1]
	return a.known(p0, f.key.proto) == a.known(p1, f.key.proto) && (p0 < 1024) == (p1 < 1024)
}

// verdict is what one flow says about its server port.
type verdict struct {
	state  result.State
	reason string
	when   int64
	rtt    int64
}

// judge reads a finished flow's verdict on server side s.
func (f *flow) judge(s int) verdict {
	c := 1 - s
	rtt := int64(0)
	if f.firstFrom[c] != 0 && f.firstFrom[s] > f.firstFrom[c] {
		rtt = f.firstFrom[s] - f.firstFrom[c]
	}
	if ports.Protocol(f.key.proto) == ports.TCP {
		switch {
		case f.saw(sawSYNACK, s):
			return verdict{result.Open, result.ReasonSynAck, f.firstFrom[s], rtt}
		case f.saw(sawSYN, c) && f.saw(sawRST, s) && !f.saw(sawOther, s):
			return verdict{result.Closed, result.ReasonReset, f.firstFrom[s], rtt}
		case f.saw(sawOther, s):
			return verdict{result.Open, result.ReasonMidStream, f.firstFrom[s], 0}
		case f.icmpSide == int8(s):
			return f.icmpVerdict(c)
		case f.saw(sawSYN, c):
			return verdict{result.Filtered, result.ReasonNoResponse, f.first, 0}
		}
		return verdict{}
	}
	switch {
	case f.saw(sawOther, s):
		if !f.saw(sawOther, c) {
			rtt = 0
		}
		if f.replySide == int8(s) && f.firstFrom[s] > f.reqTime {
			// From the request to a group address it answered.
			rtt = f.firstFrom[s] - f.reqTime
		}
		return verdict{result.Open, result.ReasonUDPResponse, f.firstFrom[s], rtt}
	case f.icmpSide == int8(s):
		return f.icmpVerdict(c)
	case f.saw(sawOther, c):
		return verdict{result.OpenFiltered, result.ReasonNoResponse, f.first, 0}
	}
	return verdict{}
}

// icmpVerdict reads the flow's ICMP error as result.ICMP classifies it.
func (f *flow) icmpVerdict(client int) verdict {
	v := verdict{when: f.icmpTime}
	v.state, v.reason = f.icmp.Classify(ports.Protocol(f.key.proto))
	if sent := f.firstFrom[client]; sent != 0 && f.icmpTime > sent {
		v.rtt = f.icmpTime - sent
	}
	return v
}

// rank orders verdicts: the strongest evidence about a port wins.
func (v verdict) rank() int {
	switch v.state {
	case result.Open:
		switch v.reason {
		case result.ReasonSynAck:
			return 7
		case result.ReasonUDPResponse:
			return 6
		}
		return 5
	case result.Closed:
		return 4
	case result.Filtered:
		if v.reason != result.ReasonNoResponse {
			return 3
		}
		return 2
	case result.OpenFiltered:
		return 1
	}
	return 0
}

// serverAddr reports whether a can be a server: not multicast, broadcast
// or unspecified.
func serverAddr(a netip.Addr) bool {
	return a.IsValid() && !a.IsMulticast() && !a.IsUnspecified() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// finish removes flow i from the table and files its evidence under its
// service.
func (a *Analyzer) finish(i int32) {
	f := &a.flows.flows[i]
	defer a.flows.remove(i)
	if a.recent.i == i {
		a.recent.valid = false
	}
	if a.last == i {
		a.last = -1
	}
	s, guessed := a.serverSide(f)
	if s < 0 {
		a.counters.Unknown++
		a.dropData(f, -1)
		return
	}
	s = a.decide(f, s, guessed && a.weakGuess(f))
	det := a.dropData(f, s)
	v := f.judge(s)
	addr := f.key.addr[s]
	port := f.key.port[s]
	if v.state == result.OpenFiltered && port >= 32768 && !a.known(port, f.key.proto) {
		// Datagrams one way to a high uncatalogued port are more likely
		// the tail of a conversation that changed ports (TFTP, RTP) than
		// a service.
		v.state = result.Unknown
	}
	if v.state == result.Unknown || !serverAddr(addr.addr()) {
		a.counters.Unknown++
		return
	}
	k := svcKey{addr: addr, port: port, proto: f.key.proto}
	svc := a.services[k]
	if svc == nil {
		if len(a.services) >= a.opt.maxServices() {
			a.counters.Overflow++
			return
		}
		svc = &service{key: k, first: f.first, last: f.last}
		a.services[k] = svc
	}
	svc.add(f, s, v, det)
}

// Report finishes every flow and emits to sink a Port for each service
// seen and a Host for each server address after its services, in address
// (IPv4 first), protocol (tcp first) and port order. It does not call
// Begin or End. It returns the run's figures: hosts, open ports, and the
// capture's first and last packet times as Start and End; it stops at the
// sink's first error and returns it.
func (a *Analyzer) Report(sink result.Sink) (result.Summary, error) {
	a.Flush()
	keys := make([]svcKey, 0, len(a.services))
	for k := range a.services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y svcKey) int {
		// As netip orders them: IPv4 before IPv6.
		if c := x.addr.addr().Compare(y.addr.addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(x.proto, y.proto); c != 0 {
			return c
		}
		return cmp.Compare(x.port, y.port)
	})
	var st result.Summary
	if a.counters.Packets > 0 {
		st.Start, st.End = unixTime(a.start), unixTime(a.clock)
	}
	var host *result.Host
	flush := func() error {
		if host == nil {
			return nil
		}
		err := sink.Host(*host)
		host = nil
		return err
	}
	for _, k := range keys {
		svc := a.services[k]
		r := svc.result(a.opt.Label)
		if host == nil || host.Addr != r.Host {
			if err := flush(); err != nil {
				return st, err
			}
			host = &result.Host{Addr: r.Host, Up: true, Reason: "pcap", Source: "pcap",
				Counts: make(map[result.State]int), Start: r.Evidence.FirstSeen, End: r.Evidence.LastSeen}
			st.HostsUp++
		}
		host.Counts[r.State]++
		if r.Evidence.FirstSeen.Before(host.Start) {
			host.Start = r.Evidence.FirstSeen
		}
		if r.Evidence.LastSeen.After(host.End) {
			host.End = r.Evidence.LastSeen
		}
		if r.State == result.Open {
			st.Open++
		}
		if err := sink.Port(r); err != nil {
			return st, err
		}
	}
	return st, flush()
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// Span returns the times of the earliest and the latest packet given to
// Add; zero times if none was.
func (a *Analyzer) Span() (first, last time.Time) {
	if a.counters.Packets == 0 {
		return time.Time{}, time.Time{}
	}
	return unixTime(a.start), unixTime(a.clock)
}
