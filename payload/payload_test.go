package payload

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/ber"
	"github.com/portscan/portscan/internal/golden"
)

// goldenSeed is the seed of the golden payloads and of the crafted replies.
const goldenSeed = 1

// portProbe is one probe of a port, with its rank among the port's probes.
type portProbe struct {
	Port  uint16
	Index int
	Probe Probe
}

// allProbes returns every probe of every port for a seed.
func allProbes(seed uint64) []portProbe {
	var out []portProbe
	for _, port := range Ports() {
		for i, p := range For(port, seed) {
			out = append(out, portProbe{port, i, p})
		}
	}
	return out
}

func goldenName(port uint16, p Probe) string {
	return fmt.Sprintf("%d-%s.hex", port, p.Name)
}

// TestGolden compares every payload with testdata/golden/PORT-NAME.hex, a
// hex dump of its bytes for seed 1; go test -update rewrites them.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	want := map[string]bool{}
	for _, pp := range allProbes(goldenSeed) {
		name := goldenName(pp.Port, pp.Probe)
		want[name] = true
		t.Run(name, func(t *testing.T) {
			got := "# " + pp.Probe.RFC + "\n" + hex.Dump(pp.Probe.Payload)
			golden.Check(t, filepath.Join(dir, name), []byte(got))
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("stale golden file %s", f)
		}
	}
}

func TestPorts(t *testing.T) {
	ps := Ports()
	if !slices.IsSorted(ps) {
		t.Errorf("Ports() not sorted: %v", ps)
	}
	for _, must := range []uint16{53, 67, 69, 88, 111, 123, 137, 161, 177, 389, 427, 500, 514, 520, 1645, 1701, 1812, 2049} {
		if !slices.Contains(ps, must) {
			t.Errorf("Ports() lacks %d", must)
		}
	}
	for _, port := range ps {
		probes := For(port, 42)
		if len(probes) == 0 {
			t.Errorf("For(%d) is empty", port)
		}
		for _, p := range probes {
			if p.Name == "" || p.RFC == "" || p.Match == nil || p.Payload == nil {
				t.Errorf("port %d: incomplete probe %+v", port, p)
			}
		}
	}
	for _, port := range []uint16{0, 9, 80, 162, 65535} {
		if got := For(port, 1); len(got) != 0 {
			t.Errorf("For(%d) = %d probes, want none", port, len(got))
		}
	}
	if n := len(For(161, 1)); n != 3 {
		t.Errorf("SNMP has %d probes, want v1, v2c and v3", n)
	}
}

func TestDeterministic(t *testing.T) {
	for _, port := range Ports() {
		a, b := For(port, 7), For(port, 7)
		for i := range a {
			if !bytes.Equal(a[i].Payload, b[i].Payload) {
				t.Errorf("port %d %s: two calls with one seed differ", port, a[i].Name)
			}
		}
	}
}

// idProbes are the probes whose reply must echo something random; for
// them a reply to another seed's probe must not match.
var idProbes = map[string]bool{
	"echo": true, "dns-version-bind": true, "dhcp-inform": true, "rpc-portmap-null": true,
	"ntp-client": true, "nbns-node-status": true, "snmp-v1-get": true, "snmp-v2c-get": true,
	"snmp-v3-discovery": true, "cldap-rootdse": true, "slp-srvrqst": true,
	"ikev2-sa-init": true, "ikev1-main-mode": true, "dhcpv6-solicit": true,
	"radius-access-request": true, "l2tp-sccrq": true, "rpc-nfs-null": true, "icp-query": true,
}

func TestSeedChangesIDs(t *testing.T) {
	for _, port := range Ports() {
		a, b := For(port, 1), For(port, 2)
		for i := range a {
			if idProbes[a[i].Name] && bytes.Equal(a[i].Payload, b[i].Payload) {
				t.Errorf("port %d %s: seeds 1 and 2 give the same payload", port, a[i].Name)
			}
		}
	}
	// The same seed on two ports must not give the same ids either.
	r1, r2 := For(1645, 9)[0], For(1812, 9)[0]
	if bytes.Equal(r1.Payload, r2.Payload) {
		t.Error("RADIUS on 1645 and 1812 share ids for one seed")
	}
}

