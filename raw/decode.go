package raw

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Kind says what a decoded frame is.
type Kind uint8

const (
	KindOther    Kind = iota // none of the others: a frame the caller ignores
	KindTCP                  // a TCP segment: Packet.TCP
	KindICMP                 // an ICMP or ICMPv6 error quoting a datagram: Packet.ICMP
	KindNeighbor             // an ARP reply or an NDP neighbour advertisement: Packet.Neighbor
	KindEcho                 // an ICMP or ICMPv6 echo reply, or an ICMP timestamp reply: Packet.Echo
	KindUDP                  // a UDP datagram: Packet.UDP
)

// Packet is what a Decoder read from a frame: the addresses and the one
// part that its Kind says is set.
type Packet struct {
	Kind     Kind
	Src, Dst netip.Addr // the IP addresses (the ARP sender and target)
	TTL      uint8      // hop limit as received
	TCP      TCPHeader
	ICMP     ICMPError
	Neighbor NeighborReply
	Echo     EchoReply
	UDP      UDPHeader
}

// TCPHeader is the part of a TCP header that replies are matched on.
type TCPHeader struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8 // FlagSYN, FlagACK, FlagRST, ...
	Window           uint16
}

// ICMPError is an ICMP or ICMPv6 destination unreachable or time exceeded,
// and the start of the datagram it quotes.
type ICMPError struct {
	V6         bool
	Type, Code uint8
	Quote      Quote
}

// Quote is the start of the datagram an ICMP error quotes: its IP header,
// and the first 8 bytes of its transport header (a TCP segment's ports and
// sequence number).
type Quote struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	Seq              uint32 // TCP only
}

// NeighborReply says which link address holds an IP address.
type NeighborReply struct {
	Addr netip.Addr
	MAC  net.HardwareAddr // a copy; it does not alias the frame
}

// DecodeError says where in a frame decoding failed.
type DecodeError struct {
	Offset int    // the byte offset of the layer that failed
	Layer  string // its name
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("raw: decoding %s at byte %d: %v", e.Layer, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrShortQuote is the error of an ICMP error whose quote is too short to
// name the probe it answers.
var ErrShortQuote = errors.New("the quoted datagram is too short")

// Decoder reads Ethernet frames (loopback's too) with gopacket's
// DecodingLayerParser, reusing its layers from frame to frame: it is
// fast, and not safe for use by several goroutines at once. It never
// panics, whatever the bytes.
type Decoder struct {
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	eth     layers.Ethernet
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	arp     layers.ARP
	na      layers.ICMPv6NeighborAdvertisement
	payload gopacket.Payload
	// The quoted headers of ICMP errors.
	qip4 layers.IPv4
	qip6 layers.IPv6
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&d.eth, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.arp, &d.na, &d.payload)
	// A layer the parser has no decoder for ends the frame: what was
	// decoded before it is what counts.
	d.parser.IgnoreUnsupported = true
	d.decoded = make([]gopacket.LayerType, 0, 8)
	return d
}

// Decode reads a frame. A frame it understands but that is none of the
// kinds of Packet comes back as KindOther with no error; an error says
// which layer could not be read, at which byte.
func (d *Decoder) Decode(frame []byte) (Packet, error) {
	var p Packet
	err := d.parser.DecodeLayers(frame, &d.decoded)
	offset := 0
	for _, t := range d.decoded {
		offset += len(d.layer(t).LayerContents())
		switch t {
		case layers.LayerTypeIPv4:
			p.Src, p.Dst, p.TTL = addrOf(d.ip4.SrcIP), addrOf(d.ip4.DstIP), d.ip4.TTL
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return Packet{}, nil // fragments are not reassembled
			}
		case layers.LayerTypeIPv6:
			p.Src, p.Dst, p.TTL = addrOf(d.ip6.SrcIP), addrOf(d.ip6.DstIP), d.ip6.HopLimit
		case layers.LayerTypeTCP:
			p.Kind = KindTCP
			p.TCP = TCPHeader{
				SrcPort: uint16(d.tcp.SrcPort), DstPort: uint16(d.tcp.DstPort),
				Seq: d.tcp.Seq, Ack: d.tcp.Ack, Window: d.tcp.Window,
				Flags: d.tcp.Contents[13] & 0x3f,
			}
		case layers.LayerTypeUDP:
			p.Kind = KindUDP
			p.UDP = UDPHeader{SrcPort: uint16(d.udp.SrcPort), DstPort: uint16(d.udp.DstPort)}
			return p, nil
		case layers.LayerTypeICMPv4:
			typ, code := d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code()
			if typ == layers.ICMPv4TypeEchoReply || typ == layers.ICMPv4TypeTimestampReply {
				if !p.Src.Is4() {
					return Packet{}, nil // ICMP for IPv4 in an IPv6 packet
				}
				p.Kind = KindEcho
				p.Echo = EchoReply{Timestamp: typ == layers.ICMPv4TypeTimestampReply, ID: d.icmp4.Id, Seq: d.icmp4.Seq}
				return p, nil
			}
			if typ != layers.ICMPv4TypeDestinationUnreachable && typ != layers.ICMPv4TypeTimeExceeded {
				return Packet{}, nil
			}
			q, qerr := d.quote4(d.icmp4.Payload)
			if qerr != nil {
				return Packet{}, &DecodeError{Offset: offset, Layer: "the datagram quoted by ICMP", Err: qerr}
			}
			p.Kind = KindICMP
			p.ICMP = ICMPError{Type: typ, Code: code, Quote: q}
			return p, nil
		case layers.LayerTypeICMPv6:
			typ, code := d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code()
			if typ == layers.ICMPv6TypeEchoReply {
				// The identifier and sequence number open the body
				// (RFC 4443 §4.2).
				if b := d.icmp6.Payload; len(b) >= 4 && p.Src.Is6() {
					p.Kind = KindEcho
					p.Echo = EchoReply{V6: true, ID: uint16(b[0])<<8 | uint16(b[1]), Seq: uint16(b[2])<<8 | uint16(b[3])}
					return p, nil
				}
				return Packet{}, nil
			}
			if typ != layers.ICMPv6TypeDestinationUnreachable && typ != layers.ICMPv6TypeTimeExceeded {
				continue // a neighbour advertisement follows, or nothing of use
			}
			// Four unused bytes, then the quote (RFC 4443 §3.1).
			if len(d.icmp6.Payload) < 4 {
				return Packet{}, &DecodeError{Offset: offset, Layer: "ICMPv6", Err: ErrShortQuote}
			}
			q, qerr := d.quote6(d.icmp6.Payload[4:])
			if qerr != nil {
				return Packet{}, &DecodeError{Offset: offset + 4, Layer: "the datagram quoted by ICMPv6", Err: qerr}
			}
			p.Kind = KindICMP
			p.ICMP = ICMPError{V6: true, Type: typ, Code: code, Quote: q}
			return p, nil
		case layers.LayerTypeICMPv6NeighborAdvertisement:
			p.Kind = KindNeighbor
			p.Neighbor.Addr = addrOf(d.na.TargetAddress)
			for _, o := range d.na.Options {
				if o.Type == layers.ICMPv6OptTargetAddress && len(o.Data) == 6 {
					p.Neighbor.MAC = append(net.HardwareAddr(nil), o.Data...)
				}
			}
			if p.Neighbor.MAC == nil {
				// Without the option the sender is the answer's source
				// link address (RFC 4861 §7.2.5 lets it leave it out
				// only when answering a unicast solicitation).
				p.Neighbor.MAC = append(net.HardwareAddr(nil), d.eth.SrcMAC...)
			}
		case layers.LayerTypeARP:
			if d.arp.Operation != layers.ARPReply || d.arp.ProtAddressSize != 4 || d.arp.HwAddressSize != 6 ||
				len(d.arp.SourceProtAddress) != 4 || len(d.arp.SourceHwAddress) != 6 {
				return Packet{}, nil
			}
			p.Kind = KindNeighbor
			p.Src, p.Dst = addrOf(d.arp.SourceProtAddress), addrOf(d.arp.DstProtAddress)
			p.Neighbor = NeighborReply{Addr: p.Src, MAC: append(net.HardwareAddr(nil), d.arp.SourceHwAddress...)}
		}
	}
	if err != nil {
		return Packet{}, &DecodeError{Offset: offset, Layer: d.next(), Err: err}
	}
	if p.Kind == KindOther {
		return Packet{}, nil
	}
	return p, nil
}

