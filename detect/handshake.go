package detect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"

	"github.com/portscan/portscan/result"
)

// alpnOffer is what the first handshake offers: a web server says
// which HTTP it prefers. The conversation inside then offers only
// HTTP/1.1, which the probes speak.
var alpnOffer = []string{"h2", "http/1.1"}

// tlsStage makes a TLS handshake with crypto/tls and, when it
// succeeds, converses inside the tunnel. A handshake that succeeds, or
// that the server refuses with an alert, decides that the port speaks
// TLS: the inner protocol's name with Tunnel "ssl", or the ALPN
// protocol's, or else "ssl".
func (j *job) tlsStage(ctx context.Context) bool {
	if j.tlsDone || j.gone {
		return false
	}
	j.tlsDone = true
	conn, heard, err := j.handshake(ctx, alpnOffer)
	if err != nil {
		// A server that refused the handshake with an alert speaks TLS
		// all the same: the raw matcher reads what it sent.
		if s, ok, _ := matchTLS(heard); ok {
			j.offer(s, heard, false)
			return true
		}
		return false // not TLS; the port may still speak in the clear
	}
	j.tls = tlsInfo(conn.ConnectionState(), j.name)
	first := net.Conn(conn)
	if j.tls.ALPN == "h2" {
		conn.Close() // HTTP/2: the probes speak HTTP/1.1
		first = nil
	}
	inner := layer{tls: true, open: func(ctx context.Context) (net.Conn, error) {
		if c := first; c != nil {
			first = nil
			return c, nil
		}
		c, _, err := j.handshake(ctx, []string{"http/1.1"})
		return c, err
	}}
	if !j.converse(ctx, inner) && !j.decided && !j.generic(ctx, inner) && !j.decided {
		if name := alpnService(j.tls.ALPN); name != "" {
			j.offer(result.Service{Name: name, Confidence: 8}, nil, true)
		}
		j.offer(result.Service{Name: "ssl", Confidence: 10}, nil, false)
	}
	if first != nil {
		first.Close()
	}
	return true
}

// handshake opens a connection and makes a TLS handshake on it, within
// the answer wait. heard is the start of what the server sent, for a
// handshake that failed.
func (j *job) handshake(ctx context.Context, alpn []string) (conn *tls.Conn, heard []byte, err error) {
	raw, err := j.openClear(ctx)
	if err != nil {
		return nil, nil, err
	}
	rec := &recConn{Conn: raw}
	conn = tls.Client(rec, j.tlsConfig(alpn))
	raw.SetDeadline(j.deadline(ctx, j.answer))
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		j.saw(rec.heard)
		return nil, rec.heard, err
	}
	raw.SetDeadline(time.Time{})
	rec.heard = nil
	rec.done = true
	return conn, nil, nil
}

// recConn keeps the first bytes read from a connection.
type recConn struct {
	net.Conn
	heard []byte
	done  bool
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.done && len(c.heard) < maxBanner {
		c.heard = append(c.heard, b[:min(n, maxBanner-len(c.heard))]...)
	}
	return n, err
}

// tlsConfig is the client configuration of a handshake: the caller's,
// with verification off (detection reports what it is shown), the
// target's name as SNI, alpn offered, and every version and cipher
// suite crypto/tls can speak, so that old servers answer too.
func (j *job) tlsConfig(alpn []string) *tls.Config {
	cfg := &tls.Config{}
	if j.c.TLS != nil {
		cfg = j.c.TLS.Clone()
	}
	cfg.InsecureSkipVerify = true
	cfg.ServerName = j.name
	cfg.NextProtos = alpn
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS10
	}
	if cfg.CipherSuites == nil {
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			cfg.CipherSuites = append(cfg.CipherSuites, s.ID)
		}
	}
	return cfg
}

// tlsInfo is what a handshake showed.
func tlsInfo(st tls.ConnectionState, sni string) *result.TLS {
	t := &result.TLS{
		Version:     tlsVersionName(st.Version),
		Cipher:      tls.CipherSuiteName(st.CipherSuite),
		ALPN:        cleanText(st.NegotiatedProtocol, 64),
		SNI:         sni,
		ChainLength: len(st.PeerCertificates),
	}
	if len(st.PeerCertificates) == 0 {
		return t
	}
	Certificate(t, st.PeerCertificates[0])
	return t
}

// Certificate fills t with what the leaf certificate c says: subject,
// issuer, validity (in UTC), its DNS names and IP addresses (at most
// 32), and whether it is self-signed; strings are cleaned for printing.
// The live prober and the capture analysis both read certificates so.
func Certificate(t *result.TLS, c *x509.Certificate) {
	t.Subject = cleanText(c.Subject.String(), maxText)
	t.Issuer = cleanText(c.Issuer.String(), maxText)
	t.NotBefore, t.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	t.SelfSigned = selfSigned(c)
	t.SANs = nil
	for _, n := range c.DNSNames {
		if len(t.SANs) < 32 {
			t.SANs = append(t.SANs, cleanText(n, 255))
		}
	}
	for _, ip := range c.IPAddresses {
		if len(t.SANs) < 32 {
			t.SANs = append(t.SANs, ip.String())
		}
	}
}

// selfSigned says whether a certificate names itself its issuer and
// its signature checks with its own key. (CheckSignatureFrom would
// also ask the certificate to be a CA's, which self-signed server
// certificates seldom are.)
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
