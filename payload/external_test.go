package payload

// Tests against independent implementations: gopacket's layers, gosnmp,
// encoding/asn1 and crypto/ecdh read our requests as their protocols
// define them, and some of them build the replies our matchers must accept.

import (
	"bytes"
	"crypto/ecdh"
	"encoding/asn1"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gosnmp/gosnmp"
)

// probe returns the named probe of a port for the golden seed.
func probe(t *testing.T, port uint16, name string) Probe {
	t.Helper()
	for _, p := range For(port, goldenSeed) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no probe %s on port %d", name, port)
	return Probe{}
}

func mustMatch(t *testing.T, p Probe, reply []byte, want string) {
	t.Helper()
	if ok, reason := p.Match(reply); !ok || reason != want {
		t.Errorf("%s: Match = %v, %q; want true, %q", p.Name, ok, reason, want)
	}
}

func serialize(t *testing.T, l gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := l.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// classCH is the CHAOS class (RFC 1035 §3.2.4), which gopacket does not name.
const classCH = layers.DNSClass(3)

func TestDNSWithGopacket(t *testing.T) {
	p := probe(t, 53, "dns-version-bind")
	var q layers.DNS
	if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if q.QR || q.OpCode != layers.DNSOpCodeQuery || len(q.Questions) != 1 {
		t.Fatalf("query decoded as %+v", q)
	}
	qq := q.Questions[0]
	if string(qq.Name) != "version.bind" || qq.Type != layers.DNSTypeTXT || qq.Class != classCH {
		t.Errorf("question = %s %v %v", qq.Name, qq.Class, qq.Type)
	}
	reply := &layers.DNS{
		ID: q.ID, QR: true, OpCode: layers.DNSOpCodeQuery, AA: true,
		Questions: q.Questions,
		Answers: []layers.DNSResourceRecord{{
			Name: qq.Name, Type: layers.DNSTypeTXT, Class: classCH,
			TXTs: [][]byte{[]byte("9.18.0")},
		}},
	}
	mustMatch(t, p, serialize(t, reply), "dns-response id match")
	reply.ID++
	if ok, _ := p.Match(serialize(t, reply)); ok {
		t.Error("reply with another id accepted")
	}
}

func TestNBNSWithGopacket(t *testing.T) {
	// The NetBIOS name service reuses the DNS header and question layout
	// (RFC 1002 §4.2.1), so a DNS decoder reads it.
	p := probe(t, 137, "nbns-node-status")
	var q layers.DNS
	if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if len(q.Questions) != 1 || q.Questions[0].Type != 0x21 || string(q.Questions[0].Name) != "CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" {
		t.Errorf("question = %+v", q.Questions)
	}
}

func TestNTPWithGopacket(t *testing.T) {
	p := probe(t, 123, "ntp-client")
	var q layers.NTP
	if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if q.Version != 4 || q.Mode != 3 || q.TransmitTimestamp == 0 {
		t.Fatalf("request decoded as version %d mode %d xmt %x", q.Version, q.Mode, q.TransmitTimestamp)
	}
	reply := &layers.NTP{
		Version: 4, Mode: 4, Stratum: 2, Poll: 6, Precision: -20,
		OriginTimestamp:   q.TransmitTimestamp,
		ReceiveTimestamp:  0xe9d1c3a000000000,
		TransmitTimestamp: 0xe9d1c3a000100000,
	}
	mustMatch(t, p, serialize(t, reply), "ntp-response origin match")
}

func TestDHCPWithGopacket(t *testing.T) {
	p := probe(t, 67, "dhcp-inform")
	var q layers.DHCPv4
	if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if q.Operation != layers.DHCPOpRequest || q.HardwareLen != 6 || q.ClientHWAddr[0]&3 != 2 {
		t.Fatalf("request decoded as %+v", q)
	}
	var msgType layers.DHCPMsgType
	for _, o := range q.Options {
		if o.Type == layers.DHCPOptMessageType && len(o.Data) == 1 {
			msgType = layers.DHCPMsgType(o.Data[0])
		}
	}
	if msgType != layers.DHCPMsgTypeInform {
		t.Errorf("message type %v, want Inform", msgType)
	}
	reply := &layers.DHCPv4{
		Operation: layers.DHCPOpReply, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		Xid: q.Xid, ClientHWAddr: q.ClientHWAddr, YourClientIP: net.IPv4zero.To4(),
		ClientIP: net.IPv4zero.To4(), NextServerIP: net.IPv4zero.To4(), RelayAgentIP: net.IPv4zero.To4(),
		Options: layers.DHCPOptions{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeAck)}),
			layers.NewDHCPOption(layers.DHCPOptSubnetMask, []byte{255, 255, 255, 0}),
			layers.NewDHCPOption(layers.DHCPOptEnd, nil),
		},
	}
	mustMatch(t, p, serialize(t, reply), "dhcp-response xid match")
}

