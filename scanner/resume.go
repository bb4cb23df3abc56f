package scanner

import (
	"net/netip"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Resume is what earlier runs of the same scan did, for a run that goes
// on where they stopped (Config.Resume). The targets are taken again in
// the same order and numbered as before (result.Host.Index): a host
// Done says is finished is skipped without a probe and without events;
// a host Partial knows of goes on with its settled ports skipped; every
// other host is scanned as in a new run.
type Resume struct {
	// Done reports whether the host of that index was finished.
	Done func(index uint64) bool
	// Partial returns what was settled of the host of that index when
	// the earlier run stopped, or nil.
	Partial func(index uint64) *PartialHost
	// Summary holds the earlier runs' start and counts (hosts up, down
	// and unknown, open ports, probes) of the hosts Done says are
	// finished, the open ports of the partial hosts too: the run's
	// Summary goes on from them.
	Summary result.Summary
}

// PartialHost is a host an earlier run had begun and not finished.
type PartialHost struct {
	// Addr is the host's address; a target of that index with another
	// address (a name that now resolves elsewhere) is scanned anew.
	Addr   netip.Addr
	Up     bool   // found up; it is not asked again
	Reason string // why it is up
	TTL    uint8  // of the reply that gave Reason (result.Host.TTL)
	// ReasonIP is who sent the error that gave Reason, when not the
	// host (result.Host.ReasonIP).
	ReasonIP netip.Addr
	Start    time.Time
	// Probes and Silent go on from these counts; Probes adds to the
	// run's Summary.
	Probes, Silent int
	// Counts are the states of its settled ports.
	Counts map[result.State]int
	// Settled reports whether the port was settled: it is not probed
	// again. Nil means none was.
	Settled func(ports.Port) bool
}

// restore sets h up to go on from p: past discovery, with its counts.
func (e *engine) restore(h *hostState, p *PartialHost) {
	h.phase = phaseScan
	h.discovery = nil
	h.up, h.reason, h.ttl, h.from = p.Up, p.Reason, p.TTL, p.ReasonIP
	if !p.Start.IsZero() {
		h.start = p.Start
	}
	h.probes, h.silent = p.Probes, p.Silent
	e.stats.Probes += int64(p.Probes)
	for s, n := range p.Counts {
		if int(s) < len(h.counts) && n > 0 {
			h.counts[s] += n
			e.settled += int64(n)
		}
	}
	h.settled = p.Settled
	if e.cfg.MaxOpen > 0 && h.counts[result.Open] >= e.cfg.MaxOpen {
		h.cut = true // it had been cut short, its record not yet written
		h.perm.stop()
	}
}

// takenPorts is how many ports the target just taken has to scan:
// those it owns, in a shard.
func (e *engine) takenPorts() int {
	if e.shard == nil {
		return len(e.portList)
	}
	return e.shard.Count(e.taken)
}

// watch tells Config.Watch of h.
func (e *engine) watch(h *hostState) {
	if e.cfg.Watch == nil {
		return
	}
	e.cfg.Watch(result.Host{Addr: h.target.Addr, Hostname: h.target.Name, Up: h.up, Reason: h.reason, TTL: h.ttl, ReasonIP: h.from,
		Start: h.start, Source: "scan", Seq: h.seq, Index: h.index})
}

// PortList is the list of the ports of set the engine probes: its TCP
// and UDP ports, in the order set.Ports yields them. PortOrder walks
// its indexes.
func PortList(set *ports.Set) []ports.Port {
	var list []ports.Port
	if set == nil {
		return nil
	}
	for p := range set.Ports() {
		if p.Proto == ports.TCP || p.Proto == ports.UDP {
			list = append(list, p)
		}
	}
	return list
}

// PortOrder is the order in which the engine walks the ports of one
// host: step i of the walk probes PortList(cfg.Ports)[At(i)]. It
// depends only on the number of ports, the seed and the address, so
// that a checkpoint can say in a few numbers which ports of a host are
// settled (those of the first steps, and a few more).
type PortOrder struct {
	p   permutation
	inv uint64 // a's inverse modulo n
}

// NewPortOrder returns the order of n ports on the host at addr in a
// run with that seed (Config.Seed; a run given none picks one).
func NewPortOrder(n int, seed uint64, addr netip.Addr) PortOrder {
	p := newPermutation(n, seed, addr)
	return PortOrder{p: p, inv: modInverse(p.a, p.n)}
}

// Len is the number of ports.
func (o PortOrder) Len() int { return int(o.p.n) }

// At returns the index of the port probed at step i, 0 <= i < Len.
func (o PortOrder) At(i int) int {
	return int((o.p.a*uint64(i) + o.p.b) % o.p.n)
}

// Step returns the step at which the port of that index is probed, the
// inverse of At.
func (o PortOrder) Step(index int) int {
	n := o.p.n
	return int(o.inv * ((uint64(index) + n - o.p.b%n) % n) % n)
}

// modInverse returns x such that a*x = 1 mod n, for a coprime to n.
func modInverse(a, n uint64) uint64 {
	if n <= 1 {
		return 0
	}
	// Extended Euclid on signed values; a, n < 2^17.
	t, newT := int64(0), int64(1)
	r, newR := int64(n), int64(a%n)
	for newR != 0 {
		q := r / newR
		t, newT = newT, t-q*newT
		r, newR = newR, r-q*newR
	}
	if t < 0 {
		t += int64(n)
	}
	return uint64(t)
}
