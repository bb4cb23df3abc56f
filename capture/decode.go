package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Kind is what a decoded packet is, as far as the analysis cares.
type Kind uint8

// The kinds of packets. Everything that is not TCP, UDP or an ICMP error
// quoting TCP or UDP is Skipped, with a Skip reason.
const (
	Skipped   Kind = iota
	TCP            // a TCP segment
	UDP            // a UDP datagram
	ICMPError      // an ICMP or ICMPv6 destination unreachable quoting TCP or UDP
)

// Skip is why a packet was not used.
type Skip uint8

// The reasons a packet is skipped; they are counted, never errors.
const (
	NotSkipped    Skip = iota
	SkipLinkType       // a link type the decoder does not know
	SkipNotIP          // ARP, LLDP, STP... anything but IPv4 and IPv6
	SkipFragment       // an IP fragment: no transport header to read
	SkipProtocol       // another IP protocol (GRE, ESP, SCTP...)
	SkipICMP           // ICMP that is not an unreachable quoting TCP or UDP
	SkipMalformed      // a header too short or inconsistent to decode
	SkipPortZero       // TCP or UDP port 0
	numSkips
)

var skipNames = [numSkips]string{"", "link type", "not IP", "IP fragment", "other IP protocol", "other ICMP", "malformed", "port 0"}

// String names the reason, as the stderr summary prints it.
func (s Skip) String() string {
	if s < numSkips {
		return skipNames[s]
	}
	return "skip"
}

// TCPFlags are the flag bits of a TCP header, in header order.
type TCPFlags uint8

// The TCP flag bits.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Quote is the TCP or UDP header an ICMP error carries back: the datagram
// that could not be delivered, from Src to Dst.
type Quote struct {
	Src, Dst         netip.Addr
	Proto            ports.Protocol
	SrcPort, DstPort uint16
}

// Decoded is the summary of one packet that the analysis needs. A Decoder
// fills it in place; only Payload points into the packet's bytes, and is
// valid as long as they are.
type Decoded struct {
	Kind Kind
	Skip Skip

	IPv6     bool
	Src, Dst netip.Addr
	IPLen    int // bytes of the IP packet, from its header (not the capture)

	Proto            ports.Protocol // TCP or UDP, also for ICMPError (the quoted one)
	SrcPort, DstPort uint16
	Flags            TCPFlags
	Seq, Ack         uint32
	Window           uint16
	PayloadLen       int // transport payload bytes on the wire
	// Payload is the transport payload as captured: at most PayloadLen
	// bytes, fewer when the snap length cut the packet.
	Payload []byte

	ICMPType, ICMPCode uint8
	Quote              Quote
}

// ICMP is the ICMP error of an ICMPError packet, for result.ICMP to
// classify. FromTarget is set when the quoted datagram's destination
// sent the error itself.
func (d *Decoded) ICMP() result.ICMP {
	return result.ICMP{V6: d.IPv6, Type: d.ICMPType, Code: d.ICMPCode, FromTarget: d.Src == d.Quote.Dst}
}

// Decoder turns captured frames into Decoded summaries with gopacket's
// DecodingLayerParser over preallocated layers: decoding allocates
// nothing. A Decoder is not safe for concurrent use.
type Decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6
	ext   layers.IPv6ExtensionSkipper
	frag  layers.IPv6Fragment
	tcp   layers.TCP
	udp   layers.UDP
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6

	// The quoted datagram of an ICMP error gets its own layers, so that
	// decoding it leaves the outer ones intact.
	qip4 layers.IPv4
	qip6 layers.IPv6
	qext layers.IPv6ExtensionSkipper

	parsers  [numFirst]*gopacket.DecodingLayerParser
	quote4   *gopacket.DecodingLayerParser
	quote6   *gopacket.DecodingLayerParser
	decoded  []gopacket.LayerType
	qdecoded []gopacket.LayerType
}

// The first layers the decoder starts from, one parser each.
const (
	firstEthernet = iota
	firstSLL
	firstSLL2
	firstLoopback
	firstIPv4
	firstIPv6
	numFirst
)

