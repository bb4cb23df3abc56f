package capture

import (
	"encoding/binary"
	"fmt"
)

// pcapng block framing, from the pcapng specification (IETF
// draft-ietf-opsawg-pcapng): every block starts with its type and total
// length, and ends with the total length again.
const (
	ngSectionHeader  = 0x0a0d0d0a // the same in either byte order
	ngByteOrderMagic = 0x1a2b3c4d
	ngMinBlock       = 12 // type, length, trailing length
)

// ngBlockNames names the pcapng block types, for errors.
var ngBlockNames = map[uint32]string{
	0x00000001:      "interface description block",
	0x00000002:      "packet block",
	0x00000003:      "simple packet block",
	0x00000004:      "name resolution block",
	0x00000005:      "interface statistics block",
	0x00000006:      "enhanced packet block",
	0x00000009:      "systemd journal export block",
	0x0000000a:      "decryption secrets block",
	0x00000bad:      "custom block",
	0x40000bad:      "custom block",
	ngSectionHeader: "section header block",
}

// blockName names a pcapng block type: "interface statistics block", or
// "block of type 0x80000001" for one the specification does not list.
func blockName(typ uint32) string {
	if name, ok := ngBlockNames[typ]; ok {
		return name
	}
	return fmt.Sprintf("block of type %#x", typ)
}

// ngBlock is where a pcapng block starts and where its header says it
// ends.
type ngBlock struct {
	offset, end int64
	typ         uint32
}

// packet reports whether the block holds a packet.
func (b ngBlock) packet() bool { return b.typ == 2 || b.typ == 3 || b.typ == 6 }

// walk follows the pcapng block framing from offset start up to and
// including the next packet block, by peeking at the block headers in the
// read buffer without reading them, and records the blocks in r.blocks.
// pcapgo reads, in the call that returns the next packet (or io.EOF), all
// the blocks before it that are not packets, and does not say where they
// were: walk lets Reader tell where the file ended or broke. It stops at
// a block whose length cannot be valid, and where the buffer ends: a
// block so long that the next header is beyond it is the last one seen.
// pcapgo may then read a section header walk has not seen, so walk knows
// no byte order, and records nothing, until it sees the next one; Reader
// then relies on pcapgo's errors alone.
func (r *Reader) walk(start int64) {
	r.blocks = r.blocks[:0]
	at := 0
	for {
		if at+ngMinBlock > bufSize {
			r.orderUnknown = true
			return
		}
		h, _ := r.buf.Peek(at + ngMinBlock)
		if len(h) < at+4 {
			return
		}
		h = h[at:]
		if binary.LittleEndian.Uint32(h) == ngSectionHeader {
			if len(h) < ngMinBlock {
				r.blocks = append(r.blocks, ngBlock{offset: start + int64(at), end: start + int64(at) + ngMinBlock, typ: ngSectionHeader})
				return
			}
			// A section sets the byte order of its blocks.
			r.bigEndian = binary.BigEndian.Uint32(h[8:]) == ngByteOrderMagic
			r.orderUnknown = false
		}
		if r.orderUnknown {
			return
		}
		order := binary.ByteOrder(binary.LittleEndian)
		if r.bigEndian {
			order = binary.BigEndian
		}
		b := ngBlock{typ: order.Uint32(h), offset: start + int64(at)}
		if len(h) < 8 {
			// The file ends in the block's length: name the block.
			b.end = b.offset + ngMinBlock
			r.blocks = append(r.blocks, b)
			return
		}
		n := order.Uint32(h[4:])
		b.end = b.offset + int64(n)
		r.blocks = append(r.blocks, b)
		if b.packet() || n < ngMinBlock {
			return
		}
		at += int(n)
	}
}

// blockBefore returns the last block walked that starts before offset
// at: the one a read that stopped at at was in, or has just read.
func (r *Reader) blockBefore(at int64) (ngBlock, bool) {
	for i := len(r.blocks) - 1; i >= 0; i-- {
		if r.blocks[i].offset < at {
			return r.blocks[i], true
		}
	}
	return ngBlock{}, false
}
