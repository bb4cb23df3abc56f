package detect

import (
	"encoding/binary"
	"testing"

	"github.com/portscan/portscan/internal/ber"
	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/result"
)

// Answers of products that cannot be installed here, written from their
// protocols' specifications and the strings the products are documented
// to send.

// dnsTXTReply builds a TCP DNS response to the version.bind probe.
func dnsTXTReply(id uint16, txt string) []byte {
	m := append([]byte(nil), dnsVersionQuery...)
	binary.BigEndian.PutUint16(m, id)
	m[2] = 0x84                          // QR, AA
	binary.BigEndian.PutUint16(m[6:], 1) // ANCOUNT
	m = append(m, 0xc0, 12, 0, 16, 0, 3) // name pointer, TXT, CH
	m = append(m, 0, 0, 0, 0)            // TTL
	m = binary.BigEndian.AppendUint16(m, uint16(len(txt)+1))
	m = append(m, byte(len(txt)))
	m = append(m, txt...)
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...)
}

func mongoReply(responseTo int32, doc []byte) []byte {
	b := mongoMsg(100+responseTo, doc)
	binary.LittleEndian.PutUint32(b[8:], uint32(responseTo))
	return b
}

func bsonBool(name string, v bool) []byte {
	b := append([]byte{0x08}, name...)
	if v {
		return append(b, 0, 1)
	}
	return append(b, 0, 0)
}

func bsonDouble(name string, v uint64) []byte {
	b := append([]byte{0x01}, name...)
	return binary.LittleEndian.AppendUint64(append(b, 0), v)
}

// ldapEntry builds a SearchResultEntry of the root DSE.
func ldapEntry(attrs ...[2]string) []byte {
	var list []byte
	for _, a := range attrs {
		list = append(list, ber.TLV(0x30, ber.String(0x04, a[0]), ber.TLV(0x31, ber.String(0x04, a[1])))...)
	}
	return ber.TLV(0x30, ber.TLV(0x02, []byte{1}), ber.TLV(ldapSearchEntry, ber.String(0x04, ""), ber.TLV(0x30, list)))
}