func TestDHCPv6WithGopacket(t *testing.T) {
	p := probe(t, 547, "dhcpv6-solicit")
	var q layers.DHCPv6
	if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if q.MsgType != layers.DHCPv6MsgTypeSolicit {
		t.Fatalf("message type %v", q.MsgType)
	}
	codes := map[layers.DHCPv6Opt]bool{}
	for _, o := range q.Options {
		codes[o.Code] = true
	}
	for _, want := range []layers.DHCPv6Opt{layers.DHCPv6OptClientID, layers.DHCPv6OptElapsedTime, layers.DHCPv6OptIANA} {
		if !codes[want] {
			t.Errorf("Solicit lacks option %v", want)
		}
	}
	reply := &layers.DHCPv6{
		MsgType: layers.DHCPv6MsgTypeAdvertise, TransactionID: q.TransactionID,
		Options: layers.DHCPv6Options{
			layers.NewDHCPv6Option(layers.DHCPv6OptServerID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}),
		},
	}
	mustMatch(t, p, serialize(t, reply), "dhcpv6-response xid match")
}

func TestRADIUSWithGopacket(t *testing.T) {
	for _, port := range []uint16{1645, 1812} {
		p := probe(t, port, "radius-access-request")
		var q layers.RADIUS
		if err := q.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if q.Code != layers.RADIUSCodeAccessRequest || int(q.Length) != len(p.Payload) {
			t.Fatalf("request decoded as code %v length %d", q.Code, q.Length)
		}
		got := map[layers.RADIUSAttributeType]string{}
		for _, a := range q.Attributes {
			got[a.Type] = string(a.Value)
		}
		if got[layers.RADIUSAttributeTypeUserName] != "portscan" || got[layers.RADIUSAttributeTypeNASIdentifier] != "portscan" ||
			len(got[layers.RADIUSAttributeTypeUserPassword]) != 16 {
			t.Errorf("attributes = %q", got)
		}
		reply := &layers.RADIUS{Code: layers.RADIUSCodeAccessReject, Identifier: q.Identifier}
		mustMatch(t, p, serialize(t, reply), "radius-response id match")
	}
}

func TestSNMPWithGosnmp(t *testing.T) {
	for _, tt := range []struct {
		name    string
		version gosnmp.SnmpVersion
	}{{"snmp-v1-get", gosnmp.Version1}, {"snmp-v2c-get", gosnmp.Version2c}} {
		t.Run(tt.name, func(t *testing.T) {
			p := probe(t, 161, tt.name)
			g := &gosnmp.GoSNMP{Version: tt.version, Community: "public", Timeout: time.Second}
			q, err := g.SnmpDecodePacket(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if q.Version != tt.version || q.Community != "public" || q.PDUType != gosnmp.GetRequest ||
				len(q.Variables) != 1 || q.Variables[0].Name != ".1.3.6.1.2.1.1.1.0" {
				t.Fatalf("request decoded as %+v", q)
			}
			resp := &gosnmp.SnmpPacket{
				Version: tt.version, Community: "public", PDUType: gosnmp.GetResponse, RequestID: q.RequestID,
				Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: "Linux lab 6.12"}},
			}
			b, err := resp.MarshalMsg()
			if err != nil {
				t.Fatal(err)
			}
			mustMatch(t, p, b, "snmp-response request-id match")
		})
	}
	t.Run("snmp-v3-discovery", func(t *testing.T) {
		p := probe(t, 161, "snmp-v3-discovery")
		g := &gosnmp.GoSNMP{
			Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv | gosnmp.Reportable,
			// gosnmp insists on a user name even to decode; ours is empty.
			SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: "decoder"}, Timeout: time.Second,
		}
		q, err := g.SnmpDecodePacket(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if q.Version != gosnmp.Version3 || q.PDUType != gosnmp.GetRequest || q.MsgFlags&gosnmp.Reportable == 0 ||
			q.SecurityModel != gosnmp.UserSecurityModel || len(q.Variables) != 0 {
			t.Fatalf("request decoded as %+v", q)
		}
		if usm, ok := q.SecurityParameters.(*gosnmp.UsmSecurityParameters); !ok || usm.UserName != "" || usm.AuthoritativeEngineID != "" {
			t.Errorf("security parameters decoded as %+v", q.SecurityParameters)
		}
		report := &gosnmp.SnmpPacket{
			Version: gosnmp.Version3, MsgFlags: gosnmp.NoAuthNoPriv, SecurityModel: gosnmp.UserSecurityModel,
			SecurityParameters: &gosnmp.UsmSecurityParameters{
				AuthoritativeEngineID: "\x80\x00\x1f\x88\x80\x01\x02\x03\x04", AuthoritativeEngineBoots: 3, AuthoritativeEngineTime: 100,
			},
			ContextEngineID: "\x80\x00\x1f\x88\x80\x01\x02\x03\x04",
			PDUType:         gosnmp.Report, MsgID: q.MsgID, RequestID: q.RequestID, MsgMaxSize: 65507,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.6.3.15.1.1.4.0", Type: gosnmp.Counter32, Value: uint32(1)}},
		}
		b, err := report.MarshalMsg()
		if err != nil {
			t.Fatal(err)
		}
		mustMatch(t, p, b, "snmp-response msgid match")
	})
}

