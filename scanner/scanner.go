// Package scanner is portscan's probe engine: it scans the TCP and UDP
// ports of a stream of targets and emits each port's [result.Port] and
// each host's [result.Host] to a [result.Sink] as soon as they are known.
// It never prints: formatting is the output package's job.
//
// TCP ports get a connect probe, which needs no privileges, or with
// [Config.Syn] a raw SYN (package raw sends and receives the frames; it
// needs CAP_NET_RAW); UDP ports get
// a datagram (a well-formed request where the port's service needs one,
// from package payload), and their ICMP errors are read from the socket's
// error queue. On Linux the probes run on non-blocking sockets under one
// epoll instance per CPU, so tens of thousands can be in flight without a
// goroutine each. A zero [Config] but for its Ports works: ports are
// labelled from the built-in catalog, and timing follows nmap's -T4.
//
// Hosts are first asked whether they are up: by connects to 80 and 443,
// or with Config.RawDiscovery by raw packets, as nmap does with
// privileges: an ARP request or NDP neighbour solicitation to a host on
// one of the scanner's links, which it answers whatever its firewall
// drops (its MAC address goes in its record, with the vendor the IEEE
// registry names), and Config.Pings (ICMP echo and timestamp, TCP SYN
// and ACK, UDP) to the others.
//
// The probe sockets share the descriptors that the open-file limit leaves
// free once the process has what it needs for itself; below that floor
// Run (and [CheckFileLimit], beforehand) returns a [*FileLimitError].
// Above it a scan always makes progress: when the system refuses a socket
// the concurrency drops, down to one probe in flight, and the refused
// probe waits for one to end.
//
// A run may scan one share of a scan split across runs ([Config.Shard],
// package shard): it probes only the ports of each host that its share
// owns, and reports only the hosts that own some. Every host record
// carries the host's place in the targets ([result.Host.Index]), the
// same in every shard.
package scanner

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
	"github.com/portscan/portscan/shard"
	"github.com/portscan/portscan/targets"
)

// ErrNoPorts is returned by Run when the Config names no port to probe.
var ErrNoPorts = errors.New("no ports to scan")

// ErrSink wraps the error of a Sink that failed, which stopped the run.
var ErrSink = errors.New("writing output")

// Run scans every target on every port of cfg.Ports and emits to sink
// each port's result once its state is final (for hosts found up) and
// each host's record after its ports. Run does not call sink's Begin or
// End: the caller opens and closes the run with the Info and the
// Summary it knows. Run returns when all are done, when ctx is cancelled
// (then Summary.Interrupted is set and the error is ctx's), or when sink
// fails (the error wraps the sink's). Results already emitted stand.
func Run(ctx context.Context, cfg Config, tgts iter.Seq2[targets.Target, error], sink result.Sink) (result.Summary, error) {
	if cfg.DiscoverOnly {
		cfg.Ports = nil // nothing but the discovery ports is probed
	} else if cfg.Ports == nil || cfg.Ports.Len(ports.TCP)+cfg.Ports.Len(ports.UDP) == 0 {
		return result.Summary{}, ErrNoPorts
	}
	plan, err := planFiles(&cfg)
	if err != nil {
		return result.Summary{}, err
	}
	e := newEngine(cfg, sink)
	if err := e.planShard(); err != nil {
		return result.Summary{}, err
	}
	udp := cfg.Ports != nil && cfg.Ports.Len(ports.UDP) > 0
	if n := plan.probes(); n > 0 && (!cfg.Syn || udp) && !cfg.rawOnly() { // raw probes take no descriptor
		e.maxLimit = min(e.maxLimit, n)
		e.limit = e.maxLimit
	}
	var pr prober
	if cfg.Syn {
		var udpProber func() (prober, error)
		if udp {
			udpProber = func() (prober, error) {
				if cfg.Dial != nil || !rawAvailable {
					return newDialProber(ctx, cfg.Dial, e.now), nil
				}
				return newConnectProber(ctx, e.now, plan)
			}
		}
		sp, err := newSynProber(ctx, e.now, cfg.minRTTTimeout(), cfg.initialRTTTimeout(), udpProber)
		if err != nil {
			return result.Summary{}, fmt.Errorf("starting the SYN prober: %w", err)
		}
		pr = sp
	} else if cfg.Dial == nil && rawAvailable {
		cp, err := newConnectProber(ctx, e.now, plan)
		if err != nil {
			return result.Summary{}, fmt.Errorf("starting the prober: %w", err)
		}
		pr = cp
	} else {
		pr = newDialProber(ctx, cfg.Dial, e.now)
	}
	if cfg.RawDiscovery && (cfg.DiscoverOnly || !cfg.SkipDiscovery) {
		pp, err := newPingProber(e.now, pr, &cfg)
		if err != nil {
			pr.close()
			return result.Summary{}, fmt.Errorf("starting raw discovery: %w", err)
		}
		pr, e.pinger = pp, pp
	}
	e.pr = pr
	defer pr.close()
	return e.run(ctx, tgts)
}

