package targets

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
)

// u128 is an address as a 128-bit number, so that ranges of either family
// can be compared, measured and walked with plain arithmetic. IPv4
// addresses use only the low 32 bits.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + c, lo}
}

func (a u128) sub1() u128 {
	lo, b := bits.Sub64(a.lo, 1, 0)
	return u128{a.hi - b, lo}
}

// size returns b-a+1, the number of addresses from a to b, saturated to
// fit a uint64.
func size(a, b u128) uint64 {
	lo, borrow := bits.Sub64(b.lo, a.lo, 0)
	hi := b.hi - a.hi - borrow
	if hi != 0 || lo == math.MaxUint64 {
		return math.MaxUint64
	}
	return lo + 1
}

// satAdd adds without wrapping past math.MaxUint64.
func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

// maxOf returns the highest address of a family.
func maxOf(v6 bool) u128 {
	if v6 {
		return u128{math.MaxUint64, math.MaxUint64}
	}
	return u128{0, math.MaxUint32}
}

func fromAddr(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) addr(v6 bool, zone string) netip.Addr {
	if !v6 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(a.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	ad := netip.AddrFrom16(b)
	if zone != "" {
		ad = ad.WithZone(zone)
	}
	return ad
}

// prefixRange returns the first and last address of the prefix of the
// given length that holds a; host bits of a are ignored.
func prefixRange(a u128, v6 bool, length int) (first, last u128) {
	width := 32
	if v6 {
		width = 128
	}
	host := width - length // number of host bits
	var mask u128          // ones in the host bits
	switch {
	case host >= 128:
		mask = u128{math.MaxUint64, math.MaxUint64}
	case host >= 64:
		mask = u128{1<<(host-64) - 1, math.MaxUint64}
	default:
		mask = u128{0, 1<<host - 1}
	}
	first = u128{a.hi &^ mask.hi, a.lo &^ mask.lo}
	last = u128{a.hi | mask.hi, a.lo | mask.lo}
	return first, last
}

// space names an address space in which ranges can overlap: IPv4, IPv6,
// or IPv6 scoped to one zone (fe80::1%eth0 is not fe80::1%eth1).
type space struct {
	v6   bool
	zone string
}

func (s space) cmp(t space) int {
	switch {
	case s.v6 != t.v6:
		if !s.v6 {
			return -1
		}
		return 1
	case s.zone < t.zone:
		return -1
	case s.zone > t.zone:
		return 1
	}
	return 0
}

// span is an inclusive range of addresses within one space.
type span struct {
	space
	first, last u128
}

func (s span) cmp(t span) int {
	if c := s.space.cmp(t.space); c != 0 {
		return c
	}
	return s.first.cmp(t.first)
}

// pattern is an nmap octet pattern such as 10.0.0-3.1-254: a bitmap of the
// allowed values of each of the four octets.
type pattern [4][4]uint64

func (p *pattern) set(octet int, v uint8) { p[octet][v>>6] |= 1 << (v & 63) }

func (p *pattern) has(octet int, v uint8) bool { return p[octet][v>>6]&(1<<(v&63)) != 0 }

func (p *pattern) contains(a uint32) bool {
	return p.has(0, uint8(a>>24)) && p.has(1, uint8(a>>16)) && p.has(2, uint8(a>>8)) && p.has(3, uint8(a))
}

func (p *pattern) values(octet int) int {
	n := 0
	for _, w := range p[octet] {
		n += bits.OnesCount64(w)
	}
	return n
}

func (p *pattern) full(octet int) bool { return p.values(octet) == 256 }

// size returns the number of addresses the pattern matches.
func (p *pattern) size() uint64 {
	n := uint64(1)
	for o := range 4 {
		n *= uint64(p.values(o))
	}
	return n
}

// below returns how many values of an octet are less than v.
func (p *pattern) below(octet int, v uint8) uint64 {
	n := 0
	w := int(v >> 6)
	for i := range w {
		n += bits.OnesCount64(p[octet][i])
	}
	n += bits.OnesCount64(p[octet][w] & (1<<(v&63) - 1))
	return uint64(n)
}

// countTo returns how many addresses of the pattern are <= x.
func (p *pattern) countTo(x uint32) uint64 {
	var n uint64
	for o := range 4 {
		v := uint8(x >> (24 - 8*o))
		rest := uint64(1)
		for q := o + 1; q < 4; q++ {
			rest *= uint64(p.values(q))
		}
		n += p.below(o, v) * rest
		if !p.has(o, v) {
			return n
		}
	}
	return n + 1
}

// countIn returns how many addresses of the pattern lie in [a, b].
func (p *pattern) countIn(a, b uint32) uint64 {
	n := p.countTo(b)
	if a > 0 {
		n -= p.countTo(a - 1)
	}
	return n
}

// and returns the pattern matching the addresses both p and q match.
func (p *pattern) and(q *pattern) pattern {
	var r pattern
	for o := range 4 {
		for i := range 4 {
			r[o][i] = p[o][i] & q[o][i]
		}
	}
	return r
}

// octetRuns yields the maximal runs of consecutive values of an octet.
func (p *pattern) octetRuns(octet int, yield func(lo, hi int)) {
	lo := -1
	for v := range 257 {
		in := v < 256 && p.has(octet, uint8(v))
		switch {
		case in && lo < 0:
			lo = v
		case !in && lo >= 0:
			yield(lo, v-1)
			lo = -1
		}
	}
}

// runs returns how many contiguous address ranges make up the pattern.
func (p *pattern) runs() uint64 {
	k := 3
	for k >= 0 && p.full(k) {
		k--
	}
	if k < 0 {
		return 1
	}
	n := uint64(0)
	p.octetRuns(k, func(int, int) { n++ })
	for o := range k {
		n *= uint64(p.values(o))
	}
	return n
}

// spans calls f with each contiguous range of the pattern, in ascending
// order.
func (p *pattern) spans(f func(first, last uint32)) {
	k := 3
	for k >= 0 && p.full(k) {
		k--
	}
	if k < 0 {
		f(0, math.MaxUint32)
		return
	}
	shift := 24 - 8*k
	ones := uint32(1)<<shift - 1
	var walk func(o int, prefix uint32)
	walk = func(o int, prefix uint32) {
		if o == k {
			p.octetRuns(k, func(lo, hi int) {
				f(prefix|uint32(lo)<<shift, prefix|uint32(hi)<<shift|ones)
			})
			return
		}
		for v := range 256 {
			if p.has(o, uint8(v)) {
				walk(o+1, prefix|uint32(v)<<(24-8*o))
			}
		}
	}
	walk(0, 0)
}

// all yields every address of the pattern in ascending order without
// allocating.
func (p *pattern) all(yield func(uint32) bool) bool {
	for a := range 256 {
		if !p.has(0, uint8(a)) {
			continue
		}
		for b := range 256 {
			if !p.has(1, uint8(b)) {
				continue
			}
			for c := range 256 {
				if !p.has(2, uint8(c)) {
					continue
				}
				base := uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8
				for d := range 256 {
					if p.has(3, uint8(d)) && !yield(base|uint32(d)) {
						return false
					}
				}
			}
		}
	}
	return true
}
