package raw

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCP flags, as they sit in the 14th byte of a TCP header.
const (
	FlagFIN = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
)

// Segment is a TCP segment to send in one frame.
type Segment struct {
	SrcMAC, DstMAC   net.HardwareAddr // nil is the zero address (loopback)
	Src, Dst         netip.Addr       // both IPv4 or both IPv6
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8  // FlagSYN, FlagACK, ...
	Window           uint16 // 0 is 1024
	// MSS, when not zero, is sent as the maximum segment size option, as
	// a SYN from a real stack carries one.
	MSS uint16
	TTL uint8  // hop limit; 0 is 64
	ID  uint16 // the IPv4 identification
}

// ErrFamily is returned by the builders for addresses of two families,
// or of none.
var ErrFamily = errors.New("raw: source and destination are not of one IP family")

// Builder builds frames with gopacket's layers into a buffer of its own,
// which each call reuses: a frame it returns is valid until the next
// call. It is not safe for use by several goroutines at once.
type Builder struct {
	buf  gopacket.SerializeBuffer
	eth  layers.Ethernet
	ip4  layers.IPv4
	ip6  layers.IPv6
	tcp  layers.TCP
	arp  layers.ARP
	icmp layers.ICMPv6
	ns   layers.ICMPv6NeighborSolicitation
	mss  [2]byte
	opts []layers.TCPOption
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// NewBuilder returns a Builder.
func NewBuilder() *Builder {
	return &Builder{buf: gopacket.NewSerializeBufferExpectedSize(ethLen+ip6Len, 64)}
}

var zeroMAC = make(net.HardwareAddr, 6)

func orZero(m net.HardwareAddr) net.HardwareAddr {
	if len(m) == 0 {
		return zeroMAC
	}
	return m
}

// TCP builds the frame of a TCP segment, checksums computed.
func (b *Builder) TCP(s Segment) ([]byte, error) {
	src, dst := s.Src.Unmap(), s.Dst.Unmap()
	if !src.IsValid() || src.Is4() != dst.Is4() {
		return nil, ErrFamily
	}
	ttl := s.TTL
	if ttl == 0 {
		ttl = 64
	}
	win := s.Window
	if win == 0 {
		win = 1024
	}
	b.tcp = layers.TCP{
		SrcPort: layers.TCPPort(s.SrcPort), DstPort: layers.TCPPort(s.DstPort),
		Seq: s.Seq, Ack: s.Ack, Window: win,
		FIN: s.Flags&FlagFIN != 0, SYN: s.Flags&FlagSYN != 0, RST: s.Flags&FlagRST != 0,
		PSH: s.Flags&FlagPSH != 0, ACK: s.Flags&FlagACK != 0, URG: s.Flags&FlagURG != 0,
		Options: b.opts[:0],
	}
	if s.MSS != 0 {
		b.mss = [2]byte{byte(s.MSS >> 8), byte(s.MSS)}
		b.tcp.Options = append(b.tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: b.mss[:]})
	}
	b.opts = b.tcp.Options
	b.eth = layers.Ethernet{SrcMAC: orZero(s.SrcMAC), DstMAC: orZero(s.DstMAC)}
	var network gopacket.SerializableLayer
	if src.Is4() {
		b.eth.EthernetType = layers.EthernetTypeIPv4
		b.ip4 = layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Id: s.ID, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP, SrcIP: ip4(src), DstIP: ip4(dst)}
		b.tcp.SetNetworkLayerForChecksum(&b.ip4)
		network = &b.ip4
	} else {
		b.eth.EthernetType = layers.EthernetTypeIPv6
		b.ip6 = layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: layers.IPProtocolTCP, SrcIP: ip16(src), DstIP: ip16(dst)}
		b.tcp.SetNetworkLayerForChecksum(&b.ip6)
		network = &b.ip6
	}
	if err := gopacket.SerializeLayers(b.buf, serializeOpts, &b.eth, network, &b.tcp); err != nil {
		return nil, fmt.Errorf("raw: building a TCP frame: %w", err)
	}
	return b.buf.Bytes(), nil
}

// ARPRequest builds a broadcast ARP request from (srcMAC, src) asking
// for the link address of target.
func (b *Builder) ARPRequest(srcMAC net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	src, target = src.Unmap(), target.Unmap()
	if !src.Is4() || !target.Is4() {
		return nil, fmt.Errorf("raw: ARP needs IPv4 addresses, not %s and %s", src, target)
	}
	b.eth = layers.Ethernet{SrcMAC: orZero(srcMAC), DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	b.arp = layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: orZero(srcMAC), SourceProtAddress: ip4(src),
		DstHwAddress: zeroMAC, DstProtAddress: ip4(target),
	}
	if err := gopacket.SerializeLayers(b.buf, serializeOpts, &b.eth, &b.arp); err != nil {
		return nil, fmt.Errorf("raw: building an ARP request: %w", err)
	}
	return b.buf.Bytes(), nil
}

// NeighborSolicitation builds an NDP neighbour solicitation from
// (srcMAC, src) for target, sent to target's solicited-node multicast
// group (RFC 4861 §7.2.2), with the source link-layer address option.
func (b *Builder) NeighborSolicitation(srcMAC net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	if !src.Is6() || src.Is4In6() || !target.Is6() || target.Is4In6() {
		return nil, fmt.Errorf("raw: NDP needs IPv6 addresses, not %s and %s", src, target)
	}
	t := target.As16()
	group := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]})
	b.eth = layers.Ethernet{
		SrcMAC:       orZero(srcMAC),
		DstMAC:       net.HardwareAddr{0x33, 0x33, 0xff, t[13], t[14], t[15]},
		EthernetType: layers.EthernetTypeIPv6,
	}
	b.ip6 = layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: ip16(src), DstIP: ip16(group)}
	b.icmp = layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	b.icmp.SetNetworkLayerForChecksum(&b.ip6)
	b.ns = layers.ICMPv6NeighborSolicitation{
		TargetAddress: ip16(target),
		Options:       layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: orZero(srcMAC)}},
	}
	if err := gopacket.SerializeLayers(b.buf, serializeOpts, &b.eth, &b.ip6, &b.icmp, &b.ns); err != nil {
		return nil, fmt.Errorf("raw: building a neighbour solicitation: %w", err)
	}
	return b.buf.Bytes(), nil
}

func ip4(a netip.Addr) net.IP {
	v := a.As4()
	return net.IP(v[:])
}

func ip16(a netip.Addr) net.IP {
	v := a.As16()
	return net.IP(v[:])
}
