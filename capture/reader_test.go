package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads every packet, copying what the test needs.
func readAll(t *testing.T, b []byte) (*Reader, []Packet, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var out []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r, out, nil
		}
		if err != nil {
			return r, out, err
		}
		cp := *p
		cp.Data = append([]byte(nil), p.Data...)
		out = append(out, cp)
	}
}

func TestReaderFixtures(t *testing.T) {
	tests := []struct {
		file       string
		format     Format
		compressed bool
		packets    int
		links      []layers.LinkType // link type of each distinct run, in order
		firstTime  time.Time
	}{
		{"tcp-ethernet.pcap", FormatPcap, false, 18, []layers.LinkType{layers.LinkTypeEthernet}, t0},
		{"tcp-ethernet.pcap.gz", FormatPcap, true, 18, []layers.LinkType{layers.LinkTypeEthernet}, t0},
		{"udp-vlan.pcap", FormatPcap, false, 8, []layers.LinkType{layers.LinkTypeEthernet}, t0.Add(123)},
		{"ipv6-sll.pcap", FormatPcap, false, 7, []layers.LinkType{layers.LinkTypeLinuxSLL}, t0},
		{"sll2.pcapng", FormatPcapNG, false, 6, []layers.LinkType{layers.LinkTypeLinuxSLL2}, t0},
		{"multi.pcapng", FormatPcapNG, false, 11, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw,
			layers.LinkTypeIEEE802_11, layers.LinkTypeNull, layers.LinkTypeIPv6, layers.LinkTypeIPv4}, t0},
		{"loopback.pcap", FormatPcap, false, 5, []layers.LinkType{layers.LinkTypeNull}, t0.Add(7)},
		{"raw.pcap.gz", FormatPcap, true, 4, []layers.LinkType{layers.LinkTypeRaw}, t0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, pkts, err := readAll(t, readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != tt.format || r.Compressed() != tt.compressed {
				t.Errorf("format %v compressed %v, want %v %v", r.Format(), r.Compressed(), tt.format, tt.compressed)
			}
			if len(pkts) != tt.packets || r.Packets() != tt.packets {
				t.Fatalf("%d packets, want %d", len(pkts), tt.packets)
			}
			var links []layers.LinkType
			for i, p := range pkts {
				if p.Number != i+1 {
					t.Errorf("packet %d numbered %d", i+1, p.Number)
				}
				if len(links) == 0 || links[len(links)-1] != p.LinkType {
					links = append(links, p.LinkType)
				}
			}
			if !equal(links, tt.links) {
				t.Errorf("link types %v, want %v", links, tt.links)
			}
			if !pkts[0].Time.Equal(tt.firstTime) {
				t.Errorf("first time %v, want %v", pkts[0].Time, tt.firstTime)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReaderOffsets checks that each packet's offset is where its record
// starts: after the 24-byte header and the records before it in pcap, at
// an Enhanced Packet Block in pcapng.
func TestReaderOffsets(t *testing.T) {
	b := readFixture(t, "tcp-ethernet.pcap")
	_, pkts, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(24)
	for _, p := range pkts {
		if p.Offset != off {
			t.Fatalf("packet %d at %d, want %d", p.Number, p.Offset, off)
		}
		off += 16 + int64(p.CaptureLength)
	}

	b = readFixture(t, "multi.pcapng")
	_, pkts, err = readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		// The reader may have read interface blocks first: the record
		// offset is where it started looking, at or before the packet.
		i := p.Offset
		for binary.LittleEndian.Uint32(b[i:]) != 6 {
			i += int64(binary.LittleEndian.Uint32(b[i+4:]))
		}
		if !bytes.Equal(b[i+28:i+28+int64(p.CaptureLength)], p.Data) {
			t.Errorf("packet %d: the block at %d does not hold it", p.Number, i)
		}
	}
}

func TestReaderTruncated(t *testing.T) {
	for _, name := range []string{"truncated.pcap", "truncated.pcap.gz"} {
		t.Run(name, func(t *testing.T) {
			b := readFixture(t, "truncated.pcap")
			if name == "truncated.pcap.gz" {
				b = gz(t, b)
			}
			_, pkts, err := readAll(t, b)
			if len(pkts) != 12 {
				t.Errorf("%d packets before the cut, want 12", len(pkts))
			}
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, ErrTruncated) {
				t.Fatalf("error %v, want a truncation *ReadError", err)
			}
			if re.Packet != 13 || re.Offset != 993 {
				t.Errorf("at packet %d offset %d, want 13 and 993", re.Packet, re.Offset)
			}
			if re.Compressed != (name == "truncated.pcap.gz") {
				t.Errorf("Compressed = %v", re.Compressed)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	pcap := readFixture(t, "tcp-ethernet.pcap")
	ng := readFixture(t, "sll2.pcapng")
	gzipped := readFixture(t, "tcp-ethernet.pcap.gz")
	mutate := func(b []byte, at int, v ...byte) []byte {
		b = append([]byte(nil), b...)
		copy(b[at:], v)
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		kind    error
		packet  int   // of the error
		offset  int64 // of the error; -1: any
		packets int   // read before it
	}{
		{"empty", nil, ErrNotCapture, 0, 0, 0},
		{"text", []byte("hello, world\n"), ErrNotCapture, 0, 0, 0},
		{"short pcap header", pcap[:10], ErrTruncated, 0, 0, 0},
		{"three bytes", pcap[:3], ErrTruncated, 0, 0, 0},
		{"bad pcap version", mutate(pcap, 4, 9), ErrCorrupt, 0, 0, 0},
		// The first record claims 4 GiB; the file holds 1.4 KB.
		{"hostile capture length", mutate(pcap, 24+8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ErrCorrupt, 1, 24, 0},
		{"huge length, same original", mutate(pcap, 24+8, 0, 0, 0, 0x10, 0, 0, 0, 0x10), ErrCorrupt, 1, 24, 0},
		{"cut in a record header", pcap[:24+16+60+5], ErrTruncated, 2, 100, 1},
		{"short pcapng", ng[:20], ErrTruncated, 0, 0, 0},
		{"pcapng block length beyond the file", mutate(ng, epb(ng, 6)+4, 0xff, 0xff, 0xff, 0x7f), ErrTruncated, 6, -1, 5},
		{"pcapng capture length beyond the block", mutate(ng, epb(ng, 2)+20, 0xff, 0xff, 0, 0), ErrTruncated, 2, -1, 1},
		{"pcapng unknown interface", setInterface(ng, 3, 9), ErrCorrupt, 3, -1, 2},
		{"cut gzip", gzipped[:200], ErrTruncated, -1, -1, -1},
		{"corrupt gzip", mutate(gzipped, 100, 0xde, 0xad, 0xbe, 0xef), ErrCorrupt, -1, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, pkts, err := readAll(t, tt.data)
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want a *ReadError of kind %v", err, tt.kind)
			}
			if tt.packet >= 0 && re.Packet != tt.packet {
				t.Errorf("packet %d, want %d (%v)", re.Packet, tt.packet, err)
			}
			if tt.offset >= 0 && re.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", re.Offset, tt.offset, err)
			}
			if tt.packets >= 0 && len(pkts) != tt.packets {
				t.Errorf("%d packets read, want %d", len(pkts), tt.packets)
			}
			if r != nil {
				if _, again := r.Next(); again != err {
					t.Errorf("second Next: %v, want the same error", again)
				}
			}
		})
	}
}

// epb returns the offset of the n-th Enhanced Packet Block (from 1) of a
// little-endian pcapng file.
func epb(b []byte, n int) int {
	for i := 0; i+8 <= len(b); i += int(binary.LittleEndian.Uint32(b[i+4:])) {
		if binary.LittleEndian.Uint32(b[i:]) == 6 {
			if n--; n == 0 {
				return i
			}
		}
	}
	panic("no such block")
}

// setInterface rewrites the interface id of the n-th packet block.
func setInterface(b []byte, n int, id uint32) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[epb(b, n)+8:], id)
	return b
}

func TestReaderMultiSectionConcatenated(t *testing.T) {
	one := readFixture(t, "sll2.pcapng")
	_, pkts, err := readAll(t, bytes.Join([][]byte{one, one, one}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 18 {
		t.Fatalf("%d packets, want 18", len(pkts))
	}
	if pkts[17].Offset < int64(2*len(one)) {
		t.Errorf("offset of the last packet %d is not in the third copy", pkts[17].Offset)
	}
}

func TestReaderAllocs(t *testing.T) {
	for _, name := range []string{"tcp-ethernet.pcap", "multi.pcapng"} {
		t.Run(name, func(t *testing.T) {
			b := bytes.Repeat(readFixture(t, name), 1)
			if name == "tcp-ethernet.pcap" {
				// Many records after one header.
				rec := b[24:]
				b = append(b, bytes.Repeat(rec, 50)...)
			} else {
				b = bytes.Repeat(b, 50)
			}
			br := bytes.NewReader(b)
			r, err := NewReader(br)
			if err != nil {
				t.Fatal(err)
			}
			for range 20 { // warm the buffers
				r.Next()
			}
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet, want 0", allocs)
			}
		})
	}
}

func readFixtureBytes(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(fixtureDir, name))
}
