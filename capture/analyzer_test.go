package capture

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// analyze runs a capture through Reader, Decoder and Analyzer.
func analyze(t *testing.T, data []byte, opt Options) ([]result.Port, []result.Host, *Analyzer) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := NewDecoder()
	an := NewAnalyzer(opt)
	var d Decoded
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		dec.Decode(p.LinkType, p.Data, &d)
		an.Add(p.Time, &d)
	}
	rs, hs := report(an)
	return rs, hs, an
}

func report(an *Analyzer) ([]result.Port, []result.Host) {
	var rs []result.Port
	var hs []result.Host
	an.Report(result.Funcs{
		OnPort: func(r result.Port) { rs = append(rs, r) },
		OnHost: func(h result.Host) { hs = append(hs, h) },
	})
	return rs, hs
}

// brief is a result as "addr port/proto state reason".
func brief(rs []result.Port) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%v %v %v %s", r.Host, r.Port, r.State, r.Reason)
	}
	return out
}

func TestAnalyzerFixtures(t *testing.T) {
	label := services.Default().Lookup
	tests := []struct {
		file string
		want []string
	}{
		{"tcp-ethernet.pcap", []string{
			"10.0.0.5 22/tcp open mid-stream",
			"10.0.0.5 80/tcp open syn-ack",
			"10.0.0.5 3306/tcp filtered no-response",
			"10.0.0.5 8080/tcp closed reset",
		}},
		{"udp-vlan.pcap", []string{
			"10.1.0.5 161/udp closed port-unreach",
			"10.1.0.5 514/udp open|filtered no-response",
			"10.1.0.53 53/udp open udp-response",
		}},
		{"ipv6-sll.pcap", []string{
			"2001:db8::5 443/tcp open syn-ack",
			"2001:db8::5 123/udp closed port-unreach",
		}},
		{"sll2.pcapng", []string{
			"192.168.7.1 25/tcp open syn-ack",
			"192.168.7.1 110/tcp filtered admin-prohibited",
		}},
		{"multi.pcapng", []string{
			"10.2.0.5 22/tcp open syn-ack",
			"10.2.0.6 23/tcp closed reset",
			"10.2.0.7 69/udp open|filtered no-response",
			"127.0.0.1 6379/tcp closed reset",
			"2001:db8::53 53/udp open udp-response",
		}},
		{"loopback.pcap", []string{
			"127.0.0.1 6379/tcp closed reset",
			"127.0.0.53 53/udp open udp-response",
			"::1 5432/tcp open syn-ack",
		}},
		{"lab-lo.pcap", []string{ // recorded by tcpdump: record-lab.sh
			"127.0.0.2 22/tcp open syn-ack",
			"127.0.0.2 23/tcp closed reset",
			"127.0.0.2 80/tcp open syn-ack",
			"127.0.0.2 53/udp open udp-response",
			"127.0.0.2 161/udp closed port-unreach",
		}},
		{"dhcp.pcap", []string{
			"10.4.0.1 67/udp open udp-response",
			"fe80::1 547/udp open udp-response",
		}},
		{"raw.pcap.gz", []string{
			"172.16.0.5 443/tcp open syn-ack",
			"2001:db8:1::5 80/tcp closed reset",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rs, hs, _ := analyze(t, readFixture(t, tt.file), Options{Label: label})
			if got := brief(rs); !equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
			for _, r := range rs {
				if r.Source != "pcap" || r.Evidence == nil {
					t.Errorf("%v: source %q evidence %v", r.Port, r.Source, r.Evidence)
				}
				if e := label(r.Port); r.Service != e {
					t.Errorf("%v: service %v, want %v", r.Port, r.Service, e)
				}
			}
			for _, h := range hs {
				if !h.Up || h.Source != "pcap" {
					t.Errorf("host %+v", h)
				}
			}
		})
	}
}

