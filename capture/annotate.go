package capture

import (
	"io"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// AppendLine appends to b a tcpdump-like line for packet p, decoded as d,
// with the catalog's service name after each labelled port:
//
//	12:00:01.000100 IP 10.0.0.5.22(ssh) > 10.0.0.9.51234: Flags [S.], seq 7, ack 1001, win 65535, length 0
//
// srv says which endpoint is the server (from Analyzer.LastServer): only
// its port is labelled, or every port the catalog knows when it is
// SideUnknown. label may be nil. The line ends without a newline; b is
// grown in place, so a reused buffer makes this allocation free.
func AppendLine(b []byte, p *Packet, d *Decoded, srv Side, label services.Labeler) []byte {
	b = p.Time.AppendFormat(b, "15:04:05.000000")
	b = append(b, ' ')
	if !d.Src.IsValid() {
		return appendNotIP(b, p, d)
	}
	if d.IPv6 {
		b = append(b, "IP6 "...)
	} else {
		b = append(b, "IP "...)
	}
	withPorts := d.Kind == TCP || d.Kind == UDP
	b = appendEndpoint(b, d.Src, d.SrcPort, withPorts, srv != SideDst, d.Proto, label)
	b = append(b, " > "...)
	b = appendEndpoint(b, d.Dst, d.DstPort, withPorts, srv != SideSrc, d.Proto, label)
	b = append(b, ": "...)
	switch d.Kind {
	case TCP:
		return appendTCP(b, d)
	case UDP:
		b = append(b, "UDP, length "...)
		return strconv.AppendInt(b, int64(d.PayloadLen), 10)
	case ICMPError:
		return appendICMPError(b, d, label)
	}
	if d.Skip == SkipICMP {
		if d.IPv6 {
			b = append(b, "ICMP6 type "...)
		} else {
			b = append(b, "ICMP type "...)
		}
		b = strconv.AppendUint(b, uint64(d.ICMPType), 10)
		b = append(b, " code "...)
		b = strconv.AppendUint(b, uint64(d.ICMPCode), 10)
	} else {
		b = append(b, d.Skip.String()...)
	}
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(d.IPLen), 10)
}

// appendNotIP describes a frame that carries no IP packet the decoder
// could read: why it was skipped, and its link type.
func appendNotIP(b []byte, p *Packet, d *Decoded) []byte {
	if d.Skip == SkipLinkType {
		b = append(b, "unsupported "...)
		b = appendLinkType(b, p.LinkType)
	} else {
		b = append(b, d.Skip.String()...)
		b = append(b, " ("...)
		b = appendLinkType(b, p.LinkType)
		b = append(b, ')')
	}
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(p.Length), 10)
}

// appendTCP writes a segment's flags, sequence numbers, window and
// payload length, as tcpdump does.
func appendTCP(b []byte, d *Decoded) []byte {
	b = append(b, "Flags ["...)
	for _, f := range [...]struct {
		bit TCPFlags
		c   byte
	}{{SYN, 'S'}, {FIN, 'F'}, {RST, 'R'}, {PSH, 'P'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}} {
		if d.Flags&f.bit != 0 {
			b = append(b, f.c)
		}
	}
	if d.Flags&ACK != 0 {
		b = append(b, '.')
	}
	b = append(b, "], seq "...)
	b = strconv.AppendUint(b, uint64(d.Seq), 10)
	if d.PayloadLen > 0 {
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(d.Seq)+uint64(d.PayloadLen), 10)
	}
	if d.Flags&ACK != 0 {
		b = append(b, ", ack "...)
		b = strconv.AppendUint(b, uint64(d.Ack), 10)
	}
	b = append(b, ", win "...)
	b = strconv.AppendUint(b, uint64(d.Window), 10)
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(d.PayloadLen), 10)
}

// appendICMPError says what an ICMP error reports unreachable, with the
// service of the quoted port for a port unreachable.
func appendICMPError(b []byte, d *Decoded, label services.Labeler) []byte {
	if d.IPv6 {
		b = append(b, "ICMP6 "...)
	} else {
		b = append(b, "ICMP "...)
	}
	q := &d.Quote
	switch reason := d.ICMP().Reason(); reason {
	case result.ReasonPortUnreach:
		b = q.Dst.AppendTo(b)
		b = append(b, ' ')
		b = append(b, q.Proto.String()...)
		b = append(b, " port "...)
		b = appendPort(b, q.DstPort, true, q.Proto, label)
		b = append(b, " unreachable"...)
	case result.ReasonHostUnreach, result.ReasonAdminProhibited, result.ReasonNetProhibited,
		result.ReasonHostProhibited, result.ReasonRejectRoute:
		b = append(b, "host "...)
		b = q.Dst.AppendTo(b)
		b = append(b, " unreachable"...)
		if reason != result.ReasonHostUnreach {
			b = append(b, " - admin prohibited"...)
		}
	case result.ReasonNetUnreach, result.ReasonNoRoute, result.ReasonBeyondScope:
		b = append(b, "net "...)
		b = q.Dst.AppendTo(b)
		b = append(b, " unreachable"...)
	case result.ReasonProtoUnreach:
		b = q.Dst.AppendTo(b)
		b = append(b, " protocol "...)
		b = append(b, q.Proto.String()...)
		b = append(b, " unreachable"...)
	default:
		b = q.Dst.AppendTo(b)
		b = append(b, " unreachable, code "...)
		b = strconv.AppendUint(b, uint64(d.ICMPCode), 10)
	}
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(d.IPLen), 10)
}

