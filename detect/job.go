package detect

import (
	"context"
	"net"
	"slices"
	"time"

	"github.com/portscan/portscan/result"
)

// job is the detection of one open TCP port. Its stages run in order
// until one decides:
//
//  1. converse in the clear: wait for a greeting (not on ports whose
//     usual protocols all speak second, where the wait is skipped),
//     then send the probes of the protocols usual on the port;
//  2. TLS: a handshake, then the same conversation inside the tunnel
//     (first instead, on ports usual for a protocol over TLS);
//  3. the probes of the user's nmap-service-probes file, if one was
//     given (Config.ServiceProbes);
//  4. the generic probes (an HTTP GET, a blank line);
//  5. the probes of every other protocol.
//
// Every probe after the first goes on a connection of its own, so that
// no server answers a request muddled by the one before.
type job struct {
	c      *Config
	addr   string
	port   uint16
	name   string        // the target's name, for SNI and HTTP's Host; "" for an address
	greet  time.Duration // the wait for a greeting
	answer time.Duration // the wait for an answer or a handshake
	usual  []*Protocol   // the protocols usual on port

	sent    map[bool]map[string]bool // payloads sent, in the clear (false) and in TLS (true)
	best    result.Service
	have    bool   // best holds a match
	decided bool   // best is sure enough to stop
	first   []byte // the first bytes any reply carried
	matched []byte // the first bytes of the reply that named best
	gone    bool   // a connection failed: the port is closed or out of budget
	tlsDone bool   // the TLS stage ran
	tls     *result.TLS
}

func newJob(c *Config, p result.Port) *job {
	j := &job{
		c: c, addr: addrOf(p), port: p.Port.Number, name: serverName(p),
		greet: c.greetWait(p.RTT), answer: c.answerWait(p.RTT),
		sent: map[bool]map[string]bool{false: {}, true: {}},
	}
	for _, pr := range Protocols() {
		if slices.Contains(pr.Ports, j.port) {
			j.usual = append(j.usual, pr)
		}
	}
	return j
}

// layer is the clear or TLS: how its connections are opened.
type layer struct {
	tls  bool
	open func(ctx context.Context) (net.Conn, error)
}

func (j *job) run(ctx context.Context) result.Service {
	clear := layer{open: j.openClear}
	talk := func(ctx context.Context) bool { return j.converse(ctx, clear) }
	stages := []func(context.Context) bool{talk, j.tlsStage}
	if j.tlsFirst() {
		stages = []func(context.Context) bool{j.tlsStage, talk}
	}
	stages = append(stages,
		func(ctx context.Context) bool { return j.serviceProbes(ctx, clear) },
		func(ctx context.Context) bool { return j.generic(ctx, clear) },
		func(ctx context.Context) bool { return j.others(ctx, clear) })
	for _, stage := range stages {
		if ctx.Err() != nil || j.gone || stage(ctx) || j.decided {
			break
		}
	}
	return j.result()
}

// tlsFirst says whether the port is usual for a protocol over TLS.
func (j *job) tlsFirst() bool {
	return slices.ContainsFunc(j.usual, func(p *Protocol) bool { return p.TLS || p.Handshake })
}

// greeterPort says whether a protocol usual on the port speaks first:
// its greeting is worth the longer wait.
func (j *job) greeterPort() bool {
	return slices.ContainsFunc(j.usual, func(p *Protocol) bool {
		return p.Probe == nil && p.Match != nil && !p.Handshake
	})
}

// probes are the protocols usual on the port whose client speaks
// first: those of the clear, or in TLS all of them.
func (j *job) probes(inTLS bool) []*Protocol {
	var out []*Protocol
	for _, p := range j.usual {
		if p.Probe != nil && p.Match != nil && (inTLS || !p.TLS) {
			out = append(out, p)
		}
	}
	return out
}

// converse waits for a greeting, then sends the usual probes; the
// first probe goes on the greeting's connection if the server kept it
// open.
func (j *job) converse(ctx context.Context, l layer) bool {
	probes := j.probes(l.tls)
	conn, err := l.open(ctx)
	if err != nil {
		return false
	}
	if len(probes) == 0 || j.greeterPort() {
		wait := j.greet
		if j.greeterPort() {
			wait = j.answer
		}
		got, open := j.read(ctx, conn, wait, func(b []byte) (bool, bool) {
			s, ok, more := Greeting(j.port, b)
			if ok {
				j.offer(s, b, l.tls)
			}
			return ok, more
		})
		j.saw(got)
		if j.decided || !open {
			conn.Close()
			conn = nil
		}
		if j.decided {
			return true
		}
	}
	for _, p := range probes {
		if j.ask(ctx, l, conn, p.Probe(j.name), p) {
			return true
		}
		conn = nil
	}
	if conn != nil {
		conn.Close()
	}
	return false
}

