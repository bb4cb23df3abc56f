package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/portscan/portscan/internal/golden"
)

// fixtureDir holds the captures shared with cmd/portscan's golden tests.
const fixtureDir = "../testdata/pcaps"

// t0 is when every made-up capture starts.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// frame is one packet of a fixture: its bytes, link type and time.
type frame struct {
	at    time.Duration
	lt    layers.LinkType
	iface int
	data  []byte
}

type ep struct {
	addr netip.Addr
	port uint16
}

func at(s string, port uint16) ep { return ep{netip.MustParseAddr(s), port} }

// ipLayer returns the IPv4 or IPv6 header from a to b.
func ipLayer(a, b netip.Addr, proto layers.IPProtocol) gopacket.NetworkLayer {
	if a.Is4() {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: a.AsSlice(), DstIP: b.AsSlice(), Id: 1}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: a.AsSlice(), DstIP: b.AsSlice()}
}

// ext is an 8-byte IPv6 extension header (hop-by-hop or destination
// options) holding one PadN option.
type ext struct{ next layers.IPProtocol }

func (e ext) LayerType() gopacket.LayerType { return layers.LayerTypeIPv6Destination }
func (e ext) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(8)
	if err != nil {
		return err
	}
	copy(p, []byte{byte(e.next), 0, 1, 4, 0, 0, 0, 0})
	return nil
}

func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// tcpSeg builds an IP packet holding a TCP segment. flags is a string of
// S, A, F, R, P. exts puts IPv6 extension headers (their protocol
// numbers) between the IPv6 header and TCP.
func tcpSeg(t *testing.T, src, dst ep, flags string, seq, ack uint32, payload string, exts ...layers.IPProtocol) []byte {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: seq, Ack: ack, Window: 64240,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"),
		RST: strings.Contains(flags, "R"), PSH: strings.Contains(flags, "P")}
	return transport(t, src, dst, layers.IPProtocolTCP, tcp, payload, exts)
}

func udpDgram(t *testing.T, src, dst ep, payload string, exts ...layers.IPProtocol) []byte {
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}
	return transport(t, src, dst, layers.IPProtocolUDP, udp, payload, exts)
}

func transport(t *testing.T, src, dst ep, proto layers.IPProtocol, l4 interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}, payload string, exts []layers.IPProtocol) []byte {
	t.Helper()
	first := proto
	if len(exts) > 0 {
		first = exts[0]
	}
	ip := ipLayer(src.addr, dst.addr, first)
	if err := l4.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	ls := []gopacket.SerializableLayer{ip.(gopacket.SerializableLayer)}
	for i := range exts {
		next := proto
		if i+1 < len(exts) {
			next = exts[i+1]
		}
		ls = append(ls, ext{next})
	}
	ls = append(ls, l4, gopacket.Payload(payload))
	return serialize(t, ls...)
}

// unreach builds an ICMP or ICMPv6 destination unreachable from "from"
// quoting the IP packet quoted (its header and first 8 payload bytes).
func unreach(t *testing.T, from netip.Addr, code uint8, quoted []byte) []byte {
	t.Helper()
	var to netip.Addr
	var n int
	if from.Is4() {
		to = netip.AddrFrom4([4]byte(quoted[12:16]))
		n = int(quoted[0]&0x0f)*4 + 8
		ip := ipLayer(from, to, layers.IPProtocolICMPv4)
		return serialize(t, ip.(gopacket.SerializableLayer),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)},
			gopacket.Payload(quoted[:min(n, len(quoted))]))
	}
	to = netip.AddrFrom16([16]byte(quoted[8:24]))
	ip := ipLayer(from, to, layers.IPProtocolICMPv6)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeDestinationUnreachable, code)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip.(gopacket.SerializableLayer), icmp, gopacket.Payload(append(make([]byte, 4), quoted...)))
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x09}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x05}
)

