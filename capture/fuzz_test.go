package capture

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/portscan/portscan/services"
)

// FuzzReader feeds arbitrary files to Reader, and what it reads on to the
// decoder and the analyzer. Nothing may panic; every error must be a
// *ReadError; a file of n bytes yields at most about n/16 packets; and no
// packet may hold more bytes than the file.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"tcp-ethernet.pcap", "udp-vlan.pcap", "multi.pcapng", "sll2.pcapng", "raw.pcap.gz", "truncated.pcap", "tshark-lo.pcapng"} {
		b, err := readFixtureBytes(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	label := services.Default().Lookup
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *ReadError", err)
			}
			return
		}
		dec := NewDecoder()
		an := NewAnalyzer(Options{Label: label, MaxFlows: 64, MaxServices: 64})
		var d Decoded
		var line []byte
		for n := 0; ; n++ {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var re *ReadError
				if !errors.As(err, &re) || re.Packet != n+1 {
					t.Fatalf("error %v after %d packets", err, n)
				}
				break
			}
			if !r.Compressed() && (len(p.Data) > len(data) || p.Offset > int64(len(data))) {
				t.Fatalf("packet of %d bytes at %d from a %d-byte file", len(p.Data), p.Offset, len(data))
			}
			if !r.Compressed() && n > len(data)/12 {
				t.Fatalf("%d packets from %d bytes", n, len(data))
			}
			dec.Decode(p.LinkType, p.Data, &d)
			an.Add(p.Time, &d)
			line = AppendLine(line[:0], p, &d, an.LastServer(), label)
			_ = Comment(&d, an.LastServer(), label, "en")
		}
		rs, _ := report(an)
		for _, res := range rs {
			if res.Evidence == nil || res.Evidence.Flows == 0 {
				t.Fatalf("result without evidence: %+v", res)
			}
		}
	})
}

// sameAsParser checks that the fast path, where it decoded the frame,
// decoded it as the layer parser does.
func sameAsParser(t *testing.T, dec *Decoder, lt layers.LinkType, frame []byte, got *Decoded) {
	t.Helper()
	var f Decoded
	if !fast(lt, frame, &f) {
		return
	}
	var want Decoded
	dec.decode(lt, frame, &want)
	if !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("payload %q, the parser's %q", got.Payload, want.Payload)
	}
	g, w := *got, want
	g.Payload, w.Payload = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("fast path %+v\nthe parser %+v", g, w)
	}
}

// FuzzDecode feeds arbitrary frames of each link type to the decoder and
// the analyzer, and checks that the decoder's fast path, where it takes a
// frame, decodes it as the layer parser does.
func FuzzDecode(f *testing.F) {
	for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeRaw} {
		f.Add(uint16(lt), []byte{})
	}
	for _, name := range []string{"tcp-ethernet.pcap", "udp-vlan.pcap", "ipv6-sll.pcap", "multi.pcapng", "loopback.pcap", "dhcp.pcap", "detect.pcap"} {
		b, err := readFixtureBytes(name)
		if err != nil {
			f.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			f.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			f.Add(uint16(p.LinkType), append([]byte(nil), p.Data...))
		}
	}
	label := services.Default().Lookup
	dec := NewDecoder()
	an := NewAnalyzer(Options{Label: label, MaxFlows: 16, MaxServices: 16})
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		var d Decoded
		dec.Decode(layers.LinkType(lt), frame, &d)
		sameAsParser(t, dec, layers.LinkType(lt), frame, &d)
		if (d.Kind == Skipped) == (d.Skip == NotSkipped) {
			t.Fatalf("kind %v with skip %v", d.Kind, d.Skip)
		}
		if d.Kind == TCP || d.Kind == UDP {
			if d.SrcPort == 0 || d.DstPort == 0 || !d.Src.IsValid() || !d.Dst.IsValid() {
				t.Fatalf("decoded %+v", d)
			}
		}
		p := Packet{LinkType: layers.LinkType(lt), Data: frame, Length: len(frame), CaptureLength: len(frame)}
		an.Add(t0, &d)
		AppendLine(nil, &p, &d, an.LastServer(), label)
	})
}
