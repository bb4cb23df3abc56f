package scanner

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// probe is one packet exchange in flight: a connect to one port.
type probe struct {
	host     *hostState
	port     ports.Port
	addr     netip.AddrPort
	sent     time.Time
	deadline time.Time
	try      int  // 0 for the first send
	discover bool // sent to find out whether the host is up
	// ping is the kind of a discovery probe: a connect to port, or
	// with raw discovery a ping or a neighbour request. mac is the link
	// address a neighbour answer gave.
	ping PingKind
	mac  net.HardwareAddr

	// payloads are the UDP requests for the port (none: one empty
	// datagram); the same on every try, so that their ids stay fixed.
	payloads []payload.Probe
	// canary, for UDP, is a port known closed on the host, probed right
	// after this one to tell a silent port from rate-limited ICMP.
	canary         uint16
	canaryFd       int
	canaryAnswered bool
	// unbound sends a UDP probe from any port, its payload's SourcePort
	// having proved to be its destination.
	unbound bool

	// Prober bookkeeping.
	fd      int
	heapIdx int
	done    bool
}

// outcome is a finished probe.
type outcome struct {
	p   *probe
	v   verdict
	rtt time.Duration
}

// prober sends probes and reports how they ended. It is driven by one
// goroutine, the engine loop: start and wait are never called at once.
type prober interface {
	// start sends p. Its outcome, even an immediate one, comes from a
	// later wait.
	start(p *probe)
	// wait returns finished probes, waiting up to d for the first one.
	// The slice is the caller's until the next call of wait, which may
	// reuse it.
	wait(d time.Duration) []outcome
	// inflight is the number of probes started and not yet returned.
	inflight() int
	// err reports a failure of the prober itself, which ends the run.
	err() error
	// close abandons every probe in flight.
	close()
}

// dialProber runs each probe as a goroutine calling Dial. It serves tests
// that inject Dial, and systems without the raw socket prober.
type dialProber struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	ctx     context.Context
	cancel  context.CancelFunc
	results chan outcome
	n       int
	now     func() time.Time
}

func newDialProber(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error), now func() time.Time) *dialProber {
	ctx, cancel := context.WithCancel(ctx)
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return &dialProber{dial: dial, ctx: ctx, cancel: cancel, results: make(chan outcome, 256), now: now}
}

func (d *dialProber) start(p *probe) {
	d.n++
	if p.port.Proto == ports.UDP {
		go d.udp(p)
		return
	}
	go func() {
		ctx, cancel := context.WithDeadline(d.ctx, p.deadline)
		defer cancel()
		conn, err := d.dial(ctx, "tcp", p.addr.String())
		if conn != nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		}
		v := classify(err)
		if err != nil && d.ctx.Err() != nil {
			v = verdict{again: true} // abandoned, not answered
		}
		d.results <- outcome{p: p, v: v, rtt: d.now().Sub(p.sent)}
	}()
}

// udp sends p's datagrams on a connected socket and reads one answer. A
// port unreachable shows as ECONNREFUSED; its sender and code are not
// known here, unlike in the raw prober.
func (d *dialProber) udp(p *probe) {
	ctx, cancel := context.WithDeadline(d.ctx, p.deadline)
	defer cancel()
	v := func() verdict {
		conn, err := d.dial(ctx, "udp", p.addr.String())
		if err != nil {
			return classify(err)
		}
		defer conn.Close()
		conn.SetDeadline(p.deadline)
		sends := max(len(p.payloads), 1)
		for i := 0; i < sends; i++ {
			var data []byte
			if i < len(p.payloads) {
				data = p.payloads[i].Payload
			}
			if _, err := conn.Write(data); err != nil {
				return udpVerdict(err)
			}
		}
		var canary net.Conn
		if p.canary != 0 {
			canary, _ = d.dial(ctx, "udp", netip.AddrPortFrom(p.addr.Addr(), p.canary).String())
			if canary != nil {
				defer canary.Close()
				canary.Write(nil)
			}
		}
		buf := make([]byte, 65536)
		n, err := conn.Read(buf)
		if err == nil {
			return matchReply(p.payloads, buf[:n])
		}
		v := udpVerdict(err)
		if v.state == result.OpenFiltered && p.canary != 0 {
			answered := false
			if canary != nil {
				canary.SetDeadline(time.Now().Add(time.Millisecond))
				_, cerr := canary.Read(buf)
				answered = cerr == nil || udpVerdict(cerr).state == result.Closed
			}
			v.limited = !answered
		}
		return v
	}()
	if d.ctx.Err() != nil {
		v = verdict{again: true}
	}
	d.results <- outcome{p: p, v: v, rtt: d.now().Sub(p.sent)}
}

// udpVerdict reads the error of a UDP write or read.
func udpVerdict(err error) verdict {
	v := classify(err)
	switch {
	case v.state == result.Closed:
		return verdict{state: result.Closed, reason: result.ReasonPortUnreach, answered: true}
	case v.reason == result.ReasonNoResponse:
		return verdict{state: result.OpenFiltered, reason: result.ReasonNoResponse}
	}
	return v
}

// matchReply judges a datagram that came from the probed port. Any reply
// means open; one that answers a payload's request says so in the reason.
func matchReply(probes []payload.Probe, reply []byte) verdict {
	for _, pr := range probes {
		if ok, reason := pr.Match(reply); ok {
			return verdict{state: result.Open, reason: reason, answered: true}
		}
	}
	return verdict{state: result.Open, reason: result.ReasonUDPResponse, answered: true}
}

func (d *dialProber) wait(wait time.Duration) []outcome {
	if d.n == 0 {
		if wait > 0 {
			time.Sleep(min(wait, 10*time.Millisecond))
		}
		return nil
	}
	var out []outcome
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case o := <-d.results:
		out = append(out, o)
	case <-t.C:
		return nil
	}
	for {
		select {
		case o := <-d.results:
			out = append(out, o)
		default:
			d.n -= len(out)
			return out
		}
	}
}

func (d *dialProber) inflight() int { return d.n }

func (d *dialProber) err() error { return nil }

func (d *dialProber) close() {
	d.cancel()
	for ; d.n > 0; d.n-- {
		<-d.results
	}
}
