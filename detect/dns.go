package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

// DNS over TCP (RFC 1035 §4.2.2: each message prefixed with its length in
// two bytes). The probe asks for version.bind in class CHAOS, which BIND,
// dnsmasq, Unbound, PowerDNS and Knot answer with their product and
// version unless configured not to; those that refuse still answer, with
// the query's id and QR set, which names the service.
func init() {
	Register(&Protocol{
		Name:         "domain",
		Ports:        []uint16{53, 5353, 5053},
		Probe:        dnsProbe,
		Match:        matchDNSTCP,
		MatchRequest: matchDNSTCPRequest,
	})
}

// dnsProbeID is the id of the probe's query. Probe is a pure function,
// so the id is fixed; an answer that carries it is to this query.
const dnsProbeID = 0x7073

// dnsVersionQuery is the version.bind CH TXT query (RFC 1035 §4.1; the
// class CH of §3.2.4), not asking for recursion.
var dnsVersionQuery = []byte{
	0x70, 0x73, // ID
	0x00, 0x00, // QR=0, OPCODE=0, RD=0
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QDCOUNT 1
	7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0,
	0x00, 0x10, // QTYPE TXT
	0x00, 0x03, // QCLASS CH
}

func dnsProbe(string) []byte {
	b := []byte{0, byte(len(dnsVersionQuery))}
	return append(b, dnsVersionQuery...)
}

// dnsMessage is what is read of a DNS message.
type dnsMessage struct {
	id       uint16
	response bool
	opcode   byte
	rcode    byte
	question string // the first question's name, "" for the root or none
	qtype    uint16
	qclass   uint16
	txtCH    string // the text of the first CH TXT answer, if any
	complete bool   // the whole message was there and parsed
}

// parseDNS reads a message (RFC 1035 §4.1): the header, the questions,
// and the answers as far as the bytes go. ok is false when the header
// is not there or the counts or names are impossible.
func parseDNS(msg octets) (m dnsMessage, ok bool) {
	if len(msg) < 12 {
		return m, false
	}
	m.id, _ = msg.be16(0)
	m.response = msg[2]&0x80 != 0
	m.opcode = msg[2] >> 3 & 0x0f
	m.rcode = msg[3] & 0x0f
	qd, _ := msg.be16(4)
	an, _ := msg.be16(6)
	if qd > 16 || an > 256 || msg[3]&0x40 != 0 { // Z must be zero
		return m, false
	}
	off := 12
	for i := 0; i < int(qd); i++ {
		name, n, ok := dnsName(msg, off)
		if !ok {
			return m, n == 0 // a question cut short, or an impossible one
		}
		if i == 0 {
			m.question = name
			m.qtype, _ = msg.be16(off + n)
			m.qclass, _ = msg.be16(off + n + 2)
		}
		off += n + 4
		if off > len(msg) {
			return m, true
		}
	}
	for i := 0; i < int(an); i++ {
		_, n, ok := dnsName(msg, off)
		if !ok {
			return m, true
		}
		off += n
		typ, ok1 := msg.be16(off)
		class, ok2 := msg.be16(off + 2)
		rdlen, ok3 := msg.be16(off + 8)
		if !ok1 || !ok2 || !ok3 {
			return m, true
		}
		rdata, ok := msg.span(off+10, int(rdlen))
		if !ok {
			return m, true
		}
		off += 10 + int(rdlen)
		if typ == 16 && class == 3 && m.txtCH == "" {
			m.txtCH = txtStrings(rdata)
		}
	}
	m.complete = true
	return m, true
}

// dnsName reads a domain name at off (RFC 1035 §3.1, §4.1.4) and returns
// it in dotted form and the bytes it takes at off. A compression
// pointer ends it: names behind one are not followed (the names the
// matchers compare are the question's, which is never compressed), and
// come back as "". n is 0 and ok false when the bytes end first.
func dnsName(msg octets, off int) (name string, n int, ok bool) {
	var sb strings.Builder
	for i := off; i < len(msg); {
		l := int(msg[i])
		switch {
		case l == 0:
			return sb.String(), i + 1 - off, true
		case l&0xc0 == 0xc0:
			if i+1 >= len(msg) {
				return "", 0, false
			}
			return "", i + 2 - off, true
		case l&0xc0 != 0:
			return "", 1, false // reserved label types
		}
		if i+1+l > len(msg) || i+1+l-off > 255 {
			return "", 0, false
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strings.ToLower(cleanBytes(msg[i+1:i+1+l], 63)))
		i += 1 + l
	}
	return "", 0, false
}

