package raw

import (
	"fmt"
)

// Template is the frame of a TCP segment built once with gopacket's
// layers (Builder.TCP), into which Put writes the fields that change from
// probe to probe: the ports, the sequence number and the IPv4
// identification. The checksums are updated from the template's, not
// summed again (RFC 1624): a SYN costs a copy and a few additions, not a
// serialization. A Template is not changed by Put, and may be used by
// several goroutines at once.
type Template struct {
	frame []byte
	v6    bool
	// The one's-complement sums of the IPv4 header and of the TCP
	// segment (pseudo-header included) with the changing fields zero.
	ipSum, tcpSum uint32
}

// Offsets of the fields Put writes, from the start of the frame.
const (
	ip4IDOff   = ethLen + 4
	ip4SumOff  = ethLen + 10
	tcpSumOff  = 16 // in the TCP header
	tcpPortOff = 0
	tcpSeqOff  = 4
)

// Template builds the template of s: its ports, sequence number and
// identification are ignored, and come from each Put.
func (b *Builder) Template(s Segment) (*Template, error) {
	s.SrcPort, s.DstPort, s.Seq, s.ID = 0, 0, 0, 0
	f, err := b.TCP(s)
	if err != nil {
		return nil, err
	}
	t := &Template{frame: append([]byte(nil), f...), v6: s.Src.Unmap().Is6()}
	tcp := t.tcpOff()
	if len(t.frame) < tcp+20 {
		return nil, fmt.Errorf("raw: a TCP template of %d bytes is too short", len(t.frame))
	}
	// gopacket stored ^sum: the sum itself is its complement.
	t.tcpSum = uint32(^be16(t.frame[tcp+tcpSumOff:]))
	if !t.v6 {
		t.ipSum = uint32(^be16(t.frame[ip4SumOff:]))
	}
	return t, nil
}

func (t *Template) tcpOff() int {
	if t.v6 {
		return ethLen + ip6Len
	}
	return ethLen + int(t.frame[ethLen]&0x0f)*4
}

// Len is the length of the frames Put writes.
func (t *Template) Len() int { return len(t.frame) }

// Put writes the frame of the segment from sport to dport with sequence
// number seq and IPv4 identification id into dst, which must hold Len
// bytes, and returns it: the same bytes Builder.TCP would have built.
func (t *Template) Put(dst []byte, sport, dport uint16, seq uint32, id uint16) []byte {
	f := dst[:len(t.frame)]
	copy(f, t.frame)
	tcp := t.tcpOff()
	put16(f[tcp+tcpPortOff:], sport)
	put16(f[tcp+tcpPortOff+2:], dport)
	put16(f[tcp+tcpSeqOff:], uint16(seq>>16))
	put16(f[tcp+tcpSeqOff+2:], uint16(seq))
	put16(f[tcp+tcpSumOff:], ^fold(t.tcpSum+uint32(sport)+uint32(dport)+seq>>16+seq&0xffff))
	if !t.v6 {
		put16(f[ip4IDOff:], id)
		put16(f[ip4SumOff:], ^fold(t.ipSum+uint32(id)))
	}
	return f
}

// fold adds the carries of a one's-complement sum back into it, as
// gopacket does, so that Put's checksums are the bytes it would compute.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func put16(b []byte, v uint16) { b[0], b[1] = byte(v>>8), byte(v) }