// engine is the state of one run, owned by the goroutine in run.
type engine struct {
	cfg      Config
	sink     result.Sink
	sinkErr  error // the sink's first error; it stops the run
	pr       prober
	now      func() time.Time
	portList []ports.Port
	label    services.Labeler
	limiter  *rate.Limiter

	// limit is the concurrency in force; it drops when the system runs out
	// of sockets or ephemeral ports and climbs back as probes succeed.
	limit, maxLimit int
	sinceBackoff    int
	// When a socket cannot be had with no probe in flight, nothing is sent
	// before holdUntil; stalls counts those refusals since stallSince, the
	// first of them since a probe last ended. After stallLimit of them
	// the run fails with stalled.
	holdUntil, stallSince time.Time
	stalls                int
	stallLimit            time.Duration
	stalled               error

	active   int                   // hosts admitted and not finished
	live     map[uint64]*hostState // the same hosts, by seq
	ready    hostQueue             // hosts with a probe to send now
	parked   []*hostState          // hosts waiting for their UDP rate limit
	seed     uint64                // of the probe order
	admitted uint64                // hosts admitted so far
	taken    uint64                // targets taken from the iterator, admitted or not
	shard    *shard.Plan           // the share of a sharded run; nil for the whole scan
	discIdx  map[ports.Port]int    // in a shard, the discovery ports' places in portList
	stats    result.Summary
	retries  int
	timing   timing // network-wide RTT, for hosts not yet measured
	settled  int64  // ports settled, for Stats
	nextTick time.Time
	began    time.Time // of this run; stats.Start may be an earlier run's

	// pinger is raw discovery, which chooses the hosts' discovery
	// probes; vendors names the vendors of the MACs it finds.
	pinger      planner
	vendors     vendors
	connectPlan []discProbe
}

func newEngine(cfg Config, sink result.Sink) *engine {
	e := &engine{cfg: cfg, sink: sink, now: cfg.now, label: cfg.label(), live: make(map[uint64]*hostState),
		vendors: vendors{fn: cfg.Vendor, warn: cfg.warn}}
	e.portList = PortList(cfg.Ports)
	e.maxLimit = cfg.concurrency()
	e.limit = e.maxLimit
	e.stallLimit = defaultStallLimit
	e.retries = cfg.retries()
	e.seed = cfg.Seed
	if e.seed == 0 {
		e.seed = rand.Uint64()
	}
	if cfg.Rate > 0 {
		e.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate/100)))
	}
	return e
}

