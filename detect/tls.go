package detect

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/portscan/portscan/result"
)

// TLS (RFC 8446; RFC 5246 for 1.2), read from raw bytes: a ServerHello or
// an alert that answers a ClientHello names a TLS service ("ssl", as nmap
// names one whose inner protocol is unknown), and a ClientHello in a
// capture names the service its client expected. The live prober does
// real handshakes with crypto/tls; it has no probe here.
func init() {
	Register(&Protocol{
		Name:         "ssl",
		Ports:        []uint16{443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443, 8883},
		Match:        matchTLS,
		MatchRequest: matchClientHello,
		Handshake:    true,
	})
}

// TLS record content types and handshake types (RFC 8446 §5.1, §4).
const (
	tlsAlert       = 21
	tlsHandshake   = 22
	tlsClientHello = 1
	tlsServerHello = 2
)

// TLS extensions read here (RFC 6066 §3, RFC 7301 §3.1, RFC 8446 §4.2).
const (
	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43
)

// maxRecord is the largest TLSPlaintext length (RFC 8446 §5.1: 2^14)
// plus the expansion RFC 5246 §6.2.3 allows a ciphertext.
const maxRecord = 1<<14 + 2048

// tlsRecord checks a record header: a known type, a 3.x version and a
// length within bounds; more when it is cut short.
func tlsRecord(got []byte, types ...byte) (typ byte, body []byte, ok, more bool) {
	if len(got) == 0 {
		return 0, nil, false, true
	}
	found := false
	for _, t := range types {
		found = found || got[0] == t
	}
	if !found {
		return 0, nil, false, false
	}
	if len(got) < 2 {
		return 0, nil, false, true
	}
	// legacy_record_version: 0x0300 (SSL 3.0) to 0x0304; a ClientHello
	// may carry 0x0300 or 0x0301 for compatibility (RFC 8446 §5.1).
	if got[1] != 3 {
		return 0, nil, false, false
	}
	if len(got) < 3 {
		return 0, nil, false, true
	}
	if got[2] > 4 {
		return 0, nil, false, false
	}
	if len(got) < 5 {
		return 0, nil, false, true
	}
	n := int(got[3])<<8 | int(got[4])
	if n == 0 || n > maxRecord {
		return 0, nil, false, false
	}
	return got[0], got[5:min(len(got), 5+n)], true, false
}

// tlsVersionName names a protocol version as the result model does.
func tlsVersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// alertNames are the alert descriptions of RFC 8446 §6 that servers send
// to a ClientHello they refuse.
var alertNames = map[byte]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
	47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
	80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension",
	112: "unrecognized_name", 116: "certificate_required",
	120: "no_application_protocol",
}

// matchTLS reads a server's first record: a ServerHello (RFC 8446
// §4.1.3) or an alert (§6).
func matchTLS(got []byte) (result.Service, bool, bool) {
	typ, body, ok, more := tlsRecord(got, tlsHandshake, tlsAlert)
	if !ok {
		return result.Service{}, false, more
	}
	if typ == tlsAlert {
		// An alert is two bytes: level 1 (warning) or 2 (fatal), and a
		// description.
		if len(body) < 2 {
			return result.Service{}, false, true
		}
		if be, _ := octets(got).be16(3); be != 2 || (body[0] != 1 && body[0] != 2) {
			return result.Service{}, false, false
		}
		name, known := alertNames[body[1]]
		if !known {
			return result.Service{}, false, false
		}
		return result.Service{Name: "ssl", Info: "alert " + name, Confidence: 8}, true, false
	}
	if len(body) < 4 {
		return result.Service{}, false, true
	}
	if body[0] != tlsServerHello {
		return result.Service{}, false, false
	}
	n := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
	if n < 38 || n > 1<<16 {
		return result.Service{}, false, false
	}
	hello := octets(body[4:min(len(body), 4+n)])
	// legacy_version, random, legacy_session_id_echo, cipher_suite,
	// legacy_compression_method, extensions (RFC 8446 §4.1.3).
	v, ok := hello.be16(0)
	if !ok || v>>8 != 3 || v&0xff > 4 {
		return result.Service{}, false, len(hello) < 2
	}
	info := &result.TLS{Version: tlsVersionName(v)}
	svc := result.Service{Name: "ssl", Confidence: 10, TLS: info}
	sidLen, ok := hello.u8(34)
	if !ok {
		return svc, true, false
	}
	if sidLen > 32 {
		return result.Service{}, false, false
	}
	off := 35 + int(sidLen)
	suite, ok := hello.be16(off)
	if !ok {
		return svc, true, false
	}
	info.Cipher = tls.CipherSuiteName(suite)
	off += 3
	extLen, ok := hello.be16(off)
	if !ok {
		return svc, true, false
	}
	exts, _ := hello.span(off+2, min(int(extLen), len(hello)-off-2))
	walkExtensions(exts, func(typ uint16, data octets) {
		switch typ {
		case extSupportedVersions: // the selected version (RFC 8446 §4.2.1)
			if sv, ok := data.be16(0); ok && len(data) == 2 {
				info.Version = tlsVersionName(sv)
			}
		case extALPN: // the selected protocol, a one-name list (RFC 7301 §3.1)
			names := alpnNames(data)
			if len(names) == 1 {
				info.ALPN = names[0]
			}
		}
	})
	if inner := alpnService(info.ALPN); inner != "" {
		svc.Name, svc.Tunnel = inner, "ssl"
	}
	return svc, true, false
}

