package output

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/internal/htmlpage/pagetest"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// hostile is what a hostile server, capture or file may put in any field.
const hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\u202eevil\u2066\x1b[2J\x07\x00\xff\xfe&amp;</style></title>"

func hostileScenario() scenario {
	a := netip.MustParseAddr("127.0.0.9")
	e := &services.Entry{Port: ports.Port{Number: 8443, Proto: ports.TCP}, Name: hostile, Description: hostile, DescriptionEn: hostile, Source: hostile}
	cert := &result.TLS{Version: "TLS 1.3", Subject: "CN=" + hostile, Issuer: hostile, SANs: []string{hostile}, SNI: hostile, NotAfter: t0.Add(-time.Hour), SelfSigned: true}
	svc := result.Service{Name: hostile, Product: hostile, Version: hostile, Info: hostile, CPE: []string{hostile}, Method: result.MethodProbe, Confidence: 7, Banner: hostile, TLS: cert}
	p := res(a, hostile, 8443, ports.TCP, result.Open, hostile, 100, 10, e)
	p.port.Detected = &svc
	p2 := res(a, hostile, 9, ports.TCP, result.Open, hostile, 100, 10, nil)
	return scenario{
		name: "hostile",
		opt:  Options{Reason: true, Title: hostile},
		info: result.Info{Args: []string{"portscan", hostile}, Start: t0, ScanType: "connect", Version: hostile, Lang: "en"},
		events: []event{p, p2,
			hostEv(result.Host{Addr: a, Hostname: hostile, Up: true, Reason: hostile, Counts: map[result.State]int{result.Open: 2, result.Closed: 3}, Start: t0, End: at(10)})},
		stats: result.Summary{Start: t0, End: at(20), HostsUp: 1, Open: 2},
	}
}

// TestHTMLHostile feeds hostile strings to every field the page shows,
// in the text and in attributes, and checks that they show as text.
func TestHTMLHostile(t *testing.T) {
	sc := hostileScenario()
	out := render(t, "html", sc)
	text := pagetest.Check(t, out)
	shown := `<script>alert(1)</script>"'><img src=x onerror=alert(2)>\u202eevil\u2066\x1b[2J\a\x00\xff\xfe&amp;</style></title>`
	if n := strings.Count(text, shown); n < 5 {
		t.Errorf("the hostile string shows %d times as text, want it in the title, the host, the service, the version and the reason:\n%s", n, text)
	}
	for _, bad := range []string{"<img", "onerror=alert(2)>", "</style></title>"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
}

// TestHTMLGrowsLinearly renders runs of n and 2n hosts and checks that
// the page's size grows with the rows, not faster: what is written at
// End (summary, chart, heat map) is bounded.
func TestHTMLGrowsLinearly(t *testing.T) {
	size := func(hosts int) int {
		var buf bytes.Buffer
		w, err := New("html", &buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		w.Begin(result.Info{ScanType: "connect", Start: t0})
		for i := range hosts {
			a := netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)})
			for p := range uint16(5) {
				w.Port(result.Port{Host: a, Port: ports.Port{Number: 1000 + uint16(i%300) + p, Proto: ports.TCP}, State: result.Open, Reason: result.ReasonSynAck, Service: ssh})
			}
			w.Host(result.Host{Addr: a, Up: true, Counts: map[result.State]int{result.Open: 5}, Seq: uint64(i + 1)})
		}
		if err := w.End(result.Summary{Start: t0, End: at(1000), HostsUp: hosts, Open: 5 * hosts}); err != nil {
			t.Fatal(err)
		}
		return buf.Len()
	}
	// Past the caps of the charts, each 2000 hosts more add as much.
	s2, s4, s6 := size(2000), size(4000), size(6000)
	if ratio := float64(s6-s4) / float64(s4-s2); ratio < 0.99 || ratio > 1.01 {
		t.Errorf("pages of 2000, 4000 and 6000 hosts take %d, %d and %d bytes: the third 2000 add %.3f times what the second did, want 1", s2, s4, s6, ratio)
	}
}

