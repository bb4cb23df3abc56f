// Package detect names the service listening on a port from the bytes
// it sends: a greeting it speaks first, or its answer to a request. Each
// protocol is written from its own specification, registers itself in a
// file of its own (ssh.go, http.go, ...), and names what it finds in
// nmap's vocabulary ([result.Service]), with product and version where
// the protocol reveals them.
//
// The matchers only read bytes: they never touch the network, so the
// live prober (-sV) and the capture analysis share them.
package detect

import (
	"iter"
	"slices"
	"sync"

	"github.com/portscan/portscan/result"
)

// Protocol is what portscan knows of one protocol for detection.
type Protocol struct {
	// Name is the service name in nmap's vocabulary ("ssh", "http").
	Name string
	// Ports are the TCP ports where the protocol usually listens; its
	// probe goes first there.
	Ports []uint16
	// Probe is the request that makes a server speak, for protocols
	// whose client speaks first; nil for those whose server greets.
	// host is the name the target was given by, or "" (for an HTTP Host
	// header or TLS SNI).
	Probe func(host string) []byte
	// Match reads what the server sent: its greeting (for a nil Probe)
	// or its answer to Probe. It returns false when the bytes are not
	// this protocol; it may name a more specific service than Name.
	// more says that more bytes could tell more (a greeting cut short):
	// the caller may read on and ask again.
	Match func(got []byte) (svc result.Service, ok, more bool)
	// MatchRequest reads a client's first bytes, for captures where only
	// the client's side of a client-first protocol is seen (an HTTP
	// request, a TLS ClientHello); nil when the request says nothing.
	MatchRequest func(sent []byte) (result.Service, bool)
	// TLS says that the protocol is usually spoken inside TLS on Ports
	// (https on 443): the prober starts TLS there first.
	TLS bool
	// Handshake marks a protocol whose server answers a handshake that
	// the prober makes itself (TLS, whose ClientHello crypto/tls sends):
	// it has no Probe, yet its server does not speak first. Match reads
	// the server's answer to the handshake.
	Handshake bool
}

var (
	mu        sync.RWMutex
	protocols []*Protocol
)

// Register adds p to the protocols detection knows. Each protocol's file
// calls it from init.
func Register(p *Protocol) {
	mu.Lock()
	defer mu.Unlock()
	protocols = append(protocols, p)
	slices.SortStableFunc(protocols, func(a, b *Protocol) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

// Protocols returns the registered protocols, in name order.
func Protocols() []*Protocol {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(protocols)
}

// Lookup returns the registered protocol of that name, or nil.
func Lookup(name string) *Protocol {
	mu.RLock()
	defer mu.RUnlock()
	for _, p := range protocols {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Greeting names the service from a greeting, what a server on port
// sent before it was sent anything, trying every protocol whose server
// speaks first, those usual on port first (a bare "220 ready" is FTP on
// 21 and SMTP on 25). more says that some protocol could tell with more
// bytes.
func Greeting(port uint16, got []byte) (svc result.Service, ok, more bool) {
	for p := range ByPort(port) {
		if p.Probe != nil || p.Match == nil || p.Handshake {
			continue
		}
		s, ok, m := p.Match(got)
		if ok {
			return s, true, false
		}
		more = more || m
	}
	return result.Service{}, false, more
}

// ByPort yields the registered protocols, those usual on port first,
// each group in name order. It copies nothing, for the capture
// analysis, which asks for every flow: the protocols all register from
// init, before anything is detected.
func ByPort(port uint16) iter.Seq[*Protocol] {
	return func(yield func(*Protocol) bool) {
		mu.RLock()
		ps := protocols
		mu.RUnlock()
		for _, usual := range []bool{true, false} {
			for _, p := range ps {
				if slices.Contains(p.Ports, port) == usual && !yield(p) {
					return
				}
			}
		}
	}
}

// Request names the service from a client's first bytes, trying every
// protocol with a MatchRequest; it returns the protocol that took them,
// nil if none did.
func Request(sent []byte) (*Protocol, result.Service) {
	if len(sent) == 0 {
		return nil, result.Service{}
	}
	mu.RLock()
	ps := protocols
	mu.RUnlock()
	for _, p := range ps {
		if p.MatchRequest == nil {
			continue
		}
		if s, ok := p.MatchRequest(sent); ok {
			return p, s
		}
	}
	return nil, result.Service{}
}