func appendEndpoint(b []byte, a netip.Addr, port uint16, withPort, mayLabel bool, proto ports.Protocol, label services.Labeler) []byte {
	b = a.AppendTo(b)
	if !withPort {
		return b
	}
	b = append(b, '.')
	return appendPort(b, port, mayLabel, proto, label)
}

func appendPort(b []byte, port uint16, mayLabel bool, proto ports.Protocol, label services.Labeler) []byte {
	b = strconv.AppendUint(b, uint64(port), 10)
	if mayLabel && label != nil {
		if e := label(ports.Port{Number: port, Proto: proto}); e != nil {
			b = append(b, '(')
			b = append(b, text.Escape(e.Name)...) // names from user catalogs reach terminals
			b = append(b, ')')
		}
	}
	return b
}

func appendLinkType(b []byte, lt layers.LinkType) []byte {
	switch lt {
	case layers.LinkTypeEthernet:
		return append(b, "Ethernet"...)
	case layers.LinkTypeLinuxSLL:
		return append(b, "Linux cooked"...)
	case layers.LinkTypeLinuxSLL2:
		return append(b, "Linux cooked v2"...)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return append(b, "loopback"...)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return append(b, "raw IP"...)
	}
	b = append(b, "link type "...)
	return strconv.AppendUint(b, uint64(lt), 10)
}

// Comment is the text Annotator writes on a packet: the service of its
// server port, or of each port the catalog knows when the server is not
// known, with the description in lang ("zh" or "en"). It is empty for
// packets that fed no flow.
func Comment(d *Decoded, srv Side, label services.Labeler, lang string) string {
	var (
		port   uint16
		server netip.Addr
	)
	switch {
	case d.Kind == ICMPError:
		port, server = d.Quote.DstPort, d.Quote.Dst
	case d.Kind != TCP && d.Kind != UDP:
		return ""
	case srv == SideSrc:
		port, server = d.SrcPort, d.Src
	case srv == SideDst:
		port, server = d.DstPort, d.Dst
	default:
		var b []byte
		for _, pt := range [2]uint16{d.SrcPort, d.DstPort} {
			if e := lookup(label, pt, d.Proto); e != nil {
				if len(b) > 0 {
					b = append(b, "; "...)
				}
				b = appendService(b, e, ports.Port{Number: pt, Proto: d.Proto}, netip.Addr{}, lang)
			}
		}
		return string(b)
	}
	p := ports.Port{Number: port, Proto: d.Proto}
	return string(appendService(nil, lookup(label, port, d.Proto), p, server, lang))
}

func lookup(label services.Labeler, port uint16, proto ports.Protocol) *services.Entry {
	if label == nil {
		return nil
	}
	return label(ports.Port{Number: port, Proto: proto})
}

func appendService(b []byte, e *services.Entry, p ports.Port, server netip.Addr, lang string) []byte {
	b = append(b, "service "...)
	if e != nil {
		b = append(b, text.Escape(e.Name)...) // names from user catalogs reach terminals
	} else {
		b = append(b, "unknown"...)
	}
	b = append(b, " ("...)
	b = append(b, p.String()...)
	if server.IsValid() {
		b = append(b, " on "...)
		b = server.AppendTo(b)
	}
	b = append(b, ')')
	if e != nil {
		if desc := e.Describe(lang); desc != "" {
			b = append(b, ": "...)
			b = append(b, text.Escape(desc)...)
		}
	}
	return b
}

// Annotator writes a copy of a capture as pcapng, with a comment on each
// packet (the opt_comment option of its Enhanced Packet Block), which
// Wireshark and tshark show as frame.comment. Packets of every link type
// go in one section, with an interface per link type.
type Annotator struct {
	w      io.Writer
	ng     *pcapgo.NgWriter
	ifaces map[layers.LinkType]int
	opts   pcapgo.NgPacketOptions
	one    [1]string
}

// NewAnnotator returns an Annotator writing to w. Call Flush at the end.
func NewAnnotator(w io.Writer) *Annotator {
	return &Annotator{w: w, ifaces: make(map[layers.LinkType]int)}
}

// Write copies packet p with comment (none if empty).
func (a *Annotator) Write(p *Packet, comment string) error {
	intf, ok := a.ifaces[p.LinkType]
	if !ok {
		desc := pcapgo.NgInterface{Name: "link-type-" + strconv.Itoa(int(p.LinkType)), LinkType: p.LinkType, TimestampResolution: 9}
		var err error
		if a.ng == nil {
			a.ng, err = pcapgo.NewNgWriterInterface(a.w, desc, pcapgo.NgWriterOptions{
				SectionInfo: pcapgo.NgSectionInfo{Application: "portscan pcap -w"},
			})
		} else {
			intf, err = a.ng.AddInterface(desc)
		}
		if err != nil {
			return err
		}
		a.ifaces[p.LinkType] = intf
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data)), InterfaceIndex: intf}
	a.opts.Comments = nil
	if comment != "" {
		a.one[0] = comment
		a.opts.Comments = a.one[:]
	}
	return a.ng.WritePacketWithOptions(ci, p.Data, a.opts)
}

// Flush writes out what is buffered. If no packet was written, it writes
// a pcapng file without packets: a section header and one interface.
func (a *Annotator) Flush() error {
	if a.ng == nil {
		ng, err := pcapgo.NewNgWriterInterface(a.w, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, TimestampResolution: 9},
			pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "portscan pcap -w"}})
		if err != nil {
			return err
		}
		a.ng = ng
	}
	return a.ng.Flush()
}