// manyPorts is the page of a run of hosts with perHost open ports each,
// all http, as a large scan of web servers writes it.
func manyPorts(t testing.TB, hosts, perHost int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New("html", &buf, Options{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	w.Begin(result.Info{Args: []string{"portscan", "-p", "1-" + fmt.Sprint(perHost), "127.3.0.0/16"}, Start: t0, ScanType: "connect", Version: "0.1.0"})
	for h := range hosts {
		a := netip.AddrFrom4([4]byte{127, 3, byte((h + 1) >> 8), byte(h + 1)})
		for p := range perHost {
			w.Port(result.Port{Host: a, Port: ports.Port{Number: 1 + uint16(p), Proto: ports.TCP}, State: result.Open, Reason: result.ReasonSynAck, Service: http, RTT: time.Millisecond})
		}
		w.Host(result.Host{Addr: a, Up: true, Reason: result.ReasonSynAck, Counts: map[result.State]int{result.Open: perHost}, Seq: uint64(h + 1)})
	}
	if err := w.End(result.Summary{Start: t0, End: at(5000), HostsUp: hosts, Open: hosts * perHost, Probes: int64(hosts * perHost)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHTMLBytesPerPort checks that from 1,000 to 10,000 open ports (hosts
// of 100, as BenchmarkHTMLOpen10000 opens) each port adds the same
// bytes to the page, and few: its row, and its share of its host's.
func TestHTMLBytesPerPort(t *testing.T) {
	const maxPerPort = 200
	base := len(manyPorts(t, 10, 100))
	var first float64
	for _, n := range []int{2000, 5000, 10000} {
		per := float64(len(manyPorts(t, n/100, 100))-base) / float64(n-1000)
		if first == 0 {
			first = per
		}
		if per > maxPerPort || per < 0.99*first || per > 1.01*first {
			t.Errorf("from 1000 to %d open ports the page grows %.1f bytes a port, want %.1f (the first step's) within 1%%, at most %d", n, per, first, maxPerPort)
		}
		t.Logf("1000 to %d ports: %.1f bytes a port", n, per)
	}
}

// TestHTMLBounded checks that what the writer keeps for the end of the
// page stays within its caps however many hosts and services come.
func TestHTMLBounded(t *testing.T) {
	f := newHTML(io.Discard, Options{})
	f.begin(result.Info{ScanType: "connect"})
	for i := range 3000 {
		a := netip.AddrFrom4([4]byte{127, 2, byte(i >> 8), byte(i)})
		e := &services.Entry{Name: fmt.Sprintf("svc%d", i), Port: ports.Port{Number: uint16(i + 1), Proto: ports.TCP}}
		for p := range uint16(3) {
			f.port(result.Port{Host: a, Port: ports.Port{Number: uint16(i) + p + 1, Proto: ports.TCP}, State: result.Open, Service: e})
		}
		f.host(result.Host{Addr: a, Up: true})
	}
	if len(f.heat) != htmlHeatHosts || f.heatMore != 3000-htmlHeatHosts {
		t.Errorf("heat map keeps %d hosts and counts %d more, want %d and %d", len(f.heat), f.heatMore, htmlHeatHosts, 3000-htmlHeatHosts)
	}
	if len(f.services) != htmlMaxServices || f.others != 3*3000-3*htmlMaxServices {
		t.Errorf("%d service names kept and %d ports counted as others, want %d and %d", len(f.services), f.others, htmlMaxServices, 3*3000-3*htmlMaxServices)
	}
	if len(f.hosts) != 0 || len(f.order.waiting) != 0 {
		t.Errorf("%d hosts in flight, %d waiting after their Host calls", len(f.hosts), len(f.order.waiting))
	}
	var buf bytes.Buffer
	f.w.Reset(&buf)
	if err := f.end(result.Summary{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2872 more hosts with open ports not drawn", "on other services, not drawn"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the end of the page lacks %q", want)
		}
	}
}

// TestHTMLTTL shows the TTL of the answer that decided each port after
// its reason, in a quieter span ("syn-ack ttl 63"), and after the reason
// on the host's line ("received echo-reply ttl 63"), whatever --reason
// says: the page has room for it. An unknown TTL (0) adds nothing, so
// that a row of a connect scan is as it was.
func TestHTMLTTL(t *testing.T) {
	sc := ttlScenario()
	out := render(t, "html", sc)
	golden.Check(t, goldenPath(sc, "html"), out)
	page := pagetest.Check(t, out)
	for _, want := range []string{
		`<td>syn-ack <span class="muted">ttl 63</span></td>`,
		`<td>reset <span class="muted">ttl 254</span></td>`,
		`<td>admin-prohibited <span class="muted">ttl 254</span></td>`,
		`<td>no-response</td>`,
		`<span class="muted">received echo-reply ttl 63 · 0.00011 s latency</span>`,
		`<span class="muted">received arp-response · 0.000040 s latency · MAC Address:`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Read without the script, a row's cell says what text's REASON does.
	for _, want := range []string{"syn-ack\nttl 63\n", "received echo-reply ttl 63"} {
		if !strings.Contains(page, want) {
			t.Errorf("page's text lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"ttl 0", "no-response <span", "arp-response ttl"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("page has %q", bad)
		}
	}

	t.Run("without --reason", func(t *testing.T) {
		sc := sc
		sc.opt.Reason = false
		out := render(t, "html", sc)
		for _, want := range []string{`<td>syn-ack <span class="muted">ttl 63</span></td>`, "received echo-reply ttl 63"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("page lacks %q", want)
			}
		}
		if bytes.Contains(out, []byte("received arp-response")) {
			t.Errorf("without --reason, the host line of a host of unknown TTL has its reason")
		}
	})
	t.Run("unknown TTLs", func(t *testing.T) {
		// Without TTLs, the page is the one a connect scan writes.
		out := render(t, "html", untimed(sc))
		if bytes.Contains(out, []byte("ttl ")) {
			t.Errorf("a page of unknown TTLs shows some")
		}
		for _, want := range []string{`<td>syn-ack</td>`, "received echo-reply · "} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
}
