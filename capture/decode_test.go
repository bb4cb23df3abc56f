package capture

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/portscan/portscan/ports"
)

func TestDecode(t *testing.T) {
	c4, s4 := at("10.0.0.9", 40000), at("10.0.0.5", 80)
	c6, s6 := at("2001:db8::9", 40000), at("2001:db8::5", 443)
	hbh, dst, rt := layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Destination, layers.IPProtocolIPv6Routing
	syn := tcpSeg(t, c4, s4, "S", 1, 0, "")
	data := tcpSeg(t, c4, s4, "PA", 1, 1, "hello")
	ud6 := udpDgram(t, c6, at("2001:db8::5", 53), "query", hbh, dst)
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		want Decoded
	}{
		{"ethernet tcp syn", layers.LinkTypeEthernet, ether(t, syn),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 40, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: SYN, Seq: 1, Window: 64240}},
		{"802.1Q", layers.LinkTypeEthernet, ether(t, data, 10),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 45, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: PSH | ACK, Seq: 1, Ack: 1, Window: 64240, PayloadLen: 5}},
		{"QinQ", layers.LinkTypeEthernet, ether(t, data, 100, 10),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 45, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: PSH | ACK, Seq: 1, Ack: 1, Window: 64240, PayloadLen: 5}},
		{"ethernet padding is not payload", layers.LinkTypeEthernet, append(ether(t, syn), 0, 0, 0, 0, 0, 0),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 40, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: SYN, Seq: 1, Window: 64240}},
		{"linux cooked", layers.LinkTypeLinuxSLL, sll(data),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 45, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: PSH | ACK, Seq: 1, Ack: 1, Window: 64240, PayloadLen: 5}},
		{"linux cooked v2", layers.LinkTypeLinuxSLL2, sll2(syn),
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 40, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: SYN, Seq: 1, Window: 64240}},
		{"bsd loopback ipv6", layers.LinkTypeNull, null(ud6),
			Decoded{Kind: UDP, IPv6: true, Src: c6.addr, Dst: s6.addr, IPLen: 40 + 16 + 13, Proto: ports.UDP, SrcPort: 40000, DstPort: 53, PayloadLen: 5}},
		{"raw ipv4", layers.LinkTypeRaw, syn,
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 40, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: SYN, Seq: 1, Window: 64240}},
		{"raw ipv6, three extension headers", layers.LinkTypeIPv6, tcpSeg(t, c6, s6, "PA", 5, 6, "abc", hbh, dst, rt),
			Decoded{Kind: TCP, IPv6: true, Src: c6.addr, Dst: s6.addr, IPLen: 40 + 24 + 23, Proto: ports.TCP, SrcPort: 40000, DstPort: 443, Flags: PSH | ACK, Seq: 5, Ack: 6, Window: 64240, PayloadLen: 3}},
		{"DLT_RAW 12 with ipv6", 12, ud6,
			Decoded{Kind: UDP, IPv6: true, Src: c6.addr, Dst: s6.addr, IPLen: 40 + 16 + 13, Proto: ports.UDP, SrcPort: 40000, DstPort: 53, PayloadLen: 5}},
		{"snap length cut the payload", layers.LinkTypeRaw, tcpSeg(t, c4, s4, "PA", 1, 1, strings.Repeat("x", 1000))[:60],
			Decoded{Kind: TCP, Src: c4.addr, Dst: s4.addr, IPLen: 1040, Proto: ports.TCP, SrcPort: 40000, DstPort: 80, Flags: PSH | ACK, Seq: 1, Ack: 1, Window: 64240, PayloadLen: 1000}},
		{"icmp port unreachable", layers.LinkTypeRaw, unreach(t, s4.addr, 3, udpDgram(t, c4, at("10.0.0.5", 161), "x")),
			Decoded{Kind: ICMPError, Src: s4.addr, Dst: c4.addr, IPLen: 56, Proto: ports.UDP, ICMPType: 3, ICMPCode: 3,
				Quote: Quote{Src: c4.addr, Dst: s4.addr, Proto: ports.UDP, SrcPort: 40000, DstPort: 161}}},
		{"icmp admin prohibited from a router", layers.LinkTypeRaw, unreach(t, netip.MustParseAddr("10.0.0.1"), 13, syn),
			Decoded{Kind: ICMPError, Src: netip.MustParseAddr("10.0.0.1"), Dst: c4.addr, IPLen: 56, Proto: ports.TCP, ICMPType: 3, ICMPCode: 13,
				Quote: Quote{Src: c4.addr, Dst: s4.addr, Proto: ports.TCP, SrcPort: 40000, DstPort: 80}}},
		{"icmpv6 port unreachable quoting extension headers", layers.LinkTypeIPv6, unreach(t, s6.addr, 4, ud6),
			Decoded{Kind: ICMPError, IPv6: true, Src: s6.addr, Dst: c6.addr, IPLen: 40 + 8 + 69, Proto: ports.UDP, ICMPType: 1, ICMPCode: 4,
				Quote: Quote{Src: c6.addr, Dst: s6.addr, Proto: ports.UDP, SrcPort: 40000, DstPort: 53}}},
		{"arp", layers.LinkTypeEthernet, arp(t), Decoded{Skip: SkipNotIP}},
		{"802.11", layers.LinkTypeIEEE802_11, []byte{8, 2, 0, 0}, Decoded{Skip: SkipLinkType}},
		{"ipv4 fragment", layers.LinkTypeRaw, fragment(t, c4.addr, s4.addr),
			Decoded{Skip: SkipFragment, Src: c4.addr, Dst: s4.addr, IPLen: 37}},
		{"truncated ipv4 header", layers.LinkTypeEthernet, ether(t, syn)[:14+12], Decoded{Skip: SkipMalformed}},
		{"truncated tcp header", layers.LinkTypeRaw, syn[:30], Decoded{Skip: SkipMalformed, Src: c4.addr, Dst: s4.addr, IPLen: 40}},
		{"tcp port 0", layers.LinkTypeRaw, tcpSeg(t, c4, at("10.0.0.5", 0), "S", 1, 0, ""),
			Decoded{Skip: SkipPortZero, Src: c4.addr, Dst: s4.addr, IPLen: 40, Proto: ports.TCP, SrcPort: 40000, Flags: SYN, Seq: 1, Window: 64240}},
		{"empty frame", layers.LinkTypeEthernet, nil, Decoded{Skip: SkipMalformed}},
	}
	payloads := map[string]string{"802.1Q": "hello", "QinQ": "hello", "linux cooked": "hello",
		"bsd loopback ipv6": "query", "raw ipv6, three extension headers": "abc", "DLT_RAW 12 with ipv6": "query",
		"snap length cut the payload": "xxxxxxxxxxxxxxxxxxxx"}
	dec := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Decoded
			dec.Decode(tt.lt, tt.data, &got)
			payload := got.Payload
			got.Payload = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			// Ethernet padding is not payload; the snap length cuts it.
			if want := payloads[tt.name]; string(payload) != want {
				t.Errorf("payload %q, want %q", payload, want)
			}
		})
	}
}

