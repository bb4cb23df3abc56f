package capture

import (
	"bytes"
	"context"
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

// BenchmarkPipeline measures Analyze reading, decoding and analysing,
// the work of portscan pcap, in packets per second.
func BenchmarkPipeline(b *testing.B) {
	benchAnalyze(b, AnalyzeOptions{})
}

// BenchmarkPipelineTrace adds the packet lines and the annotated copy
// (portscan pcap --packets -w).
func BenchmarkPipelineTrace(b *testing.B) {
	benchAnalyze(b, AnalyzeOptions{Packets: io.Discard, Annotate: io.Discard})
}

func benchAnalyze(b *testing.B, opt AnalyzeOptions) {
	data := benchCapture(b, 2000)
	opt.Label = services.Default().Lookup
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var packets uint64
	for b.Loop() {
		st, err := Analyze(context.Background(), []Source{Stream("bench", bytes.NewReader(data))}, opt, result.Funcs{})
		if err != nil {
			b.Fatal(err)
		}
		packets += st.Counters.Packets
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
