package raw

import (
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

// asReply turns the frame of an ICMP query we built into the reply to
// it, from them: the type becomes the reply's, the addresses swap. The
// checksum is left stale; neither the filter nor the decoder reads it.
func asReply(t testing.TB, f []byte, typ byte) []byte {
	t.Helper()
	r := append([]byte(nil), f...)
	if r[12] == 0x08 {
		ihl := int(r[ethLen]&0x0f) * 4
		copy(r[ethLen+12:], them4.AsSlice())
		copy(r[ethLen+16:], us4.AsSlice())
		r[ethLen+ihl] = typ
	} else {
		copy(r[ethLen+8:], them6.AsSlice())
		copy(r[ethLen+24:], us6.AsSlice())
		r[ethLen+ip6Len] = typ
	}
	return r
}

func pingFrames(t testing.TB) (echo4, ts4, echo6, udp4, udp6 []byte) {
	b := NewBuilder()
	clone := func(f []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), f...)
	}
	echo4 = clone(b.ICMPEcho(Echo{SrcMAC: macUs, DstMAC: macThem, Src: us4, Dst: them4, ID: 0x5053, Seq: 7}))
	ts4 = clone(b.ICMPEcho(Echo{SrcMAC: macUs, DstMAC: macThem, Src: us4, Dst: them4, ID: 0x5053, Seq: 8, Timestamp: true,
		Originate: time.Date(2026, 1, 2, 0, 0, 1, 500e6, time.UTC)}))
	echo6 = clone(b.ICMPEcho(Echo{SrcMAC: macUs, DstMAC: macThem, Src: us6, Dst: them6, ID: 0x5053, Seq: 9}))
	udp4 = clone(b.UDP(Datagram{Src: us4, Dst: them4, SrcPort: 61000, DstPort: 40125}))
	udp6 = clone(b.UDP(Datagram{Src: us6, Dst: them6, SrcPort: 61001, DstPort: 40125, Payload: []byte("x")}))
	return
}

func TestPingFrames(t *testing.T) {
	echo4, ts4, echo6, udp4, udp6 := pingFrames(t)
	if len(ts4) < ethLen+20+8+12 || ts4[ethLen+20] != 13 || ts4[ethLen+20+8+3] != 0xdc || ts4[ethLen+20+8+2] != 0x05 {
		t.Errorf("timestamp request %x: want type 13 and an originate time of 1500 ms", ts4)
	}
	if _, err := NewBuilder().ICMPEcho(Echo{Src: us6, Dst: them6, Timestamp: true}); err == nil {
		t.Error("an ICMPv6 timestamp request was built")
	}
	if _, err := NewBuilder().UDP(Datagram{Src: us4, Dst: them6}); err == nil {
		t.Error("a UDP datagram across families was built")
	}
	d := NewDecoder()
	tests := []struct {
		name  string
		frame []byte
		want  Packet
	}{
		{"echo reply", asReply(t, echo4, 0), Packet{Kind: KindEcho, Src: them4, Dst: us4, TTL: 64, Echo: EchoReply{ID: 0x5053, Seq: 7}}},
		{"timestamp reply", asReply(t, ts4, 14), Packet{Kind: KindEcho, Src: them4, Dst: us4, TTL: 64, Echo: EchoReply{Timestamp: true, ID: 0x5053, Seq: 8}}},
		{"ICMPv6 echo reply", asReply(t, echo6, 129), Packet{Kind: KindEcho, Src: them6, Dst: us6, TTL: 64, Echo: EchoReply{V6: true, ID: 0x5053, Seq: 9}}},
		{"our echo request", echo4, Packet{}},
		{"a UDP datagram", udp6, Packet{Kind: KindUDP, Src: us6, Dst: them6, TTL: 64, UDP: UDPHeader{SrcPort: 61001, DstPort: 40125}}},
		{"port unreachable quoting our UDP", icmpError(t, them4, us4, 3, 3, udp4[ethLen:], -1), Packet{Kind: KindICMP, Src: them4, Dst: us4, TTL: 64,
			ICMP: ICMPError{Type: 3, Code: 3, Quote: Quote{Src: us4, Dst: them4, Proto: 17, SrcPort: 61000, DstPort: 40125}}}},
		{"ICMPv6 echo reply cut short", asReply(t, echo6, 129)[:ethLen+ip6Len+6], Packet{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := d.Decode(tt.frame)
			if err != nil && tt.want.Kind != KindOther {
				t.Fatal(err)
			}
			if p.Neighbor.MAC == nil {
				p.Neighbor.MAC = nil
			}
			if !equalPacket(p, tt.want) {
				t.Errorf("got  %+v\nwant %+v", p, tt.want)
			}
		})
	}
}

func equalPacket(a, b Packet) bool {
	return a.Kind == b.Kind && a.Src == b.Src && a.Dst == b.Dst && a.TTL == b.TTL && a.TCP == b.TCP && a.ICMP == b.ICMP &&
		a.Echo == b.Echo && a.UDP == b.UDP && a.Neighbor.Addr == b.Neighbor.Addr && a.Neighbor.MAC.String() == b.Neighbor.MAC.String()
}

