package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ErrNotCapture is returned, wrapped in a *ReadError, by NewReader for a
// stream that is neither pcap nor pcapng, compressed or not.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// ErrTruncated is wrapped by a *ReadError when the file ends in the middle
// of a header or a packet record: usually a capture cut short.
var ErrTruncated = errors.New("truncated capture")

// ErrCorrupt is wrapped by a *ReadError when a header or a record cannot
// be valid: an impossible length, an unknown interface, a bad gzip stream.
var ErrCorrupt = errors.New("corrupt capture")

// ReadError says where a capture file stopped being readable. It wraps
// ErrNotCapture, ErrTruncated or ErrCorrupt, and the reader's own error.
type ReadError struct {
	// Packet is the number of the packet being read, counting from 1;
	// 0 means the file header. Packet-1 packets were read before it.
	Packet int
	// Offset is the byte offset of the header or record that failed. In a
	// gzip-compressed file it counts the uncompressed bytes.
	Offset int64
	// Compressed tells that Offset is in the uncompressed stream.
	Compressed bool
	// Block is the pcapng block type of the block that broke when it is
	// not a packet block (an interface statistics block after the last
	// packet, say); 0 for a packet record and the file header.
	Block uint32
	// Kind is ErrNotCapture, ErrTruncated or ErrCorrupt.
	Kind error
	// Err is what the underlying reader reported.
	Err error
}

// Error says where and why: "packet 13 at byte offset 993: truncated
// capture: unexpected EOF".
//
// A pcapng block other than a packet is named by its type and the packet
// it follows: "interface statistics block after packet 20 at byte offset
// 2328: ...".
func (e *ReadError) Error() string {
	where := "file header"
	switch {
	case e.Packet > 0 && e.Block != 0:
		where = fmt.Sprintf("%s after packet %d", blockName(e.Block), e.Packet-1)
	case e.Packet > 0:
		where = fmt.Sprintf("packet %d", e.Packet)
	}
	unc := ""
	if e.Compressed {
		unc = " (uncompressed)"
	}
	msg := e.Kind.Error()
	if e.Err != nil && e.Err != e.Kind {
		msg += ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s at byte offset %d%s: %s", where, e.Offset, unc, msg)
}

// Unwrap returns the kind and the underlying error, for errors.Is.
func (e *ReadError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Format is the container format of a capture file.
type Format uint8

// The capture file formats Reader reads.
const (
	FormatPcap   Format = iota + 1 // libpcap's classic format, µs or ns, either byte order
	FormatPcapNG                   // pcapng, any number of sections and interfaces
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// Packet is one record of a capture file. Data is only valid until the
// next call to Reader.Next.
type Packet struct {
	Number        int             // position in its file, from 1
	Offset        int64           // byte offset of its record (uncompressed)
	Time          time.Time       // capture time stamp, UTC
	CaptureLength int             // bytes in Data
	Length        int             // bytes on the wire
	LinkType      layers.LinkType // link type of its interface
	Interface     int             // pcapng interface index in its section; 0 for pcap
	Data          []byte
}

// bufSize is the read buffer. It is at least bufio's default size, so
// that pcapgo, which wraps its input in bufio.NewReader, takes this buffer
// as it is and Reader knows how many bytes it holds back.
const bufSize = 64 << 10

// Reader reads packets from a pcap or pcapng file, gzip-compressed or
// not, with pcapgo's pure-Go readers and without an allocation per packet.
// Every error it returns is a *ReadError that says where the file broke.
type Reader struct {
	count     countingReader
	buf       *bufio.Reader
	pcap      *pcapgo.Reader
	ng        *pcapgo.NgReader
	blocks    []ngBlock // pcapng: the blocks the next read goes through
	bigEndian bool      // the byte order of the file (pcap) or of the section being read (pcapng)
	// pcapng: walk could not follow the blocks to the last section header
	orderUnknown bool
	format       Format
	compressed   bool
	n            int
	pkt          Packet
	err          error
}

// NewReader reads the file header from r and returns a Reader positioned
// at the first packet. A gzip stream is decompressed first; its byte
// offsets then count uncompressed bytes.
func NewReader(r io.Reader) (rd *Reader, err error) {
	rd = &Reader{}
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, rd.fail(0, 0, ErrCorrupt, fmt.Errorf("reader failed: %v", p))
		}
	}()
	raw := bufio.NewReaderSize(r, bufSize)
	if head, _ := raw.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, &ReadError{Kind: ErrCorrupt, Err: fmt.Errorf("gzip: %w", err)}
		}
		gz.Multistream(true)
		r = gz
		rd.compressed = true
	} else {
		r = raw
	}
	rd.count.r = r
	rd.buf = bufio.NewReaderSize(&rd.count, bufSize)
	magic, perr := rd.buf.Peek(4)
	if len(magic) == 0 && (perr == io.EOF || perr == nil) {
		return nil, rd.fail(0, 0, ErrNotCapture, errors.New("empty file"))
	}
	if len(magic) < 4 {
		if perr == io.EOF {
			return nil, rd.fail(0, 0, ErrTruncated, io.ErrUnexpectedEOF)
		}
		return nil, rd.fail(0, 0, ErrCorrupt, perr)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case ngSectionHeader:
		rd.format = FormatPcapNG
		if shb, _ := rd.buf.Peek(12); len(shb) == 12 {
			rd.bigEndian = binary.BigEndian.Uint32(shb[8:]) == ngByteOrderMagic
		}
		rd.ng, err = pcapgo.NewNgReader(rd.buf, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		rd.format = FormatPcap
		rd.bigEndian = magic[0] == 0xa1
		rd.pcap, err = pcapgo.NewReader(rd.buf)
	default:
		return nil, rd.fail(0, 0, ErrNotCapture, fmt.Errorf("unknown magic number %x", magic))
	}
	if err != nil {
		return nil, rd.classify(0, 0, err)
	}
	return rd, nil
}