func TestProbeSynthetic(t *testing.T) {
	const one = 0x3ff0000000000000 // 1.0 as a float64
	tests := []struct {
		name, proto string
		got         []byte
		want        result.Service
	}{
		{"BIND", "domain", dnsTXTReply(dnsProbeID, "9.18.28-1~deb12u2-Debian"),
			result.Service{Name: "domain", Product: "ISC BIND", Version: "9.18.28-1~deb12u2-Debian", CPE: []string{"cpe:/a:isc:bind:9.18.28"}, Confidence: 10}},
		{"Unbound", "domain", dnsTXTReply(dnsProbeID, "unbound 1.17.1"),
			result.Service{Name: "domain", Product: "Unbound", Version: "1.17.1", CPE: []string{"cpe:/a:nlnetlabs:unbound:1.17.1"}, Confidence: 10}},
		{"another client's answer", "domain", dnsTXTReply(0x1234, "hidden"),
			result.Service{Name: "domain", Info: "version.bind: hidden", Confidence: 8}},
		{"IIS", "http", []byte("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 0\r\n\r\n"),
			result.Service{Name: "http", Product: "Microsoft IIS httpd", Version: "10.0", CPE: []string{"cpe:/a:microsoft:internet_information_services:10.0"}, Confidence: 10}},
		{"TLS alert", "ssl", []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28},
			result.Service{Name: "ssl", Info: "alert handshake_failure", Confidence: 8}},
		{"Redis protected mode", "redis", []byte("-DENIED Redis is running in protected mode because protected mode is enabled\r\n"),
			result.Service{Name: "redis", Product: "Redis key-value store", Info: "protected mode", Confidence: 10}},
		{"Valkey", "redis", []byte("$60\r\n# Server\r\nredis_version:7.2.4\r\nvalkey_version:8.0.1\r\nredis_mode:standalone\r\n"),
			result.Service{Name: "redis", Product: "Valkey", Version: "8.0.1", CPE: []string{"cpe:/a:lfprojects:valkey:8.0.1"}, Confidence: 10}},
		{"MongoDB 7.0", "mongodb", append(
			mongoReply(1, bsonDoc(bsonBool("ismaster", true), bsonInt32("maxWireVersion", 21), bsonDouble("ok", one))),
			mongoReply(2, bsonDoc(bsonString("version", "7.0.14"), bsonDouble("ok", one)))...),
			result.Service{Name: "mongodb", Product: "MongoDB", Version: "7.0.14", Info: "maxWireVersion 21", CPE: []string{"cpe:/a:mongodb:mongodb:7.0.14"}, Confidence: 10}},
		{"GStreamer RTSP", "rtsp", []byte("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: GStreamer RTSP server\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"),
			result.Service{Name: "rtsp", Product: "GStreamer RTSP server", Confidence: 10}},
		{"live555", "rtsp", []byte("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: LIVE555 Streaming Media v2023.01.19\r\n\r\n"),
			result.Service{Name: "rtsp", Product: "LIVE555 Streaming Media", Version: "2023.01.19", Confidence: 10}},
		{"Asterisk", "sip", []byte("SIP/2.0 404 Not Found\r\nServer: Asterisk PBX 20.6.0\r\nContent-Length: 0\r\n\r\n"),
			result.Service{Name: "sip", Product: "Asterisk PBX", Version: "20.6.0", Info: "status 404", Confidence: 10}},
		{"Active Directory", "ldap", ldapEntry([2]string{"forestFunctionality", "7"}, [2]string{"defaultNamingContext", "DC=corp,DC=example,DC=com"}),
			result.Service{Name: "ldap", Product: "Microsoft Windows Active Directory LDAP", Info: "Domain: corp.example.com", Confidence: 10}},
		{"389 Directory Server", "ldap", ldapEntry([2]string{"vendorName", "389 Project"}, [2]string{"vendorVersion", "389-Directory/2.3.1 B2023.123.1200"}),
			result.Service{Name: "ldap", Product: "389-Directory", Version: "2.3.1", Confidence: 10}},
		{"SMB1 only", "microsoft-ds", append([]byte{0, 0, 0, 35, 0xff, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x88}, make([]byte, 25)...),
			result.Service{Name: "microsoft-ds", Info: "SMBv1", Confidence: 10}},
		{"RDP needs CredSSP", "ms-wbt-server", []byte{3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0},
			result.Service{Name: "ms-wbt-server", Info: "CredSSP required by server", Confidence: 10}},
		{"AMQP 1.0 broker", "amqp", []byte("AMQP\x00\x01\x00\x00"),
			result.Service{Name: "amqp", Info: "AMQP 1.0", Confidence: 10}},
		{"NetBIOS refused", "netbios-ssn", []byte{0x83, 0, 0, 1, 0x82},
			result.Service{Name: "netbios-ssn", Info: "session refused: called name not present", Confidence: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, more := Lookup(tt.proto).Match(tt.got)
			if !ok || more {
				t.Fatalf("Match = ok %v, more %v", ok, more)
			}
			if !equalService(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalService(a, b result.Service) bool {
	if len(a.CPE) != len(b.CPE) {
		return false
	}
	for i := range a.CPE {
		if a.CPE[i] != b.CPE[i] {
			return false
		}
	}
	a.CPE, b.CPE = nil, nil
	return a.Name == b.Name && a.Product == b.Product && a.Version == b.Version &&
		a.Info == b.Info && a.Tunnel == b.Tunnel && a.Confidence == b.Confidence
}

// TestProbeUDPSynthetic covers the confidence UDP gives by what payload
// checked, and the NetBIOS name service reply.
func TestProbeUDPSynthetic(t *testing.T) {
	echo := payload.For(7, udpSeed)
	if s, ok := UDP(7, echo, echo[0].Payload); !ok || s.Name != "echo" || s.Confidence != 10 {
		t.Errorf("echo: %+v %v", s, ok)
	}
	if s, ok := UDP(13, payload.For(13, udpSeed), []byte("Mon Dec  1 16:00:00 2026\r\n")); !ok || s.Name != "daytime" || s.Confidence != 3 {
		t.Errorf("daytime: %+v %v", s, ok)
	}
	if _, ok := UDP(13, nil, []byte("anything")); ok {
		t.Error("daytime named without a probe")
	}
	// A NODE STATUS RESPONSE (RFC 1002 §4.2.18) with the probe's id.
	probes := payload.For(137, udpSeed)
	q := probes[0].Payload
	r := append([]byte(nil), q[:2]...)
	r = append(r, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0)
	r = append(r, q[12:12+34]...)
	r = append(r, 0, 0x21, 0, 1, 0, 0, 0, 0)
	entry := func(name string, suffix byte, flags uint16) []byte {
		e := []byte(name + "               ")[:15]
		return binary.BigEndian.AppendUint16(append(e, suffix), flags)
	}
	rdata := []byte{2}
	rdata = append(rdata, entry("FILESRV", 0x00, 0x0400)...)
	rdata = append(rdata, entry("WORKGROUP", 0x00, 0x8400)...)
	rdata = append(rdata, make([]byte, 46)...)
	r = binary.BigEndian.AppendUint16(r, uint16(len(rdata)))
	r = append(r, rdata...)
	s, ok := UDP(137, probes, r)
	if !ok || s.Name != "netbios-ns" || s.Info != "NetBIOS name: FILESRV; workgroup: WORKGROUP" || s.Confidence != 10 {
		t.Errorf("nbns: %+v %v", s, ok)
	}
}