func TestDecodeOtherICMP(t *testing.T) {
	ping := serialize(t, ipLayer(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), layers.IPProtocolICMPv4).(gopacket.SerializableLayer),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)}, gopacket.Payload("ping"))
	var d Decoded
	NewDecoder().Decode(layers.LinkTypeRaw, ping, &d)
	if d.Kind != Skipped || d.Skip != SkipICMP || d.ICMPType != 8 {
		t.Errorf("got %+v, want a skipped echo request", d)
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := [][]byte{
		ether(t, tcpSeg(t, at("10.0.0.9", 1), at("10.0.0.5", 2), "PA", 1, 1, "data"), 10),
		// Not hop-by-hop: gopacket's IPv6 layer decodes that header itself
		// and allocates each of its options.
		ether(t, udpDgram(t, at("2001:db8::1", 1), at("2001:db8::2", 2), "x", layers.IPProtocolIPv6Destination, layers.IPProtocolIPv6Routing)),
		ether(t, unreach(t, netip.MustParseAddr("10.0.0.5"), 3, udpDgram(t, at("10.0.0.9", 1), at("10.0.0.5", 2), "x"))),
		arp(t),
	}
	dec := NewDecoder()
	var d Decoded
	for _, f := range frames {
		dec.Decode(layers.LinkTypeEthernet, f, &d)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range frames {
			dec.Decode(layers.LinkTypeEthernet, f, &d)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round, want 0", allocs)
	}
}