// Format returns the file's format.
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the file was gzip-compressed.
func (r *Reader) Compressed() bool { return r.compressed }

// Packets returns how many packets have been read.
func (r *Reader) Packets() int { return r.n }

// offset is the position of the next unread byte of the uncompressed
// stream: what was read from below less what the buffer holds back.
func (r *Reader) offset() int64 { return r.count.n - int64(r.buf.Buffered()) }

// Next returns the next packet, io.EOF at the clean end of the file, or a
// *ReadError. After an error every call returns the same error.
func (r *Reader) Next() (p *Packet, err error) {
	if r.err != nil {
		return nil, r.err
	}
	start := r.offset()
	if r.ng != nil {
		r.walk(start)
	}
	defer func() {
		if x := recover(); x != nil {
			p, err = nil, r.failBlock(start, fmt.Errorf("reader failed: %v", x))
		}
	}()
	if err := r.checkLength(start); err != nil {
		return nil, err
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
	)
	lt := layers.LinkTypeNull
	if r.pcap != nil {
		data, ci, err = r.pcap.ZeroCopyReadPacketData()
		lt = r.pcap.LinkType()
	} else {
		data, ci, _, err = r.ng.ZeroCopyReadPacketDataWithOptions()
		if err == nil && len(ci.AncillaryData) > 0 {
			lt, _ = ci.AncillaryData[0].(layers.LinkType)
		}
	}
	if err != nil {
		if err == io.EOF && r.cleanEnd(start) {
			r.err = io.EOF
			return nil, io.EOF
		}
		if r.ng != nil {
			return nil, r.failBlock(start, err)
		}
		return nil, r.classify(r.n+1, start, err)
	}
	if r.ng != nil {
		// The packet is in the last block read, after any interface,
		// statistics or other blocks that came before it.
		if b, ok := r.blockBefore(r.offset()); ok {
			start = b.offset
		}
	}
	r.n++
	r.pkt = Packet{
		Number:        r.n,
		Offset:        start,
		Time:          ci.Timestamp,
		CaptureLength: len(data),
		Length:        max(ci.Length, len(data)),
		LinkType:      lt,
		Interface:     ci.InterfaceIndex,
		Data:          data,
	}
	return &r.pkt, nil
}

// maxCaptureLength is the most packet data a record may hold: libpcap's
// MAXIMUM_SNAPLEN, more than any capture tool writes, and the limit
// libpcap itself reads records up to.
const maxCaptureLength = 262144