// ether wraps an IP packet in Ethernet, with 802.1Q tags for vlans (the
// first is the outer tag; two make a QinQ frame with an 0x88a8 S-tag).
func ether(t *testing.T, ip []byte, vlans ...uint16) []byte {
	t.Helper()
	typ := layers.EthernetTypeIPv4
	if ip[0]>>4 == 6 {
		typ = layers.EthernetTypeIPv6
	}
	outer := typ
	switch {
	case len(vlans) == 1:
		outer = layers.EthernetTypeDot1Q
	case len(vlans) > 1:
		outer = layers.EthernetTypeQinQ
	}
	ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: outer}}
	for i, id := range vlans {
		next := typ
		if i+1 < len(vlans) {
			next = layers.EthernetTypeDot1Q
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Type: next})
	}
	ls = append(ls, gopacket.Payload(ip))
	return serialize(t, ls...)
}

func arp(t *testing.T) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: []byte{10, 0, 0, 9},
			DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 5}})
}

// sll wraps an IP packet in a Linux cooked v1 header (16 bytes).
func sll(ip []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	proto := uint16(layers.EthernetTypeIPv4)
	if ip[0]>>4 == 6 {
		proto = uint16(layers.EthernetTypeIPv6)
	}
	binary.BigEndian.PutUint16(h[14:], proto)
	return append(h, ip...)
}

// sll2 wraps an IP packet in a Linux cooked v2 header (20 bytes).
func sll2(ip []byte) []byte {
	h := make([]byte, 20)
	proto := uint16(layers.EthernetTypeIPv4)
	if ip[0]>>4 == 6 {
		proto = uint16(layers.EthernetTypeIPv6)
	}
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], 2) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = 0                            // to us
	h[11] = 6
	copy(h[12:], macA)
	return append(h, ip...)
}

// null wraps an IP packet in a BSD loopback header: the address family
// in host (here little-endian) order; 30 is AF_INET6 on macOS.
func null(ip []byte) []byte {
	fam := uint32(2)
	if ip[0]>>4 == 6 {
		fam = 30
	}
	return append(binary.LittleEndian.AppendUint32(nil, fam), ip...)
}

// fragment returns a non-first IPv4 fragment with a few payload bytes.
func fragment(t *testing.T, src, dst netip.Addr) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(),
		Id: 77, FragOffset: 185}
	return serialize(t, ip, gopacket.Payload("fragment tail...."))
}

// writePcap writes classic pcap by hand, in either byte order and time
// resolution; pcapgo's Writer only writes the host's order.
func writePcap(order binary.AppendByteOrder, nanos bool, lt layers.LinkType, frames []frame) []byte {
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	var b []byte
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, uint32(lt))
	for _, f := range frames {
		ts := t0.Add(f.at)
		frac := ts.Nanosecond()
		if !nanos {
			frac /= 1000
		}
		b = order.AppendUint32(b, uint32(ts.Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(f.data)))
		b = order.AppendUint32(b, uint32(len(f.data)))
		b = append(b, f.data...)
	}
	return b
}

// writePcapgo writes little-endian pcap with pcapgo's Writer.
func writePcapgo(t *testing.T, nanos bool, lt layers.LinkType, frames []frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(262144, lt); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(f.at), CaptureLength: len(f.data), Length: len(f.data)}
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writeSection writes one pcapng section with pcapgo's NgWriter, an
// interface for each link type in lts; frame.iface picks one.
func writeSection(t *testing.T, lts []layers.LinkType, frames []frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "portscan fixtures"}}
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "if0", LinkType: lts[0], TimestampResolution: 9}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range lts[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: "if" + string(rune('1'+i)), LinkType: lt, TimestampResolution: 9}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(f.at), CaptureLength: len(f.data), Length: len(f.data), InterfaceIndex: f.iface}
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// dhcp4 is a DHCP message of type typ from (BOOTREQUEST) or to
// (BOOTREPLY) the client macA, offering yours when it is valid.
func dhcp4(t *testing.T, typ layers.DHCPMsgType, yours netip.Addr) string {
	t.Helper()
	op := layers.DHCPOpRequest
	if typ == layers.DHCPMsgTypeOffer || typ == layers.DHCPMsgTypeAck {
		op = layers.DHCPOpReply
	}
	yi := net.IPv4zero.To4()
	if yours.IsValid() {
		yi = yours.AsSlice()
	}
	m := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0x5ca11ab1,
		ClientIP: net.IPv4zero.To4(), YourClientIP: yi, NextServerIP: net.IPv4zero.To4(), RelayAgentIP: net.IPv4zero.To4(),
		ClientHWAddr: macA, ServerName: make([]byte, 64), File: make([]byte, 128),
		Options: layers.DHCPOptions{layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)})}}
	return string(serialize(t, m))
}