func (e *engine) run(ctx context.Context, tgts iter.Seq2[targets.Target, error]) (result.Summary, error) {
	e.stats.Start = e.now()
	e.began = e.stats.Start
	if r := e.cfg.Resume; r != nil {
		e.stats = r.Summary
		e.stats.End, e.stats.Interrupted, e.stats.Capture = time.Time{}, false, nil
		if e.stats.Start.IsZero() {
			e.stats.Start = e.now()
		}
	}
	e.nextTick = e.now().Add(e.cfg.progressEvery())
	defer e.progress()
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	f := startFeed(feedCtx, tgts)
	group := e.cfg.hostGroup()
	for {
		f.warnings(e.cfg.warn)
		if ctx.Err() != nil || e.sinkErr != nil {
			break
		}
		e.admitHosts(ctx, f, group)
		if ctx.Err() != nil || !f.open && e.active == 0 && e.pr.inflight() == 0 {
			break
		}
		wake := 50 * time.Millisecond
		if f.open && e.active < group {
			wake = 5 * time.Millisecond // more targets may be waiting
		}
		for _, o := range e.pr.wait(e.send(wake)) {
			e.handle(o)
		}
		if now := e.now(); e.cfg.Progress != nil && !now.Before(e.nextTick) {
			e.nextTick = now.Add(e.cfg.progressEvery())
			e.progress()
		}
		if e.stalled != nil {
			e.stats.End = e.now()
			return e.stats, e.stalled
		}
		if e.shard != nil && e.taken > e.cfg.Hosts {
			e.stats.End = e.now()
			return e.stats, fmt.Errorf("%w: more targets than the %d of Config.Hosts", ErrShardHosts, e.cfg.Hosts)
		}
		if err := e.pr.err(); err != nil {
			e.stats.End = e.now()
			return e.stats, fmt.Errorf("prober: %w", err)
		}
	}
	e.stats.End = e.now()
	if err := ctx.Err(); err != nil {
		e.stats.Interrupted = true
		// Report the hosts in flight as they stand, so that the outputs
		// list and count every host the run had begun.
		for _, seq := range slices.Sorted(maps.Keys(e.live)) {
			if e.sinkErr != nil {
				break
			}
			e.finish(e.live[seq], true)
		}
		return e.stats, err
	}
	if e.sinkErr != nil {
		e.stats.Interrupted = true
		return e.stats, fmt.Errorf("%w: %w", ErrSink, e.sinkErr)
	}
	if e.shard != nil {
		if e.taken != e.cfg.Hosts {
			return e.stats, fmt.Errorf("%w: %d targets, Config.Hosts says %d", ErrShardHosts, e.taken, e.cfg.Hosts)
		}
		if len(e.portList) > exactDown {
			// Hosts found down counted their expected share (downPorts);
			// every owned port is settled now.
			e.settled = int64(e.shard.Len())
		}
	}
	return e.stats, nil
}

// progress tells Config.Progress the counts so far.
func (e *engine) progress() {
	if e.cfg.Progress == nil {
		return
	}
	e.cfg.Progress(Stats{
		Elapsed:     e.now().Sub(e.began),
		Probes:      e.stats.Probes,
		InFlight:    e.pr.inflight(),
		HostsDone:   e.stats.HostsUp + e.stats.HostsDown + e.stats.HostsUnknown,
		HostsUp:     e.stats.HostsUp,
		HostsActive: e.active,
		Ports:       e.settled,
	})
}

// feed brings the targets from their iterator, which may block (names
// resolve), to the engine's loop.
type feed struct {
	targets chan targets.Target
	errs    chan error
	open    bool // more targets may come
}

