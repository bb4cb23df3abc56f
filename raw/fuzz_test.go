package raw

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedFrames are the frames the fuzz test starts from; testdata holds
// them too (PORTSCAN_WRITE_CORPUS=1 go test -run TestWriteCorpus
// rewrites them), with the crashers fuzzing found, once fixed.
func seedFrames(t testing.TB) map[string][]byte {
	syn4 := probeDatagram(t, us4, them4, 61000, 443, 0xdeadbeef)
	syn6 := probeDatagram(t, us6, them6, 61001, 443, 0xcafef00d)
	echo4, ts4, echo6, udp4, udp6 := pingFrames(t)
	return map[string][]byte{
		"seed-echo-reply":      asReply(t, echo4, 0),
		"seed-timestamp-reply": asReply(t, ts4, 14),
		"seed-echo6-reply":     asReply(t, echo6, 129),
		"seed-udp6":            asUDPReply(t, udp6),
		"seed-udp-unreach":     icmpError(t, them4, us4, 3, 3, udp4[ethLen:], -1),
		"seed-synack4":         reply(t, them4, us4, 443, 61000, FlagSYN|FlagACK, 5, 0xdeadbef0),
		"seed-synack6":         reply(t, them6, us6, 443, 61001, FlagSYN|FlagACK, 5, 0xcafef00e),
		"seed-rst-options":     withIPOptions(t, reply(t, them4, us4, 443, 61000, FlagRST|FlagACK, 0, 9)),
		"seed-icmp-router":     icmpError(t, router4, us4, 3, 13, syn4, 28),
		"seed-icmp-full":       icmpError(t, them4, us4, 3, 3, syn4, -1),
		"seed-icmp-short":      icmpError(t, them4, us4, 3, 3, syn4, 24),
		"seed-icmp6":           icmpError(t, them6, us6, 1, 4, syn6, -1),
		"seed-icmp6-exceeded":  icmpError(t, them6, us6, 3, 0, syn6, 44),
		"seed-arp-reply":       arpReply(t, 2),
		"seed-na":              neighborAdvert(t, true),
		"seed-na-bare":         neighborAdvert(t, false),
	}
}

func TestWriteCorpus(t *testing.T) {
	if os.Getenv("PORTSCAN_WRITE_CORPUS") == "" {
		t.Skip("PORTSCAN_WRITE_CORPUS=1 rewrites testdata/fuzz/FuzzDecode")
	}
	for name, f := range seedFrames(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", f)
		if err := os.WriteFile(filepath.Join("testdata/fuzz/FuzzDecode", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecode feeds the decoder any bytes, as the network may: it must
// never panic, must read a frame the same way twice, and what it returns
// must be whole for its kind.
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames(f) {
		f.Add(fr)
	}
	d1, d2 := NewDecoder(), NewDecoder()
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := d1.Decode(frame)
		again, err2 := d2.Decode(append([]byte(nil), frame...))
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(p, again) {
			t.Fatalf("decoded twice differently: %+v (%v) and %+v (%v)", p, err, again, err2)
		}
		if err != nil {
			if !reflect.DeepEqual(p, Packet{}) {
				t.Fatalf("error %v with a packet %+v", err, p)
			}
			return
		}
		switch p.Kind {
		case KindTCP:
			if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() {
				t.Fatalf("TCP with addresses %v %v", p.Src, p.Dst)
			}
		case KindICMP:
			if !p.Src.IsValid() || !p.ICMP.Quote.Src.IsValid() || !p.ICMP.Quote.Dst.IsValid() {
				t.Fatalf("ICMP with addresses %v, quoting %v %v", p.Src, p.ICMP.Quote.Src, p.ICMP.Quote.Dst)
			}
		case KindEcho, KindUDP:
			if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() || p.Kind == KindEcho && p.Echo.V6 == p.Src.Is4() {
				t.Fatalf("%v with addresses %v %v: %+v", p.Kind, p.Src, p.Dst, p)
			}
		case KindNeighbor:
			if !p.Neighbor.Addr.IsValid() || len(p.Neighbor.MAC) != 6 {
				t.Fatalf("neighbour %v at %v", p.Neighbor.Addr, p.Neighbor.MAC)
			}
		}
	})
}
