package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/portscan/portscan/ports"
)

// fast decodes the frames most captures are made of, Ethernet, Linux
// cooked or raw IP carrying IPv4 without options or fragments, or IPv6
// without extension headers, then TCP or UDP, by reading the headers in
// place: several
// times faster than the layer parser. It reports whether it did; every
// other frame, and every one it finds anything odd in, goes to the
// parser, which decodes it the same (FuzzDecode checks that both agree).
func fast(lt layers.LinkType, data []byte, out *Decoded) bool {
	ip, v6, ok := linkIP(lt, data)
	if !ok {
		return false
	}
	var (
		l4         []byte
		proto      byte
		ipLen, hdr int
	)
	*out = Decoded{}
	if v6 {
		// No extension headers, no jumbogram.
		if len(ip) < 40 || ip[6] != 6 && ip[6] != 17 {
			return false
		}
		n := int(binary.BigEndian.Uint16(ip[4:6]))
		if n == 0 {
			return false
		}
		out.IPv6 = true
		out.Src = netip.AddrFrom16([16]byte(ip[8:24]))
		out.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
		ipLen, hdr, proto, l4 = 40+n, 40, ip[6], ip[40:min(len(ip), 40+n)]
	} else {
		// A 20-byte header, no fragment, a length that covers it.
		if len(ip) < 20 || ip[0]&0x0f != 5 || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return false
		}
		n := int(binary.BigEndian.Uint16(ip[2:4]))
		if n < 20 || ip[9] != 6 && ip[9] != 17 {
			return false
		}
		out.Src = netip.AddrFrom4([4]byte(ip[12:16]))
		out.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
		ipLen, hdr, proto, l4 = n, 20, ip[9], ip[20:min(len(ip), n)]
	}
	out.IPLen = ipLen
	if proto == 6 {
		if !fastTCP(l4, ipLen-hdr, out) {
			return false
		}
	} else if !fastUDP(l4, out) {
		return false
	}
	if out.SrcPort == 0 || out.DstPort == 0 {
		out.Kind, out.Skip = Skipped, SkipPortZero
	}
	return true
}

// fastTCP reads a TCP header and its payload; n is the length the IP
// header gives the segment.
func fastTCP(b []byte, n int, out *Decoded) bool {
	if len(b) < 20 {
		return false
	}
	off := int(b[12]>>4) * 4
	if off < 20 || off > len(b) {
		return false
	}
	out.Kind, out.Proto = TCP, ports.TCP
	out.SrcPort = binary.BigEndian.Uint16(b[0:2])
	out.DstPort = binary.BigEndian.Uint16(b[2:4])
	out.Seq = binary.BigEndian.Uint32(b[4:8])
	out.Ack = binary.BigEndian.Uint32(b[8:12])
	out.Flags = TCPFlags(b[13])
	out.Window = binary.BigEndian.Uint16(b[14:16])
	out.PayloadLen = max(n-off, 0)
	out.Payload = b[off:min(len(b), off+out.PayloadLen)]
	return true
}

// fastUDP reads a UDP header and its payload.
func fastUDP(b []byte, out *Decoded) bool {
	if len(b) < 8 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n != 0 && n < 8 {
		return false
	}
	out.Kind, out.Proto = UDP, ports.UDP
	out.SrcPort = binary.BigEndian.Uint16(b[0:2])
	out.DstPort = binary.BigEndian.Uint16(b[2:4])
	out.PayloadLen = max(n-8, 0)
	out.Payload = b[8:min(len(b), 8+out.PayloadLen)]
	return true
}

// linkIP returns the IP packet a frame of link type lt carries, and
// whether it is IPv6, for the link headers the fast path reads.
func linkIP(lt layers.LinkType, data []byte) (ip []byte, v6, ok bool) {
	var (
		link bool // a link header came first, whose EtherType is typ
		typ  uint16
	)
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return nil, false, false
		}
		link, typ, ip = true, binary.BigEndian.Uint16(data[12:14]), data[14:]
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 || binary.BigEndian.Uint16(data[4:6]) > 8 {
			return nil, false, false
		}
		link, typ, ip = true, binary.BigEndian.Uint16(data[14:16]), data[16:]
	case layers.LinkTypeLinuxSLL2:
		// Not Frame Relay, radiotap or GRE, whose protocol field is no
		// EtherType.
		if len(data) < 20 || data[11] > 8 {
			return nil, false, false
		}
		switch layers.ARPHardwareType(binary.BigEndian.Uint16(data[8:10])) {
		case layers.ARPHardwareTypeFRAD, layers.ARPHardwareTypeDot11Radiotap, layers.ARPHardwareTypeIPGRE:
			return nil, false, false
		}
		link, typ, ip = true, binary.BigEndian.Uint16(data[0:2]), data[20:]
	case layers.LinkTypeRaw, 12, 14:
		v6 = len(data) > 0 && data[0]>>4 == 6
		ip = data
	case layers.LinkTypeIPv4:
		ip = data
	case layers.LinkTypeIPv6:
		v6, ip = true, data
	default:
		return nil, false, false
	}
	if link {
		switch layers.EthernetType(typ) {
		case layers.EthernetTypeIPv4:
		case layers.EthernetTypeIPv6:
			v6 = true
		default:
			return nil, false, false
		}
	}
	return ip, v6, true
}
