package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

// SIP over TCP (RFC 3261). The probe is an OPTIONS request (§11), which
// asks a server its capabilities and which servers answer without
// authentication, with a status line and usually a Server or User-Agent
// field (§20.35, §20.41) naming the product.
func init() {
	Register(&Protocol{
		Name:         "sip",
		Ports:        []uint16{5060},
		Probe:        sipProbe,
		Match:        matchSIP,
		MatchRequest: matchSIPRequest,
	})
	Register(&Protocol{
		Name:  "sips",
		Ports: []uint16{5061},
		Probe: sipProbe,
		Match: matchSIP,
		TLS:   true,
	})
}

// sipProbe addresses the OPTIONS to the target's name; without one, to
// the reserved name "invalid" (RFC 6761 §6.4), which no proxy can
// forward to. The fields are those §8.1.1 makes mandatory, and
// Content-Length, which a stream transport needs (§18.3).
func sipProbe(host string) []byte {
	h := probeHost(host)
	if h == "" {
		h = "invalid"
	}
	return []byte("OPTIONS sip:" + h + " SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP portscan.invalid;branch=z9hG4bK-portscan-options\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:portscan@portscan.invalid>;tag=portscan\r\n" +
		"To: <sip:" + h + ">\r\n" +
		"Call-ID: portscan-options@portscan.invalid\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Contact: <sip:portscan@portscan.invalid;transport=tcp>\r\n" +
		"Accept: application/sdp\r\n" +
		"User-Agent: portscan\r\n" +
		"Content-Length: 0\r\n\r\n")
}

func matchSIP(got []byte) (result.Service, bool, bool) {
	h, r := parseStatus(got, "SIP/")
	switch r {
	case headNo:
		return result.Service{}, false, false
	case headMore:
		return result.Service{}, false, true
	}
	if h.proto != "SIP/2.0" || h.code < 100 || h.code > 699 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "sip", Confidence: 10}
	s := h.get("Server")
	if s == "" {
		s = h.get("User-Agent")
	}
	productVersion(&svc, s)
	if svc.Info == "" && h.code != 200 {
		svc.Info = "status " + itoa3(h.code)
	}
	return svc, true, false
}

// itoa3 spells a three-digit status code.
func itoa3(c int) string {
	return string([]byte{byte('0' + c/100%10), byte('0' + c/10%10), byte('0' + c%10)})
}

// productVersion reads a Server or User-Agent value of the forms servers
// use: "product/version comments", or words with a version among them
// ("kamailio (5.6.3 (x86_64/linux))", "Asterisk PBX 18.10.0").
func productVersion(svc *result.Service, s string) {
	if s == "" {
		return
	}
	p, v, rest := productToken(s)
	if versionish(v) {
		svc.Product, svc.Version, svc.Info = p, v, cleanBytes([]byte(comments(rest)), maxText)
		return
	}
	words := strings.Fields(s)
	for i, w := range words[:min(len(words), 8)] {
		w = strings.Trim(w, "()[],;")
		if len(w) > 1 && w[0] == 'v' && w[1] >= '0' && w[1] <= '9' {
			w = w[1:] // "v2023.01.19"
		}
		if i > 0 && versionish(w) {
			svc.Product = strings.Join(words[:i], " ")
			svc.Version = w
			svc.Info = cleanBytes([]byte(comments(strings.Join(words[i+1:], " "))), maxText)
			svc.Info = strings.Trim(svc.Info, "()")
			return
		}
	}
	svc.Product = cleanBytes([]byte(s), maxText)
}

// matchSIPRequest reads a request line of SIP/2.0 with a sip or sips URI.
func matchSIPRequest(sent []byte) (result.Service, bool) {
	_, target, ok := parseRequestLine(sent, "SIP/")
	if !ok || !(strings.HasPrefix(target, "sip:") || strings.HasPrefix(target, "sips:") || strings.HasPrefix(target, "tel:")) {
		return result.Service{}, false
	}
	return result.Service{Name: "sip", Confidence: 10}, true
}