func TestPingFilter(t *testing.T) {
	ours := PortRange{First: 61000, Last: 61063}
	echo4, ts4, echo6, udp4, udp6 := pingFrames(t)
	syn4 := probeDatagram(t, us4, them4, 61000, 443, 7)
	syn6 := probeDatagram(t, us6, them6, 61063, 443, 7)
	theirs4 := probeDatagram(t, us4, them4, 40000, 443, 7)
	otherID := asReply(t, echo4, 0)
	otherID[ethLen+20+4] ^= 0xff
	otherID6 := asReply(t, echo6, 129)
	otherID6[ethLen+ip6Len+4] ^= 0xff
	frag := reply(t, them4, us4, 443, 61000, FlagSYN|FlagACK, 1, 8)
	frag[ethLen+7] = 8

	// What each kind of filter passes: e echo, p ports, n neighbours.
	const e, p, n = 1, 2, 4
	tests := []struct {
		name  string
		frame []byte
		by    int // the filters that pass it
	}{
		{"echo reply", asReply(t, echo4, 0), e},
		{"timestamp reply", asReply(t, ts4, 14), e},
		{"ICMPv6 echo reply", asReply(t, echo6, 129), e},
		{"echo reply of another run", otherID, 0},
		{"ICMPv6 echo reply of another run", otherID6, 0},
		{"our own echo request (loopback)", echo4, 0},
		{"our own timestamp request", ts4, 0},
		{"syn-ack to our port", reply(t, them4, us4, 443, 61000, FlagSYN|FlagACK, 1, 8), p},
		{"rst to our last port", reply(t, them4, us4, 80, 61063, FlagRST, 5, 0), p},
		{"rst to another port", reply(t, them4, us4, 80, 61064, FlagRST, 5, 0), 0},
		{"our own SYN (loopback)", reply(t, us4, them4, 61000, 443, FlagSYN, 1, 0), 0},
		{"IPv6 syn-ack", reply(t, them6, us6, 443, 61001, FlagSYN|FlagACK, 1, 8), p},
		{"a UDP answer to our port", asUDPReply(t, udp4), p},
		{"our own UDP probe", udp4, 0},
		{"IPv6 UDP answer", asUDPReply(t, udp6), p},
		{"port unreachable quoting our UDP", icmpError(t, them4, us4, 3, 3, udp4[ethLen:], -1), p},
		{"port unreachable quoting our TCP", icmpError(t, router4, us4, 3, 13, syn4, 28), p},
		{"ICMPv6 unreachable quoting our UDP", icmpError(t, them6, us6, 1, 4, udp6[ethLen:], -1), p},
		{"ICMPv6 unreachable quoting our TCP", icmpError(t, them6, us6, 1, 4, syn6, -1), p},
		{"ICMP quoting another port", icmpError(t, them4, us4, 3, 3, theirs4, -1), 0},
		{"ICMP quoting an echo request", icmpError(t, router4, us4, 3, 1, echo4[ethLen:], -1), 0},
		{"ICMP redirect", icmpError(t, router4, us4, 5, 1, syn4, -1), 0},
		{"later fragment", frag, 0},
		{"ARP reply", arpReply(t, 2), n},
		{"ARP request", arpReply(t, 1), 0},
		{"neighbour advertisement", neighborAdvert(t, true), n},
		{"truncated", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08}, 0},
		{"empty", nil, 0},
	}
	filters := []struct {
		name string
		f    PingFilter
		kind int
	}{
		{"echo", PingFilter{Echo: true, EchoID: 0x5053}, e},
		{"ports", PingFilter{Ports: &ours}, p},
		{"neighbors", PingFilter{Neighbors: true}, n},
		{"all", PingFilter{Echo: true, EchoID: 0x5053, Ports: &ours, Neighbors: true}, e | p | n},
		{"none", PingFilter{}, 0},
	}
	for _, f := range filters {
		prog, err := f.f.Program()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				got, err := vm.Run(tt.frame)
				if err != nil {
					t.Fatal(err)
				}
				if want := tt.by&f.kind != 0; (got > 0) != want {
					t.Errorf("passed %v, want %v", got > 0, want)
				}
			})
		}
	}
	if _, err := (PingFilter{Ports: &PortRange{First: 2, Last: 1}}).Program(); err == nil {
		t.Error("an empty port range assembled")
	}
}

// asUDPReply turns our UDP datagram into their answer to it.
func asUDPReply(t testing.TB, f []byte) []byte {
	t.Helper()
	r := append([]byte(nil), f...)
	off := ethLen + 20
	if r[12] == 0x08 {
		copy(r[ethLen+12:], them4.AsSlice())
		copy(r[ethLen+16:], us4.AsSlice())
	} else {
		off = ethLen + ip6Len
		copy(r[ethLen+8:], them6.AsSlice())
		copy(r[ethLen+24:], us6.AsSlice())
	}
	r[off], r[off+1], r[off+2], r[off+3] = r[off+2], r[off+3], r[off], r[off+1]
	return r
}