// next names the layer after those decoded, where decoding stopped.
func (d *Decoder) next() string {
	if len(d.decoded) == 0 {
		return "Ethernet"
	}
	return d.layer(d.decoded[len(d.decoded)-1]).(gopacket.DecodingLayer).NextLayerType().String()
}

func (d *Decoder) layer(t gopacket.LayerType) gopacket.Layer {
	switch t {
	case layers.LayerTypeEthernet:
		return &d.eth
	case layers.LayerTypeIPv4:
		return &d.ip4
	case layers.LayerTypeIPv6:
		return &d.ip6
	case layers.LayerTypeTCP:
		return &d.tcp
	case layers.LayerTypeUDP:
		return &d.udp
	case layers.LayerTypeICMPv4:
		return &d.icmp4
	case layers.LayerTypeICMPv6:
		return &d.icmp6
	case layers.LayerTypeARP:
		return &d.arp
	case layers.LayerTypeICMPv6NeighborAdvertisement:
		return &d.na
	}
	return &d.payload
}

func (d *Decoder) quote4(b []byte) (Quote, error) {
	if err := d.qip4.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return Quote{}, err
	}
	if d.qip4.Version != 4 {
		return Quote{}, fmt.Errorf("the quoted header is of IP version %d", d.qip4.Version)
	}
	q := Quote{Src: addrOf(d.qip4.SrcIP), Dst: addrOf(d.qip4.DstIP), Proto: uint8(d.qip4.Protocol)}
	return q, transport(&q, d.qip4.Payload)
}

func (d *Decoder) quote6(b []byte) (Quote, error) {
	if err := d.qip6.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return Quote{}, err
	}
	if d.qip6.Version != 6 {
		return Quote{}, fmt.Errorf("the quoted header is of IP version %d", d.qip6.Version)
	}
	q := Quote{Src: addrOf(d.qip6.SrcIP), Dst: addrOf(d.qip6.DstIP), Proto: uint8(d.qip6.NextHeader)}
	return q, transport(&q, d.qip6.Payload)
}

// transport reads the ports of a quoted TCP or UDP header, and a TCP
// header's sequence number.
func transport(q *Quote, b []byte) error {
	switch layers.IPProtocol(q.Proto) {
	case layers.IPProtocolTCP:
		if len(b) < 8 {
			return ErrShortQuote
		}
		q.Seq = uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	case layers.IPProtocolUDP:
		if len(b) < 4 {
			return ErrShortQuote
		}
	default:
		return nil
	}
	q.SrcPort, q.DstPort = uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])
	return nil
}

func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
