package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// benchCapture is every pcapng fixture and the pcap ones rewritten as
// sections, concatenated n times: a multi-section pcapng file.
func benchCapture(b *testing.B, n int) []byte {
	b.Helper()
	var one []byte
	for _, name := range []string{"multi.pcapng", "sll2.pcapng"} {
		data, err := readFixtureBytes(name)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, data...)
	}
	return bytes.Repeat(one, n)
}

// BenchmarkPipeline measures reading, decoding and analysing, the work of
// portscan pcap, in packets per second.
func BenchmarkPipeline(b *testing.B) {
	data := benchCapture(b, 2000)
	label := services.Default().Lookup
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var packets int
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		dec := NewDecoder()
		an := NewAnalyzer(Options{Label: label})
		var d Decoded
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			dec.Decode(p.LinkType, p.Data, &d)
			an.Add(p.Time, &d)
		}
		an.Report(result.Funcs{})
		packets += r.Packets()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDecode measures the decoder alone on an Ethernet TCP segment.
func BenchmarkDecode(b *testing.B) {
	data, err := readFixtureBytes("tcp-ethernet.pcap")
	if err != nil {
		b.Fatal(err)
	}
	r, _ := NewReader(bytes.NewReader(data))
	r.Next()
	p, _ := r.Next() // the first SYN
	frame := append([]byte(nil), p.Data...)
	dec := NewDecoder()
	var d Decoded
	b.ReportAllocs()
	for b.Loop() {
		dec.Decode(p.LinkType, frame, &d)
	}
}
