package scanner

import (
	"math"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/targets"
)

type phase uint8

const (
	phaseDiscover phase = iota // trying the discovery ports
	phaseScan                  // up (or assumed up): scanning its ports
	phaseDown                  // nothing answered discovery
	phaseUp                    // up, and only discovery was asked for
)

// hostState is the engine's view of one host being scanned.
type hostState struct {
	target targets.Target
	seq    uint64 // admission order, from 1
	index  uint64 // place in the targets, from 1 (result.Host.Index)
	start  time.Time
	phase  phase
	up     bool
	reason string
	ttl    uint8      // of the reply that gave reason
	from   netip.Addr // who sent it, when not the host (result.Host.ReasonIP)

	discovery     []discProbe  // discovery probes to send
	nextDisc      int          // discovery probes sent so far
	discoveryDone int          // discovery probes finished
	skip          []ports.Port // ports already settled by discovery
	held          []heldResult // discovery results shown once the host is up
	// settled reports the ports an earlier run settled (Config.Resume).
	settled func(ports.Port) bool
	mac     net.HardwareAddr

	perm    permutation // order of the port list for this host
	retryQ  []*probe    // probes to send again
	pending int         // probes in flight
	probes  int         // probes sent
	silent  int         // probes that got no answer
	counts  [result.OpenFiltered + 1]int

	rtt      timing
	queued   bool // in the engine's ready queue
	finished bool
	cut      bool // probing stopped at Config.MaxOpen open ports
	// maxOpen is Config.MaxOpen: no more probes are in flight than could
	// still come back open, so that probing stops at the cap.
	maxOpen int

	// UDP against ICMP rate limiting: a closed port to use as a canary,
	// and once answers go missing, a limiter on this host's UDP probes.
	udpClosed uint16 // a UDP port it answered with port unreachable
	udpLimit  *rate.Limiter
	udpCut    time.Time // when the limit last tightened
	unreach   int       // port unreachables it sent
	// When the limit was found, and unreach then.
	limitedAt      time.Time
	unreachAtLimit int
	parkedUntil    time.Time // no probe before then
	parked         bool      // in the engine's parked list
}

type heldResult struct {
	port ports.Port
	o    outcome
}

// hasWork reports whether h has a probe to send now.
func (h *hostState) hasWork() bool {
	switch {
	case h.maxOpen > 0 && h.pending >= h.maxOpen-h.counts[result.Open]:
		return false // each probe in flight may yet be open
	case len(h.retryQ) > 0:
		return true
	case h.phase == phaseDiscover:
		return h.nextDisc < len(h.discovery)
	case h.phase == phaseScan:
		return h.perm.remaining() > 0
	}
	return false
}

func (h *hostState) requeue(p *probe) { h.retryQ = append(h.retryQ, p) }

// nextProbe returns h's next probe, or nil if it has none to send now.
func (h *hostState) nextProbe(e *engine) *probe {
	var p *probe
	switch {
	case len(h.retryQ) > 0:
		p = h.retryQ[0]
		h.retryQ[0] = nil
		h.retryQ = h.retryQ[1:]
		if len(h.retryQ) == 0 {
			h.retryQ = nil
		}
	case h.phase == phaseDiscover && h.nextDisc < len(h.discovery):
		p = newDiscoveryProbe(h.discovery[h.nextDisc])
		h.nextDisc++
		if e.scanPort(h, p) {
			h.skip = append(h.skip, p.port) // its result will stand for the scan too
		}
	case h.phase == phaseScan:
		for h.perm.remaining() > 0 {
			i := h.perm.next()
			port := e.portList[i]
			if e.owns(h, int(i)) && !slices.Contains(h.skip, port) && (h.settled == nil || !h.settled(port)) {
				p = &probe{port: port}
				if port.Proto == ports.UDP {
					p.payloads = payload.For(port.Number, splitmix(e.seed^uint64(port.Number)<<32^addrBits(h.target.Addr)))
				}
				break
			}
		}
	}
	if p == nil {
		return nil
	}
	if p.port.Proto == ports.UDP && h.udpLimit != nil {
		now := e.now()
		n := 1
		if p.canary != 0 {
			n = 2 // the canary costs an ICMP answer too
		}
		r := h.udpLimit.ReserveN(now, n)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			h.retryQ = append([]*probe{p}, h.retryQ...) // first when the wait is over
			h.parkedUntil = now.Add(d)
			return nil
		}
	}
	p.host = h
	p.addr = netip.AddrPortFrom(h.target.Addr, p.port.Number)
	p.fd = -1
	p.heapIdx = -1
	now := e.now()
	p.sent = now
	p.deadline = now.Add(e.timeout(h))
	return p
}