// Kerberos structures of RFC 4120 §5.4.1, as encoding/asn1 reads them.
type (
	krbPrincipal struct {
		NameType   int      `asn1:"explicit,tag:0"`
		NameString []string `asn1:"general,explicit,tag:1"`
	}
	krbReqBody struct {
		KDCOptions asn1.BitString `asn1:"explicit,tag:0"`
		CName      krbPrincipal   `asn1:"explicit,optional,tag:1"`
		Realm      string         `asn1:"general,explicit,tag:2"`
		SName      krbPrincipal   `asn1:"explicit,optional,tag:3"`
		Till       time.Time      `asn1:"generalized,explicit,tag:5"`
		Nonce      int            `asn1:"explicit,tag:7"`
		EType      []int          `asn1:"explicit,tag:8"`
	}
	krbASReq struct {
		PVNO    int        `asn1:"explicit,tag:1"`
		MsgType int        `asn1:"explicit,tag:2"`
		ReqBody krbReqBody `asn1:"explicit,tag:4"`
	}
)

func TestKerberosWithASN1(t *testing.T) {
	p := probe(t, 88, "kerberos-as-req")
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(p.Payload, &raw); err != nil || len(rest) != 0 {
		t.Fatalf("AS-REQ: %v, %d bytes left", err, len(rest))
	}
	if raw.Class != asn1.ClassApplication || raw.Tag != 10 {
		t.Fatalf("outer tag class %d number %d, want [APPLICATION 10]", raw.Class, raw.Tag)
	}
	var req krbASReq
	if _, err := asn1.Unmarshal(raw.Bytes, &req); err != nil {
		t.Fatal(err)
	}
	b := req.ReqBody
	if req.PVNO != 5 || req.MsgType != 10 || b.Realm != kerberosRealm || b.CName.NameString[0] != "portscan" ||
		b.SName.NameType != 2 || len(b.SName.NameString) != 2 || b.SName.NameString[0] != "krbtgt" ||
		b.Nonce == 0 || len(b.EType) == 0 || b.Till.Year() != 2037 || b.KDCOptions.BitLength != 32 ||
		b.KDCOptions.At(1) != 1 || b.KDCOptions.At(27) != 1 {
		t.Errorf("AS-REQ decoded as %+v", req)
	}
}

// LDAP structures of RFC 4511 §4.1.1 and §4.5.1.
type ldapSearch struct {
	BaseObject   []byte
	Scope        asn1.Enumerated
	DerefAliases asn1.Enumerated
	SizeLimit    int
	TimeLimit    int
	TypesOnly    bool
	Filter       asn1.RawValue
	Attributes   []asn1.RawValue
}

