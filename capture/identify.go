package capture

import (
	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/result"
)

// bannerBytes is how many of a server's first bytes a detection's Banner
// shows, before escaping.
const bannerBytes = 64

// view is what detection reads of a TCP flow, one side taken as the
// server: the first bytes each side sent.
type view struct {
	port     uint16
	cli, srv []byte
	// srvFirst says the server spoke before the client, or the flow
	// began before the capture did, so that its first bytes may be a
	// greeting.
	srvFirst bool
	// final says that no more bytes will come: the flow ended, or the
	// server's buffer is full.
	final bool
}

// identify names the service of a TCP flow from its first bytes with
// detect's matchers: the server's greeting, when it spoke first (or the
// flow began mid-stream); else the answer, read by the Match of the
// protocol whose MatchRequest takes the client's first bytes; else the
// Match of the protocols whose client speaks first, those usual on the
// port first. A request alone names the service when the server's bytes
// name none. more says that more bytes could tell more.
func identify(v view) (svc result.Service, ok, more bool) {
	rp, req := detect.Request(v.cli)
	if len(v.srv) == 0 {
		return req, rp != nil, !v.final
	}
	if v.srvFirst || rp == nil {
		s, ok, m := detect.Greeting(v.port, v.srv)
		if ok {
			return s, true, false
		}
		more = m
	}
	if rp != nil && rp.Match != nil {
		s, ok, m := rp.Match(v.srv)
		if ok {
			return answered(s, req), true, rp.Handshake && certPending(&s, v)
		}
		more = more || m
	}
	for p := range detect.ByPort(v.port) {
		if p == rp || p.Match == nil || p.TLS || p.Probe == nil && !p.Handshake {
			continue
		}
		s, ok, m := p.Match(v.srv)
		if ok {
			return s, true, p.Handshake && certPending(&s, v)
		}
		more = more || m
	}
	return req, rp != nil, more && !v.final
}

// answered adds to a server's answer what the client's request told: the
// name a ClientHello asked for, and the service inside TLS when the
// client offered one and the server chose none.
func answered(s, req result.Service) result.Service {
	if s.TLS != nil && req.TLS != nil {
		s.TLS.SNI = req.TLS.SNI
		if s.Tunnel == "" && req.Tunnel == "ssl" {
			s.Name, s.Tunnel = req.Name, req.Tunnel
		}
	}
	return s
}

// certPending reads a TLS server's certificate into s, up to TLS 1.2
// (TLS 1.3 encrypts it), and says whether more of the flight is needed.
func certPending(s *result.Service, v view) bool {
	if s.TLS == nil || s.TLS.Version == "TLS 1.3" {
		return false
	}
	more := readCertificate(v.srv, s.TLS)
	return more && !v.final
}

// detected is svc as a capture reports it, with the server's first
// bytes as its banner (but for TLS, whose bytes are no text).
func detected(svc result.Service, ok bool, srv []byte) *result.Service {
	if !ok {
		svc = result.Service{}
	}
	svc.Method = result.MethodCapture
	if svc.TLS == nil && len(srv) > 0 {
		svc.Banner = text.Escape(string(srv[:min(len(srv), bannerBytes)]))
	}
	return &svc
}
