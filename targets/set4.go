package targets

import "slices"

// set4 is a set of IPv4 addresses that a list of any length fills
// compactly: addresses are grouped by /16 block, and each block is empty,
// full, a sorted list of disjoint runs (4 bytes a run) or, once runs
// would take more room, a bitmap of 8 KiB. So a set never holds more
// than 8 KiB per /16 (512 MiB for the whole IPv4 space), and never more
// than 4 bytes per run of consecutive addresses plus a few words per /16
// block touched; a full /16 or /8 costs nothing. The zero set4 is empty.
type set4 struct {
	top [256]*mid4 // by first octet
}

// mid4 holds the blocks of one /8.
type mid4 [256]*block4

// fullMid and fullBlock stand for a /8 and a /16 wholly in the set; they
// are shared and never changed.
var (
	fullMid   = new(mid4)
	fullBlock = &block4{full: true}
)

// maxRuns4 is the number of runs past which a block becomes a bitmap: a
// run takes 4 bytes, the bitmap 8 KiB.
const maxRuns4 = 2048

// block4 holds the low 16 bits of the addresses of one /16 block.
type block4 struct {
	full bool          // only fullBlock
	runs []run16       // sorted, disjoint and not touching; unused with bits
	bits *[1024]uint64 // a bitmap, once runs grow past maxRuns4
	n    int           // addresses set in bits
}

type run16 struct{ lo, hi uint16 }

// add puts [a, b] in the set and calls fresh, in ascending order, with
// each maximal span of it that was not in the set before.
func (s *set4) add(a, b uint32, fresh func(a, b uint32)) {
	for {
		end := min(a|0xffffff, b)
		s.addMid(a, end, fresh)
		if end == b {
			return
		}
		a = end + 1
	}
}

// addMid adds [a, b], which lie in one /8.
func (s *set4) addMid(a, b uint32, fresh func(a, b uint32)) {
	t := a >> 24
	m := s.top[t]
	whole := a&0xffffff == 0 && b&0xffffff == 0xffffff
	switch {
	case m == fullMid:
		return
	case m == nil && whole:
		fresh(a, b)
		s.top[t] = fullMid
		return
	case m == nil:
		m = new(mid4)
		s.top[t] = m
	}
	for {
		end := min(a|0xffff, b)
		k := a >> 16 & 0xff
		blk := m[k]
		base := a &^ 0xffff
		switch {
		case blk == fullBlock:
		case blk == nil && a&0xffff == 0 && end&0xffff == 0xffff:
			fresh(a, end)
			m[k] = fullBlock
		default:
			if blk == nil {
				blk = new(block4)
				m[k] = blk
			}
			if blk.add(int(a&0xffff), int(end&0xffff), func(lo, hi int) { fresh(base|uint32(lo), base|uint32(hi)) }) {
				m[k] = fullBlock
			}
		}
		if end == b {
			break
		}
		a = end + 1
	}
	if whole {
		s.top[t] = fullMid // every block was filled
	}
}

// contains reports whether a is in the set.
func (s *set4) contains(a uint32) bool {
	m := s.top[a>>24]
	switch m {
	case nil:
		return false
	case fullMid:
		return true
	}
	blk := m[a>>16&0xff]
	if blk == nil {
		return false
	}
	x := int(a & 0xffff)
	switch {
	case blk.full:
		return true
	case blk.bits != nil:
		return blk.bits[x>>6]&(1<<(x&63)) != 0
	}
	i, _ := slices.BinarySearchFunc(blk.runs, x, func(r run16, x int) int { return int(r.hi) - x })
	return i < len(blk.runs) && int(blk.runs[i].lo) <= x
}