// TestMatch feeds every probe a reply crafted for it, the same reply made
// for another seed, the request itself, and every truncation of the reply.
func TestMatch(t *testing.T) {
	for _, pp := range allProbes(goldenSeed) {
		p := pp.Probe
		t.Run(fmt.Sprintf("%d-%s", pp.Port, p.Name), func(t *testing.T) {
			reply := craftReply(t, p)
			ok, reason := p.Match(reply)
			if !ok {
				t.Fatalf("crafted reply rejected: %s", reason)
			}
			if want := wantReason[p.Name]; reason != want {
				t.Errorf("reason = %q, want %q", reason, want)
			}
			if idProbes[p.Name] {
				other := craftReply(t, For(pp.Port, goldenSeed+1)[pp.Index])
				if ok, reason := p.Match(other); ok {
					t.Errorf("reply to another seed accepted: %s", reason)
				}
			}
			if p.Name != "echo" && p.Name != "syslog" {
				if ok, reason := p.Match(p.Payload); ok {
					t.Errorf("the request itself accepted as a reply: %s", reason)
				}
			}
			for n := range len(reply) {
				p.Match(reply[:n])
			}
			if ok, _ := p.Match(nil); ok {
				t.Error("nil reply accepted")
			}
		})
	}
}

// TestMatchAllocs checks that matching never allocates, whatever it reads.
func TestMatchAllocs(t *testing.T) {
	for _, pp := range allProbes(goldenSeed) {
		p := pp.Probe
		reply := craftReply(t, p)
		junk := bytes.Repeat([]byte{0x30, 0x84}, 64)
		if n := testing.AllocsPerRun(20, func() { p.Match(reply); p.Match(junk); p.Match(p.Payload) }); n != 0 {
			t.Errorf("%s: Match allocates %.0f times", p.Name, n)
		}
	}
}

var wantReason = map[string]string{
	"echo":                  "echo-response match",
	"systat":                "udp-response",
	"daytime":               "udp-response",
	"qotd":                  "udp-response",
	"chargen":               "udp-response",
	"time":                  "time-response",
	"dns-version-bind":      "dns-response id match",
	"dhcp-inform":           "dhcp-response xid match",
	"tftp-rrq":              "tftp-response",
	"kerberos-as-req":       "kerberos-error",
	"rpc-portmap-null":      "rpc-reply xid match",
	"rpc-nfs-null":          "rpc-reply xid match",
	"ntp-client":            "ntp-response origin match",
	"nbns-node-status":      "nbns-response id match",
	"snmp-v1-get":           "snmp-response request-id match",
	"snmp-v2c-get":          "snmp-response request-id match",
	"snmp-v3-discovery":     "snmp-response msgid match",
	"xdmcp-query":           "xdmcp-response",
	"cldap-rootdse":         "ldap-response messageid match",
	"slp-srvrqst":           "slp-response xid match",
	"ikev2-sa-init":         "isakmp-response spi match",
	"ikev1-main-mode":       "isakmp-response spi match",
	"syslog":                "udp-response",
	"rip-request":           "rip-response",
	"ripng-request":         "ripng-response",
	"dhcpv6-solicit":        "dhcpv6-response xid match",
	"radius-access-request": "radius-response id match",
	"l2tp-sccrq":            "l2tp-response tunnel-id match",
	"icp-query":             "icp-response reqnum match",
}