func TestAnalyzerEvidence(t *testing.T) {
	rs, hs, an := analyze(t, readFixture(t, "tcp-ethernet.pcap"), Options{Label: services.Default().Lookup})
	var http result.Port
	for _, r := range rs {
		if r.Port.Number == 80 {
			http = r
		}
	}
	want := result.Evidence{Flows: 2, Clients: 2, PacketsIn: 6, PacketsOut: 4, BytesIn: 40*5 + 69, BytesOut: 40*3 + 80,
		FirstSeen: t0.Add(ms(1)), LastSeen: t0.Add(ms(1042))}
	if *http.Evidence != want {
		t.Errorf("evidence\n%+v\nwant\n%+v", *http.Evidence, want)
	}
	if http.RTT != time.Millisecond || !http.Time.Equal(t0.Add(ms(2))) {
		t.Errorf("rtt %v time %v, want 1ms and the first SYN-ACK", http.RTT, http.Time)
	}
	if len(hs) != 1 || hs[0].Counts[result.Open] != 2 || hs[0].Counts[result.Closed] != 1 || hs[0].Counts[result.Filtered] != 1 {
		t.Errorf("hosts %+v", hs)
	}
	c := an.Counters()
	if c.Packets != 18 || c.Used != 16 || c.Skipped[SkipNotIP] != 1 || c.Skipped[SkipICMP] != 1 || c.Flows != 5 {
		t.Errorf("counters %+v", c)
	}
	if first, last := an.Span(); !first.Equal(t0) || !last.Equal(t0.Add(ms(1050))) {
		t.Errorf("span %v %v", first, last)
	}
}

// feeder hands made-up packets to an Analyzer.
type feeder struct {
	an *Analyzer
}

func (f feeder) tcp(at time.Duration, src, dst ep, flags TCPFlags, seq uint32) {
	d := Decoded{Kind: TCP, Src: src.addr, Dst: dst.addr, IPLen: 40, Proto: ports.TCP, SrcPort: src.port, DstPort: dst.port, Flags: flags, Seq: seq}
	f.an.Add(t0.Add(at), &d)
}

func (f feeder) udp(at time.Duration, src, dst ep) {
	d := Decoded{Kind: UDP, Src: src.addr, Dst: dst.addr, IPLen: 30, Proto: ports.UDP, SrcPort: src.port, DstPort: dst.port}
	f.an.Add(t0.Add(at), &d)
}