// add puts [lo, hi] in a block that is not full, calling fresh with the
// spans that were not in it, and reports whether the block is full now.
func (b *block4) add(lo, hi int, fresh func(lo, hi int)) bool {
	if b.bits != nil {
		b.addBits(lo, hi, fresh)
		return b.n == 1<<16
	}
	// The runs that overlap or touch [lo, hi] are runs[i:j].
	i, _ := slices.BinarySearchFunc(b.runs, lo-1, func(r run16, x int) int { return int(r.hi) - x })
	j := i
	cur := lo
	for j < len(b.runs) && int(b.runs[j].lo) <= hi+1 {
		r := b.runs[j]
		if int(r.lo) > cur {
			fresh(cur, int(r.lo)-1)
		}
		cur = max(cur, int(r.hi)+1)
		j++
	}
	if cur <= hi {
		fresh(cur, hi)
	}
	joined := run16{uint16(lo), uint16(hi)}
	if i < j {
		joined.lo = min(joined.lo, b.runs[i].lo)
		joined.hi = max(joined.hi, b.runs[j-1].hi)
	}
	if joined == (run16{0, 0xffff}) {
		return true
	}
	b.runs = slices.Replace(b.runs, i, j, joined)
	if len(b.runs) > maxRuns4 {
		b.bits = new([1024]uint64)
		for _, r := range b.runs {
			b.addBits(int(r.lo), int(r.hi), func(int, int) {})
		}
		b.runs = nil
	}
	return false
}

// addBits sets [lo, hi] in the bitmap, calling fresh with the spans of
// bits that were clear.
func (b *block4) addBits(lo, hi int, fresh func(lo, hi int)) {
	gap := -1 // start of the clear span being read, or -1
	for x := lo; x <= hi; {
		w := x >> 6
		word := b.bits[w]
		if x&63 == 0 && x+63 <= hi && (word == 0 || word == ^uint64(0)) {
			if word == 0 {
				if gap < 0 {
					gap = x
				}
				b.bits[w] = ^uint64(0)
				b.n += 64
			} else if gap >= 0 {
				fresh(gap, x-1)
				gap = -1
			}
			x += 64
			continue
		}
		bit := uint64(1) << (x & 63)
		if word&bit == 0 {
			if gap < 0 {
				gap = x
			}
			b.bits[w] |= bit
			b.n++
		} else if gap >= 0 {
			fresh(gap, x-1)
			gap = -1
		}
		x++
	}
	if gap >= 0 {
		fresh(gap, hi)
	}
}

// litList holds the IPv4 literals of a Set in the order named: one word
// for a single address, two for a range, and a bit telling which, in
// chunks of 64 KiB, so that a long list is not copied as it grows.
type litList struct {
	words  [][]uint32 // chunks of litChunk words
	ranges []uint64   // bit i is set when literal i is a range
	n, nw  int        // literals and words held
}

// litChunk is the number of words in a chunk; tests lower it to cross
// chunks with short lists.
var litChunk = 1 << 14

func (l *litList) len() int { return l.n }

func (l *litList) word(k int) *uint32 { return &l.words[k/litChunk][k%litChunk] }

func (l *litList) push(x uint32) {
	if l.nw%litChunk == 0 {
		l.words = append(l.words, make([]uint32, 0, min(16, litChunk)))
	}
	k := len(l.words) - 1
	l.words[k] = append(l.words[k], x) // copies only within a chunk
	l.nw++
}

func (l *litList) isRange(i int) bool { return l.ranges[i/64]&(1<<(i%64)) != 0 }

// add appends the span [a, b].
func (l *litList) add(a, b uint32) {
	if l.n%64 == 0 {
		l.ranges = append(l.ranges, 0)
	}
	l.push(a)
	if a != b {
		l.push(b)
		l.ranges[l.n/64] |= 1 << (l.n % 64)
	}
	l.n++
}

// last returns the last literal.
func (l *litList) last() lit4 {
	if l.isRange(l.n - 1) {
		return lit4{*l.word(l.nw - 2), *l.word(l.nw - 1)}
	}
	x := *l.word(l.nw - 1)
	return lit4{x, x}
}

// extend makes the last literal end at b, after its end.
func (l *litList) extend(b uint32) {
	i := l.n - 1
	if l.isRange(i) {
		*l.word(l.nw - 1) = b
		return
	}
	l.push(b)
	l.ranges[i/64] |= 1 << (i % 64)
}

// litCursor walks a litList from its start.
type litCursor struct {
	l    *litList
	i, w int // the next literal and its first word
}

// next returns the next literal and its index; there must be one.
func (c *litCursor) next() (int, lit4) {
	i, a := c.i, *c.l.word(c.w)
	b := a
	c.w++
	if c.l.isRange(i) {
		b = *c.l.word(c.w)
		c.w++
	}
	c.i++
	return i, lit4{a, b}
}