// dhcp6 is a DHCPv6 message of type typ naming the client by macA.
func dhcp6(t *testing.T, typ layers.DHCPv6MsgType) string {
	t.Helper()
	duid := append([]byte{0, 3, 0, 1}, macA...) // DUID-LL, Ethernet
	m := &layers.DHCPv6{MsgType: typ, TransactionID: []byte{0x0d, 0x4c, 0x06},
		Options: layers.DHCPv6Options{layers.NewDHCPv6Option(layers.DHCPv6OptClientID, duid)}}
	return string(serialize(t, m))
}

// fixtures makes every capture under testdata/pcaps, by name.
func fixtures(t *testing.T) map[string][]byte {
	out := make(map[string][]byte)

	// An HTTP exchange from two clients, a refused connection, a SYN
	// nobody answers, an SSH session already under way, ARP and ping.
	{
		srv, c1, c2 := "10.0.0.5", "10.0.0.9", "10.0.0.7"
		e := func(ip []byte) []byte { return ether(t, ip) }
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n), lt: layers.LinkTypeEthernet, data: b}) }
		add(0, arp(t))
		add(1, e(tcpSeg(t, at(c1, 51234), at(srv, 80), "S", 1000, 0, "")))
		add(2, e(tcpSeg(t, at(srv, 80), at(c1, 51234), "SA", 7000, 1001, "")))
		add(3, e(tcpSeg(t, at(c1, 51234), at(srv, 80), "A", 1001, 7001, "")))
		get := "GET / HTTP/1.1\r\nHost: lab\r\n\r\n"
		add(4, e(tcpSeg(t, at(c1, 51234), at(srv, 80), "PA", 1001, 7001, get)))
		resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		add(6, e(tcpSeg(t, at(srv, 80), at(c1, 51234), "PA", 7001, 1001+uint32(len(get)), resp)))
		add(7, e(tcpSeg(t, at(c1, 51234), at(srv, 80), "FA", 1001+uint32(len(get)), 7001+uint32(len(resp)), "")))
		add(8, e(tcpSeg(t, at(srv, 80), at(c1, 51234), "FA", 7001+uint32(len(resp)), 1002+uint32(len(get)), "")))
		add(10, e(tcpSeg(t, at(c1, 51235), at(srv, 8080), "S", 2000, 0, "")))
		add(11, e(tcpSeg(t, at(srv, 8080), at(c1, 51235), "RA", 0, 2001, "")))
		add(20, e(tcpSeg(t, at(c1, 51236), at(srv, 3306), "S", 3000, 0, "")))
		add(1020, e(tcpSeg(t, at(c1, 51236), at(srv, 3306), "S", 3000, 0, "")))
		add(1030, e(tcpSeg(t, at(srv, 22), at(c1, 50000), "PA", 9000, 4000, "SSH-2.0-lab_server\r\n")))
		add(1031, e(tcpSeg(t, at(c1, 50000), at(srv, 22), "A", 4000, 9020, "")))
		add(1040, e(tcpSeg(t, at(c2, 40100), at(srv, 80), "S", 5000, 0, "")))
		add(1041, e(tcpSeg(t, at(srv, 80), at(c2, 40100), "SA", 8000, 5001, "")))
		add(1042, e(tcpSeg(t, at(c2, 40100), at(srv, 80), "RA", 5001, 8001, "")))
		ping := serialize(t, ipLayer(netip.MustParseAddr(c1), netip.MustParseAddr(srv), layers.IPProtocolICMPv4).(gopacket.SerializableLayer),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}, gopacket.Payload("ping"))
		add(1050, e(ping))
		out["tcp-ethernet.pcap"] = writePcapgo(t, false, layers.LinkTypeEthernet, fs)
		out["tcp-ethernet.pcap.gz"] = gz(t, out["tcp-ethernet.pcap"])
		// Cut in the middle of the SSH banner's record.
		full := out["tcp-ethernet.pcap"]
		cut := 24
		for i := range 12 {
			cut += 16 + len(fs[i].data)
		}
		out["truncated.pcap"] = full[:cut+16+30]
	}

	// DNS, SNMP refused with ICMP, syslog unanswered and mDNS, over
	// 802.1Q and QinQ; big-endian pcap with nanosecond time stamps.
	{
		cl, dns, host := "10.1.0.9", "10.1.0.53", "10.1.0.5"
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n) + 123, lt: layers.LinkTypeEthernet, data: b}) }
		query := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x01\x00\x01"
		add(0, ether(t, udpDgram(t, at(cl, 40000), at(dns, 53), query), 10))
		add(2, ether(t, udpDgram(t, at(dns, 53), at(cl, 40000), query[:2]+"\x81\x80"+query[4:]), 10))
		snmp := udpDgram(t, at(cl, 40001), at(host, 161), "\x30\x26\x02\x01\x01")
		add(10, ether(t, snmp, 100, 20))
		add(11, ether(t, unreach(t, netip.MustParseAddr(host), layers.ICMPv4CodePort, snmp), 100, 20))
		add(20, ether(t, udpDgram(t, at(cl, 40002), at(host, 514), "<13>lab: hello"), 10))
		add(21, ether(t, udpDgram(t, at(cl, 40002), at(host, 514), "<13>lab: again"), 10))
		add(30, ether(t, udpDgram(t, at(cl, 5353), at("224.0.0.251", 5353), "mdns"), 10))
		add(40, ether(t, fragment(t, netip.MustParseAddr(cl), netip.MustParseAddr(host))))
		out["udp-vlan.pcap"] = writePcap(binary.BigEndian, true, layers.LinkTypeEthernet, fs)
	}

	// IPv6 over Linux cooked v1 with hop-by-hop and destination options:
	// HTTPS, NTP refused by ICMPv6; big-endian, microseconds.
	{
		cl, srv := "2001:db8::9", "2001:db8::5"
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n), lt: layers.LinkTypeLinuxSLL, data: sll(b)}) }
		hbh, dst := layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Destination
		add(0, tcpSeg(t, at(cl, 45000), at(srv, 443), "S", 100, 0, "", hbh, dst))
		add(1, tcpSeg(t, at(srv, 443), at(cl, 45000), "SA", 500, 101, "", dst))
		add(2, tcpSeg(t, at(cl, 45000), at(srv, 443), "A", 101, 501, ""))
		add(3, tcpSeg(t, at(cl, 45000), at(srv, 443), "PA", 101, 501, "\x16\x03\x01\x00\x05hello"))
		ntp := udpDgram(t, at(cl, 45001), at(srv, 123), strings.Repeat("\x00", 48), dst)
		add(10, ntp)
		add(11, unreach(t, netip.MustParseAddr(srv), layers.ICMPv6CodePortUnreachable, ntp))
		nsIP := ipLayer(netip.MustParseAddr(cl), netip.MustParseAddr("ff02::1:ff00:5"), layers.IPProtocolICMPv6)
		nsICMP := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
		nsICMP.SetNetworkLayerForChecksum(nsIP)
		ns := serialize(t, nsIP.(gopacket.SerializableLayer), nsICMP, gopacket.Payload(make([]byte, 20)))
		add(20, ns)
		out["ipv6-sll.pcap"] = writePcap(binary.BigEndian, false, layers.LinkTypeLinuxSLL, fs)
	}

	// SMTP over Linux cooked v2 in pcapng, and a POP3 SYN a router
	// refuses with ICMP admin prohibited.
	{
		cl, srv, router := "192.168.7.2", "192.168.7.1", "192.168.7.254"
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n), lt: layers.LinkTypeLinuxSLL2, data: sll2(b)}) }
		add(0, tcpSeg(t, at(cl, 33000), at(srv, 25), "S", 1, 0, ""))
		add(1, tcpSeg(t, at(srv, 25), at(cl, 33000), "SA", 9, 2, ""))
		add(2, tcpSeg(t, at(cl, 33000), at(srv, 25), "A", 2, 10, ""))
		add(3, tcpSeg(t, at(srv, 25), at(cl, 33000), "PA", 10, 2, "220 lab ESMTP\r\n"))
		syn := tcpSeg(t, at(cl, 33001), at(srv, 110), "S", 50, 0, "")
		add(10, syn)
		add(11, unreach(t, netip.MustParseAddr(router), layers.ICMPv4CodeCommAdminProhibited, syn))
		out["sll2.pcapng"] = writeSection(t, []layers.LinkType{layers.LinkTypeLinuxSLL2}, fs)
	}

	// pcapng with two sections and five interfaces of four link types,
	// one of which (802.11) is not decoded.
	{
		var s1, s2 []frame
		a1 := func(n, iface int, b []byte) { s1 = append(s1, frame{at: ms(n), iface: iface, data: b}) }
		a2 := func(n, iface int, b []byte) { s2 = append(s2, frame{at: ms(n), iface: iface, data: b}) }
		a1(0, 0, ether(t, tcpSeg(t, at("10.2.0.9", 41000), at("10.2.0.5", 22), "S", 1, 0, "")))
		a1(1, 0, ether(t, tcpSeg(t, at("10.2.0.5", 22), at("10.2.0.9", 41000), "SA", 1, 2, "")))
		a1(2, 1, tcpSeg(t, at("10.2.0.9", 41001), at("10.2.0.6", 23), "S", 1, 0, ""))
		a1(3, 1, tcpSeg(t, at("10.2.0.6", 23), at("10.2.0.9", 41001), "RA", 0, 2, ""))
		a1(4, 2, []byte{0x08, 0x02, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		a2(100, 0, null(tcpSeg(t, at("127.0.0.1", 41002), at("127.0.0.1", 6379), "S", 1, 0, "")))
		a2(101, 0, null(tcpSeg(t, at("127.0.0.1", 6379), at("127.0.0.1", 41002), "RA", 0, 2, "")))
		a2(102, 1, udpDgram(t, at("2001:db8::9", 41003), at("2001:db8::53", 53), "q"))
		a2(103, 1, udpDgram(t, at("2001:db8::53", 53), at("2001:db8::9", 41003), "r"))
		a2(104, 2, udpDgram(t, at("10.2.0.9", 41004), at("10.2.0.7", 69), "tftp"))
		a2(105, 2, udpDgram(t, at("10.2.0.7", 50001), at("10.2.0.9", 41004), "data"))
		out["multi.pcapng"] = append(
			writeSection(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeIEEE802_11}, s1),
			writeSection(t, []layers.LinkType{layers.LinkTypeNull, layers.LinkTypeIPv6, layers.LinkTypeIPv4}, s2)...)
	}

	// BSD loopback in little-endian nanosecond pcap: PostgreSQL over
	// IPv6 open, Redis over IPv4 closed, DNS answered mid-stream.
	{
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n) + 7, lt: layers.LinkTypeNull, data: null(b)}) }
		add(0, tcpSeg(t, at("::1", 50100), at("::1", 5432), "S", 10, 0, ""))
		add(1, tcpSeg(t, at("::1", 5432), at("::1", 50100), "SA", 20, 11, ""))
		add(2, tcpSeg(t, at("127.0.0.1", 50101), at("127.0.0.1", 6379), "S", 30, 0, ""))
		add(3, tcpSeg(t, at("127.0.0.1", 6379), at("127.0.0.1", 50101), "RA", 0, 31, ""))
		add(4, udpDgram(t, at("127.0.0.53", 53), at("127.0.0.1", 51000), "late answer"))
		out["loopback.pcap"] = writePcapgo(t, true, layers.LinkTypeNull, fs)
	}

	// Raw IPv4 and IPv6 (LINKTYPE_RAW) in gzip-compressed pcap.
	{
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n), lt: layers.LinkTypeRaw, data: b}) }
		add(0, tcpSeg(t, at("172.16.0.9", 43000), at("172.16.0.5", 443), "S", 1, 0, ""))
		add(1, tcpSeg(t, at("172.16.0.5", 443), at("172.16.0.9", 43000), "SA", 1, 2, ""))
		add(2, tcpSeg(t, at("2001:db8:1::9", 43001), at("2001:db8:1::5", 80), "S", 1, 0, ""))
		add(3, tcpSeg(t, at("2001:db8:1::5", 80), at("2001:db8:1::9", 43001), "RA", 0, 2, ""))
		out["raw.pcap.gz"] = gz(t, writePcapgo(t, false, layers.LinkTypeRaw, fs))
	}

	// DHCP: a client broadcasts DISCOVER and REQUEST from 0.0.0.0, and
	// the server answers at the offered address, then a second client
	// asks for broadcast answers; DHCPv6 to the All DHCP Relay Agents and
	// Servers group, answered from the server's link-local address.
	{
		srv, offered := netip.MustParseAddr("10.4.0.1"), netip.MustParseAddr("10.4.0.50")
		client, bcast := at("0.0.0.0", 68), at("255.255.255.255", 67)
		e := func(ip []byte) []byte { return ether(t, ip) }
		var fs []frame
		add := func(n int, b []byte) { fs = append(fs, frame{at: ms(n), lt: layers.LinkTypeEthernet, data: b}) }
		add(0, e(udpDgram(t, client, bcast, dhcp4(t, layers.DHCPMsgTypeDiscover, netip.Addr{}))))
		add(2, e(udpDgram(t, at("10.4.0.1", 67), at("10.4.0.50", 68), dhcp4(t, layers.DHCPMsgTypeOffer, offered))))
		add(3, e(udpDgram(t, client, bcast, dhcp4(t, layers.DHCPMsgTypeRequest, netip.Addr{}))))
		add(5, e(udpDgram(t, at("10.4.0.1", 67), at("10.4.0.50", 68), dhcp4(t, layers.DHCPMsgTypeAck, offered))))
		add(100, e(udpDgram(t, client, bcast, dhcp4(t, layers.DHCPMsgTypeDiscover, netip.Addr{}))))
		add(102, e(udpDgram(t, at("10.4.0.1", 67), at("255.255.255.255", 68), dhcp4(t, layers.DHCPMsgTypeOffer, srv.Next()))))
		cl6, srv6, group := at("fe80::9", 546), at("fe80::1", 547), at("ff02::1:2", 547)
		add(200, e(udpDgram(t, cl6, group, dhcp6(t, layers.DHCPv6MsgTypeSolicit))))
		add(203, e(udpDgram(t, srv6, cl6, dhcp6(t, layers.DHCPv6MsgTypeAdvertise))))
		add(204, e(udpDgram(t, cl6, group, dhcp6(t, layers.DHCPv6MsgTypeRequest))))
		add(206, e(udpDgram(t, srv6, cl6, dhcp6(t, layers.DHCPv6MsgTypeReply))))
		out["dhcp.pcap"] = writePcapgo(t, false, layers.LinkTypeEthernet, fs)
	}

	// Protocol bytes for service detection.
	out["detect.pcap"] = detectFixture(t)
	return out
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGenerateFixtures checks that the committed captures are what the
// generator makes; go test -run TestGenerateFixtures -update rewrites them.
func TestGenerateFixtures(t *testing.T) {
	for name, want := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(fixtureDir, name)
			if *golden.Update {
				golden.Write(t, path, want)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./capture -run TestGenerateFixtures -update makes it)", err)
			}
			if strings.HasSuffix(name, ".gz") {
				// Compressed bytes may change with the Go release.
				got, want = gunzip(t, got), gunzip(t, want)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what the generator makes (-update rewrites it)", path)
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
