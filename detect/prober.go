package detect

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/probes"
	"github.com/portscan/portscan/result"
)

// Defaults of the zero Config. The budget is far below nmap's (its
// probes wait up to 5 s each, and its NULL probe 6 s): the matchers
// decide on the first answer, and a server that says nothing in a few
// seconds says nothing more to the next probe either.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultConcurrency   = 64
	DefaultMinConfidence = 5

	// The greeting wait is max(4 RTT, minGreetWait), at most
	// maxGreetWait; the wait for an answer max(8 RTT, minAnswerWait),
	// at most maxAnswerWait. On a LAN both are their floors.
	minGreetWait  = 150 * time.Millisecond
	maxGreetWait  = 2 * time.Second
	minAnswerWait = 500 * time.Millisecond
	maxAnswerWait = 3 * time.Second

	// maxRead bounds what is read of one reply; maxBanner what of it
	// goes into Service.Banner.
	maxRead   = 16 << 10
	maxBanner = 256
)

// Config says how live service detection runs. A zero Config works:
// every zero field means its default.
type Config struct {
	// Dial makes the connections (tcp and udp); nil means a
	// net.Dialer. Tests inject their own.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Timeout is a port's whole budget, every connection and probe
	// included; zero means DefaultTimeout.
	Timeout time.Duration
	// GreetWait is how long a port is given to speak first, and
	// AnswerWait how long it is given to answer a probe or a TLS
	// handshake; zero derives each from the RTT the scan measured
	// (result.Port.RTT). Neither runs past Timeout.
	GreetWait  time.Duration
	AnswerWait time.Duration

	// Concurrency is the most ports detected at once, which is also
	// the most connections detection holds open; zero means
	// DefaultConcurrency. Queue is how many open ports may wait for a
	// free slot before the producer is made to wait (the Sink's Port
	// blocks); zero means 16 per slot.
	Concurrency int
	Queue       int

	// TLS is the base of the TLS client configuration; nil means an
	// empty one. Detection clones it, skips certificate verification
	// (it reports what it sees, and judges nothing), and sets the
	// server name and ALPN protocols itself.
	TLS *tls.Config

	// MinConfidence is the confidence (0 to 10) at which a match ends
	// a port's detection; weaker matches are kept while the next
	// probes run, and the best one stands at the end. Zero means
	// DefaultMinConfidence.
	MinConfidence int

	// Generic are the probes sent to a port that neither greeted nor
	// answered its usual protocols' probes, in order; nil means
	// DefaultGeneric.
	Generic []Generic

	// ServiceProbes is a user's nmap-service-probes file (probes.Load);
	// when set, its probes for the port run after portscan's own
	// matchers found nothing sure, and a match of its lines names the
	// service with Method result.MethodServiceProbe. Intensity is the
	// highest rarity of its probes tried on a port they do not name
	// (nmap's --version-intensity, 0 to 9), used as given.
	ServiceProbes *probes.File
	Intensity     int
}

// Generic is a probe sent to any port: a request many protocols answer,
// if only with an error.
type Generic struct {
	Name  string
	Bytes func(host string) []byte
}

// DefaultGeneric are an HTTP GET, which web servers, proxies and the
// many protocols built on HTTP answer, and a blank line, which draws
// an error from most line-based protocols.
var DefaultGeneric = []Generic{
	{Name: "http-get", Bytes: httpProbe},
	{Name: "blank-lines", Bytes: func(string) []byte { return []byte("\r\n\r\n") }},
}

func (c *Config) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	for {
		var conn net.Conn
		var err error
		if c.Dial != nil {
			conn, err = c.Dial(ctx, network, addr)
		} else {
			var d net.Dialer
			conn, err = d.DialContext(ctx, network, addr)
		}
		// Out of descriptors (the scan holds many): wait for some,
		// within the budget.
		if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	return DefaultConcurrency
}

func (c *Config) queue() int {
	if c.Queue > 0 {
		return c.Queue
	}
	return 16 * c.concurrency()
}

func (c *Config) minConfidence() int {
	if c.MinConfidence > 0 {
		return c.MinConfidence
	}
	return DefaultMinConfidence
}

func (c *Config) generic() []Generic {
	if c.Generic != nil {
		return c.Generic
	}
	return DefaultGeneric
}

func (c *Config) greetWait(rtt time.Duration) time.Duration {
	if c.GreetWait > 0 {
		return c.GreetWait
	}
	return min(max(4*rtt, minGreetWait), maxGreetWait)
}

func (c *Config) answerWait(rtt time.Duration) time.Duration {
	if c.AnswerWait > 0 {
		return c.AnswerWait
	}
	return min(max(8*rtt, minAnswerWait), maxAnswerWait)
}

// Detect names the service on one open port, live: TCP ports are
// talked to (see [NewSink] for the order of the probes), UDP ports
// that answered the scan are sent their payloads again and the answer
// read by [UDP]. It returns nil for a port it does not probe (not
// open, or of another protocol) and when ctx ends first; otherwise a
// Service with Method MethodProbe (MethodServiceProbe when a line of
// Config.ServiceProbes named it), whose Name is "" when nothing
// matched.
func (c *Config) Detect(ctx context.Context, p result.Port) *result.Service {
	if p.State != result.Open || !p.Host.IsValid() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var svc result.Service
	switch p.Port.Proto {
	case ports.TCP:
		svc = newJob(c, p).run(ctx)
	case ports.UDP:
		svc = c.detectUDP(ctx, p)
	default:
		return nil
	}
	if svc.Name == "" && context.Cause(ctx) == context.Canceled {
		return nil // interrupted, not unknown
	}
	if svc.Method == "" { // the file's matches say so themselves
		svc.Method = result.MethodProbe
	}
	return &svc
}

// addrOf is the port's address to dial.
func addrOf(p result.Port) string {
	return netip.AddrPortFrom(p.Host, p.Port.Number).String()
}

// serverName is the name the target was given by, for SNI and HTTP's
// Host; "" when it was given as an address.
func serverName(p result.Port) string {
	if p.Hostname == "" {
		return ""
	}
	if _, err := netip.ParseAddr(p.Hostname); err == nil {
		return ""
	}
	return p.Hostname
}

// banner makes the first bytes a service sent fit for a result: cut to
// maxBanner bytes, then escaped (valid UTF-8, no control bytes).
func banner(b []byte) string {
	if len(b) > maxBanner {
		b = b[:maxBanner]
	}
	return text.Escape(string(b))
}