// walkExtensions calls fn for each whole extension of an extensions
// block, stopping at the first that runs past its end.
func walkExtensions(b octets, fn func(typ uint16, data octets)) {
	for i := 0; i < 256; i++ {
		typ, ok1 := b.be16(0)
		n, ok2 := b.be16(2)
		if !ok1 || !ok2 {
			return
		}
		data, ok := b.span(4, int(n))
		if !ok {
			return
		}
		fn(typ, data)
		b = b[4+int(n):]
	}
}

// alpnNames reads a ProtocolNameList (RFC 7301 §3.1).
func alpnNames(data octets) []string {
	total, ok := data.be16(0)
	if !ok {
		return nil
	}
	list, ok := data.span(2, int(total))
	if !ok {
		return nil
	}
	var names []string
	for len(list) > 0 && len(names) < 16 {
		n := int(list[0])
		if n == 0 || n+1 > len(list) {
			break
		}
		names = append(names, cleanBytes(list[1:1+n], 64))
		list = list[1+n:]
	}
	return names
}

// alpnService names, in nmap's vocabulary, the protocol an ALPN
// identifier of the IANA registry stands for; "" when unknown.
func alpnService(id string) string {
	switch id {
	case "http/1.0", "http/1.1", "h2", "h3", "spdy/1", "spdy/2", "spdy/3":
		return "http"
	case "imap":
		return "imap"
	case "pop3":
		return "pop3"
	case "ftp":
		return "ftp"
	case "xmpp-client":
		return "xmpp-client"
	case "xmpp-server":
		return "xmpp-server"
	case "mqtt":
		return "mqtt"
	case "smb":
		return "microsoft-ds"
	case "irc":
		return "irc"
	case "nntp", "nnsp":
		return "nntp"
	case "managesieve":
		return "sieve"
	case "dot":
		return "domain"
	case "postgresql":
		return "postgresql"
	}
	return ""
}

// matchClientHello reads a client's first record, a ClientHello (RFC
// 8446 §4.1.2): the highest version it offers and the name it asks for
// (server_name, RFC 6066 §3). A client that offers application
// protocols of one service (ALPN, RFC 7301) names it inside TLS.
func matchClientHello(sent []byte) (result.Service, bool) {
	_, body, ok, _ := tlsRecord(sent, tlsHandshake)
	if !ok || len(body) < 4 || body[0] != tlsClientHello {
		return result.Service{}, false
	}
	n := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
	if n < 38 || n > 1<<16 {
		return result.Service{}, false
	}
	hello := octets(body[4:min(len(body), 4+n)])
	v, ok := hello.be16(0)
	if !ok || v>>8 != 3 || v&0xff > 4 {
		return result.Service{}, false
	}
	info := &result.TLS{Version: tlsVersionName(v)}
	svc := result.Service{Name: "ssl", Confidence: 8, TLS: info}
	// random (32), legacy_session_id <0..32>, cipher_suites <2..2^16-2>,
	// legacy_compression_methods <1..2^8-1>, extensions.
	sidLen, ok := hello.u8(34)
	if !ok {
		return svc, true
	}
	if sidLen > 32 {
		return result.Service{}, false
	}
	off := 35 + int(sidLen)
	csLen, ok := hello.be16(off)
	if !ok {
		return svc, true
	}
	if csLen < 2 || csLen%2 != 0 {
		return result.Service{}, false
	}
	off += 2 + int(csLen)
	cmLen, ok := hello.u8(off)
	if !ok {
		return svc, true
	}
	if cmLen == 0 {
		return result.Service{}, false
	}
	off += 1 + int(cmLen)
	extLen, ok := hello.be16(off)
	if !ok {
		return svc, true
	}
	exts, _ := hello.span(off+2, max(0, min(int(extLen), len(hello)-off-2)))
	var alpn []string
	walkExtensions(exts, func(typ uint16, data octets) {
		switch typ {
		case extServerName:
			info.SNI = sniHostName(data)
		case extSupportedVersions:
			if best := offeredVersion(data); best != 0 {
				info.Version = tlsVersionName(best)
			}
		case extALPN:
			alpn = alpnNames(data)
		}
	})
	if len(alpn) > 0 {
		svc.Info = "alpn " + joinList(alpn)
		inner := alpnService(alpn[0])
		for _, a := range alpn[1:] {
			if alpnService(a) != inner {
				inner = ""
			}
		}
		if inner != "" {
			svc.Name, svc.Tunnel = inner, "ssl"
		}
	}
	return svc, true
}

// offeredVersion is the highest version of a ClientHello's
// supported_versions, a list one byte long (RFC 8446 §4.2.1); GREASE
// values (RFC 8701) are no versions. Zero when there is none.
func offeredVersion(data octets) uint16 {
	if len(data) < 1 || int(data[0])+1 > len(data) {
		return 0
	}
	var best uint16
	for i, end := 1, 1+int(data[0]); i+2 <= end; i += 2 {
		sv, _ := data.be16(i)
		if sv>>8 == 3 && sv&0xff <= 4 && sv > best {
			best = sv
		}
	}
	return best
}

// sniHostName reads the host_name of a ServerNameList (RFC 6066 §3).
func sniHostName(data octets) string {
	total, ok := data.be16(0)
	if !ok {
		return ""
	}
	list, ok := data.span(2, int(total))
	if !ok {
		return ""
	}
	for len(list) >= 3 {
		n := int(list[1])<<8 | int(list[2])
		if 3+n > len(list) {
			return ""
		}
		if list[0] == 0 { // host_name
			return cleanBytes(list[3:3+n], 255)
		}
		list = list[3+n:]
	}
	return ""
}

func joinList(s []string) string { return strings.Join(s, ",") }
