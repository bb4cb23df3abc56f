package detect

import (
	"bytes"
	"strings"

	"github.com/portscan/portscan/result"
)

// HTTP/1.1 (RFC 9110, RFC 9112). The probe is a GET of "/", which every
// server answers, with a status line and, most of the time, a Server
// header field naming its product (RFC 9110 §10.2.4).
//
// Protocol carries one TLS flag for all its ports, so HTTP is registered
// twice: "http" in the clear on its usual ports, "https" inside TLS on
// 443 and 8443. Both name the service "http"; the prober that spoke TLS
// sets the tunnel.
func init() {
	Register(&Protocol{
		Name:         "http",
		Ports:        []uint16{80, 81, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8888},
		Probe:        httpProbe,
		Match:        matchHTTP,
		MatchRequest: matchHTTPRequest,
	})
	Register(&Protocol{
		Name:  "https",
		Ports: []uint16{443, 8443},
		Probe: httpProbe,
		Match: matchHTTP,
		TLS:   true,
	})
}

// httpProbe asks for "/" (RFC 9112 §3). HTTP/1.1 needs the target's
// authority in Host (RFC 9112 §3.2), and a probe is given only a name;
// without one, the request is HTTP/1.0, which has no Host (RFC 1945
// §5.1) and which servers answer from their default site, where an
// empty Host draws 400 Bad Request. Connection: close lets the server
// end the answer.
func httpProbe(host string) []byte {
	h := probeHost(host)
	if h == "" {
		return []byte("GET / HTTP/1.0\r\n" +
			"User-Agent: portscan\r\n" +
			"Accept: */*\r\n\r\n")
	}
	return []byte("GET / HTTP/1.1\r\n" +
		"Host: " + h + "\r\n" +
		"User-Agent: portscan\r\n" +
		"Accept: */*\r\n" +
		"Connection: close\r\n\r\n")
}

// maxBody bounds how much of a body is searched for a title.
const maxBody = 64 << 10

func matchHTTP(got []byte) (result.Service, bool, bool) {
	h, r := parseStatus(got, "HTTP/")
	switch r {
	case headNo:
		return result.Service{}, false, false
	case headMore:
		return result.Service{}, false, true
	}
	if h.proto < "HTTP/1.0" || h.proto > "HTTP/1.9" || h.code < 100 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "http", Confidence: 10}
	if s := h.get("Server"); s != "" {
		httpServer(&svc, s)
	}
	if t := htmlTitle(h.body); t != "" {
		svc.Info = joinInfo(svc.Info, "title: "+t)
	}
	return svc, true, false
}

// httpProducts names the products whose Server token differs from the
// name they are known by, with their CPE vendor and product.
var httpProducts = map[string]struct{ name, vendor, product string }{
	"Apache":        {"Apache httpd", "apache", "http_server"},
	"nginx":         {"nginx", "igor_sysoev", "nginx"},
	"lighttpd":      {"lighttpd", "lighttpd", "lighttpd"},
	"Microsoft-IIS": {"Microsoft IIS httpd", "microsoft", "internet_information_services"},
	"SimpleHTTP":    {"SimpleHTTPServer", "python", "python"},
	"BaseHTTP":      {"BaseHTTPServer", "python", "python"},
	"Caddy":         {"Caddy httpd", "caddyserver", "caddy"},
	"openresty":     {"OpenResty web app server", "openresty", "openresty"},
}

// httpServer reads a Server field value into svc.
func httpServer(svc *result.Service, s string) {
	product, version, rest := productToken(s)
	if product == "" {
		return
	}
	if !versionish(version) {
		version = ""
	}
	svc.Product, svc.Version = product, version
	p, known := httpProducts[product]
	if known {
		svc.Product = p.name
	}
	switch {
	case product == "SimpleHTTP" || product == "BaseHTTP":
		// Python's http.server: "SimpleHTTP/0.6 Python/3.11.2"; the
		// version that matters is Python's.
		if pp, pv, _ := productToken(rest); pp == "Python" && versionish(pv) {
			svc.Info = "Python " + pv
			svc.CPE = cpe("python", "python", pv)
			return
		}
		svc.Info = comments(rest)
	case known:
		svc.Info = comments(rest)
		svc.CPE = cpe(p.vendor, p.product, version)
	default:
		svc.Info = comments(rest)
	}
	svc.Info = cleanBytes([]byte(svc.Info), maxText)
}

// htmlTitle returns the text of the first <title> element of an HTML
// body, with the entities of XML's five named characters decoded.
func htmlTitle(body []byte) string {
	body = body[:min(len(body), maxBody)]
	i := indexFold(string(body), "<title")
	if i < 0 {
		return ""
	}
	rest := body[i+len("<title"):]
	if len(rest) == 0 || (rest[0] != '>' && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\n' && rest[0] != '\r') {
		return ""
	}
	gt := bytes.IndexByte(rest, '>')
	if gt < 0 {
		return ""
	}
	rest = rest[gt+1:]
	end := indexFold(string(rest), "</title")
	if end < 0 {
		end = min(len(rest), 4*maxText)
	}
	t := cleanBytes(rest[:end], maxText)
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&apos;", "'", "&amp;", "&").Replace(t)
}

// matchHTTPRequest reads a request line of HTTP/1.x, or the HTTP/2
// connection preface (RFC 9113 §3.4), which begins like one.
func matchHTTPRequest(sent []byte) (result.Service, bool) {
	method, _, ok := parseRequestLine(sent, "HTTP/")
	if !ok {
		return result.Service{}, false
	}
	if method == "PRI" && bytes.HasPrefix(sent, []byte("PRI * HTTP/2.0\r\n")) {
		return result.Service{Name: "http", Info: "HTTP/2", Confidence: 10}, true
	}
	switch method {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return result.Service{Name: "http", Confidence: 10}, true
	}
	// Other methods (WebDAV's PROPFIND...) with an HTTP version.
	return result.Service{Name: "http", Confidence: 8}, true
}
