//go:build linux

package scanner

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"golang.org/x/net/bpf"
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
	rawCore

	// linkRTT times the answers of hosts on the scanner's links (to ARP
	// and NDP, to SYNs): one hop away, none is far, so a probe to a host
	// on the link that has not answered yet waits as long as the link
	// needs (onLink, in the order sent), and so does a neighbour
	// request; minTimeout and initTimeout bound the wait.
	linkRTT                 timing
	onLink                  []linkWait
	minTimeout, initTimeout time.Duration

	jobs     chan *sendJob
	sentJobs chan *sendJob
	senders  int
}

type linkWait struct {
	p          *probe
	sent, base time.Time // p's send time, and when its wait started
}

func newSynProber(ctx context.Context, now func() time.Time, minTimeout, initTimeout time.Duration, udp func() (prober, error)) (*synProber, error) {
	if err := raw.Check(); err != nil {
		return nil, err
	}
	s := &synProber{
		rawCore:     rawCore{readBatch: 256, neighTries: neighTries},
		minTimeout:  minTimeout,
		initTimeout: initTimeout,
		jobs:        make(chan *sendJob, 64),
		sentJobs:    make(chan *sendJob, 256),
		senders:     max(1, runtime.GOMAXPROCS(0)),
	}
	s.filter = s.linkFilter
	if err := s.open(now, synSourcePorts); err != nil {
		return nil, err
	}
	for range s.senders {
		s.wg.Add(1)
		go s.send()
	}
	if udp != nil {
		var err error
		if s.other, err = udp(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// linkFilter passes the replies to the reserved ports, and neighbour
// answers where there are link addresses.
func (s *synProber) linkFilter(ifi raw.Interface) ([]bpf.Instruction, error) {
	return raw.Filter{TCPPorts: &s.ports, Neighbors: !ifi.NoARP}.Program()
}

func (s *synProber) start(p *probe) { s.startFor(p, p.port.Proto == ports.UDP) }

// wait sends the probes started since the last call, then returns those
// that ended, waiting up to d for the first.
func (s *synProber) wait(d time.Duration) []outcome {
	s.flush()
	return s.waitWith(d, s.waitOwn)
}

func (s *synProber) waitOwn(d time.Duration) []outcome {
	deadline := s.now().Add(d)
	for {
		s.expire()
		if s.waitOver() {
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
	return s.outcomes()
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

// nextDeadline is the earliest deadline of a probe in flight or of a
// neighbour resolution.
func (s *synProber) nextDeadline() time.Time {
	next := s.timeouts.next()
	if d := s.neighNext(s.neighTimeout()); !d.IsZero() && (next.IsZero() || d.Before(next)) {
		next = d
	}
	if c := s.linkTimeout(); c > 0 && len(s.onLink) > 0 {
		if d := s.onLink[0].base.Add(c); next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next
}

// flush routes the pending probes and sends them, one batch a link.
func (s *synProber) flush() {
	if len(s.pending) == 0 {
		return
	}
	now := s.now()
	for i, p := range s.pending {
		s.pending[i] = nil
		if d := s.route(p, now, false); d != nil {
			s.queue(p, d)
		}
	}
	s.pending = s.pending[:0]
	s.flushLinks()
	s.trim()
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

// queue builds p's SYN into its link's batch, and records it in flight.
func (s *synProber) queue(p *probe, d *rawDst) {
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
	s.track(p, newRawKey(dst, p.port.Number, sport))
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
	refused := j.refused // ascending, as the probes are walked
	for i, p := range j.probes {
		isRefused := len(refused) > 0 && refused[0] == i
		if isRefused {
			refused = refused[1:]
		}
		if p == nil {
			continue
		}
		if s.sent[keyOf(p)] != p {
			continue // answered already
		}
		if i >= j.n {
			s.sendFailed(p, j.err, j.done)
			continue
		}
		if isRefused {
			s.refused(p, j.done)
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
// says how many went, which of them a firewall refused, the error that
// stopped the rest, and when.
type sendJob struct {
	l       *rawLink
	frames  [][]byte
	probes  []*probe
	waits   []time.Duration
	n       int
	refused []int // the frames a firewall refused, of the n
	err     error
	done    time.Time
}

// send sends the batches given it until the prober closes.
func (s *synProber) send() {
	defer s.wg.Done()
	for job := range s.jobs {
		job.n, job.refused, job.err = writeAll(job.l.conn, job.frames)
		job.done = s.now()
		select {
		case s.sentJobs <- job:
		case <-s.stop:
			return
		}
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
	s.expireProbes(horizon, now)
	if c := s.linkTimeout(); c > 0 {
		for len(s.onLink) > 0 && !s.onLink[0].base.Add(c).After(horizon) {
			w := s.onLink[0]
			s.onLink[0] = linkWait{}
			s.onLink = s.onLink[1:]
			if s.sent[keyOf(w.p)] == w.p && w.p.sent == w.sent {
				s.drop(w.p)
				s.finish(w.p, silent, now)
			}
		}
		if len(s.onLink) == 0 {
			s.onLink = nil
		}
	}
	s.expireNeighbors(horizon, now, s.neighTimeout())
}

// match takes a batch of replies from a reader, and gives it back.
func (s *synProber) match(batch []rawReply) {
	defer s.recycle(batch)
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
func (s *synProber) matchTCP(r *rawReply) {
	t := r.p.TCP
	if t.Flags&raw.FlagACK == 0 || t.Ack-1 != s.key.cookie(r.p.Dst, r.p.Src, t.DstPort, t.SrcPort) {
		return // not an answer to a SYN of this run
	}
	var v verdict
	switch {
	case t.Flags&raw.FlagRST != 0:
		v = verdict{state: result.Closed, reason: result.ReasonReset, answered: true, ttl: r.p.TTL}
	case t.Flags&raw.FlagSYN != 0:
		v = verdict{state: result.Open, reason: result.ReasonSynAck, answered: true, ttl: r.p.TTL}
	default:
		return
	}
	s.settleSYN(newRawKey(r.p.Src, t.SrcPort, t.DstPort), v, r.at)
}

// matchICMP takes an ICMP error that quotes a probe of this run, cookie
// and all.
func (s *synProber) matchICMP(r *rawReply) {
	q := r.p.ICMP.Quote
	if q.Proto != unix.IPPROTO_TCP || !s.ports.Contains(q.SrcPort) || q.Seq != s.key.cookie(q.Src, q.Dst, q.SrcPort, q.DstPort) {
		return
	}
	m := result.ICMP{V6: r.p.ICMP.V6, Type: r.p.ICMP.Type, Code: r.p.ICMP.Code, FromTarget: r.p.Src == q.Dst}
	v := icmpVerdict(m, r.p.Src, ports.TCP)
	v.ttl = r.p.TTL // the ICMP packet's own: the target's, or a router's
	s.settleSYN(newRawKey(q.Dst, q.DstPort, q.SrcPort), v, r.at)
}

// settleSYN settles the SYN k names, timing the link by it.
func (s *synProber) settleSYN(k rawKey, v verdict, at time.Time) {
	if p := s.settle(k, v, at); p != nil && s.onTheLink(p) && p.host.rtt.n < 8 {
		s.linkRTT.sample(at.Sub(p.sent)) // a few from each host: enough for a link
	}
}

// matchNeighbor takes an ARP reply or neighbour advertisement, and sends
// the probes that waited for it.
func (s *synProber) matchNeighbor(r *rawReply) {
	for n := range s.resolved(r.p.Neighbor) {
		if n.tries == 1 {
			s.linkRTT.sample(r.at.Sub(n.asked)) // the answer to the one request sent
		}
		for _, p := range n.release() {
			s.queue(p, s.dests[p.addr.Addr().Unmap()])
		}
	}
}

func (s *synProber) close() {
	close(s.jobs)
	s.rawCore.close()
}