func startFeed(ctx context.Context, tgts iter.Seq2[targets.Target, error]) *feed {
	f := &feed{targets: make(chan targets.Target, 256), errs: make(chan error, 16), open: true}
	go func() {
		defer close(f.targets)
		for t, err := range tgts {
			if err != nil {
				select {
				case f.errs <- err:
				case <-ctx.Done():
					return
				}
				continue
			}
			select {
			case f.targets <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	return f
}

// warnings reports the target errors waiting, without blocking.
func (f *feed) warnings(warn func(error)) {
	for {
		select {
		case err := <-f.errs:
			warn(err)
		default:
			return
		}
	}
}

// admitHosts admits hosts up to the group size: those waiting, or, when
// the engine has nothing else to do, the next one to come.
func (e *engine) admitHosts(ctx context.Context, f *feed, group int) {
	for f.open && e.active < group {
		var t targets.Target
		ok := true
		if e.active == 0 && e.pr.inflight() == 0 {
			select { // nothing else to do: wait for a target
			case t, ok = <-f.targets:
			case err := <-f.errs:
				e.cfg.warn(err)
				continue
			case <-ctx.Done():
				return
			}
		} else {
			select {
			case t, ok = <-f.targets:
			default:
				return // none waiting now
			}
		}
		if !ok {
			f.open = false
			return
		}
		e.admit(t)
	}
}

// send starts what the limits allow, one host after another, and says
// how long to wait for answers: at most wake, less when a parked host,
// a hold or the rate limit frees a probe sooner.
func (e *engine) send(wake time.Duration) time.Duration {
	if d := e.unpark(); d > 0 {
		wake = min(wake, d)
	}
	if d := e.holdUntil.Sub(e.now()); d > 0 {
		wake = min(wake, d)
	}
	// A hold is rare: without one the clock is not read per probe.
	for e.pr.inflight() < e.limit && e.ready.len() > 0 && (e.holdUntil.IsZero() || !e.now().Before(e.holdUntil)) {
		if e.limiter != nil {
			now := e.now()
			r := e.limiter.ReserveN(now, 1)
			if d := r.DelayFrom(now); d > 0 {
				r.CancelAt(now)
				return min(wake, d)
			}
		}
		h := e.ready.pop()
		if p := h.nextProbe(e); p != nil {
			e.stats.Probes++
			h.probes++
			h.pending++
			e.pr.start(p)
		}
		e.schedule(h)
	}
	return wake
}

// admit starts scanning t, the next target; in a shard, only if the
// shard owns one of its ports. With Config.Resume, it skips t or goes
// on with it.
func (e *engine) admit(t targets.Target) {
	e.taken++
	if e.shard != nil && !e.shard.Any(e.taken) {
		return
	}
	var part *PartialHost
	if r := e.cfg.Resume; r != nil {
		if r.Done != nil && r.Done(e.taken) {
			e.settled += int64(e.takenPorts())
			return
		}
		if r.Partial != nil && !e.cfg.DiscoverOnly {
			if part = r.Partial(e.taken); part != nil && part.Addr != t.Addr {
				part = nil
			}
		}
	}
	e.admitted++
	h := &hostState{
		seq:     e.admitted,
		index:   e.taken,
		target:  t,
		start:   e.now(),
		perm:    newPermutation(len(e.portList), e.seed, t.Addr),
		maxOpen: e.cfg.MaxOpen,
	}
	if e.cfg.SkipDiscovery && !e.cfg.DiscoverOnly {
		h.phase = phaseScan
	} else {
		h.phase = phaseDiscover
		h.discovery = e.discoveryFor(t.Addr)
	}
	if part != nil {
		e.restore(h, part)
	}
	e.watch(h)
	e.active++
	e.live[h.seq] = h
	e.ready.push(h)
}

// timeout is how long a probe to h may wait for its answer.
//
// A host that has not answered yet is given the other hosts' timeout, but
// at least half the initial one: on a LAN that finds dead hosts in a
// fraction of a second, while a far host is not called down for being
// slower than the near ones that answered first.
func (e *engine) timeout(h *hostState) time.Duration {
	lo, hi := e.cfg.minRTTTimeout(), e.cfg.maxRTTTimeout()
	switch {
	case h.rtt.measured():
		return min(max(h.rtt.timeout(), lo), hi)
	case e.timing.measured():
		return min(max(e.timing.timeout(), lo, e.cfg.initialRTTTimeout()/2), hi)
	}
	return e.cfg.initialRTTTimeout()
}

// handle takes one finished probe.
func (e *engine) handle(o outcome) {
	p, h := o.p, o.p.host
	h.pending--
	if h.cut {
		// Probing stopped at MaxOpen. hasWork keeps no more probes in
		// flight than could be open, so none should be; should one be,
		// it is not reported.
		if o.v.again {
			e.stats.Probes--
			h.probes--
		}
		e.schedule(h)
		return
	}
	if o.v.again {
		// Never sent: back off and send it again later.
		e.stats.Probes--
		h.probes--
		if !o.v.self {
			e.backoff(o.v.cause)
		}
		h.requeue(p)
		e.schedule(h)
		return
	}
	e.stalls = 0
	e.recover()
	if o.v.answered {
		h.rtt.sample(o.rtt)
		e.timing.sample(o.rtt)
	} else {
		h.silent++
	}
	silent := o.v.reason == result.ReasonNoResponse && (o.v.state == result.Filtered || o.v.state == result.OpenFiltered)
	if p.port.Proto == ports.UDP && e.udpSilence(h, p, o.v, silent) {
		e.schedule(h)
		return
	}
	// Retry a silent port, unless it was only asked whether the host is
	// up and another port has answered that already.
	moot := p.discover && h.phase != phaseDiscover && !e.scanPort(h, p)
	if silent && p.try < e.retries && !moot && p.port.Proto != ports.UDP {
		p.try++
		h.requeue(p)
		e.schedule(h)
		return
	}
	alive := o.v.state == result.Open || o.v.state == result.Closed
	if p.discover {
		e.discovered(h, p, o, alive)
	} else {
		if alive && !h.up {
			h.up, h.reason, h.ttl, h.from = true, o.v.reason, o.v.ttl, o.v.from
			e.watch(h)
		}
		e.emitPort(h, p.port, o)
	}
	e.schedule(h)
}

// discovered takes the answer to a discovery probe: the first live one
// shows h up, and ends its discovery (and, with DiscoverOnly, its
// scan); a port of the scan that discovery probed is reported once h
// is being scanned, held until then.
func (e *engine) discovered(h *hostState, p *probe, o outcome, alive bool) {
	h.discoveryDone++
	if alive && h.phase == phaseDiscover {
		h.phase = phaseScan
		if e.cfg.DiscoverOnly {
			h.phase = phaseUp
		}
		h.reason, h.ttl, h.from = o.v.reason, o.v.ttl, o.v.from
		h.up = true
		h.mac = p.mac
		e.watch(h)
	}
	if e.scanPort(h, p) {
		if h.phase == phaseScan {
			e.emitPort(h, p.port, o)
		} else {
			h.held = append(h.held, heldResult{p.port, o})
		}
	}
	if h.phase == phaseScan {
		for _, r := range h.held {
			e.emitPort(h, r.port, r.o)
		}
		h.held = nil
	}
	if h.phase == phaseDiscover && h.discoveryDone == len(h.discovery) {
		h.phase = phaseDown
		h.reason, h.ttl, h.from = o.v.reason, o.v.ttl, o.v.from
	}
}

func (e *engine) emitPort(h *hostState, port ports.Port, o outcome) {
	if h.cut {
		return
	}
	e.settled++
	h.counts[o.v.state]++
	if o.v.state == result.Open {
		e.stats.Open++
		if e.cfg.MaxOpen > 0 && h.counts[result.Open] >= e.cfg.MaxOpen {
			// Enough: a host that opens this many ports is probed no
			// more (a tarpit would take a probe and a result per port).
			h.cut = true
			h.perm.stop()
			h.retryQ = nil
			h.held = nil
		}
	}
	r := result.Port{
		Host:     h.target.Addr,
		Hostname: h.target.Name,
		Port:     port,
		State:    o.v.state,
		TTL:      o.v.ttl,
		Reason:   o.v.reason,
		ReasonIP: o.v.from,
		Time:     e.now(),
		Source:   "scan",
	}
	if o.v.answered {
		r.RTT = o.rtt
	}
	r.Service = e.label(port)
	e.emit(e.sink.Port(r))
}

// emit keeps the sink's first error, which ends the run.
func (e *engine) emit(err error) {
	if err != nil && e.sinkErr == nil {
		e.sinkErr = err
	}
}

func (e *engine) portIn(p ports.Port) bool { return e.cfg.Ports != nil && e.cfg.Ports.Contains(p) }

// schedule puts h back in the ready queue if it has probes to send, or
// finishes it if it has none left and none in flight.
func (e *engine) schedule(h *hostState) {
	if h.finished || h.parked {
		return
	}
	if h.hasWork() {
		if !h.parkedUntil.IsZero() && h.parkedUntil.After(e.now()) {
			h.parked = true
			e.parked = append(e.parked, h)
			return
		}
		if !h.queued {
			e.ready.push(h)
		}
		return
	}
	if h.pending > 0 {
		return
	}
	e.finish(h, false)
}

// finish counts h in the summary and emits its record. An interrupted
// run finishes the hosts in flight as incomplete: up if they answered,
// else of unknown state (down only if discovery had ended).
func (e *engine) finish(h *hostState, interrupted bool) {
	h.finished = true
	e.active--
	delete(e.live, h.seq)
	if h.phase == phaseDown && len(e.portList) > 0 {
		e.settled += e.downPorts(h)
	}
	if h.udpLimit != nil {
		e.tellICMPLimit(h, false, true)
	}
	var srtt, rttvar time.Duration
	if h.rtt.measured() {
		srtt, rttvar = h.rtt.srtt, h.rtt.rttvar
	}
	incomplete := interrupted && h.phase != phaseDown
	switch {
	case h.up:
		e.stats.HostsUp++
	case incomplete:
		e.stats.HostsUnknown++
	default:
		e.stats.HostsDown++
		if h.reason == "" {
			h.reason = result.ReasonNoResponse
		}
	}
	counts := make(map[result.State]int, 4)
	decided := 0
	for s, n := range h.counts {
		if n > 0 {
			counts[result.State(s)] = n
			decided += n
		}
	}
	rec := result.Host{
		Addr:       h.target.Addr,
		Hostname:   h.target.Name,
		Up:         h.up,
		Reason:     h.reason,
		TTL:        h.ttl,
		ReasonIP:   h.from,
		Probes:     h.probes,
		Silent:     h.silent,
		RTT:        srtt,
		RTTVar:     rttvar,
		Timeout:    e.timeout(h),
		Counts:     counts,
		Start:      h.start,
		End:        e.now(),
		Source:     "scan",
		Seq:        h.seq,
		Index:      h.index,
		Incomplete: incomplete,
		Tarpit:     result.IsTarpit(counts),
		CutShort:   h.cut,
		MAC:        h.mac,
		Vendor:     e.vendors.name(h.mac),
	}
	if h.cut {
		rec.Unscanned = e.hostPorts(h) - decided
		e.settled += int64(rec.Unscanned)
	}
	e.emit(e.sink.Host(rec))
}

// udpLimitedRetries are the extra tries a silent UDP port gets on a host
// whose ICMP answers are rate limited.
const udpLimitedRetries = 6

// udpSilence decides what follows a UDP probe's outcome, and reports
// whether p went back to be sent again.
//
// Linux sends at most about one ICMP port unreachable a second to each
// peer (after a burst of a few), so a closed port probed fast stays
// silent and looks open|filtered. Before a silent port is called
// open|filtered on a host that has shown a closed port, it is probed once
// more together with a canary: a datagram to that closed port right
// after it. If the canary's port unreachable comes back, ICMP was flowing
// and the silence is the port's own. If the canary is silent too, the
// answers are being rate limited: the host's UDP probes slow down (halving
// down to one a second) and the port is asked again.
func (e *engine) udpSilence(h *hostState, p *probe, v verdict, silent bool) bool {
	switch {
	case v.state == result.Closed && v.reason == result.ReasonPortUnreach:
		h.unreach++
		if h.udpClosed == 0 {
			h.udpClosed = p.port.Number
		}
		return false
	case !silent:
		return false
	case v.limited:
		e.limitUDP(h)
		if p.try < e.retries+udpLimitedRetries {
			p.try++
			h.requeue(p)
			return true
		}
		return false
	case p.canary != 0:
		// The canary answered: this silence is the port's own.
		e.loosenUDP(h)
		return false
	case p.try < e.retries:
		p.try++
		h.requeue(p)
		return true
	case h.udpClosed != 0 && h.udpClosed != p.port.Number:
		p.try++
		p.canary = h.udpClosed
		h.requeue(p)
		return true
	}
	return false
}

// udpStartRate is the first UDP probe rate for a host found rate limiting
// its ICMP errors; it halves at each further loss, down to one a second
// (Linux's default limit is one a second per destination, after a burst).
const udpStartRate = 50

// limitUDP starts or tightens h's UDP probe rate, at most once a timeout.
func (e *engine) limitUDP(h *hostState) {
	now := e.now()
	if h.udpLimit == nil {
		h.udpLimit = rate.NewLimiter(udpStartRate, 2) // 2: a probe and its canary
		h.udpCut, h.limitedAt, h.unreachAtLimit = now, now, h.unreach
		e.tellICMPLimit(h, true, false)
		return
	}
	if now.Sub(h.udpCut) < e.timeout(h) {
		return
	}
	h.udpCut = now
	h.udpLimit.SetLimitAt(now, max(1, h.udpLimit.Limit()/2))
	e.tellICMPLimit(h, false, false)
}

// tellICMPLimit tells Config.ICMPLimit of h's limit: the port
// unreachables it sent since the limit was found, over the time since,
// once that is a second or more.
func (e *engine) tellICMPLimit(h *hostState, first, done bool) {
	if e.cfg.ICMPLimit == nil {
		return
	}
	ev := ICMPLimit{Addr: h.target.Addr, ProbeRate: float64(h.udpLimit.Limit()), First: first, Done: done}
	if d := e.now().Sub(h.limitedAt).Seconds(); d >= 1 {
		ev.ICMPRate = float64(h.unreach-h.unreachAtLimit) / d
	}
	e.cfg.ICMPLimit(ev)
}

// loosenUDP lets h's UDP rate climb back after a canary came through.
func (e *engine) loosenUDP(h *hostState) {
	if h.udpLimit != nil && h.udpLimit.Limit() < udpStartRate {
		h.udpLimit.SetLimitAt(e.now(), min(udpStartRate, h.udpLimit.Limit()*5/4+1))
	}
}

// unpark returns the hosts whose wait for their rate limit is over to the
// ready queue, and says how long until the next one is due (0: none).
func (e *engine) unpark() time.Duration {
	if len(e.parked) == 0 {
		return 0
	}
	now := e.now()
	var next time.Duration
	kept := e.parked[:0]
	for _, h := range e.parked {
		if d := h.parkedUntil.Sub(now); d > 0 {
			kept = append(kept, h)
			if next == 0 || d < next {
				next = d
			}
			continue
		}
		h.parked = false
		e.schedule(h)
	}
	clear(e.parked[len(kept):])
	e.parked = kept
	return next
}

// Waits after a socket was refused with no probe in flight: the first
// is stallDelay, each next twice as long up to maxStallDelay; after
// defaultStallLimit of them without a probe sent the run fails.
const (
	stallDelay        = time.Millisecond
	maxStallDelay     = 25 * time.Millisecond
	defaultStallLimit = 10 * time.Second
)

// backoff lowers the concurrency after the system refused a socket
// (cause), down to one probe in flight, so that the probe sent again
// waits for one in flight to end and free its descriptor. With none in
// flight, what holds the descriptors is outside the scan: it waits a
// little longer each time, and fails the run when that lasts.
func (e *engine) backoff(cause error) {
	n := e.pr.inflight()
	e.limit = max(1, n*3/4)
	e.sinceBackoff = 0
	if n > 0 {
		return
	}
	now := e.now()
	if e.stalls == 0 {
		e.stallSince = now
	}
	e.stalls++
	if waited := now.Sub(e.stallSince); waited >= e.stallLimit {
		if cause == nil {
			cause = errors.New("the system refused")
		}
		e.stalled = fmt.Errorf("%w for %v with no probe in flight (%d tries): %w", ErrNoSockets, waited.Round(time.Second), e.stalls, cause)
		return
	}
	e.holdUntil = now.Add(min(maxStallDelay, stallDelay<<min(e.stalls-1, 16)))
}

// recover raises the concurrency back towards its maximum as probes
// succeed.
func (e *engine) recover() {
	if e.limit >= e.maxLimit {
		return
	}
	e.sinceBackoff++
	if e.sinceBackoff >= 64 {
		e.sinceBackoff = 0
		e.limit = min(e.maxLimit, e.limit+e.limit/8+1)
	}
}
