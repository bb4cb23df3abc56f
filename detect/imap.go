package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "imap", Ports: []uint16{143}, Match: matchIMAP})
}

// matchIMAP reads an IMAP server's greeting (RFC 9051 §7.1, RFC 3501
// §7.1): an untagged "* OK", "* PREAUTH" or "* BYE" response, often
// with the capabilities in a response code: "* OK [CAPABILITY IMAP4rev1
// ...] text".
func matchIMAP(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	line, _, whole := cutLine(b)
	if !hasPrefixOf(line, "* ") {
		return result.Service{}, false, false
	}
	rest := string(line[min(len(line), 2):])
	status, text, spaced := strings.Cut(rest, " ")
	if !whole && !full {
		if !spaced && !couldBeWordFold(status, "OK", "PREAUTH", "BYE") {
			return result.Service{}, false, false
		}
		return result.Service{}, false, true
	}
	if !isText(line) {
		return result.Service{}, false, false
	}
	status = strings.ToUpper(status)
	if status != "OK" && status != "PREAUTH" && status != "BYE" {
		return result.Service{}, false, false
	}
	var caps string
	if strings.HasPrefix(text, "[") {
		code, after, ok := strings.Cut(text[1:], "]")
		if ok {
			text = strings.TrimSpace(after)
			if c, ok := strings.CutPrefix(code, "CAPABILITY "); ok {
				caps = c
			}
		}
	}
	svc := result.Service{Name: "imap", Confidence: 10}
	imapProduct(&svc, text)
	switch {
	case svc.Product != "" || hasIMAPCapability(caps) || containsFold(text, "imap"):
	case status == "OK":
		svc.Confidence = 7
	case status == "PREAUTH":
		svc.Confidence = 8
	default:
		return result.Service{}, false, false
	}
	return svc, true, false
}

// couldBeWordFold says whether w, not yet followed by a space, begins
// one of words, ignoring case.
func couldBeWordFold(w string, words ...string) bool {
	for _, x := range words {
		if len(w) <= len(x) && strings.EqualFold(w, x[:len(w)]) {
			return true
		}
	}
	return false
}

// hasIMAPCapability says whether a capability list names an IMAP
// revision, as RFC 9051 §7.2.2 requires it to.
func hasIMAPCapability(caps string) bool {
	for _, c := range strings.Fields(caps) {
		if strings.EqualFold(c, "IMAP4rev1") || strings.EqualFold(c, "IMAP4rev2") || strings.EqualFold(c, "IMAP4") {
			return true
		}
	}
	return false
}

// imapProduct reads the daemon from a greeting's text, after its
// response code, where it says.
func imapProduct(svc *result.Service, text string) {
	switch {
	case strings.HasPrefix(text, "Dovecot"):
		// "Dovecot ready.", "Dovecot (Debian) ready."
		svc.Product = "Dovecot imapd"
		svc.CPE = cpeApp("dovecot:dovecot", "")
	case strings.Contains(text, "Cyrus IMAP"):
		// "host Cyrus IMAP v3.6.1-Debian-3.6.1-4 server ready",
		// "host Cyrus IMAP4 v2.2.13 server ready"
		svc.Product = "Cyrus imapd"
		w := wordAfter(text, "IMAP")
		if w == "" {
			w = wordAfter(text, "IMAP4")
		}
		svc.Version = cyrusVersion(w)
		svc.CPE = cpeApp("cmu:cyrus_imap_server", svc.Version)
	case strings.HasPrefix(text, "Courier-IMAP"):
		// "Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc."
		svc.Product = "Courier Imapd"
	case strings.Contains(text, "Microsoft Exchange"):
		svc.Product = "Microsoft Exchange imapd"
		svc.CPE = cpeApp("microsoft:exchange_server", "")
	}
}
