package raw

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Echo is an ICMP query to send in one frame, for host discovery: an
// echo request (ICMP or ICMPv6), or with Timestamp an ICMP timestamp
// request (IPv4 only; ICMPv6 has none).
type Echo struct {
	SrcMAC, DstMAC net.HardwareAddr // nil is the zero address (loopback)
	Src, Dst       netip.Addr       // both IPv4 or both IPv6
	Timestamp      bool
	// ID and Seq are the query's identifier and sequence number, which
	// the reply carries back.
	ID, Seq uint16
	TTL     uint8  // hop limit; 0 is 64
	IPID    uint16 // the IPv4 identification
	// Originate is the originate timestamp of a timestamp request.
	Originate time.Time
}

// Datagram is a UDP datagram to send in one frame.
type Datagram struct {
	SrcMAC, DstMAC   net.HardwareAddr // nil is the zero address (loopback)
	Src, Dst         netip.Addr       // both IPv4 or both IPv6
	SrcPort, DstPort uint16
	Payload          []byte
	TTL              uint8  // hop limit; 0 is 64
	ID               uint16 // the IPv4 identification
}

// ICMPEcho builds the frame of an echo or timestamp request, checksums
// computed.
func (b *Builder) ICMPEcho(e Echo) ([]byte, error) {
	src, dst := e.Src.Unmap(), e.Dst.Unmap()
	if !src.IsValid() || src.Is4() != dst.Is4() {
		return nil, ErrFamily
	}
	if e.Timestamp && !src.Is4() {
		return nil, fmt.Errorf("raw: ICMPv6 has no timestamp request (to %s)", dst)
	}
	eth := layers.Ethernet{SrcMAC: orZero(e.SrcMAC), DstMAC: orZero(e.DstMAC)}
	ttl := e.TTL
	if ttl == 0 {
		ttl = 64
	}
	var ls []gopacket.SerializableLayer
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Id: e.IPID, Protocol: layers.IPProtocolICMPv4, SrcIP: ip4(src), DstIP: ip4(dst)}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: e.ID, Seq: e.Seq}
		ls = []gopacket.SerializableLayer{&eth, ip, icmp}
		if e.Timestamp {
			icmp.TypeCode = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeTimestampRequest, 0)
			// Originate, receive and transmit timestamps, in ms since
			// midnight UT (RFC 792); the receiver fills in the others.
			ts := make(gopacket.Payload, 12)
			if !e.Originate.IsZero() {
				u := e.Originate.UTC()
				ms := (u.Hour()*3600+u.Minute()*60+u.Second())*1000 + u.Nanosecond()/1e6
				binary.BigEndian.PutUint32(ts, uint32(ms))
			}
			ls = append(ls, ts)
		}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: layers.IPProtocolICMPv6, SrcIP: ip16(src), DstIP: ip16(dst)}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
		icmp.SetNetworkLayerForChecksum(ip)
		echo := &layers.ICMPv6Echo{Identifier: e.ID, SeqNumber: e.Seq}
		ls = []gopacket.SerializableLayer{&eth, ip, icmp, echo}
	}
	if err := gopacket.SerializeLayers(b.buf, serializeOpts, ls...); err != nil {
		return nil, fmt.Errorf("raw: building an ICMP query: %w", err)
	}
	return b.buf.Bytes(), nil
}

// UDP builds the frame of a UDP datagram, checksums computed.
func (b *Builder) UDP(d Datagram) ([]byte, error) {
	src, dst := d.Src.Unmap(), d.Dst.Unmap()
	if !src.IsValid() || src.Is4() != dst.Is4() {
		return nil, ErrFamily
	}
	ttl := d.TTL
	if ttl == 0 {
		ttl = 64
	}
	eth := layers.Ethernet{SrcMAC: orZero(d.SrcMAC), DstMAC: orZero(d.DstMAC)}
	udp := &layers.UDP{SrcPort: layers.UDPPort(d.SrcPort), DstPort: layers.UDPPort(d.DstPort)}
	var network gopacket.SerializableLayer
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Id: d.ID, Protocol: layers.IPProtocolUDP, SrcIP: ip4(src), DstIP: ip4(dst)}
		udp.SetNetworkLayerForChecksum(ip)
		network = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: layers.IPProtocolUDP, SrcIP: ip16(src), DstIP: ip16(dst)}
		udp.SetNetworkLayerForChecksum(ip)
		network = ip
	}
	if err := gopacket.SerializeLayers(b.buf, serializeOpts, &eth, network, udp, gopacket.Payload(d.Payload)); err != nil {
		return nil, fmt.Errorf("raw: building a UDP frame: %w", err)
	}
	return b.buf.Bytes(), nil
}

// EchoReply is an ICMP or ICMPv6 echo reply, or an ICMP timestamp
// reply: the answer to an Echo.
type EchoReply struct {
	V6        bool
	Timestamp bool // a timestamp reply
	ID, Seq   uint16
}

// UDPHeader is the part of a UDP header that replies are matched on.
type UDPHeader struct {
	SrcPort, DstPort uint16
}