// txtStrings joins the character-strings of TXT RDATA (RFC 1035 §3.3.14).
func txtStrings(rdata []byte) string {
	var parts []byte
	for len(rdata) > 0 && len(parts) < 4*maxText {
		n := int(rdata[0])
		if 1+n > len(rdata) {
			break
		}
		parts = append(parts, rdata[1:1+n]...)
		rdata = rdata[1+n:]
	}
	return cleanBytes(parts, maxText)
}

// matchDNSTCP reads a length-prefixed DNS response.
func matchDNSTCP(got []byte) (result.Service, bool, bool) {
	if len(got) < 2 {
		return result.Service{}, false, true
	}
	n := int(got[0])<<8 | int(got[1])
	if n < 12 {
		return result.Service{}, false, false
	}
	msg := got[2:min(len(got), 2+n)]
	if len(msg) < 12 {
		// The id and flags are enough to rule out most bytes.
		if len(msg) >= 3 && (msg[2]&0x80 == 0 || msg[2]&0x78 != 0) {
			return result.Service{}, false, false
		}
		return result.Service{}, false, true
	}
	return dnsService(msg, dnsProbeID)
}

// dnsService names the DNS service that sent msg, a response; ours is the
// id of the query we sent, when we sent one, and raises the confidence.
func dnsService(msg []byte, ours uint16) (result.Service, bool, bool) {
	m, ok := parseDNS(msg)
	if !ok || !m.response || m.opcode != 0 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "domain", Confidence: 8}
	if m.id == ours {
		svc.Confidence = 10
	}
	if m.question == "version.bind" && m.qclass == 3 && m.txtCH != "" {
		dnsVersion(&svc, m.txtCH)
	}
	return svc, true, false
}

// dnsVersion reads a version.bind text into svc: the text each server
// gives is its own ("dnsmasq-2.90", "unbound 1.17.1", BIND's bare
// version "9.18.24-1-Debian").
func dnsVersion(svc *result.Service, txt string) {
	type product struct{ prefix, name, vendor, product string }
	for _, p := range []product{
		{"dnsmasq-", "dnsmasq", "thekelleys", "dnsmasq"},
		{"unbound ", "Unbound", "nlnetlabs", "unbound"},
		{"PowerDNS Authoritative Server ", "PowerDNS Authoritative Server", "powerdns", "authoritative"},
		{"PowerDNS Recursor ", "PowerDNS Recursor", "powerdns", "recursor"},
		{"Knot DNS ", "Knot DNS", "cz.nic", "knot_dns"},
		{"Knot Resolver ", "Knot Resolver", "cz.nic", "knot_resolver"},
		{"CoreDNS-", "CoreDNS", "coredns", "coredns"},
		{"Microsoft DNS ", "Microsoft DNS", "microsoft", "dns_server"},
		{"NSD ", "NSD", "nlnetlabs", "nsd"},
	} {
		if len(txt) > len(p.prefix) && strings.EqualFold(txt[:len(p.prefix)], p.prefix) {
			v, rest, _ := strings.Cut(txt[len(p.prefix):], " ")
			if versionish(v) {
				svc.Product, svc.Version = p.name, v
				svc.Info = comments(rest)
				svc.CPE = cpe(p.vendor, p.product, v)
				return
			}
		}
	}
	if v, rest, _ := strings.Cut(txt, " "); versionish(v) && strings.Count(v, ".") >= 2 && v[0] == '9' {
		// BIND answers with its bare version.
		svc.Product, svc.Version, svc.Info = "ISC BIND", v, comments(rest)
		num, _, _ := strings.Cut(v, "-")
		svc.CPE = cpe("isc", "bind", num)
		return
	}
	svc.Info = "version.bind: " + txt
}

// matchDNSTCPRequest reads a length-prefixed query with one question.
func matchDNSTCPRequest(sent []byte) (result.Service, bool) {
	if len(sent) < 2+12 {
		return result.Service{}, false
	}
	n := int(sent[0])<<8 | int(sent[1])
	if n < 12+5 {
		return result.Service{}, false
	}
	m, ok := parseDNS(sent[2:min(len(sent), 2+n)])
	qd, _ := octets(sent).be16(2 + 4)
	if !ok || m.response || m.opcode > 5 || qd != 1 || m.qtype == 0 || m.qclass == 0 {
		return result.Service{}, false
	}
	return result.Service{Name: "domain", Confidence: 8}, true
}
