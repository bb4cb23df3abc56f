package raw

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestTemplate checks that a frame patched from a template is, byte for
// byte, the frame gopacket serializes for the same segment, checksums
// included.
func TestTemplate(t *testing.T) {
	cases := []struct {
		name     string
		seg      Segment
		src, dst []byte
	}{
		{name: "ipv4", seg: Segment{SrcMAC: macUs, DstMAC: macThem, Src: us4, Dst: them4, Flags: FlagSYN, MSS: 1460}},
		{name: "ipv6", seg: Segment{SrcMAC: macUs, DstMAC: macThem, Src: us6, Dst: them6, Flags: FlagSYN, MSS: 1460}},
		{name: "loopback", seg: Segment{Src: us4, Dst: us4, Flags: FlagSYN, MSS: 1460}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := NewBuilder().Template(c.seg)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, tmpl.Len())
			b := NewBuilder()
			for i := range 5000 {
				s := c.seg
				s.SrcPort, s.DstPort, s.Seq, s.ID = uint16(rng.Uint32()), uint16(rng.Uint32()), rng.Uint32(), uint16(rng.Uint32())
				switch i { // the extremes of each field
				case 0:
					s.SrcPort, s.DstPort, s.Seq, s.ID = 0, 0, 0, 0
				case 1:
					s.SrcPort, s.DstPort, s.Seq, s.ID = 0xffff, 0xffff, 0xffffffff, 0xffff
				}
				want, err := b.TCP(s)
				if err != nil {
					t.Fatal(err)
				}
				got := tmpl.Put(buf, s.SrcPort, s.DstPort, s.Seq, s.ID)
				if !bytes.Equal(got, want) {
					t.Fatalf("ports %d-%d seq %#x id %#x:\n got %x\nwant %x", s.SrcPort, s.DstPort, s.Seq, s.ID, got, want)
				}
			}
		})
	}
}

// BenchmarkTemplate and BenchmarkBuilderTCP compare the two ways of
// building a SYN.
func BenchmarkTemplate(b *testing.B) {
	tmpl, err := NewBuilder().Template(Segment{Src: us4, Dst: us4, Flags: FlagSYN, MSS: 1460})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, tmpl.Len())
	i := uint32(0)
	for b.Loop() {
		i++
		tmpl.Put(buf, 61000, uint16(i), i*2654435761, uint16(i))
	}
}

func BenchmarkBuilderTCP(b *testing.B) {
	bld := NewBuilder()
	i := uint32(0)
	for b.Loop() {
		i++
		if _, err := bld.TCP(Segment{Src: us4, Dst: us4, SrcPort: 61000, DstPort: uint16(i), Seq: i * 2654435761, ID: uint16(i), Flags: FlagSYN, MSS: 1460}); err != nil {
			b.Fatal(err)
		}
	}
}