// craftReply builds, from a probe's own bytes, the reply its server would
// send: ids are read back from the request, the way a server copies them.
func craftReply(t testing.TB, p Probe) []byte {
	t.Helper()
	q := p.Payload
	be16 := binary.BigEndian.AppendUint16
	be32 := binary.BigEndian.AppendUint32
	switch p.Name {
	case "echo":
		return bytes.Clone(q)
	case "systat":
		return []byte("root     tty1\r\n")
	case "daytime":
		return []byte("Thursday, January 1, 2026 12:00:00-UTC\r\n")
	case "qotd":
		return []byte("\"A quote.\"\r\n")
	case "chargen":
		return []byte("!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n")
	case "time":
		return be32(nil, 3976300800)
	case "syslog":
		return []byte("?")
	case "dns-version-bind", "nbns-node-status":
		// The question echoed, then nothing: a REFUSED answer.
		r := bytes.Clone(q)
		r[2], r[3] = 0x84, 0x05
		return r
	case "ntp-client":
		r := make([]byte, 48)
		r[0] = 0<<6 | 4<<3 | 4
		r[1] = 2 // stratum
		copy(r[24:32], q[40:48])
		binary.BigEndian.PutUint64(r[32:], 0xe9d1c3a000000000)
		binary.BigEndian.PutUint64(r[40:], 0xe9d1c3a000010000)
		return r
	case "rpc-portmap-null", "rpc-nfs-null":
		r := be32(nil, binary.BigEndian.Uint32(q))
		r = be32(r, 1) // REPLY
		r = be32(r, 0) // MSG_ACCEPTED
		r = be32(r, 0) // verf AUTH_NONE
		r = be32(r, 0)
		return be32(r, 0) // SUCCESS
	case "tftp-rrq":
		r := be16(nil, 5)
		r = be16(r, 1)
		r = append(r, "File not found"...)
		return append(r, 0)
	case "xdmcp-query":
		// Willing: authentication name, hostname, status (ARRAY8s).
		body := []byte{0, 0, 0, 4, 'h', 'o', 's', 't', 0, 2, 'o', 'k'}
		r := []byte{0, 1, 0, 5}
		r = be16(r, uint16(len(body)))
		return append(r, body...)
	case "rip-request":
		r := []byte{2, 2, 0, 0}
		r = be16(r, 2) // AF_INET
		r = be16(r, 0)
		r = append(r, 192, 0, 2, 0, 255, 255, 255, 0, 0, 0, 0, 0)
		return be32(r, 1)
	case "ripng-request":
		r := []byte{2, 1, 0, 0, 0x20, 0x01, 0x0d, 0xb8}
		r = append(r, make([]byte, 12)...)
		return append(r, 0, 0, 32, 1)
	case "icp-query":
		r := []byte{3, 2, 0, 0}
		r = append(r, q[4:8]...)
		r = append(r, make([]byte, 12)...)
		r = append(r, q[24:]...)
		binary.BigEndian.PutUint16(r[2:], uint16(len(r)))
		return r
	case "slp-srvrqst":
		// SAAdvert (RFC 2608 function 11): header, URL,
		// scope list, attributes, no authentication blocks.
		r := []byte{2, 11, 0, 0, 0, 0, 0, 0, 0, 0, q[10], q[11], 0, 2, 'e', 'n'}
		for _, s := range []string{"service:service-agent://192.0.2.1", "DEFAULT", ""} {
			r = be16(r, uint16(len(s)))
			r = append(r, s...)
		}
		r = append(r, 0)
		r[4] = byte(len(r))
		return r
	case "l2tp-sccrq":
		// SCCRP to the tunnel id we assigned, with its own Assigned
		// Tunnel ID AVP.
		assigned := q[len(q)-2:]
		r := []byte{0xc8, 0x02, 0, 0, assigned[0], assigned[1], 0, 0, 0, 0, 0, 1}
		r = append(r, 0x80, 8, 0, 0, 0, 0, 0, 2)
		r = append(r, 0x80, 8, 0, 0, 0, 9, 0x12, 0x34)
		binary.BigEndian.PutUint16(r[2:], uint16(len(r)))
		return r
	case "radius-access-request":
		r := []byte{3, q[1], 0, 20}
		return append(r, make([]byte, 16)...)
	case "dhcp-inform":
		r := bytes.Clone(q[:240])
		r[0] = 2
		copy(r[12:], []byte{192, 0, 2, 10})
		return append(r, 53, 1, 5, 255)
	case "dhcpv6-solicit":
		r := []byte{2, q[1], q[2], q[3]}
		r = append(r, 0, 2, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1) // server id
		return append(r, 0, 13, 0, 2, 0, 2)                      // NoAddrsAvail
	case "snmp-v1-get", "snmp-v2c-get":
		rd := ber.Reader{B: q}
		msg, _ := rd.Expect(ber.Sequence)
		mr := ber.Reader{B: msg}
		version, _ := mr.Integer()
		mr.Next()
		pdu, _ := mr.Expect(pduGetRequest)
		id, _ := (&ber.Reader{B: pdu}).Integer()
		return ber.TLV(ber.Sequence,
			ber.Int(ber.Integer, version),
			ber.String(ber.OctetString, "public"),
			ber.TLV(pduGetResponse,
				ber.Int(ber.Integer, id),
				ber.Int(ber.Integer, 0),
				ber.Int(ber.Integer, 0),
				ber.TLV(ber.Sequence, ber.TLV(ber.Sequence, ber.ObjectID(sysDescr0...), ber.String(ber.OctetString, "Linux test 6.1"))),
			),
		)
	case "snmp-v3-discovery":
		rd := ber.Reader{B: q}
		msg, _ := rd.Expect(ber.Sequence)
		mr := ber.Reader{B: msg}
		mr.Integer()
		hdr, _ := mr.Expect(ber.Sequence)
		msgID, _ := (&ber.Reader{B: hdr}).Integer()
		engine := []byte{0x80, 0, 0x1f, 0x88, 0x80, 1, 2, 3, 4}
		usm := ber.TLV(ber.Sequence, ber.TLV(ber.OctetString, engine), ber.Int(ber.Integer, 3), ber.Int(ber.Integer, 1234),
			ber.String(ber.OctetString, ""), ber.String(ber.OctetString, ""), ber.String(ber.OctetString, ""))
		return ber.TLV(ber.Sequence,
			ber.Int(ber.Integer, 3),
			ber.TLV(ber.Sequence, ber.Int(ber.Integer, msgID), ber.Int(ber.Integer, 65507), ber.TLV(ber.OctetString, []byte{0}), ber.Int(ber.Integer, 3)),
			ber.TLV(ber.OctetString, usm),
			ber.TLV(ber.Sequence, ber.TLV(ber.OctetString, engine), ber.String(ber.OctetString, ""),
				ber.TLV(pduReport, ber.Int(ber.Integer, 0), ber.Int(ber.Integer, 0), ber.Int(ber.Integer, 0),
					ber.TLV(ber.Sequence, ber.TLV(ber.Sequence, ber.ObjectID(1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0), ber.TLV(0x41, []byte{1}))))),
		)
	case "cldap-rootdse":
		rd := ber.Reader{B: q}
		msg, _ := rd.Expect(ber.Sequence)
		id, _ := (&ber.Reader{B: msg}).Integer()
		entry := ber.TLV(ber.Sequence, ber.Int(ber.Integer, id), ber.TLV(ber.App(4),
			ber.String(ber.OctetString, ""),
			ber.TLV(ber.Sequence, ber.TLV(ber.Sequence, ber.String(ber.OctetString, "supportedLDAPVersion"),
				ber.TLV(0x31, ber.String(ber.OctetString, "3")))),
		))
		done := ber.TLV(ber.Sequence, ber.Int(ber.Integer, id), ber.TLV(ber.App(5),
			ber.Int(ber.Enumerated, 0), ber.String(ber.OctetString, ""), ber.String(ber.OctetString, "")))
		_ = done // a server sends both; the first datagram is the entry
		return entry
	case "kerberos-as-req":
		// KRB-ERROR KDC_ERR_WRONG_REALM (68), RFC 4120 §5.9.1.
		return ber.TLV(ber.App(30), ber.TLV(ber.Sequence,
			ber.TLV(ber.Context(0), ber.Int(ber.Integer, 5)),
			ber.TLV(ber.Context(1), ber.Int(ber.Integer, 30)),
			ber.TLV(ber.Context(4), ber.String(ber.GeneralTime, "20260101120000Z")),
			ber.TLV(ber.Context(5), ber.Int(ber.Integer, 0)),
			ber.TLV(ber.Context(6), ber.Int(ber.Integer, 68)),
			ber.TLV(ber.Context(9), ber.String(ber.GeneralStr, "EXAMPLE.ORG")),
			ber.TLV(ber.Context(10), ber.TLV(ber.Sequence, ber.TLV(ber.Context(0), ber.Int(ber.Integer, 2)),
				ber.TLV(ber.Context(1), ber.TLV(ber.Sequence, ber.String(ber.GeneralStr, "krbtgt"), ber.String(ber.GeneralStr, "EXAMPLE.ORG"))))),
		))
	case "ikev2-sa-init", "ikev1-main-mode":
		// An INFORMATIONAL-style answer: our SPI, the responder's, a
		// Notify of NO_PROPOSAL_CHOSEN.
		r := bytes.Clone(q[:8])
		r = append(r, 1, 2, 3, 4, 5, 6, 7, 8)
		if strings.HasPrefix(p.Name, "ikev2") {
			r = append(r, 41, 0x20, 34, 0x20, 0, 0, 0, 0)
			r = be32(r, 28+8)
			return append(r, 0, 0, 0, 8, 0, 0, 0, 14)
		}
		r = append(r, 11, 0x10, 5, 0, 0, 0, 0, 0)
		r = be32(r, 28+12)
		return append(r, 0, 0, 0, 12, 0, 0, 0, 1, 1, 0, 0, 14)
	}
	t.Fatalf("no crafted reply for probe %q", p.Name)
	return nil
}

