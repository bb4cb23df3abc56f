package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// gzipMember compresses b as one gzip member.
func gzipMember(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBomb returns a gzip stream of head followed by n copies of unit,
// written to a pipe as it is read: the uncompressed bytes are never held,
// and unit is compressed once, as a member of its own that the stream
// repeats (Reader reads multi-member gzip as gzip(1) does).
func gzipBomb(t *testing.T, head, unit []byte, n int) io.Reader {
	t.Helper()
	first, rest := gzipMember(t, head), gzipMember(t, unit)
	pr, pw := io.Pipe()
	go func() {
		_, err := pw.Write(first)
		for i := 0; i < n && err == nil; i++ {
			_, err = pw.Write(rest)
		}
		pw.CloseWithError(err)
	}()
	t.Cleanup(func() { pr.Close() })
	return pr
}

// pcapHeader is a little-endian pcap file header for Ethernet.
func pcapHeader(snaplen uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint64(b, 0) // time zone, sigfigs
	b = le.AppendUint32(b, snaplen)
	return le.AppendUint32(b, uint32(1))
}

// pcapRecordHeader is the header of a record of n bytes at time 0.
func pcapRecordHeader(n uint32) []byte {
	le := binary.LittleEndian
	return le.AppendUint32(le.AppendUint32(le.AppendUint64(nil, 0), n), n)
}

// ngHead is a pcapng section with one Ethernet interface, then the start
// of an enhanced packet block of n bytes of data.
func ngHead(n uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, ngSectionHeader)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, ngByteOrderMagic)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0)) // section length unknown
	b = le.AppendUint32(b, 28)
	// Interface description block: Ethernet, no snap length.
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 20)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 20)
	// Enhanced packet block: interface 0, time 0, n bytes.
	b = le.AppendUint32(b, 6)
	b = le.AppendUint32(b, 32+n)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint32(b, n)
	return le.AppendUint32(b, n)
}

// TestGzipBomb reads gzip streams of about 1 GiB of zeros in captures,
// the way `portscan pcap` reads a .gz file or stdin, and checks that
// memory stays flat: the reader reads through a gigabyte of records, and
// refuses at once a single record that claims a gigabyte, which it would
// otherwise hold whole (pcapgo accepts any length up to the snap length
// the file declares).
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 1 GiB")
	}
	const gib = 1 << 30
	zeros := make([]byte, 1<<20)
	tests := []struct {
		name    string
		stream  func() io.Reader
		packets int   // read before the end or the error
		kind    error // nil: a clean end
		offset  int64
	}{
		{"pcap, 16384 records of 64 KiB of zeros", func() io.Reader {
			return gzipBomb(t, pcapHeader(65535), append(pcapRecordHeader(65535), make([]byte, 65535)...), 16384)
		}, 16384, nil, 0},
		{"pcap, one record of 1 GiB", func() io.Reader {
			return gzipBomb(t, append(pcapHeader(0xffffffff), pcapRecordHeader(gib)...), zeros, gib/len(zeros))
		}, 0, ErrCorrupt, 24},
		{"pcapng, one enhanced packet block of 1 GiB", func() io.Reader {
			return gzipBomb(t, ngHead(gib), zeros, gib/len(zeros))
		}, 0, ErrCorrupt, 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := NewReader(tt.stream())
			if err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, err = r.Next()
			}
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB while reading; want at most 64 MiB", alloc>>20)
			}
			if r.Packets() != tt.packets {
				t.Errorf("%d packets read, want %d", r.Packets(), tt.packets)
			}
			var re *ReadError
			switch {
			case tt.kind == nil && err != io.EOF:
				t.Errorf("error %v, want a clean end", err)
			case tt.kind != nil && (!errors.As(err, &re) || !errors.Is(err, tt.kind) || re.Packet != 1 || re.Offset != tt.offset):
				t.Errorf("error %v, want %v at packet 1, byte offset %d", err, tt.kind, tt.offset)
			case tt.kind != nil:
				t.Logf("%v", err)
			}
		})
	}
}
