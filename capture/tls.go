package capture

import (
	"crypto/x509"

	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/result"
)

// TLS record and handshake types read here (RFC 5246 §6.2.1, §7.4).
const (
	recordHandshake = 22
	hsCertificate   = 11
	hsServerDone    = 14
)

// maxSANs bounds the names a certificate's SANs are reported with.
const maxSANs = 32

// readCertificate reads a TLS 1.2 (or earlier) server's first flight,
// its handshake records from the start, and fills info from the leaf of
// the Certificate message (RFC 5246 §7.4.2): subject, names, issuer,
// validity, whether it signed itself, and the length of the chain. It
// says whether the flight ends before the message does, so that more
// bytes could tell.
func readCertificate(flight []byte, info *result.TLS) (more bool) {
	var hs []byte
	for len(flight) > 0 {
		if len(flight) < 5 {
			more = true
			break
		}
		n := int(flight[3])<<8 | int(flight[4])
		if flight[0] != recordHandshake || flight[1] != 3 {
			break
		}
		body := flight[5:min(len(flight), 5+n)]
		hs = append(hs, body...)
		if len(body) < n {
			more = true
			break
		}
		flight = flight[5+n:]
	}
	for len(hs) >= 4 {
		typ, n := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
		if len(hs) < 4+n {
			return more
		}
		switch typ {
		case hsCertificate:
			certificateList(hs[4:4+n], info)
			return false
		case hsServerDone:
			return false
		}
		hs = hs[4+n:]
	}
	return more
}

// certificateList reads a Certificate message's body: a 24-bit length,
// then each certificate with a 24-bit length, the leaf first.
func certificateList(b []byte, info *result.TLS) {
	if len(b) < 3 {
		return
	}
	b = b[3:]
	var leaf []byte
	for len(b) >= 3 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if len(b) < 3+n {
			break
		}
		if leaf == nil {
			leaf = b[3 : 3+n]
		}
		info.ChainLength++
		b = b[3+n:]
	}
	cert, err := x509.ParseCertificate(leaf)
	if err != nil {
		return
	}
	detect.Certificate(info, cert)
}
