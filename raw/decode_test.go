package raw

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	syn4 := probeDatagram(t, us4, them4, 61000, 443, 0xdeadbeef)
	syn6 := probeDatagram(t, us6, them6, 61001, 443, 0xcafef00d)
	tests := []struct {
		name  string
		frame []byte
		want  Packet
	}{
		{"syn-ack", reply(t, them4, us4, 443, 61000, FlagSYN|FlagACK, 5, 0xdeadbef0), Packet{
			Kind: KindTCP, Src: them4, Dst: us4, TTL: 64,
			TCP: TCPHeader{SrcPort: 443, DstPort: 61000, Seq: 5, Ack: 0xdeadbef0, Flags: FlagSYN | FlagACK, Window: 65535},
		}},
		{"rst with options", withIPOptions(t, reply(t, them4, us4, 443, 61000, FlagRST|FlagACK, 0, 9)), Packet{
			Kind: KindTCP, Src: them4, Dst: us4, TTL: 64,
			TCP: TCPHeader{SrcPort: 443, DstPort: 61000, Ack: 9, Flags: FlagRST | FlagACK, Window: 65535},
		}},
		{"IPv6 syn-ack", reply(t, them6, us6, 443, 61001, FlagSYN|FlagACK, 5, 6), Packet{
			Kind: KindTCP, Src: them6, Dst: us6, TTL: 64,
			TCP: TCPHeader{SrcPort: 443, DstPort: 61001, Seq: 5, Ack: 6, Flags: FlagSYN | FlagACK, Window: 65535},
		}},
		{"ICMP from a router, 8 bytes quoted", icmpError(t, router4, us4, 3, 13, syn4, 28), Packet{
			Kind: KindICMP, Src: router4, Dst: us4, TTL: 64,
			ICMP: ICMPError{Type: 3, Code: 13, Quote: Quote{Src: us4, Dst: them4, Proto: 6, SrcPort: 61000, DstPort: 443, Seq: 0xdeadbeef}},
		}},
		{"ICMPv6 port unreachable", icmpError(t, them6, us6, 1, 4, syn6, -1), Packet{
			Kind: KindICMP, Src: them6, Dst: us6, TTL: 64,
			ICMP: ICMPError{V6: true, Type: 1, Code: 4, Quote: Quote{Src: us6, Dst: them6, Proto: 6, SrcPort: 61001, DstPort: 443, Seq: 0xcafef00d}},
		}},
		{"ARP reply", arpReply(t, 2), Packet{
			Kind: KindNeighbor, Src: them4, Dst: us4,
			Neighbor: NeighborReply{Addr: them4, MAC: macThem},
		}},
		{"ARP request", arpReply(t, 1), Packet{}},
		{"neighbour advertisement", neighborAdvert(t, true), Packet{
			Kind: KindNeighbor, Src: them6, Dst: us6, TTL: 255,
			Neighbor: NeighborReply{Addr: them6, MAC: macThem},
		}},
		{"neighbour advertisement without the option", neighborAdvert(t, false), Packet{
			Kind: KindNeighbor, Src: them6, Dst: us6, TTL: 255,
			Neighbor: NeighborReply{Addr: them6, MAC: macThem},
		}},
		{"ICMP echo reply", icmpError(t, them4, us4, 0, 0, syn4, -1), Packet{Kind: KindEcho, Src: them4, Dst: us4, TTL: 64}},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	syn4 := probeDatagram(t, us4, them4, 61000, 443, 1)
	tests := []struct {
		name   string
		frame  []byte
		offset int
		layer  string
		is     error
	}{
		{"short Ethernet", []byte{1, 2, 3}, 0, "Ethernet", nil},
		{"short IPv4", reply(t, them4, us4, 1, 2, FlagSYN, 0, 0)[:ethLen+10], ethLen, "IPv4", nil},
		{"short TCP", reply(t, them4, us4, 1, 2, FlagSYN, 0, 0)[:ethLen+20+10], ethLen + 20, "TCP", nil},
		{"quote of 4 bytes", icmpError(t, them4, us4, 3, 3, syn4, 24), ethLen + 28, "the datagram quoted by ICMP", ErrShortQuote},
		{"quote of no IP header", icmpError(t, them4, us4, 3, 3, syn4, 12), ethLen + 28, "the datagram quoted by ICMP", nil},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Decode(tt.frame)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *DecodeError", err)
			}
			if de.Offset != tt.offset || de.Layer != tt.layer {
				t.Errorf("%v: at byte %d in %q, want %d in %q", err, de.Offset, de.Layer, tt.offset, tt.layer)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v is not %v", err, tt.is)
			}
		})
	}
}

func TestBuilderFamilies(t *testing.T) {
	b := NewBuilder()
	if _, err := b.TCP(Segment{Src: us4, Dst: them6}); !errors.Is(err, ErrFamily) {
		t.Errorf("IPv4 to IPv6: %v, want ErrFamily", err)
	}
	if _, err := b.TCP(Segment{}); !errors.Is(err, ErrFamily) {
		t.Errorf("no addresses: %v, want ErrFamily", err)
	}
	if _, err := b.ARPRequest(macUs, us6, them6); err == nil {
		t.Error("ARP for IPv6 built")
	}
	if _, err := b.NeighborSolicitation(macUs, us4, them4); err == nil {
		t.Error("NDP for IPv4 built")
	}
}

// TestBuilderRoundTrip decodes what the builder built.
func TestBuilderRoundTrip(t *testing.T) {
	b, d := NewBuilder(), NewDecoder()
	f, err := b.ARPRequest(macUs, us4, them4)
	if err != nil {
		t.Fatal(err)
	}
	// 42 bytes, padded to Ethernet's least frame of 60.
	if len(f) != 60 || f[0] != 0xff || f[12] != 0x08 || f[13] != 0x06 || f[21] != 1 {
		t.Errorf("ARP request % x", f)
	}
	f, err = b.NeighborSolicitation(macUs, us6, them6)
	if err != nil {
		t.Fatal(err)
	}
	// Solicited-node group of fd00:18::1: ff02::1:ff00:1, MAC 33:33:ff:00:00:01.
	if got := netip.AddrFrom16([16]byte(f[ethLen+24 : ethLen+40])); got != netip.MustParseAddr("ff02::1:ff00:1") || f[0] != 0x33 || f[5] != 1 {
		t.Errorf("solicitation to %s, MAC % x", got, f[:6])
	}
	if f[ethLen+7] != 255 || f[ethLen+ip6Len] != 135 {
		t.Errorf("hop limit %d, type %d", f[ethLen+7], f[ethLen+ip6Len])
	}
	f, err = b.TCP(Segment{Src: us4, Dst: them4, SrcPort: 61000, DstPort: 22, Seq: 42, Flags: FlagSYN, MSS: 1460})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindTCP || p.TCP.Seq != 42 || p.TCP.Flags != FlagSYN || p.TCP.Window != 1024 || p.TTL != 64 {
		t.Errorf("SYN decoded as %+v", p)
	}
	if l := int(f[ethLen+2])<<8 | int(f[ethLen+3]); l != 20+24 {
		t.Errorf("SYN datagram of %d bytes, want %d (with the MSS option)", l, 20+24)
	}
}