func TestCLDAPWithASN1(t *testing.T) {
	p := probe(t, 389, "cldap-rootdse")
	var msg struct {
		ID int
		Op asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(p.Payload, &msg); err != nil || len(rest) != 0 {
		t.Fatalf("LDAPMessage: %v, %d bytes left", err, len(rest))
	}
	if msg.ID <= 0 || msg.Op.Class != asn1.ClassApplication || msg.Op.Tag != 3 {
		t.Fatalf("message id %d, op class %d tag %d", msg.ID, msg.Op.Class, msg.Op.Tag)
	}
	var s ldapSearch
	// Re-tag the implicit [APPLICATION 3] SEQUENCE as a universal one.
	seq := append([]byte{0x30}, msg.Op.FullBytes[1:]...)
	if _, err := asn1.Unmarshal(seq, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.BaseObject) != 0 || s.Scope != 0 || s.TypesOnly ||
		s.Filter.Class != asn1.ClassContextSpecific || s.Filter.Tag != 7 || string(s.Filter.Bytes) != "objectClass" {
		t.Errorf("search decoded as %+v", s)
	}
}

func TestIKEv2KeyIsOnCurve(t *testing.T) {
	p := probe(t, 500, "ikev2-sa-init")
	// The KE payload follows the header (28 bytes) and the SA payload.
	sa := int(be16(p.Payload, 28+2))
	ke := p.Payload[28+sa:]
	if ke[0] != ikeV2PayloadNonce || be16(ke, 4) != 19 {
		t.Fatalf("KE payload header % x", ke[:8])
	}
	point := append([]byte{4}, ke[8:be16(ke, 2)]...)
	if _, err := ecdh.P256().NewPublicKey(point); err != nil {
		t.Errorf("KE data is not a P-256 point: %v", err)
	}
	if int(be32(p.Payload, 24)) != len(p.Payload) {
		t.Errorf("header length %d, datagram %d", be32(p.Payload, 24), len(p.Payload))
	}
	// Walk the payload chain to its end.
	next, off := p.Payload[16], 28
	for next != 0 {
		if off+4 > len(p.Payload) {
			t.Fatalf("payload chain runs past the datagram at %d", off)
		}
		next, off = p.Payload[off], off+int(be16(p.Payload, off+2))
	}
	if off != len(p.Payload) {
		t.Errorf("payload chain ends at %d of %d", off, len(p.Payload))
	}
}

func TestISAKMPv1Structure(t *testing.T) {
	p := probe(t, 500, "ikev1-main-mode")
	b := p.Payload
	if int(be32(b, 24)) != len(b) || b[16] != ikeV1PayloadSA || int(be16(b, 28+2)) != len(b)-28 {
		t.Fatalf("header or SA length wrong: % x", b[:32])
	}
	prop := b[28+12:]
	if int(be16(prop, 2)) != len(prop) || prop[7] != 4 {
		t.Fatalf("proposal length %d of %d, %d transforms", be16(prop, 2), len(prop), prop[7])
	}
	n, off := 0, 8
	for off < len(prop) {
		n++
		off += int(be16(prop, off+2))
	}
	if n != 4 || off != len(prop) {
		t.Errorf("walked %d transforms ending at %d of %d", n, off, len(prop))
	}
}

func TestL2TPAndSLPLengths(t *testing.T) {
	l := probe(t, 1701, "l2tp-sccrq").Payload
	if int(be16(l, 2)) != len(l) {
		t.Errorf("l2tp length field %d, datagram %d", be16(l, 2), len(l))
	}
	off, types := 12, []uint16{}
	for off < len(l) {
		n := int(be16(l, off) & 0x3ff)
		types = append(types, be16(l, off+4))
		off += n
	}
	if off != len(l) || !bytes.Equal(u16s(types), u16s([]uint16{0, 2, 3, 7, 9})) {
		t.Errorf("AVPs %v end at %d of %d", types, off, len(l))
	}
	s := probe(t, 427, "slp-srvrqst").Payload
	if n := int(s[2])<<16 | int(s[3])<<8 | int(s[4]); n != len(s) {
		t.Errorf("slp length field %d, datagram %d", n, len(s))
	}
	i := probe(t, 3130, "icp-query").Payload
	if int(be16(i, 2)) != len(i) || i[len(i)-1] != 0 {
		t.Errorf("icp length field %d, datagram %d", be16(i, 2), len(i))
	}
}

func u16s(v []uint16) []byte {
	var b []byte
	for _, x := range v {
		b = append(b, byte(x>>8), byte(x))
	}
	return b
}
