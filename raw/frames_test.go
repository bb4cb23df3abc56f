package raw

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frames for the tests of the filter and the decoder: what a target or a
// router sends back to a probe.

var (
	us4, them4 = netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("198.18.0.1")
	router4    = netip.MustParseAddr("198.18.1.1")
	us6, them6 = netip.MustParseAddr("fd00:18::fe"), netip.MustParseAddr("fd00:18::1")
	macUs      = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe}
	macThem    = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
)

// reply builds the frame of a TCP segment from them to us.
func reply(t testing.TB, src, dst netip.Addr, sport, dport uint16, flags uint8, seq, ack uint32) []byte {
	t.Helper()
	f, err := NewBuilder().TCP(Segment{SrcMAC: macThem, DstMAC: macUs, Src: src, Dst: dst,
		SrcPort: sport, DstPort: dport, Flags: flags, Seq: seq, Ack: ack, Window: 65535})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), f...)
}

// probe builds our SYN from sport to dport, without its link header: the
// datagram an ICMP error quotes.
func probeDatagram(t testing.TB, src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	t.Helper()
	f, err := NewBuilder().TCP(Segment{Src: src, Dst: dst, SrcPort: sport, DstPort: dport, Flags: FlagSYN, Seq: seq, MSS: 1460})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), f[ethLen:]...)
}

// icmpError builds the frame of an ICMP (or ICMPv6) error from src to
// dst quoting the first quoteLen bytes of datagram (all of it: -1).
func icmpError(t testing.TB, src, dst netip.Addr, typ, code uint8, datagram []byte, quoteLen int) []byte {
	t.Helper()
	if quoteLen >= 0 && quoteLen < len(datagram) {
		datagram = datagram[:quoteLen]
	}
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: macThem, DstMAC: macUs}
	var err error
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: ip4(src), DstIP: ip4(dst)}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)}
		err = gopacket.SerializeLayers(buf, serializeOpts, eth, ip, icmp, gopacket.Payload(datagram))
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: ip16(src), DstIP: ip16(dst)}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
		icmp.SetNetworkLayerForChecksum(ip)
		err = gopacket.SerializeLayers(buf, serializeOpts, eth, ip, icmp, gopacket.Payload(append([]byte{0, 0, 0, 0}, datagram...)))
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// arpReply builds the ARP reply of them to us.
func arpReply(t testing.TB, op uint16) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, serializeOpts,
		&layers.Ethernet{SrcMAC: macThem, DstMAC: macUs, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: macThem, SourceProtAddress: ip4(them4), DstHwAddress: macUs, DstProtAddress: ip4(us4)})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// neighborAdvert builds the neighbour advertisement of them6 to us6.
func neighborAdvert(t testing.TB, withOption bool) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: ip16(them6), DstIP: ip16(us6)}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	icmp.SetNetworkLayerForChecksum(ip)
	na := &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: ip16(them6)}
	if withOption {
		na.Options = layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: macThem}}
	}
	err := gopacket.SerializeLayers(buf, serializeOpts, &layers.Ethernet{SrcMAC: macThem, DstMAC: macUs, EthernetType: layers.EthernetTypeIPv6}, ip, icmp, na)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withIPOptions rewrites an IPv4 frame to carry 4 bytes of IP options
// (four no-operations), moving the rest along, so that filters and
// decoders that assume a 20-byte header fail on it.
func withIPOptions(t testing.TB, frame []byte) []byte {
	t.Helper()
	var ip layers.IPv4
	if err := ip.DecodeFromBytes(frame[ethLen:], gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}
	ip.IHL = 0
	buf := gopacket.NewSerializeBuffer()
	var eth layers.Ethernet
	if err := eth.DecodeFromBytes(frame, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if err := gopacket.SerializeLayers(buf, serializeOpts, &eth, &ip, gopacket.Payload(ip.Payload)); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if out[ethLen]&0x0f != 6 {
		t.Fatalf("IHL %d, want 6", out[ethLen]&0x0f)
	}
	return out
}