// checkLength refuses, as corrupt, the next record (pcap) or packet block
// (pcapng) when it claims more packet data than maxCaptureLength. pcapgo
// takes any length up to the snap length the file declares, which may be
// 4 GiB, and holds the whole record in memory: a small gzip file that
// expands to a gigabyte-long record would take a gigabyte. The header is
// peeked at before pcapgo reads it; a pcapng packet block is checked when
// walk saw its header, which it does unless the blocks before it since
// the last packet fill the read buffer.
func (r *Reader) checkLength(start int64) error {
	order := binary.ByteOrder(binary.LittleEndian)
	if r.bigEndian {
		order = binary.BigEndian
	}
	var n uint64
	at := start
	if r.pcap != nil {
		h, _ := r.buf.Peek(16)
		if len(h) < 16 {
			return nil // pcapgo tells how the file ends
		}
		n = uint64(order.Uint32(h[8:]))
	} else {
		if len(r.blocks) == 0 {
			return nil
		}
		b := r.blocks[len(r.blocks)-1]
		if !b.packet() {
			return nil
		}
		at = b.offset
		h, _ := r.buf.Peek(int(b.offset-start) + 24)
		h = h[min(len(h), int(b.offset-start)):]
		switch {
		case b.typ == 3: // simple packet block: the data fill the block
			n = uint64(max(b.end-b.offset-16, 0))
		case len(h) >= 24: // captured length, after interface and time stamp
			n = uint64(order.Uint32(h[20:]))
		default:
			n = uint64(max(b.end-b.offset-32, 0))
		}
	}
	if n <= maxCaptureLength {
		return nil
	}
	return r.fail(r.n+1, at, ErrCorrupt, fmt.Errorf("capture length %d is more than %d, the most any capture tool writes", n, maxCaptureLength))
}

// cleanEnd reports whether the file ended where a record or block ends,
// when the format reader said io.EOF after reading from start. pcap ends
// cleanly only before a record header: pcapgo says io.EOF as well for a
// record whose header is there and whose data is not. A pcapng reader
// reads every block that is not a packet on its way to the next packet,
// so a file that ends with an Interface Statistics Block (as every file
// dumpcap, tshark and Wireshark write does) or any other block ends
// cleanly after it: the end is clean when it falls where the last
// complete block ends.
func (r *Reader) cleanEnd(start int64) bool {
	end := r.offset()
	if end == start {
		return true
	}
	if r.ng == nil {
		return false
	}
	last, ok := r.blockBefore(end)
	if !ok || last.end < end {
		// The file went on beyond the blocks walk could see: trust
		// pcapgo, whose io.EOF means that not a byte of the next block
		// header was there (it reports any block cut short as
		// io.ErrUnexpectedEOF).
		return true
	}
	return last.end == end
}

// failBlock records a sticky *ReadError for a pcapng read that failed,
// at the block it failed in: where it starts, its type if it is not a
// packet, and whether it was cut short. pcapgo wraps some short reads
// with %v, so a block is also truncated when the file ends before the
// length in its header says it does.
func (r *Reader) failBlock(start int64, err error) error {
	at := r.offset()
	b, ok := r.blockBefore(at)
	if !ok {
		return r.classify(r.n+1, start, err)
	}
	e := r.classify(r.n+1, b.offset, err).(*ReadError)
	if e.Kind == ErrCorrupt && b.end > at {
		rest, _ := r.buf.Peek(1)
		if len(rest) == 0 && (errors.Is(r.count.err, io.EOF) || errors.Is(r.count.err, io.ErrUnexpectedEOF)) {
			e.Kind = ErrTruncated
		}
	}
	if !b.packet() {
		e.Block = b.typ
	}
	return e
}

// classify turns a reader error into a sticky *ReadError.
func (r *Reader) classify(packet int, offset int64, err error) error {
	kind := ErrCorrupt
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		kind = ErrTruncated
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
	}
	return r.fail(packet, offset, kind, err)
}

// fail records a sticky *ReadError.
func (r *Reader) fail(packet int, offset int64, kind, err error) error {
	e := &ReadError{Packet: packet, Offset: offset, Compressed: r.compressed, Kind: kind, Err: err}
	r.err = e
	return e
}

// countingReader counts the bytes read through it. Its first error is
// sticky: Reader peeks ahead of pcapgo, and bufio hands a read error to
// the first caller only.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// HasMagic reports whether head, the first bytes of a file, starts a
// capture NewReader reads: a pcap (either byte order, micro- or nanosecond),
// a pcapng section, or gzip, which NewReader decompresses. Readers of other
// formats use it to send a capture to the right command.
func HasMagic(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch string(head[:4]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1", "\x0a\x0d\x0d\x0a":
		return true
	}
	return head[0] == 0x1f && head[1] == 0x8b
}