func TestMatchDetails(t *testing.T) {
	pick := func(port uint16, name string) Probe {
		for _, p := range For(port, goldenSeed) {
			if p.Name == name {
				return p
			}
		}
		t.Fatalf("no probe %s on %d", name, port)
		return Probe{}
	}
	tests := []struct {
		name   string
		probe  Probe
		reply  func(good []byte) []byte
		ok     bool
		reason string
	}{
		{"dns query is not a response", pick(53, "dns-version-bind"), func(g []byte) []byte { g[2] &^= 0x80; return g }, false, "dns query, not a response"},
		{"dns other opcode", pick(53, "dns-version-bind"), func(g []byte) []byte { g[2] |= 0x10; return g }, false, "dns response with another opcode"},
		{"ntp kiss-o'-death still answers", pick(123, "ntp-client"), func(g []byte) []byte { g[1] = 0; copy(g[12:], "RATE"); return g }, true, "ntp-response origin match"},
		{"ntp mode 3 is a request", pick(123, "ntp-client"), func(g []byte) []byte { g[0] = g[0]&^7 | 3; return g }, false, "ntp client request, not a reply"},
		{"ntp origin differs", pick(123, "ntp-client"), func(g []byte) []byte { g[31] ^= 1; return g }, false, "ntp origin timestamp mismatch"},
		{"rpc call is not a reply", pick(111, "rpc-portmap-null"), func(g []byte) []byte { g[7] = 0; return g }, false, "not an rpc reply"},
		{"rpc denied still answers", pick(2049, "rpc-nfs-null"), func(g []byte) []byte { g[11] = 1; return g }, true, "rpc-reply xid match"},
		{"snmp v2c answer to v1 probe", pick(161, "snmp-v1-get"), func(g []byte) []byte { g[4] = 1; return g }, false, "snmp reply with another version"},
		{"snmp GetRequest is not a response", pick(161, "snmp-v2c-get"), func(g []byte) []byte { g[bytes.IndexByte(g, pduGetResponse)] = pduGetRequest; return g }, false, "snmp message is not a GetResponse"},
		{"kerberos as-rep", pick(88, "kerberos-as-req"), func([]byte) []byte {
			return ber.TLV(ber.App(11), ber.TLV(ber.Sequence, ber.TLV(ber.Context(0), ber.Int(ber.Integer, 5)), ber.TLV(ber.Context(1), ber.Int(ber.Integer, 11))))
		}, true, "kerberos-as-rep"},
		{"kerberos tag and msg-type disagree", pick(88, "kerberos-as-req"), func([]byte) []byte {
			return ber.TLV(ber.App(11), ber.TLV(ber.Sequence, ber.TLV(ber.Context(0), ber.Int(ber.Integer, 5)), ber.TLV(ber.Context(1), ber.Int(ber.Integer, 30))))
		}, false, "kerberos reply with a msg-type that contradicts its tag"},
		{"kerberos v4", pick(88, "kerberos-as-req"), func([]byte) []byte {
			return ber.TLV(ber.App(30), ber.TLV(ber.Sequence, ber.TLV(ber.Context(0), ber.Int(ber.Integer, 4)), ber.TLV(ber.Context(1), ber.Int(ber.Integer, 30))))
		}, false, "kerberos reply with another protocol version"},
		{"ldap rfc 1798 user field", pick(389, "cldap-rootdse"), func(g []byte) []byte {
			rd := ber.Reader{B: g}
			msg, _ := rd.Expect(ber.Sequence)
			id, _ := (&ber.Reader{B: msg}).Integer()
			return ber.TLV(ber.Sequence, ber.Int(ber.Integer, id), ber.String(ber.OctetString, ""), ber.TLV(ber.App(5)))
		}, true, "ldap-response messageid match"},
		{"tftp data block 2", pick(69, "tftp-rrq"), func([]byte) []byte { return []byte{0, 3, 0, 2, 'x'} }, false, "tftp data is not block 1"},
		{"tftp data block 1", pick(69, "tftp-rrq"), func([]byte) []byte { return []byte{0, 3, 0, 1, 'x'} }, true, "tftp-response"},
		{"time 5 bytes", pick(37, "time"), func([]byte) []byte { return []byte{1, 2, 3, 4, 5} }, false, "time reply is not 4 bytes"},
		{"echo changed", pick(7, "echo"), func(g []byte) []byte { g[0]++; return g }, false, "echo reply differs from the request"},
		{"l2tp data message", pick(1701, "l2tp-sccrq"), func(g []byte) []byte { g[0] &^= 0x80; return g }, false, "l2tp data message, not control"},
		{"l2tp without length field", pick(1701, "l2tp-sccrq"), func(g []byte) []byte {
			return append([]byte{0x88, 0x02}, g[4:]...)
		}, true, "l2tp-response tunnel-id match"},
		{"radius accounting response", pick(1812, "radius-access-request"), func(g []byte) []byte { g[0] = 5; return g }, false, "radius message is not an access reply"},
		{"radius length beyond datagram", pick(1812, "radius-access-request"), func(g []byte) []byte { g[3] = 200; return g }, false, "radius reply with a bad length"},
		{"isakmp unknown version", pick(500, "ikev2-sa-init"), func(g []byte) []byte { g[17] = 0x30; return g }, false, "isakmp reply with an unknown major version"},
		{"ikev1 answer to ikev2", pick(500, "ikev2-sa-init"), func(g []byte) []byte { g[17] = 0x10; return g }, true, "isakmp-response spi match"},
		{"ikev2 request", pick(500, "ikev2-sa-init"), func(g []byte) []byte { g[19] = 0x08; return g }, false, "ikev2 request, not a response"},
		{"ikev1 without responder cookie", pick(500, "ikev1-main-mode"), func(g []byte) []byte { clear(g[8:16]); g[18] = 2; return g }, false, "ikev1 message without a responder cookie"},
		{"ikev1 informational without responder cookie", pick(500, "ikev1-main-mode"), func(g []byte) []byte { clear(g[8:16]); return g }, true, "isakmp-response spi match"},
		{"ldap search request", pick(389, "cldap-rootdse"), func(g []byte) []byte {
			rd := ber.Reader{B: g}
			msg, _ := rd.Expect(ber.Sequence)
			id, _ := (&ber.Reader{B: msg}).Integer()
			return ber.TLV(ber.Sequence, ber.Int(ber.Integer, id), ber.TLV(ber.App(3)))
		}, false, "ldap message is not a search result"},
		{"snmpv3 encrypted scoped pdu", pick(161, "snmp-v3-discovery"), func(g []byte) []byte {
			rd := ber.Reader{B: g}
			msg, _ := rd.Expect(ber.Sequence)
			mr := ber.Reader{B: msg}
			mr.Integer()
			_, hdr, _ := mr.Next()
			id, _ := (&ber.Reader{B: hdr}).Integer()
			return ber.TLV(ber.Sequence, ber.Int(ber.Integer, 3), ber.TLV(ber.Sequence, ber.Int(ber.Integer, id)),
				ber.String(ber.OctetString, ""), ber.String(ber.OctetString, "ciphertext"))
		}, true, "snmp-response msgid match"},
		{"snmpv3 GetRequest", pick(161, "snmp-v3-discovery"), func(g []byte) []byte {
			i := bytes.LastIndexByte(g, pduReport)
			g[i] = pduGetRequest
			return g
		}, false, "snmpv3 message is neither a Report nor a Response"},
		{"slp srvrqst is not a reply", pick(427, "slp-srvrqst"), func(g []byte) []byte { g[1] = 1; return g }, false, "slp message is not a reply to a service request"},
		{"dhcp request is not a reply", pick(67, "dhcp-inform"), func(g []byte) []byte { g[0] = 1; return g }, false, "dhcp message is not a BOOTREPLY"},
		{"dhcpv6 reply", pick(547, "dhcpv6-solicit"), func(g []byte) []byte { g[0] = 7; return g }, true, "dhcpv6-response xid match"},
		{"xdmcp short body", pick(177, "xdmcp-query"), func(g []byte) []byte { return g[:8] }, false, "xdmcp reply shorter than its length"},
		{"icp query is not a reply", pick(3130, "icp-query"), func(g []byte) []byte { g[0] = 1; return g }, false, "icp message is not a reply"},
		{"rip request is not a response", pick(520, "rip-request"), func(g []byte) []byte { g[0] = 1; return g }, false, "rip message is not a response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := tt.reply(craftReply(t, tt.probe))
			ok, reason := tt.probe.Match(reply)
			if ok != tt.ok || reason != tt.reason {
				t.Errorf("Match = %v, %q; want %v, %q", ok, reason, tt.ok, tt.reason)
			}
		})
	}
}