func TestAnalyzerCases(t *testing.T) {
	label := services.Default().Lookup
	c, s := at("10.9.0.2", 40000), at("10.9.0.1", 8443)
	tests := []struct {
		name string
		feed func(f feeder)
		want []string
	}{
		{"mid-stream, lower port is the server", func(f feeder) {
			f.tcp(0, c, s, ACK|PSH, 1)
			f.tcp(1, s, c, ACK|PSH, 1)
		}, []string{"10.9.0.1 8443/tcp open mid-stream"}},
		{"mid-stream, catalog port beats lower port", func(f feeder) {
			f.tcp(0, at("10.9.0.2", 1000), at("10.9.0.1", 3306), ACK, 1)
			f.tcp(1, at("10.9.0.1", 3306), at("10.9.0.2", 1000), ACK, 1)
		}, []string{"10.9.0.1 3306/tcp open mid-stream"}},
		{"only the client side captured", func(f feeder) {
			f.tcp(0, c, s, ACK|PSH, 1)
		}, nil},
		{"closed, then opened on the same ports", func(f feeder) {
			f.tcp(0, c, s, SYN, 100)
			f.tcp(1, s, c, RST|ACK, 0)
			f.tcp(5000, c, s, SYN, 900)
			f.tcp(5001, s, c, SYN|ACK, 1)
		}, []string{"10.9.0.1 8443/tcp open syn-ack"}},
		{"SYN-ACK without its SYN", func(f feeder) {
			f.tcp(0, s, c, SYN|ACK, 1)
		}, []string{"10.9.0.1 8443/tcp open syn-ack"}},
		{"retransmitted SYN is one flow", func(f feeder) {
			f.tcp(0, c, s, SYN, 7)
			f.tcp(1000, c, s, SYN, 7)
			f.tcp(3000, c, s, SYN, 7)
		}, []string{"10.9.0.1 8443/tcp filtered no-response"}},
		{"UDP reply seen, request not", func(f feeder) {
			f.udp(0, at("10.9.0.53", 53), at("10.9.0.2", 53000))
		}, []string{"10.9.0.53 53/udp open udp-response"}},
		{"UDP between equal ports: the first sender is the client", func(f feeder) {
			f.udp(0, at("10.9.0.2", 123), at("10.9.0.1", 123))
			f.udp(1, at("10.9.0.1", 123), at("10.9.0.2", 123))
		}, []string{"10.9.0.1 123/udp open udp-response"}},
		{"UDP one way to a high port is not reported", func(f feeder) {
			f.udp(0, at("10.9.0.2", 5004), at("10.9.0.1", 40000))
		}, nil},
		{"multicast and broadcast are not servers", func(f feeder) {
			f.udp(0, at("10.9.0.2", 5353), at("224.0.0.251", 5353))
			f.udp(1, at("10.9.0.2", 68), at("255.255.255.255", 67))
			f.udp(2, at("fe80::1", 546), at("ff02::1:2", 547))
		}, nil},
		{"DHCP: the server answers a broadcast DISCOVER at the offered address", func(f feeder) {
			f.udp(0, at("0.0.0.0", 68), at("255.255.255.255", 67))
			f.udp(1, at("10.9.0.1", 67), at("10.9.0.50", 68))
			f.udp(2, at("0.0.0.0", 68), at("255.255.255.255", 67))
			f.udp(3, at("10.9.0.1", 67), at("10.9.0.50", 68))
		}, []string{"10.9.0.1 67/udp open udp-response"}},
		{"DHCP: the server answers by broadcast", func(f feeder) {
			f.udp(0, at("0.0.0.0", 68), at("255.255.255.255", 67))
			f.udp(1, at("10.9.0.1", 67), at("255.255.255.255", 68))
		}, []string{"10.9.0.1 67/udp open udp-response"}},
		{"DHCP: the answer without its request", func(f feeder) {
			f.udp(0, at("10.9.0.1", 67), at("10.9.0.50", 68))
		}, []string{"10.9.0.1 67/udp open udp-response"}},
		{"DHCP: a renewal is unicast", func(f feeder) {
			f.udp(0, at("10.9.0.50", 68), at("10.9.0.1", 67))
			f.udp(1, at("10.9.0.1", 67), at("10.9.0.50", 68))
		}, []string{"10.9.0.1 67/udp open udp-response"}},
		{"DHCPv6: the server answers a multicast SOLICIT from its link-local address", func(f feeder) {
			f.udp(0, at("fe80::c", 546), at("ff02::1:2", 547))
			f.udp(1, at("fe80::5", 547), at("fe80::c", 546))
			f.udp(2, at("fe80::c", 546), at("ff02::1:2", 547))
			f.udp(3, at("fe80::5", 547), at("fe80::c", 546))
		}, []string{"fe80::5 547/udp open udp-response"}},
		{"a unicast answer to a broadcast query between equal ports", func(f feeder) {
			f.udp(0, at("10.9.0.2", 137), at("255.255.255.255", 137))
			f.udp(1, at("10.9.0.1", 137), at("10.9.0.2", 137))
		}, []string{"10.9.0.1 137/udp open udp-response"}},
		{"a datagram to another host is no answer to a broadcast", func(f feeder) {
			f.udp(0, at("10.9.0.2", 137), at("255.255.255.255", 137))
			f.udp(1, at("10.9.0.1", 137), at("10.9.0.7", 137))
		}, []string{"10.9.0.7 137/udp open|filtered no-response"}},
		{"a datagram long after a broadcast is no answer to it", func(f feeder) {
			f.udp(0, at("10.9.0.2", 137), at("255.255.255.255", 137))
			f.udp(DefaultIdleTimeout+time.Second, at("10.9.0.1", 137), at("10.9.0.2", 137))
		}, []string{"10.9.0.2 137/udp open|filtered no-response"}},
		{"a second query to a group address is no answer to the first", func(f feeder) {
			f.udp(0, at("10.9.0.2", 5353), at("224.0.0.251", 5353))
			f.udp(1, at("10.9.0.3", 5353), at("224.0.0.251", 5353))
		}, nil},
		{"an answer to a broadcast asks nothing itself", func(f feeder) {
			f.udp(0, at("0.0.0.0", 68), at("255.255.255.255", 67))
			f.udp(1, at("10.9.0.1", 67), at("255.255.255.255", 68))
			f.udp(2, at("10.9.0.9", 68), at("10.9.0.1", 67))
		}, []string{"10.9.0.1 67/udp open udp-response"}},
		{"open beats closed for one service", func(f feeder) {
			f.tcp(0, at("10.9.0.3", 40000), s, SYN, 1)
			f.tcp(1, s, at("10.9.0.3", 40000), RST|ACK, 0)
			f.tcp(2, at("10.9.0.4", 40000), s, SYN, 1)
			f.tcp(3, s, at("10.9.0.4", 40000), SYN|ACK, 0)
		}, []string{"10.9.0.1 8443/tcp open syn-ack"}},
		{"port unreachable from a router is filtered", func(f feeder) {
			d := Decoded{Kind: ICMPError, Src: netip.MustParseAddr("10.9.0.254"), Dst: c.addr, IPLen: 56, Proto: ports.UDP, ICMPType: 3, ICMPCode: 3,
				Quote: Quote{Src: c.addr, Dst: s.addr, Proto: ports.UDP, SrcPort: c.port, DstPort: 161}}
			f.an.Add(t0, &d)
		}, []string{"10.9.0.1 161/udp filtered port-unreach"}},
		{"port unreachable for a client's port is not about the server", func(f feeder) {
			f.udp(0, c, at("10.9.0.1", 53))
			f.udp(1, at("10.9.0.1", 53), c)
			d := Decoded{Kind: ICMPError, Src: c.addr, Dst: s.addr, IPLen: 56, Proto: ports.UDP, ICMPType: 3, ICMPCode: 3,
				Quote: Quote{Src: s.addr, Dst: c.addr, Proto: ports.UDP, SrcPort: 53, DstPort: c.port}}
			f.an.Add(t0.Add(2), &d)
		}, []string{"10.9.0.1 53/udp open udp-response"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := NewAnalyzer(Options{Label: label})
			tt.feed(feeder{an})
			rs, _ := report(an)
			if got := brief(rs); !equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAnalyzerBroadcastAnswer checks the evidence of a server found by
// its answer to a broadcast: the time from the request to the answer, and
// the packets of the answer's own flow.
func TestAnalyzerBroadcastAnswer(t *testing.T) {
	an := NewAnalyzer(Options{Label: services.Default().Lookup})
	f := feeder{an}
	f.udp(0, at("0.0.0.0", 68), at("255.255.255.255", 67))
	f.udp(ms(3), at("10.9.0.1", 67), at("10.9.0.50", 68))
	if got := an.LastServer(); got != SideSrc {
		t.Errorf("LastServer of the OFFER %v, want %v", got, SideSrc)
	}
	rs, _ := report(an)
	if len(rs) != 1 {
		t.Fatalf("results %q", brief(rs))
	}
	if rs[0].RTT != ms(3) || !rs[0].Time.Equal(t0.Add(ms(3))) {
		t.Errorf("rtt %v time %v, want 3ms and the OFFER's", rs[0].RTT, rs[0].Time)
	}
	if e := rs[0].Evidence; e.Flows != 1 || e.PacketsOut != 1 || e.PacketsIn != 0 {
		t.Errorf("evidence %+v", e)
	}
	if c := an.Counters(); c.Unknown != 1 {
		t.Errorf("%d flows without a server, want 1: the broadcast", c.Unknown)
	}
}

// TestAnalyzerRequestsFlat sends datagrams to broadcast from many ports
// and checks that the requests remembered stay within their bound.
func TestAnalyzerRequestsFlat(t *testing.T) {
	an := NewAnalyzer(Options{})
	f := feeder{an}
	for i := range 100000 {
		f.udp(time.Duration(i)*time.Microsecond, at("10.9.0.2", uint16(1+i%65535)), at("255.255.255.255", uint16(1+i/65535)))
	}
	if n := len(an.requests); n > maxRequests {
		t.Errorf("%d requests remembered, want at most %d", n, maxRequests)
	}
}

func TestAnalyzerBounds(t *testing.T) {
	s := at("10.9.0.1", 80)
	t.Run("idle flows are evicted", func(t *testing.T) {
		an := NewAnalyzer(Options{IdleTimeout: time.Minute})
		f := feeder{an}
		f.tcp(0, at("10.9.0.2", 40000), s, SYN, 1)
		f.tcp(ms(1), s, at("10.9.0.2", 40000), SYN|ACK, 1)
		f.tcp(2*time.Minute, at("10.9.0.3", 40000), s, SYN, 1)
		if c := an.Counters(); c.Idle != 1 || an.flows.len() != 1 {
			t.Errorf("idle %d, %d flows left; want 1 and 1", c.Idle, an.flows.len())
		}
		rs, _ := report(an)
		if len(rs) != 1 || rs[0].State != result.Open || rs[0].Evidence.Flows != 2 {
			t.Errorf("results %q", brief(rs))
		}
	})
	t.Run("a full table evicts the least recently active", func(t *testing.T) {
		an := NewAnalyzer(Options{MaxFlows: 2})
		f := feeder{an}
		for i := range 5 {
			c := at(fmt.Sprintf("10.9.1.%d", i), 40000)
			f.tcp(ms(2*i), c, s, SYN, 1)
			f.tcp(ms(2*i+1), s, c, SYN|ACK, 1)
		}
		if c := an.Counters(); c.Full != 3 || an.flows.len() != 2 {
			t.Errorf("full %d, %d flows left; want 3 and 2", c.Full, an.flows.len())
		}
		rs, _ := report(an)
		if len(rs) != 1 || rs[0].Evidence.Flows != 5 || rs[0].Evidence.Clients != 5 {
			t.Errorf("results %+v", rs)
		}
	})
	t.Run("services beyond the limit are counted", func(t *testing.T) {
		an := NewAnalyzer(Options{MaxServices: 2})
		f := feeder{an}
		for i := range 4 {
			srv := at("10.9.0.1", uint16(1000+i))
			f.tcp(ms(2*i), at("10.9.0.2", 40000), srv, SYN, 1)
			f.tcp(ms(2*i+1), srv, at("10.9.0.2", 40000), SYN|ACK, 1)
		}
		rs, _ := report(an)
		if c := an.Counters(); len(rs) != 2 || c.Overflow != 2 {
			t.Errorf("%d results, overflow %d; want 2 and 2", len(rs), c.Overflow)
		}
	})
}

// TestAnalyzerMemoryFlat feeds many short connections from many clients
// to many services and checks that the tables stay within their bounds.
func TestAnalyzerMemoryFlat(t *testing.T) {
	an := NewAnalyzer(Options{MaxFlows: 1000, MaxServices: 100, IdleTimeout: time.Second})
	f := feeder{an}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		c := ep{netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), 1}), uint16(30000 + rng.IntN(30000))}
		srv := ep{netip.AddrFrom4([4]byte{10, 200, 0, byte(rng.IntN(20))}), uint16(1 + rng.IntN(20))}
		at := time.Duration(i) * time.Millisecond
		f.tcp(at, c, srv, SYN, 1)
		f.tcp(at, srv, c, SYN|ACK, 1)
	}
	if n := an.flows.len(); n > 1000 {
		t.Errorf("%d flows held", n)
	}
	if len(an.flows.flows) > 1000 {
		t.Errorf("%d flow slots allocated", len(an.flows.flows))
	}
	rs, _ := report(an)
	if len(rs) != 100 {
		t.Errorf("%d services reported, want the cap of 100", len(rs))
	}
	for _, r := range rs {
		if r.Evidence.Clients > 2000 || r.Evidence.Clients < 100 {
			t.Errorf("%v: %d clients", r.Port, r.Evidence.Clients)
		}
	}
}

