package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
		// Recorded by tshark (record-tshark.sh): it ends with an Interface
		// Statistics Block after the last packet.
		{"tshark-lo.pcapng", FormatPcapNG, false, 20, []layers.LinkType{layers.LinkTypeEthernet}, time.Unix(1796138965, 704878035).UTC()},
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
		// The reader may have read interface blocks first; the offset is
		// still that of the packet's own block.
		i := p.Offset
		if binary.LittleEndian.Uint32(b[i:]) != 6 || !bytes.Equal(b[i+28:i+28+int64(p.CaptureLength)], p.Data) {
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

// ngBlockLE frames body as a little-endian pcapng block of type typ,
// padding it to 32 bits.
func ngBlockLE(typ uint32, body ...[]byte) []byte {
	var b []byte
	for _, part := range body {
		b = append(b, part...)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(12 + len(b))
	out := binary.LittleEndian.AppendUint32(nil, typ)
	out = binary.LittleEndian.AppendUint32(out, n)
	out = append(out, b...)
	return binary.LittleEndian.AppendUint32(out, n)
}

// le32 and le64 are little-endian fields of a hand-made block.
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// ngOption is a pcapng option: code, length, value padded to 32 bits.
func ngOption(code uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// The blocks dumpcap, tshark and other writers put after the last packet.
var (
	// An Interface Statistics Block as dumpcap writes it when it closes
	// the file: time stamp, start and end times, packets received and
	// dropped, end of options.
	trailingISB = ngBlockLE(5, le32(0), le32(0x6000), le32(0x1000),
		ngOption(2, append(le32(0x6000), le32(0x0100)...)), ngOption(3, append(le32(0x6000), le32(0x1000)...)),
		ngOption(4, le64(3)), ngOption(5, le64(0)), ngOption(0, nil))
	// A Name Resolution Block: 127.0.0.1 is "lab", then the end record.
	trailingNRB = ngBlockLE(4, ngOption(1, append([]byte{127, 0, 0, 1}, "lab\x00"...)), ngOption(0, nil))
	// A Decryption Secrets Block holding a TLS key log line.
	trailingDSB = ngBlockLE(0x0a, le32(0x544c534b), le32(8), []byte("CLIENT_\n"))
	// A custom block (copiable) under the example enterprise number 32473.
	trailingCustom = ngBlockLE(0x00000bad, le32(32473), []byte("portscan"))
	// An Interface Statistics Block for an interface the section lacks.
	badISB = ngBlockLE(5, le32(7), le32(0), le32(0), ngOption(0, nil))
)

// trailingSection makes a second section holding an interface and no
// packet, as a capture file restarted and stopped at once ends.
func trailingSection(t *testing.T) []byte {
	return writeSection(t, []layers.LinkType{layers.LinkTypeEthernet}, nil)
}

// threePackets is a pcapng section of one interface and three packets.
func threePackets(t *testing.T) []byte {
	var fs []frame
	for i := range 3 {
		fs = append(fs, frame{at: ms(i), data: ether(t, tcpSeg(t, at("10.3.0.9", 42000), at("10.3.0.5", 80), "S", 1, 0, ""))})
	}
	return writeSection(t, []layers.LinkType{layers.LinkTypeEthernet}, fs)
}

// TestReaderTrailingBlocks checks that blocks after the last packet are
// read as the end of the file, not as damage: dumpcap, tshark and
// Wireshark end every file with an Interface Statistics Block.
func TestReaderTrailingBlocks(t *testing.T) {
	base := threePackets(t)
	cat := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{base}, parts...), nil) }
	tests := []struct {
		name string
		data []byte
	}{
		{"interface statistics", cat(trailingISB)},
		{"two interface statistics", cat(trailingISB, trailingISB)},
		{"name resolution", cat(trailingNRB)},
		{"decryption secrets", cat(trailingDSB)},
		{"custom block", cat(trailingCustom)},
		{"new section without packets", cat(trailingSection(t))},
		{"new section, then statistics", cat(trailingISB, trailingSection(t), trailingISB)},
		{"all of them", cat(trailingNRB, trailingDSB, trailingCustom, trailingISB, trailingSection(t), trailingISB)},
		{"all of them, gzip", gz(t, cat(trailingNRB, trailingDSB, trailingCustom, trailingISB, trailingSection(t), trailingISB))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, pkts, err := readAll(t, tt.data)
			if err != nil {
				t.Fatalf("error %v, want the clean end of the file", err)
			}
			if len(pkts) != 3 || r.Packets() != 3 {
				t.Errorf("%d packets, want 3", len(pkts))
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after the end: %v, want io.EOF", err)
			}
		})
	}
}

// TestReaderTrailingBlockCut checks that a block after the last packet
// that is cut short is damage, named by its type and offset.
func TestReaderTrailingBlockCut(t *testing.T) {
	base := threePackets(t)
	end := int64(len(base))
	cat := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{base}, parts...), nil) }
	section := trailingSection(t)
	tests := []struct {
		name   string
		data   []byte
		kind   error
		block  uint32
		offset int64
		msg    string
	}{
		{"statistics cut in the middle", cat(trailingISB[:len(trailingISB)/2]), ErrTruncated, 5, end,
			"interface statistics block after packet 3 at byte offset %d: truncated capture: unexpected EOF"},
		{"statistics cut in its header", cat(trailingISB[:5]), ErrTruncated, 5, end, ""},
		{"statistics without its closing length", cat(trailingISB[:len(trailingISB)-4]), ErrTruncated, 5, end, ""},
		{"statistics cut, gzip", gz(t, cat(trailingISB[:len(trailingISB)/2])), ErrTruncated, 5, end, ""},
		{"name resolution cut after statistics", cat(trailingISB, trailingNRB[:14]), ErrTruncated, 4, end + int64(len(trailingISB)),
			"name resolution block after packet 3 at byte offset %d: truncated capture"},
		{"decryption secrets cut", cat(trailingDSB[:18]), ErrTruncated, 0x0a, end, ""},
		{"custom block cut", cat(trailingCustom[:len(trailingCustom)-1]), ErrTruncated, 0xbad, end, ""},
		{"section header cut", cat(section[:20]), ErrTruncated, 0x0a0d0d0a, end, ""},
		{"interface of a new section cut", cat(section[:len(section)-3]), ErrTruncated, 1, end + int64(binary.LittleEndian.Uint32(section[4:])), ""},
		{"statistics for no interface", cat(badISB), ErrCorrupt, 5, end,
			"interface statistics block after packet 3 at byte offset %d: corrupt capture: Interface id 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, pkts, err := readAll(t, tt.data)
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want a *ReadError of kind %v", err, tt.kind)
			}
			if len(pkts) != 3 || re.Packet != 4 {
				t.Errorf("%d packets, error at packet %d; want 3 and 4", len(pkts), re.Packet)
			}
			if re.Block != tt.block || re.Offset != tt.offset {
				t.Errorf("block type %#x at %d, want %#x at %d (%v)", re.Block, re.Offset, tt.block, tt.offset, err)
			}
			if tt.msg != "" {
				if want := fmt.Sprintf(tt.msg, tt.offset); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want it to begin %q", err, want)
				}
			}
			if _, again := r.Next(); again != err {
				t.Errorf("second Next: %v, want the same error", again)
			}
		})
	}
}
