package merge

import (
	"bytes"
	"cmp"
	"hash/fnv"
	"net/netip"
)

// The index of the first reading holds a few tens of bytes for each
// record of the files and nothing of the records themselves; these are
// its pieces.

// chunkBits sizes the chunks of a chunked array: 16384 elements.
const chunkBits = 14

// chunked is an array grown in chunks of fixed size, so that growing it
// never copies what it holds nor leaves an old copy to the collector:
// the index of a big merge grows by a chunk at a time, not by half of
// itself.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

func (c *chunked[T]) add(v T) int {
	if c.n>>chunkBits == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, 0, 1<<chunkBits))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
	return c.n - 1
}

func (c *chunked[T]) at(i int) *T { return &c.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (c *chunked[T]) len() int { return c.n }

// byFunc sorts a chunked array with a comparison of its elements.
type byFunc[T any] struct {
	c   *chunked[T]
	cmp func(a, b *T) int
}

func (s byFunc[T]) Len() int           { return s.c.n }
func (s byFunc[T]) Less(i, j int) bool { return s.cmp(s.c.at(i), s.c.at(j)) < 0 }
func (s byFunc[T]) Swap(i, j int)      { a, b := s.c.at(i), s.c.at(j); *a, *b = *b, *a }

// noRec ends a list of records.
const noRec = ^uint32(0)

// Slot flags.
const (
	// orphan: the slot has no host record of its own, only port lines
	// whose host line never came (a run killed outright).
	orphan uint8 = 1 << iota
	// v6: the address is IPv6 (IPv4 hosts sort first, as netip does).
	v6
)

// slot is one host record of one file: a jsonl host line with the port
// lines before it, or a json or XML host element with its ports.
type slot struct {
	addr  [16]byte // the host's address, IPv4 mapped
	name  uint64   // hash of its hostname and zone; 0 for neither
	index uint64   // its place in the targets; after grouping, its host's
	off   int64    // where its record starts in the file (an orphan's: its first port line)
	size  uint32   // the record's length; 0 for an orphan
	first uint32   // its first port line (jsonl), or noRec
	file  uint16
	seg   uint16 // the run of the file it belongs to (file.segs)
	flags uint8
}

// keyOf is the address and name hash that make a host, with the zone
// in the hash, and the slot flag of its family.
func keyOf(a netip.Addr, hostname string) (addr [16]byte, name uint64, flags uint8) {
	addr = a.As16()
	if a.Is6() {
		flags = v6
	}
	if hostname == "" && a.Zone() == "" {
		return addr, 0, flags
	}
	h := fnv.New64a()
	h.Write([]byte(hostname))
	if z := a.Zone(); z != "" {
		h.Write([]byte{0})
		h.Write([]byte(z))
	}
	return addr, h.Sum64() | 1, flags // never 0, which is no name
}

// sameHost compares slots by host: address, then name.
func sameHost(a, b *slot) int {
	if c := cmp.Compare(uint64(a.flags&v6), uint64(b.flags&v6)); c != 0 {
		return c
	}
	if c := bytes.Compare(a.addr[:], b.addr[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.name, b.name)
}

// inputOrder compares slots of one host by where they were read: file
// order on the command line, then position in the file.
func inputOrder(a, b *slot) int {
	if a.file != b.file {
		return cmp.Compare(uint64(a.file), uint64(b.file))
	}
	return cmp.Compare(a.off, b.off)
}

// byHost orders slots for grouping: the same host's together, in input
// order.
func byHost(a, b *slot) int {
	if c := sameHost(a, b); c != 0 {
		return c
	}
	return inputOrder(a, b)
}

// byTarget orders slots for writing: hosts with a target index by it,
// then those without by address (IPv4 first) and name; each host's
// slots in input order.
func byTarget(a, b *slot) int {
	switch {
	case a.index != 0 && b.index == 0:
		return -1
	case a.index == 0 && b.index != 0:
		return 1
	case a.index != b.index:
		return cmp.Compare(a.index, b.index)
	}
	return byHost(a, b)
}

// recs are the port lines of jsonl files: where each is, and the next
// of the same host record, so that a slot lists its own.
type recs struct {
	pos  chunked[uint64] // offset << lenBits | length
	next chunked[uint32]
}

// lenBits holds a port line's length, at most maxLine.
const lenBits = 22

func (r *recs) add(off int64, n int) uint32 {
	r.next.add(noRec)
	return uint32(r.pos.add(uint64(off)<<lenBits | uint64(n)))
}

func (r *recs) at(i uint32) (off int64, n int) {
	p := *r.pos.at(int(i))
	return int64(p >> lenBits), int(p & (1<<lenBits - 1))
}