func TestBER(t *testing.T) {
	ints := []struct {
		v    int64
		want string
	}{
		{0, "020100"}, {127, "02017f"}, {128, "02020080"}, {-1, "0201ff"}, {-128, "020180"},
		{-129, "0202ff7f"}, {65507, "020300ffe3"}, {1<<31 - 1, "02047fffffff"},
	}
	for _, tt := range ints {
		t.Run(fmt.Sprint(tt.v), func(t *testing.T) {
			b := ber.Int(ber.Integer, tt.v)
			if got := hex.EncodeToString(b); got != tt.want {
				t.Errorf("ber.Int(%d) = %s, want %s", tt.v, got, tt.want)
			}
			if got, ok := (&ber.Reader{B: b}).Integer(); !ok || got != tt.v {
				t.Errorf("integer() = %d, %v", got, ok)
			}
		})
	}
	long := ber.TLV(ber.OctetString, make([]byte, 300))
	if got := hex.EncodeToString(long[:4]); got != "0482012c" {
		t.Errorf("300-byte length encoded as %s", got)
	}
	if _, c, ok := (&ber.Reader{B: long}).Next(); !ok || len(c) != 300 {
		t.Errorf("long form read back as %d bytes, %v", len(c), ok)
	}
	if got := hex.EncodeToString(ber.ObjectID(1, 3, 6, 1, 4, 1, 311, 21)); got != "06082b06010401823715" {
		t.Errorf("berOID = %s", got)
	}
	for _, bad := range []string{"", "30", "3005", "308400000001", "3080", "1f0100", "02090000000000000000000000"} {
		b, _ := hex.DecodeString(bad)
		rd := ber.Reader{B: b}
		if _, ok := rd.Integer(); ok {
			t.Errorf("%s read as an integer", bad)
		}
	}
}

// TestDocTable checks that the table in the package comment lists exactly
// the probes For returns, port by port.
func TestDocTable(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, line := range strings.Split(string(src), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) >= 2 && strings.HasPrefix(line, "//\t") && f[0] != "port" {
			doc = append(doc, f[0]+" "+f[1])
		}
	}
	var code []string
	for _, pp := range allProbes(goldenSeed) {
		code = append(code, fmt.Sprintf("%d %s", pp.Port, pp.Probe.Name))
	}
	if !slices.Equal(doc, code) {
		t.Errorf("doc.go table lists\n%s\nFor returns\n%s", strings.Join(doc, "\n"), strings.Join(code, "\n"))
	}
}

func TestSourcePorts(t *testing.T) {
	want := map[string]uint16{"ikev2-sa-init": 500, "ikev1-main-mode": 500, "dhcp-inform": 68, "dhcpv6-solicit": 546}
	for _, pp := range allProbes(goldenSeed) {
		if got := pp.Probe.SourcePort; got != want[pp.Probe.Name] {
			t.Errorf("%s: SourcePort %d, want %d", pp.Probe.Name, got, want[pp.Probe.Name])
		}
	}
}
