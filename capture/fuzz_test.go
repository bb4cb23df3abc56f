package capture

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gopacket/gopacket/layers"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
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

// FuzzFlow feeds arbitrary payloads through flow detection: a client's
// and a server's first bytes, each split in two segments at split, over
// TCP to port (with its handshake or mid-stream) or, the server's, as a
// UDP reply. Nothing may panic; a detection is on an open port only, by
// MethodCapture, with a banner of one printable line.
func FuzzFlow(f *testing.F) {
	tls12 := readChunks(f, "tls12.txt")
	var flight []byte
	for _, c := range tls12[1:] {
		if c.server {
			flight = append(flight, c.data...)
		}
	}
	f.Add(tls12[0].data, flight, uint16(9443), uint16(100), true, false)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.0 200 OK\r\nServer: nginx/1.2\r\n\r\n"), uint16(8000), uint16(5), false, false)
	f.Add([]byte{}, []byte("SSH-2.0-OpenSSH_9.2p1\r\n"), uint16(2222), uint16(3), true, false)
	f.Add([]byte("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"), []byte("$20\r\n# Server\r\nredis_version:7\r\n"), uint16(7777), uint16(9), true, false)
	f.Add([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x01\x00\x01"),
		[]byte("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x01\x00\x01"), uint16(53), uint16(0), false, true)
	label := services.Default().Lookup
	f.Fuzz(func(t *testing.T, cli, srv []byte, port, split uint16, handshake, udp bool) {
		an := NewAnalyzer(Options{Label: label})
		for _, d := range flowPackets(cli, srv, port, int(split), handshake, udp) {
			an.Add(t0, &d)
		}
		rs, _ := report(an)
		for _, r := range rs {
			d := r.Detected
			if d == nil {
				continue
			}
			if r.State != result.Open || d.Method != result.MethodCapture {
				t.Fatalf("detection %+v on %v %v", d, r.Port, r.State)
			}
			if !utf8.ValidString(d.Banner) || strings.ContainsAny(d.Banner, "\r\n\x00\x1b") {
				t.Fatalf("banner %q", d.Banner)
			}
			if d.TLS != nil && len(d.TLS.SANs) > maxSANs {
				t.Fatalf("%d SANs", len(d.TLS.SANs))
			}
		}
		for _, final := range []bool{false, true} {
			identify(view{port: port, cli: cli, srv: srv, final: final, srvFirst: handshake})
		}
	})
}

// flowPackets makes the decoded packets of a flow from 10.9.0.9:40000 to
// 10.9.0.5:port carrying cli, then srv, each in two segments split at
// split (the second sent twice, as a retransmission).
func flowPackets(cli, srv []byte, port uint16, split int, handshake, udp bool) []Decoded {
	c, s := netip.MustParseAddr("10.9.0.9"), netip.MustParseAddr("10.9.0.5")
	if port == 0 || port == 40000 {
		port = 80
	}
	if udp {
		return []Decoded{
			{Kind: UDP, Proto: ports.UDP, Src: c, Dst: s, SrcPort: 40000, DstPort: port, PayloadLen: len(cli), Payload: cli},
			{Kind: UDP, Proto: ports.UDP, Src: s, Dst: c, SrcPort: port, DstPort: 40000, PayloadLen: len(srv), Payload: srv},
		}
	}
	seq := [2]uint32{100, 900}
	seg := func(server bool, flags TCPFlags, payload []byte) Decoded {
		d := Decoded{Kind: TCP, Proto: ports.TCP, Src: c, Dst: s, SrcPort: 40000, DstPort: port, Flags: flags}
		i := 0
		if server {
			d.Src, d.Dst, d.SrcPort, d.DstPort, i = s, c, port, 40000, 1
		}
		d.Seq, d.Payload, d.PayloadLen = seq[i], payload, len(payload)
		seq[i] += uint32(len(payload))
		if flags&SYN != 0 {
			seq[i]++
		}
		return d
	}
	var ds []Decoded
	if handshake {
		ds = append(ds, seg(false, SYN, nil), seg(true, SYN|ACK, nil))
	}
	for _, side := range []struct {
		server bool
		b      []byte
	}{{false, cli}, {true, srv}} {
		if len(side.b) == 0 {
			continue
		}
		k := min(split, len(side.b))
		ds = append(ds, seg(side.server, PSH|ACK, side.b[:k]))
		second := seg(side.server, PSH|ACK, side.b[k:])
		ds = append(ds, second, second)
	}
	return append(ds, seg(false, FIN|ACK, nil))
}