// generic sends the generic probes, each on a connection of its own.
func (j *job) generic(ctx context.Context, l layer) bool {
	for _, g := range j.c.generic() {
		if ctx.Err() != nil || j.gone {
			return false
		}
		if j.ask(ctx, l, nil, g.Bytes(j.name), nil) {
			return true
		}
	}
	return false
}

// others sends the probes of the protocols not usual on the port.
func (j *job) others(ctx context.Context, l layer) bool {
	for _, p := range Protocols() {
		if ctx.Err() != nil || j.gone {
			return false
		}
		if p.Probe == nil || p.Match == nil {
			continue
		}
		if j.ask(ctx, l, nil, p.Probe(j.name), p) {
			return true
		}
	}
	return false
}

// ask sends req on conn (a new connection when nil), reads the answer
// and closes the connection; it reports whether detection is decided.
// A payload already sent on the layer is not sent again.
func (j *job) ask(ctx context.Context, l layer, conn net.Conn, req []byte, p *Protocol) bool {
	if j.sent[l.tls][string(req)] {
		if conn != nil {
			conn.Close()
		}
		return false
	}
	j.sent[l.tls][string(req)] = true
	if conn == nil {
		var err error
		if conn, err = l.open(ctx); err != nil {
			return false
		}
	}
	defer conn.Close()
	conn.SetWriteDeadline(j.deadline(ctx, j.answer))
	if _, err := conn.Write(req); err != nil {
		return false
	}
	got, _ := j.read(ctx, conn, j.answer, func(b []byte) (bool, bool) {
		s, ok, more := matchAnswer(j.port, b, p)
		if ok {
			j.offer(s, b, l.tls)
		}
		return ok, more
	})
	j.saw(got)
	if j.have && (p == nil || p.Name != j.best.Name) {
		j.confirm(ctx, l)
	}
	return j.decided
}

// confirm sends, once, the own probe of the protocol that an answer to
// another request named (redis's errors to an HTTP GET): its answer
// tells more, a version, and more surely.
func (j *job) confirm(ctx context.Context, l layer) {
	q := Lookup(j.best.Name)
	if q == nil || q.Probe == nil || q.Match == nil || j.best.Version != "" {
		return
	}
	if req := q.Probe(j.name); !j.sent[l.tls][string(req)] {
		j.ask(ctx, l, nil, req, q)
	}
}

// matchAnswer reads an answer to p's probe (p nil: a generic probe):
// by p's matcher first, then as a greeting (a server that speaks first
// may not have spoken in time, or may speak whatever it is sent), then
// by every other protocol's answer matcher, whose errors to requests
// they do not know often name them.
func matchAnswer(port uint16, got []byte, p *Protocol) (svc result.Service, ok, more bool) {
	try := func(match func([]byte) (result.Service, bool, bool)) bool {
		s, ok, m := match(got)
		if ok {
			svc = s
		}
		more = more || m
		return ok
	}
	if p != nil && try(p.Match) {
		return svc, true, false
	}
	if try(func(b []byte) (result.Service, bool, bool) { return Greeting(port, b) }) {
		return svc, true, false
	}
	for q := range ByPort(port) {
		if q != p && q.Probe != nil && q.Match != nil && try(q.Match) {
			return svc, true, false
		}
	}
	return result.Service{}, false, more
}

// offer keeps s, named from got, if it is the best match yet, and
// decides the port when it is sure enough.
func (j *job) offer(s result.Service, got []byte, inTLS bool) {
	if inTLS && s.Name != "ssl" {
		s.Tunnel = "ssl"
	}
	if !j.have || s.Confidence > j.best.Confidence {
		j.best, j.have = s, true
		j.matched = slices.Clone(got[:min(len(got), maxBanner)])
	}
	if s.Confidence >= j.c.minConfidence() {
		j.decided = true
	}
}

// saw keeps the first bytes a reply carried, for the banner.
func (j *job) saw(got []byte) {
	if j.first == nil && len(got) > 0 {
		j.first = slices.Clone(got[:min(len(got), maxBanner)])
	}
}

// result is what the job found.
func (j *job) result() result.Service {
	var s result.Service
	if j.have {
		s = j.best
	}
	b := j.matched
	if b == nil {
		b = j.first
	}
	s.Banner = banner(b)
	if j.tls != nil {
		s.TLS = j.tls
	}
	return s
}
