package audit

import (
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/result"
)

// MatchService reports whether name, as a policy writes it, names the
// service detection found. Names are nmap's, compared without regard to
// case, and TLS counts: "http" is HTTP in the clear only; "ssl/http",
// and the names catalogs give the TLS form of a protocol ("https",
// "imaps", "secure-mqtt": the name with "s" after it or "secure-"
// before it), are the protocol inside TLS only; "ssl" is a TLS service
// whose protocol inside was not told. So deny_services: [http] forbids
// clear-text HTTP and leaves HTTPS alone. A service detection named
// nothing matches no name.
func MatchService(name string, s *result.Service) bool {
	if s == nil || s.Name == "" {
		return false
	}
	if strings.EqualFold(name, serviceName(s)) {
		return true
	}
	return s.Tunnel == "ssl" && (strings.EqualFold(name, s.Name+"s") || strings.EqualFold(name, "secure-"+s.Name))
}

// serviceName is the service as nmap prints it: "ssh", "ssl/http".
func serviceName(s *result.Service) string {
	if s.Tunnel == "ssl" {
		return "ssl/" + s.Name
	}
	return s.Name
}

// describeService is a detected service for a message: its name, then
// product and version in brackets when known: "ssl/http (nginx 1.24.0)".
func describeService(s *result.Service) string {
	out := serviceName(s)
	if pv := strings.TrimSpace(s.Product + " " + s.Version); pv != "" {
		out += " (" + pv + ")"
	}
	return out
}

// maxServiceName bounds a service name in a policy; nmap's longest are
// under 30 bytes.
const maxServiceName = 64

// errServiceName explains a name that cannot be a service's.
var errServiceName = errors.New("expected a service name in nmap's vocabulary (https, ssh, ssl/imap): letters, digits and . _ + -")

// checkServiceName accepts the shape of nmap's service names, with
// "ssl/" before them if need be. Names are not looked up in a list:
// nmap's vocabulary is open (a user's nmap-service-probes may name any
// service), so a name of the right shape is taken as written.
func checkServiceName(name string) error {
	bare := strings.TrimPrefix(strings.ToLower(name), "ssl/")
	if bare == "" || len(name) > maxServiceName {
		return errServiceName
	}
	for _, r := range bare {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r)) {
			return errServiceName
		}
	}
	return nil
}

// tlsVersions are the versions min_version takes, and the names the
// result model gives them; SSL 3.0 is below every one.
var tlsVersions = []struct {
	policy, result string
	v              uint16
}{
	{"", "SSL 3.0", 0x0300}, // below every min_version
	{"1.0", "TLS 1.0", tls.VersionTLS10},
	{"1.1", "TLS 1.1", tls.VersionTLS11},
	{"1.2", "TLS 1.2", tls.VersionTLS12},
	{"1.3", "TLS 1.3", tls.VersionTLS13},
}

// policyTLSVersion reads a min_version value: "1.0" to "1.3".
func policyTLSVersion(s string) (uint16, bool) {
	for _, v := range tlsVersions {
		if v.policy != "" && v.policy == s {
			return v.v, true
		}
	}
	return 0, false
}

// resultTLSVersion reads a result's TLS.Version: "TLS 1.2", or the
// "0x0305" detection writes for a version it has no name for.
func resultTLSVersion(s string) (uint16, bool) {
	for _, v := range tlsVersions {
		if v.result == s {
			return v.v, true
		}
	}
	if hex, ok := strings.CutPrefix(s, "0x"); ok && len(hex) == 4 {
		if n, err := strconv.ParseUint(hex, 16, 16); err == nil {
			return uint16(n), true
		}
	}
	return 0, false
}

// tlsVersionText names a version for a message: "TLS 1.2".
func tlsVersionText(v uint16) string {
	for _, t := range tlsVersions {
		if t.v == v {
			return t.result
		}
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// maxDays bounds the days of an expires_within duration.
const maxDays = 36500

// parseWithin reads an expires_within duration: Go's durations
// ("720h", "90m") with whole days before them ("30d", "1d12h"), which
// time.ParseDuration does not take. It must be more than zero.
func parseWithin(s string) (time.Duration, bool) {
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > maxDays {
			return 0, false
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || d < 0 || rest[0] == '+' || rest[0] == '-' {
			return 0, false
		}
	}
	if total := days + d; total > 0 && total >= days {
		return total, true
	}
	return 0, false
}
