package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "nntp", Ports: []uint16{119}, Match: matchNNTP})
}

// matchNNTP reads a news server's greeting (RFC 3977 §5.1): 200 service
// available, posting allowed; 201 posting prohibited; 400 temporarily
// and 502 permanently unavailable. The refusals count only when their
// text speaks of news.
func matchNNTP(got []byte) (result.Service, bool, bool) {
	r, ok := readReply(got)
	if !ok {
		return result.Service{}, false, false
	}
	if r.code < 100 {
		return result.Service{}, false, couldBeCode(got, "200", "201", "400", "502")
	}
	svc := result.Service{Name: "nntp", Confidence: 10}
	switch r.code {
	case 200:
		svc.Info = "posting allowed"
	case 201:
		svc.Info = "posting prohibited"
	case 400:
		svc.Info = "temporarily unavailable"
	case 502:
		svc.Info = "permanently unavailable"
	default:
		return result.Service{}, false, false
	}
	text := r.text()
	nntpProduct(&svc, text)
	says := svc.Product != "" || containsFold(text, "nntp") || containsFold(text, "news")
	switch {
	case says:
	case saysSMTP(text) || saysFTPd(text):
		return result.Service{}, false, false
	case !r.done && !r.full:
		return result.Service{}, false, true
	case r.code >= 400:
		return result.Service{}, false, false
	default:
		svc.Confidence = 5
	}
	return svc, true, false
}

// nntpProduct reads the server from a greeting's text, where it says.
func nntpProduct(svc *result.Service, text string) {
	switch {
	case strings.Contains(text, "InterNetNews"):
		// innd: "host InterNetNews server INN 2.7.1 ready (transit
		// mode)"; nnrpd: "host InterNetNews NNRP server INN 2.7.1
		// ready (posting ok)".
		svc.Product = "INN"
		svc.Version = versionPrefix(wordAfter(text, "INN"))
		svc.CPE = cpeApp("isc:inn", svc.Version)
		if strings.Contains(text, "(transit mode)") {
			svc.Info = joinInfo(svc.Info, "transit mode")
		}
	case strings.Contains(text, "Leafnode"):
		// "Leafnode NNTP Daemon, version 1.11.11 running at host"
		svc.Product = "Leafnode nntpd"
		svc.Version = versionPrefix(wordAfter(text, "version"))
	}
}
