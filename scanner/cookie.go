package scanner

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// cookieKey keys the hash that SYN probes carry as their sequence
// number: random for each run, so that a reply to another run, or one
// forged by someone who did not see the probe, does not match.
type cookieKey [2]uint64

// cookie is the sequence number of a SYN from src:sport to dst:dport:
// SipHash-2-4 of the 4-tuple under k, cut to 32 bits. A SYN-ACK or RST
// acknowledges cookie+1; an ICMP error quotes the cookie itself. Nothing
// needs to be kept per probe to check either.
func (k cookieKey) cookie(src, dst netip.Addr, sport, dport uint16) uint32 {
	var m [36]byte
	s, d := src.Unmap().As16(), dst.Unmap().As16()
	copy(m[0:16], s[:])
	copy(m[16:32], d[:])
	binary.BigEndian.PutUint16(m[32:], sport)
	binary.BigEndian.PutUint16(m[34:], dport)
	return uint32(siphash24(k[0], k[1], m[:]))
}

// siphash24 is SipHash-2-4 (Aumasson and Bernstein, 2012) of m under the
// key (k0, k1), its two halves read little-endian as the paper reads them.
func siphash24(k0, k1 uint64, m []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(m)
	for len(m) >= 8 {
		w := binary.LittleEndian.Uint64(m)
		v3 ^= w
		round()
		round()
		v0 ^= w
		m = m[8:]
	}
	var last [8]byte
	copy(last[:], m)
	last[7] = byte(n)
	w := binary.LittleEndian.Uint64(last[:])
	v3 ^= w
	round()
	round()
	v0 ^= w
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
