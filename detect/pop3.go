package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "pop3", Ports: []uint16{110}, Match: matchPOP3})
}

// matchPOP3 reads a POP3 server's greeting (RFC 1939 §4): one line,
// "+OK" and text, perhaps an APOP timestamp "<pid.clock@host>". A
// refusal ("-ERR") is POP3 only when its text says so.
func matchPOP3(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	line, _, whole := cutLine(b)
	status := "+OK"
	switch {
	case hasPrefixOf(line, "+OK"):
	case hasPrefixOf(line, "-ERR"):
		status = "-ERR"
	default:
		return result.Service{}, false, false
	}
	if !whole && !full {
		return result.Service{}, false, true
	}
	if len(line) < len(status) || len(line) > len(status) && line[len(status)] != ' ' || !isText(line) {
		return result.Service{}, false, false
	}
	text := strings.TrimSpace(string(line[len(status):]))
	svc := result.Service{Name: "pop3", Confidence: 10}
	pop3Product(&svc, text)
	switch {
	case svc.Product != "" || containsFold(text, "pop"):
	case status == "-ERR":
		return result.Service{}, false, false
	default:
		svc.Confidence = 8
	}
	return svc, true, false
}

// pop3Product reads the daemon from a greeting's text, where it says.
func pop3Product(svc *result.Service, text string) {
	switch {
	case strings.HasPrefix(text, "Dovecot"):
		// "Dovecot ready.", "Dovecot (Debian) ready."
		svc.Product = "Dovecot pop3d"
		svc.CPE = cpeApp("dovecot:dovecot", "")
	case strings.Contains(text, "Cyrus POP3"):
		// "host Cyrus POP3 v2.4.17-Debian-2.4.17 server ready <...>"
		svc.Product = "Cyrus pop3d"
		svc.Version = cyrusVersion(wordAfter(text, "POP3"))
		svc.CPE = cpeApp("cmu:cyrus_imap_server", svc.Version)
	case strings.Contains(text, "Qpopper"):
		// "Qpopper (version 4.1.0) at host starting."
		svc.Product = "Qpopper"
		if i := strings.Index(text, "(version "); i >= 0 {
			svc.Version = versionPrefix(text[i+len("(version "):])
		}
		svc.CPE = cpeApp("qualcomm:qpopper", svc.Version)
	case strings.Contains(text, "Microsoft Exchange"):
		svc.Product = "Microsoft Exchange pop3d"
		svc.CPE = cpeApp("microsoft:exchange_server", "")
	}
}

// cyrusVersion reads Cyrus's "v2.4.17-Debian-2.4.17" as "2.4.17".
func cyrusVersion(w string) string {
	return versionPrefix(strings.TrimPrefix(w, "v"))
}