func TestClientCounter(t *testing.T) {
	for _, n := range []int{0, 1, ExactClients, ExactClients + 1, 500, 5000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var c clientCounter
			for i := range n {
				a := toAddr16(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
				c.add(a)
				c.add(a) // twice: distinct addresses only
			}
			got := c.count()
			if n <= ExactClients && got != n {
				t.Errorf("count %d, want exactly %d", got, n)
			}
			if n > ExactClients {
				if err := float64(got-n) / float64(n); err > 0.1 || err < -0.1 {
					t.Errorf("count %d for %d clients: off by %.0f%%", got, n, err*100)
				}
			}
		})
	}
}

func TestLastServer(t *testing.T) {
	an := NewAnalyzer(Options{Label: services.Default().Lookup})
	f := feeder{an}
	c, s := at("10.9.0.2", 40000), at("10.9.0.1", 22)
	steps := []struct {
		feed func()
		want Side
	}{
		{func() { f.tcp(0, c, s, SYN, 1) }, SideDst},
		{func() { f.tcp(1, s, c, SYN|ACK, 1) }, SideSrc},
		{func() { f.udp(2, at("10.9.0.2", 5353), at("224.0.0.251", 5353)) }, SideUnknown},
		{func() { an.Add(t0, &Decoded{Skip: SkipNotIP}) }, SideUnknown},
		{func() { f.tcp(3, at("10.9.0.1", 2222), at("10.9.0.2", 41000), ACK, 1) }, SideSrc},
	}
	for i, st := range steps {
		st.feed()
		if got := an.LastServer(); got != st.want {
			t.Errorf("step %d: %v, want %v", i, got, st.want)
		}
	}
}
