package detect

import (
	"bytes"

	"github.com/portscan/portscan/result"
)

// PostgreSQL's frontend/backend protocol 3.0 (the PostgreSQL
// documentation, "Frontend/Backend Protocol", "Message Formats"). The
// probe is a StartupMessage; the server answers with an authentication
// request ('R'), or an ErrorResponse ('E') when no pg_hba.conf line lets
// the connection in. Only a server that trusts the client goes on to send
// ParameterStatus messages, among them server_version.
func init() {
	Register(&Protocol{
		Name:         "postgresql",
		Ports:        []uint16{5432, 5433},
		Probe:        postgresProbe,
		Match:        matchPostgres,
		MatchRequest: matchPostgresRequest,
	})
}

// The codes in the place of a protocol version that make a startup
// packet something else ("Message Formats": SSLRequest, GSSENCRequest,
// CancelRequest), and protocol 3.0.
const (
	pgProtocol3   = 3 << 16
	pgSSLRequest  = 80877103
	pgGSSENC      = 80877104
	pgCancel      = 80877102
	pgMaxMessage  = 1 << 16
	pgProbeUser   = "portscan"
	pgProbeDBName = "postgres"
)

func postgresProbe(string) []byte {
	params := "user\x00" + pgProbeUser + "\x00database\x00" + pgProbeDBName +
		"\x00application_name\x00portscan\x00\x00"
	n := 8 + len(params)
	b := []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 3, 0, 0}
	return append(b, params...)
}

// pgAuth names the authentication requests ('R' messages).
var pgAuth = map[uint32]string{
	0: "trust", 2: "KerberosV5", 3: "cleartext password", 5: "MD5 password",
	7: "GSSAPI", 9: "SSPI", 10: "SASL",
}

func matchPostgres(got []byte) (result.Service, bool, bool) {
	if len(got) == 0 {
		return result.Service{}, false, true
	}
	if got[0] != 'R' && got[0] != 'E' {
		return result.Service{}, false, false
	}
	b := octets(got)
	n, ok := b.be32(1)
	if !ok {
		return result.Service{}, false, len(got) < 5 && lenPrefixPlausible(got[1:], pgMaxMessage)
	}
	if n < 5 || n > pgMaxMessage {
		return result.Service{}, false, false
	}
	body := got[5:min(len(got), 1+int(n))]
	svc := result.Service{Name: "postgresql", Product: "PostgreSQL DB", Confidence: 10}
	if got[0] == 'E' {
		// Fields: a code byte and a C string each, then a zero byte. The
		// first is the severity, 'S' (localised) or 'V'.
		if len(body) == 0 {
			return result.Service{}, false, true
		}
		if body[0] != 'S' && body[0] != 'V' {
			return result.Service{}, false, false
		}
		var code, msg string
		for f := 0; len(body) > 1 && body[0] != 0 && f < 32; f++ {
			end := bytes.IndexByte(body[1:], 0)
			if end < 0 {
				break
			}
			v := body[1 : 1+end]
			switch body[0] {
			case 'C':
				code = cleanBytes(v, 5)
			case 'M':
				msg = cleanBytes(v, maxText)
			}
			body = body[2+end:]
		}
		svc.Info = joinInfo(code, msg)
		return svc, true, false
	}
	if n < 8 {
		return result.Service{}, false, false
	}
	code, ok := b.be32(5)
	if !ok {
		return result.Service{}, false, true
	}
	name, known := pgAuth[code]
	if !known || (code != 10 && n != 8 && !(code == 5 && n == 12)) {
		return result.Service{}, false, false
	}
	if code == 10 {
		// The SASL mechanisms, C strings ending with an empty one.
		mechs := bytes.Split(bytes.TrimRight(body[4:], "\x00"), []byte{0})
		var ms []string
		for _, m := range mechs[:min(len(mechs), 4)] {
			if len(m) > 0 {
				ms = append(ms, cleanBytes(m, 32))
			}
		}
		if len(ms) > 0 {
			name = joinList(ms)
		}
	}
	svc.Info = "auth " + name
	if code == 0 {
		svc.Version = pgServerVersion(got[1+n:])
		if svc.Version != "" {
			svc.CPE = cpe("postgresql", "postgresql", svc.Version)
		}
	}
	return svc, true, false
}

// pgServerVersion finds the ParameterStatus server_version among the
// messages that follow AuthenticationOk.
func pgServerVersion(b octets) string {
	for i := 0; i < 64 && len(b) >= 5; i++ {
		n, _ := b.be32(1)
		if n < 4 || int(n) > len(b)-1 {
			return ""
		}
		if b[0] == 'S' {
			name, value, _ := bytes.Cut(b[5:1+n], []byte{0})
			if string(name) == "server_version" {
				v, _, _ := bytes.Cut(value, []byte{0})
				// "15.14 (Debian 15.14-0+deb12u1)": the number first.
				s := cleanBytes(v, 64)
				num, _, _ := bytes.Cut([]byte(s), []byte(" "))
				return string(num)
			}
		}
		b = b[1+n:]
	}
	return ""
}

// lenPrefixPlausible says whether the first bytes of a big-endian 32-bit
// length, cut short, can still make a length of at most max.
func lenPrefixPlausible(b []byte, max uint32) bool {
	var v uint32
	for i := 0; i < 4; i++ {
		v <<= 8
		if i < len(b) {
			v |= uint32(b[i])
		}
	}
	return v <= max
}

// matchPostgresRequest reads a startup packet: an SSLRequest,
// GSSENCRequest or CancelRequest, or a StartupMessage of protocol 3.0
// naming a user.
func matchPostgresRequest(sent []byte) (result.Service, bool) {
	b := octets(sent)
	n, ok1 := b.be32(0)
	code, ok2 := b.be32(4)
	if !ok1 || !ok2 {
		return result.Service{}, false
	}
	svc := result.Service{Name: "postgresql", Confidence: 10}
	switch {
	case (code == pgSSLRequest || code == pgGSSENC) && n == 8:
		return svc, true
	case code == pgCancel && n == 16:
		return svc, true
	case code == pgProtocol3 && n > 8 && n < 10000:
		params := sent[8:min(len(sent), int(n))]
		if bytes.HasPrefix(params, []byte("user\x00")) || bytes.Contains(params, []byte("\x00user\x00")) {
			return svc, true
		}
	}
	return result.Service{}, false
}
