package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "smtp", Ports: []uint16{25, 587}, Match: matchSMTP})
}

// matchSMTP reads an SMTP server's greeting (RFC 5321 §4.2 and §3.1:
// "220 domain text", or 554 when it refuses service, 421 when it is
// closing), in one line or several. A greeting that names SMTP or a
// mail server is SMTP (LMTP, RFC 2033, when it says so); one that names
// FTP or NNTP is not; one that says neither is SMTP with low
// confidence, as FTP's is on FTP's port.
func matchSMTP(got []byte) (result.Service, bool, bool) {
	r, ok := readReply(got)
	if !ok {
		return result.Service{}, false, false
	}
	if r.code < 100 {
		return result.Service{}, false, couldBeCode(got, "220", "421", "554")
	}
	switch r.code {
	case 220, 421, 554:
	default:
		return result.Service{}, false, false
	}
	text := r.text()
	svc := result.Service{Name: "smtp", Confidence: 10}
	if containsFold(text, "lmtp") {
		svc.Name = "lmtp"
	}
	smtpProduct(&svc, text)
	switch {
	case svc.Product != "" || saysSMTP(text):
		return svc, true, false
	case saysFTPd(text) || saysOther(text):
		return result.Service{}, false, false
	case !r.done && !r.full:
		return result.Service{}, false, true
	case r.code != 220:
		return result.Service{}, false, false
	case containsFold(text, "mail"):
		svc.Confidence = 7
	default:
		svc.Confidence = 5
	}
	return svc, true, false
}

// saysFTPd says whether a greeting's text names FTP or an FTP daemon.
func saysFTPd(text string) bool {
	var svc result.Service
	ftpProduct(&svc, text)
	return svc.Product != "" || containsFold(text, "ftp")
}

// smtpProduct reads the mail server from a greeting's text, where it
// says.
func smtpProduct(svc *result.Service, text string) {
	switch {
	case strings.Contains(text, "Postfix"):
		// "ESMTP Postfix (Debian/GNU)": Postfix shows no version.
		svc.Product = "Postfix smtpd"
		svc.CPE = cpeApp("postfix:postfix", "")
	case strings.Contains(text, "Exim "):
		// "ESMTP Exim 4.96 Tue, 01 Dec 2026 16:00:00 +0000"
		svc.Product = "Exim smtpd"
		svc.Version = versionPrefix(wordAfter(text, "Exim"))
		svc.CPE = cpeApp("exim:exim", svc.Version)
	case strings.Contains(text, "Sendmail"):
		// "ESMTP Sendmail 8.15.2/8.15.2; Tue, 1 Dec 2026 ...": the
		// binary's version, then its configuration's.
		svc.Product = "Sendmail"
		w := wordAfter(text, "Sendmail")
		svc.Version = versionPrefix(w)
		if _, conf, ok := strings.Cut(strings.TrimSuffix(w, ";"), "/"); ok && conf != svc.Version && versionPrefix(conf) != "" {
			svc.Info = "config " + versionPrefix(conf)
		}
		svc.CPE = cpeApp("sendmail:sendmail", svc.Version)
	case strings.Contains(text, "Microsoft ESMTP MAIL Service"):
		// IIS: "Microsoft ESMTP MAIL Service, Version: 10.0.17763.1
		// ready at ..."; Exchange leaves the version out.
		svc.Product = "Microsoft ESMTP"
		if i := strings.Index(text, "Version: "); i >= 0 {
			svc.Version = versionPrefix(text[i+len("Version: "):])
		}
		svc.CPE = []string{"cpe:/o:microsoft:windows"}
	case strings.Contains(text, "OpenSMTPD"):
		svc.Product = "OpenSMTPD"
		svc.CPE = cpeApp("openbsd:opensmtpd", "")
	}
}
