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
	// Kind is ErrNotCapture, ErrTruncated or ErrCorrupt.
	Kind error
	// Err is what the underlying reader reported.
	Err error
}

// Error says where and why: "packet 13 at byte offset 993: truncated
// capture: unexpected EOF".
func (e *ReadError) Error() string {
	where := "file header"
	if e.Packet > 0 {
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
	count      countingReader
	buf        *bufio.Reader
	pcap       *pcapgo.Reader
	ng         *pcapgo.NgReader
	format     Format
	compressed bool
	n          int
	pkt        Packet
	err        error
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
	case 0x0a0d0d0a:
		rd.format = FormatPcapNG
		rd.ng, err = pcapgo.NewNgReader(rd.buf, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		rd.format = FormatPcap
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
	defer func() {
		if x := recover(); x != nil {
			p, err = nil, r.fail(r.n+1, start, ErrCorrupt, fmt.Errorf("reader failed: %v", x))
		}
	}()
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
		if err == io.EOF && r.offset() == start {
			r.err = io.EOF
			return nil, io.EOF
		}
		return nil, r.classify(r.n+1, start, err)
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
