package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// ErrService is returned, wrapped with the offending text, for a service
// specification that cannot be read.
var ErrService = errors.New("lab: invalid service")

// Kind is what a lab listener does.
type Kind uint8

// The kinds of listener, named as labd's command line names them.
const (
	Hold        Kind = iota + 1 // "tcp": accept, read and discard, hold open
	AcceptClose                 // "tcp-close": accept and close at once
	FullBacklog                 // "tcp-backlog": listen, never accept, queue full
	Echo                        // "udp": send every datagram back
	Silent                      // "udp-silent": read every datagram, answer none
)

var kindNames = map[Kind]string{
	Hold:        "tcp",
	AcceptClose: "tcp-close",
	FullBacklog: "tcp-backlog",
	Echo:        "udp",
	Silent:      "udp-silent",
}

// String returns the kind's name as written in a service specification.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// UDP reports whether the kind is a UDP listener.
func (k Kind) UDP() bool { return k == Echo || k == Silent }

// Service is one listener of a lab: a kind and the address it listens
// on. The unspecified address [::] listens on IPv4 and IPv6 at once.
type Service struct {
	Kind Kind
	Addr netip.AddrPort
}

// String returns the service as ParseService reads it: "tcp:127.0.0.1:22",
// "udp-silent:[::]:161".
func (s Service) String() string { return s.Kind.String() + ":" + s.Addr.String() }

// ParseService reads a service specification, KIND:IP:PORT, where KIND is
// tcp, tcp-close, tcp-backlog, udp or udp-silent and IPv6 addresses are
// bracketed ("tcp:[::1]:80").
func ParseService(spec string) (Service, error) {
	kind, addr, ok := strings.Cut(spec, ":")
	if !ok {
		return Service{}, fmt.Errorf("%w %q: want KIND:IP:PORT", ErrService, spec)
	}
	var s Service
	for k, n := range kindNames {
		if n == kind {
			s.Kind = k
		}
	}
	if s.Kind == 0 {
		return Service{}, fmt.Errorf("%w %q at byte 0: unknown kind %q (want tcp, tcp-close, tcp-backlog, udp or udp-silent)", ErrService, spec, kind)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Service{}, fmt.Errorf("%w %q at byte %d: %v", ErrService, spec, len(kind)+1, err)
	}
	if ap.Addr().Zone() != "" {
		return Service{}, fmt.Errorf("%w %q at byte %d: zoned addresses are not supported", ErrService, spec, len(kind)+1)
	}
	if s.Kind == FullBacklog && ap.Addr().IsUnspecified() {
		return Service{}, fmt.Errorf("%w %q at byte %d: a full-backlog listener needs a specific address to fill its queue through", ErrService, spec, len(kind)+1)
	}
	s.Addr = ap
	return s, nil
}

// network is the Go network name for the service's listener: dual-stack
// for the unspecified IPv6 address, one family otherwise.
func (s Service) network() string {
	proto := "tcp"
	if s.Kind.UDP() {
		proto = "udp"
	}
	a := s.Addr.Addr()
	switch {
	case a == netip.IPv6Unspecified():
		return proto
	case a.Is4() || a.Is4In6():
		return proto + "4"
	}
	return proto + "6"
}

// Server is a running lab listener.
type Server interface {
	// Addr returns the address it listens on, with the port chosen when
	// the service asked for port 0.
	Addr() netip.AddrPort
	Close() error
}

func (s Service) start(p place) (Server, error) {
	addr := s.Addr.String()
	var (
		srv Server
		err error
	)
	switch s.Kind {
	case Hold, AcceptClose:
		srv, err = nilIfErr(startTCP(p, s.network(), addr, s.Kind == AcceptClose))
	case FullBacklog:
		srv, err = nilIfErr(startBacklog(p, s.network(), addr))
	case Echo, Silent:
		srv, err = nilIfErr(startUDP(p, s.network(), addr, s.Kind == Echo))
	default:
		err = fmt.Errorf("%w: %v", ErrService, s)
	}
	return srv, err
}

// nilIfErr keeps a nil server pointer from becoming a non-nil interface.
func nilIfErr[S Server](srv S, err error) (Server, error) {
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// StartService starts a listener in the calling process's namespace. It
// is labd's way in; tests use Serve, which stops listeners at cleanup.
func StartService(s Service) (Server, error) { return s.start(place{}) }

// Serve starts listeners in the test's own namespace, stopped at cleanup.
func Serve(t testing.TB, services ...Service) {
	t.Helper()
	serve(t, place{}, services)
}

// Serve starts listeners inside the namespace, stopped at cleanup.
func (ns *Namespace) Serve(services ...Service) {
	ns.t.Helper()
	serve(ns.t, place{ns}, services)
}

func serve(t testing.TB, p place, services []Service) {
	t.Helper()
	for _, s := range services {
		c, err := s.start(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}