// NewDecoder returns a Decoder for the link types LinkTypes lists.
func NewDecoder() *Decoder {
	d := &Decoder{
		decoded:  make([]gopacket.LayerType, 0, 16),
		qdecoded: make([]gopacket.LayerType, 0, 8),
	}
	firsts := [numFirst]gopacket.LayerType{
		firstEthernet: layers.LayerTypeEthernet,
		firstSLL:      layers.LayerTypeLinuxSLL,
		firstSLL2:     layers.LayerTypeLinuxSLL2,
		firstLoopback: layers.LayerTypeLoopback,
		firstIPv4:     layers.LayerTypeIPv4,
		firstIPv6:     layers.LayerTypeIPv6,
	}
	for i, first := range firsts {
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		// The skipper takes every IPv6 extension header; the fragment
		// header, added after it, replaces it for that one type.
		for _, l := range []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop,
			&d.ip4, &d.ip6, &d.ext, &d.frag, &d.tcp, &d.udp, &d.icmp4, &d.icmp6} {
			p.AddDecodingLayer(l)
		}
		p.IgnoreUnsupported = true
		d.parsers[i] = p
	}
	d.quote4 = quoteParser(layers.LayerTypeIPv4, &d.qip4, &d.qip6, &d.qext)
	d.quote6 = quoteParser(layers.LayerTypeIPv6, &d.qip4, &d.qip6, &d.qext)
	return d
}

func quoteParser(first gopacket.LayerType, ls ...gopacket.DecodingLayer) *gopacket.DecodingLayerParser {
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
	for _, l := range ls {
		p.AddDecodingLayer(l)
	}
	p.IgnoreUnsupported = true
	return p
}

// LinkTypes are the link types a Decoder reads; packets of any other are
// skipped with SkipLinkType.
var LinkTypes = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
	layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeRaw,
	layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14, // DLT_RAW as some systems number it
}

// parserFor picks the parser for a link type and frame.
func (d *Decoder) parserFor(lt layers.LinkType, data []byte) *gopacket.DecodingLayerParser {
	switch lt {
	case layers.LinkTypeEthernet:
		return d.parsers[firstEthernet]
	case layers.LinkTypeLinuxSLL:
		return d.parsers[firstSLL]
	case layers.LinkTypeLinuxSLL2:
		return d.parsers[firstSLL2]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.parsers[firstLoopback]
	case layers.LinkTypeIPv4:
		return d.parsers[firstIPv4]
	case layers.LinkTypeIPv6:
		return d.parsers[firstIPv6]
	case layers.LinkTypeRaw, 12, 14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return d.parsers[firstIPv6]
		}
		return d.parsers[firstIPv4]
	}
	return nil
}

// Decode summarises one frame of link type lt into out. It never fails:
// what it cannot use is marked Skipped with the reason.
func (d *Decoder) Decode(lt layers.LinkType, data []byte, out *Decoded) {
	if fast(lt, data, out) {
		return
	}
	d.decode(lt, data, out)
}

// decode is Decode with the layer parser, for every frame.
func (d *Decoder) decode(lt layers.LinkType, data []byte, out *Decoded) {
	*out = Decoded{}
	p := d.parserFor(lt, data)
	if p == nil {
		out.Skip = SkipLinkType
		return
	}
	err := p.DecodeLayers(data, &d.decoded)
	ip, l4, ipStart, ipLen := d.ipLayers(out)
	out.IPLen = ipLen
	if !ip || l4 == 0 || err != nil {
		out.Skip = d.skipOf(ip, l4, err)
		return
	}
	switch l4 {
	case layers.LayerTypeTCP:
		out.Kind = TCP
		out.Proto = ports.TCP
		out.SrcPort, out.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
		out.Flags = tcpFlags(&d.tcp)
		out.Seq, out.Ack, out.Window = d.tcp.Seq, d.tcp.Ack, d.tcp.Window
		// From the IP length, not the capture, which a snap length cuts.
		out.PayloadLen = max(ipLen-(ipStart-cap(d.tcp.Contents))-len(d.tcp.Contents), 0)
		out.Payload = d.tcp.Payload[:min(len(d.tcp.Payload), out.PayloadLen)]
	case layers.LayerTypeUDP:
		out.Kind = UDP
		out.Proto = ports.UDP
		out.SrcPort, out.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		out.PayloadLen = max(int(d.udp.Length)-8, 0)
		out.Payload = d.udp.Payload[:min(len(d.udp.Payload), out.PayloadLen)]
	case layers.LayerTypeICMPv4:
		out.ICMPType, out.ICMPCode = d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code()
		if out.ICMPType != layers.ICMPv4TypeDestinationUnreachable {
			out.Skip = SkipICMP
			return
		}
		d.decodeQuote(d.quote4, d.icmp4.Payload, out)
		return
	case layers.LayerTypeICMPv6:
		out.ICMPType, out.ICMPCode = d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code()
		if out.ICMPType != layers.ICMPv6TypeDestinationUnreachable || len(d.icmp6.Payload) < 4 {
			out.Skip = SkipICMP
			return
		}
		d.decodeQuote(d.quote6, d.icmp6.Payload[4:], out) // 4 unused bytes first
		return
	}
	if out.SrcPort == 0 || out.DstPort == 0 {
		out.Kind = Skipped
		out.Skip = SkipPortZero
	}
}

