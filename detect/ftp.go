package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "ftp", Ports: []uint16{21}, Match: matchFTP})
}

// matchFTP reads an FTP server's greeting (RFC 959 §5.4: 220 service
// ready, 120 ready in a while, 421 not available; any other error when
// the text names an FTP daemon), in one line or several. A 220 says nothing of its protocol, and SMTP greets with it
// too: a greeting that speaks of SMTP or mail is not FTP, one that says
// FTP is, and one that says neither is FTP with low confidence (tried
// first on FTP's port, after SMTP on SMTP's).
func matchFTP(got []byte) (result.Service, bool, bool) {
	r, ok := readReply(got)
	if !ok {
		return result.Service{}, false, false
	}
	if r.code < 100 {
		// Not three digits yet: "2", "50".
		return result.Service{}, false, true
	}
	if len(r.lines) == 0 && !r.full {
		// The first line is not whole: any code may yet turn out to be
		// a daemon's refusal that names it.
		return result.Service{}, false, r.code == 120 || r.code == 220 || r.code >= 400
	}
	text := r.text()
	svc := result.Service{Name: "ftp", Confidence: 10}
	ftpProduct(&svc, text)
	switch {
	case r.code == 120, r.code == 220, r.code == 421:
	case r.code >= 400 && svc.Product != "" && len(r.lines) > 0:
		// A daemon that refuses every client says so in its greeting:
		// vsftpd's "500 OOPS: vsftpd: ...".
		return svc, true, false
	default:
		return result.Service{}, false, false
	}
	saysFTP := svc.Product != "" || containsFold(text, "ftp")
	switch {
	case saysSMTP(text) || !saysFTP && (containsFold(text, "mail") || saysOther(text)):
		return result.Service{}, false, false
	case !r.done && !r.full && !saysFTP:
		return result.Service{}, false, true
	case !saysFTP && (r.code == 421 || !r.done):
		return result.Service{}, false, false
	case !saysFTP:
		svc.Confidence = 5
	}
	return svc, true, false
}

// couldBeCode says whether b, shorter than a reply code, begins one of
// codes.
func couldBeCode(b []byte, codes ...string) bool {
	for _, c := range codes {
		if hasPrefixOf(b, c) {
			return true
		}
	}
	return false
}

// saysSMTP says whether a 220 greeting's text names SMTP or LMTP, or a
// mail server known to greet so.
func saysSMTP(text string) bool {
	for _, w := range []string{"smtp", "lmtp", "Postfix", "Exim", "Sendmail", "qmail"} {
		if containsFold(text, w) {
			return true
		}
	}
	return false
}

// saysOther says whether a greeting's text names a line protocol that
// is neither FTP nor SMTP but greets with a numbered reply too.
func saysOther(text string) bool {
	return containsFold(text, "nntp") || containsFold(text, "InterNetNews")
}

// ftpProduct reads the daemon from a greeting's text, where it says.
func ftpProduct(svc *result.Service, text string) {
	switch {
	case containsFold(text, "vsftpd"):
		// "(vsFTPd 3.0.3)"
		svc.Product = "vsftpd"
		svc.Version = versionPrefix(wordAfter(text, "vsFTPd"))
		svc.CPE = cpeApp("beasts:vsftpd", svc.Version)
	case strings.Contains(text, "ProFTPD"):
		// "ProFTPD 1.3.5e Server (ProFTPD Default Installation) [addr]";
		// since 1.3.6 the version is shown only when configured so.
		svc.Product = "ProFTPD"
		svc.Version = versionPrefix(wordAfter(text, "ProFTPD"))
		svc.CPE = cpeApp("proftpd:proftpd", svc.Version)
	case strings.Contains(text, "Pure-FTPd"):
		// Pure-FTPd shows no version; its banner's brackets say how it
		// was built ("[privsep] [TLS]").
		svc.Product = "Pure-FTPd"
		svc.CPE = cpeApp("pureftpd:pure-ftpd", "")
	case strings.Contains(text, "FileZilla Server"):
		// "FileZilla Server 1.8.0" or "FileZilla Server 0.9.60 beta".
		svc.Product = "FileZilla ftpd"
		w := wordAfter(text, "Server")
		svc.Version = versionPrefix(w)
		if svc.Version != "" && strings.Contains(text, w+" beta") {
			svc.Info = "beta"
		}
		svc.CPE = cpeApp("filezilla-project:filezilla_server", svc.Version)
	case strings.Contains(text, "Microsoft FTP Service"):
		// IIS: "Microsoft FTP Service", older ones with
		// "(Version 5.0)".
		svc.Product = "Microsoft ftpd"
		if i := strings.Index(text, "(Version "); i >= 0 {
			svc.Version = versionPrefix(text[i+len("(Version "):])
		}
		svc.CPE = []string{"cpe:/o:microsoft:windows"}
	}
}