// hostQueue is a FIFO of hosts: popping the head and pushing it back to
// the tail serves hosts round-robin, so no host gets a burst of probes.
type hostQueue struct {
	buf        []*hostState
	head, size int
}

func (q *hostQueue) len() int { return q.size }

func (q *hostQueue) push(h *hostState) {
	if q.size == len(q.buf) {
		nb := make([]*hostState, max(16, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = h
	q.size++
	h.queued = true
}

func (q *hostQueue) pop() *hostState {
	h := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	h.queued = false
	return h
}

// permutation walks 0..n-1 in a scrambled order, i -> (a*i + b) mod n
// with a coprime to n, without storing the order.
type permutation struct {
	n, a, b, i uint64
}

// addrBits folds an address into 64 bits.
func addrBits(a netip.Addr) uint64 {
	b := a.As16()
	var x uint64
	for i, c := range b {
		x ^= uint64(c) << (8 * (i % 8))
	}
	return x
}

// newPermutation derives h's port order from the run's seed and its
// address, so a run with the same seed probes in the same order.
func newPermutation(n int, seed uint64, addr netip.Addr) permutation {
	if n <= 1 {
		return permutation{n: uint64(n), a: 1}
	}
	b16 := addr.As16()
	x := seed
	for i := 0; i < 16; i += 8 {
		x = splitmix(x ^ uint64(b16[i])<<56 ^ uint64(b16[i+1])<<48 ^ uint64(b16[i+2])<<40 ^ uint64(b16[i+3])<<32 ^
			uint64(b16[i+4])<<24 ^ uint64(b16[i+5])<<16 ^ uint64(b16[i+6])<<8 ^ uint64(b16[i+7]))
	}
	un := uint64(n)
	a := x%(un-1) + 1
	for gcd(a, un) != 1 {
		a = a%(un-1) + 1
	}
	return permutation{n: un, a: a, b: splitmix(x) % un}
}

func (p *permutation) remaining() uint64 { return p.n - p.i }

// stop ends the walk: no port remains.
func (p *permutation) stop() { p.i = p.n }

func (p *permutation) next() uint64 {
	// a, i < n <= 2^17, so a*i does not overflow.
	v := (p.a*p.i + p.b) % p.n
	p.i++
	return v
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// timing is a smoothed round trip time and its variation, kept as TCP
// keeps them (RFC 6298) and as nmap derives its probe timeouts.
type timing struct {
	srtt, rttvar time.Duration
	n            int
}

func (t *timing) measured() bool { return t.n > 0 }

func (t *timing) sample(r time.Duration) {
	if r < 0 {
		return
	}
	if t.n == 0 {
		t.srtt, t.rttvar = r, r/2
	} else {
		d := t.srtt - r
		if d < 0 {
			d = -d
		}
		t.rttvar = (3*t.rttvar + d) / 4
		t.srtt = (7*t.srtt + r) / 8
	}
	if t.n < math.MaxInt32 {
		t.n++
	}
}

// timeout is the smoothed RTT plus four variations.
func (t *timing) timeout() time.Duration { return t.srtt + 4*t.rttvar }
