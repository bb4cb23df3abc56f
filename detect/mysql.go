package detect

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "mysql", Ports: []uint16{3306}, Match: matchMySQL})
}

// mysqlMaxGreeting bounds the payload of a server's first packet: a
// handshake is under 128 bytes, an error packet's message under 512.
const mysqlMaxGreeting = 1024

// matchMySQL reads the first packet a MySQL or MariaDB server sends
// (the client/server protocol's Initial Handshake Packet, protocol 10,
// or 9 from servers before 3.22), or the error packet it sends instead
// when it refuses the client ("Host '...' is not allowed to connect",
// "Too many connections"). A packet is a 3-byte little-endian payload
// length, a sequence number (0 for the first) and the payload.
func matchMySQL(got []byte) (result.Service, bool, bool) {
	// The header, as far as it came.
	switch {
	case len(got) > 1 && got[1] > mysqlMaxGreeting>>8,
		len(got) > 2 && got[2] != 0,
		len(got) > 3 && got[3] != 0:
		return result.Service{}, false, false
	case len(got) < 5:
		return result.Service{}, false, true
	}
	n := int(got[0]) | int(got[1])<<8
	if n < 1 || n > mysqlMaxGreeting {
		return result.Service{}, false, false
	}
	p := got[4:]
	switch p[0] {
	case 10, 9, 0xff:
	default:
		return result.Service{}, false, false
	}
	if len(p) < n {
		// Cut short: what came must still read as the packet's start.
		if p[0] != 0xff && !isText(untilNUL(p[1:])) {
			return result.Service{}, false, false
		}
		return result.Service{}, false, true
	}
	p = p[:n]
	if p[0] == 0xff {
		return mysqlError(p)
	}
	return mysqlHandshake(p)
}

// untilNUL returns b up to its first NUL byte, or all of b.
func untilNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// mysqlHandshake reads a handshake's payload: protocol version, server
// version NUL-terminated, connection id (4 bytes), then for protocol
// 10 the first 8 bytes of the auth data, a zero filler and the
// capability flags' low 2 bytes, and perhaps more.
func mysqlHandshake(p []byte) (result.Service, bool, bool) {
	i := bytes.IndexByte(p[1:], 0)
	if i < 1 || i > 64 {
		return result.Service{}, false, false
	}
	version := p[1 : 1+i]
	rest := p[2+i:]
	if !isText(version) || version[0] < '0' || version[0] > '9' {
		return result.Service{}, false, false
	}
	if p[0] == 10 && (len(rest) < 4+8+1+2 || rest[12] != 0) || p[0] == 9 && len(rest) < 4 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "mysql", Confidence: 10}
	mysqlVersion(&svc, string(version))
	if p[0] == 9 {
		svc.Info = joinInfo(svc.Info, "protocol 9")
	}
	return svc, true, false
}

// mysqlVersion reads the server version string: "8.0.36",
// "8.0.36-0ubuntu0.22.04.1", "10.11.6-MariaDB-0+deb12u1", and with the
// "5.5.5-" that MariaDB before 11 puts in front so that old
// replication clients take it for a 5.5 server.
func mysqlVersion(svc *result.Service, v string) {
	if strings.Contains(v, "MariaDB") {
		v = strings.TrimPrefix(v, "5.5.5-")
		num, suffix, _ := strings.Cut(v, "-")
		suffix = strings.TrimPrefix(strings.TrimPrefix(suffix, "MariaDB"), "-")
		svc.Product = "MariaDB"
		svc.Version = versionPrefix(num)
		svc.CPE = cpeApp("mariadb:mariadb", svc.Version)
		svc.Info = mysqlSuffix(suffix)
		return
	}
	num, suffix, _ := strings.Cut(v, "-")
	svc.Product = "MySQL"
	svc.Version = versionPrefix(num)
	svc.CPE = cpeApp("oracle:mysql", svc.Version)
	svc.Info = mysqlSuffix(suffix)
}

// mysqlSuffix turns what follows a version into Info: a distribution's
// package revision as such, anything else ("log", "debug") as it is.
func mysqlSuffix(s string) string {
	if s == "" {
		return ""
	}
	if info := packageInfo(s); info != "" {
		return info
	}
	return cleanText(s, 40)
}

// mysqlError reads an error packet sent instead of the handshake: 0xff,
// the error code (2 bytes, little-endian), perhaps '#' and a 5-byte SQL
// state, and the message.
func mysqlError(p []byte) (result.Service, bool, bool) {
	if len(p) < 4 {
		return result.Service{}, false, false
	}
	code := binary.LittleEndian.Uint16(p[1:3])
	msg := p[3:]
	if msg[0] == '#' && len(msg) >= 6 {
		msg = msg[6:]
	}
	if len(msg) == 0 || !isText(msg) || code < 1000 || code >= 5000 {
		return result.Service{}, false, false
	}
	text := string(msg)
	svc := result.Service{Name: "mysql", Confidence: 7}
	switch code {
	case 1130: // ER_HOST_NOT_PRIVILEGED
		svc.Info = "unauthorized"
		svc.Confidence = 10
	case 1129: // ER_HOST_IS_BLOCKED
		svc.Info = "blocked"
		svc.Confidence = 10
	case 1040: // ER_CON_COUNT_ERROR
		svc.Info = "too many connections"
		svc.Confidence = 10
	}
	switch {
	case strings.Contains(text, "MariaDB"):
		svc.Product = "MariaDB"
		svc.CPE = cpeApp("mariadb:mariadb", "")
	case strings.Contains(text, "MySQL"):
		svc.Product = "MySQL"
		svc.CPE = cpeApp("oracle:mysql", "")
	}
	return svc, true, false
}