// ipLayers reads the IP header among the layers just decoded: it sets
// out's addresses, and returns whether there was one, the transport (or
// ICMP) layer that followed it, if any, the capacity left at the IP
// header, from which offsets are found by subtraction, and the IP
// header's length of header and payload.
func (d *Decoder) ipLayers(out *Decoded) (ip bool, l4 gopacket.LayerType, ipStart, ipLen int) {
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			ip = true
			out.Src = netip.AddrFrom4([4]byte(d.ip4.SrcIP))
			out.Dst = netip.AddrFrom4([4]byte(d.ip4.DstIP))
			ipLen = int(d.ip4.Length)
			ipStart = cap(d.ip4.Contents)
		case layers.LayerTypeIPv6:
			ip = true
			out.IPv6 = true
			out.Src = netip.AddrFrom16([16]byte(d.ip6.SrcIP))
			out.Dst = netip.AddrFrom16([16]byte(d.ip6.DstIP))
			ipLen = 40 + int(d.ip6.Length)
			ipStart = cap(d.ip6.Contents)
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			l4 = t
		}
	}
	return ip, l4, ipStart, ipLen
}

// skipOf says why a frame without a transport layer to read is skipped:
// no IP, another protocol or a fragment after the IP header, or a
// decoding error. It is off the path of the TCP and UDP packets.
func (d *Decoder) skipOf(ip bool, l4 gopacket.LayerType, err error) Skip {
	switch {
	case !ip && err == nil:
		return SkipNotIP
	case ip && l4 == 0 && err == nil:
		if last := d.decoded[len(d.decoded)-1]; isFragment(last, d) {
			return SkipFragment
		}
		return SkipProtocol
	}
	return SkipMalformed
}

// decodeQuote reads the IP header and the first transport bytes that an
// ICMP error quotes. Only the ports are needed, and RFC 792 promises
// just 8 bytes past the IP header, so the transport header is read by
// hand rather than by a layer that wants a whole TCP header.
func (d *Decoder) decodeQuote(p *gopacket.DecodingLayerParser, data []byte, out *Decoded) {
	out.Skip = SkipICMP
	_ = p.DecodeLayers(data, &d.qdecoded)
	var (
		q    Quote
		next layers.IPProtocol
		rest []byte
		ok   bool
	)
	for _, t := range d.qdecoded {
		switch t {
		case layers.LayerTypeIPv4:
			q.Src = netip.AddrFrom4([4]byte(d.qip4.SrcIP.To4()))
			q.Dst = netip.AddrFrom4([4]byte(d.qip4.DstIP.To4()))
			next, rest = d.qip4.Protocol, d.qip4.Payload
			ok = d.qip4.FragOffset == 0 // a later fragment has no ports
		case layers.LayerTypeIPv6:
			q.Src = netip.AddrFrom16([16]byte(d.qip6.SrcIP.To16()))
			q.Dst = netip.AddrFrom16([16]byte(d.qip6.DstIP.To16()))
			next, rest, ok = d.qip6.NextHeader, d.qip6.Payload, true
			if d.qip6.HopByHop != nil {
				next = d.qip6.HopByHop.NextHeader
			}
		default:
			if t == layers.LayerTypeIPv6Fragment {
				ok = false // the skipper took it; a later fragment has no ports
				if len(d.qext.Contents) >= 4 && binary.BigEndian.Uint16(d.qext.Contents[2:4])>>3 == 0 {
					ok = true
				}
			}
			next, rest = d.qext.NextHeader, d.qext.Payload
		}
	}
	if !ok || len(rest) < 4 {
		return
	}
	switch next {
	case layers.IPProtocolTCP:
		q.Proto = ports.TCP
	case layers.IPProtocolUDP:
		q.Proto = ports.UDP
	default:
		return
	}
	q.SrcPort = binary.BigEndian.Uint16(rest[0:2])
	q.DstPort = binary.BigEndian.Uint16(rest[2:4])
	if q.SrcPort == 0 || q.DstPort == 0 {
		return
	}
	out.Kind, out.Skip = ICMPError, NotSkipped
	out.Quote = q
	out.Proto = q.Proto
}

// isFragment reports whether decoding stopped at an IP fragment.
func isFragment(last gopacket.LayerType, d *Decoder) bool {
	switch last {
	case layers.LayerTypeIPv4:
		return d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
	case layers.LayerTypeIPv6Fragment:
		return d.frag.FragmentOffset != 0 || d.frag.MoreFragments
	}
	return false
}

func tcpFlags(t *layers.TCP) TCPFlags {
	var f TCPFlags
	for i, b := range [...]bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if b {
			f |= 1 << i
		}
	}
	return f
}
