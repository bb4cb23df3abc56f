package baseline

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	gold "github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// TestDetectedRoundTrip writes a detected service as jsonl, json and
// XML, and reads each back: what detection found survives the trip.
func TestDetectedRoundTrip(t *testing.T) {
	notAfter := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := &result.Service{Name: "http", Tunnel: "ssl", Product: "nginx", Version: "1.22.1", Info: "Debian",
		CPE: []string{"cpe:/a:nginx:nginx:1.22.1"}, Method: result.MethodProbe, Confidence: 10, Banner: "HTTP/1.1 200 OK",
		TLS: &result.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", Subject: "CN=lab", SANs: []string{"lab"},
			Issuer: "CN=lab", NotAfter: notAfter, SelfSigned: true, ChainLength: 1}}
	port := result.Port{Host: netip.MustParseAddr("127.0.0.1"), Port: ports.Port{Number: 8443, Proto: ports.TCP},
		State: result.Open, Reason: result.ReasonSynAck, Detected: svc}
	for _, format := range []string{"jsonl", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := output.New(format, &buf, output.Options{})
			if err != nil {
				t.Fatal(err)
			}
			w.Begin(result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "8443", NumPorts: 1})
			w.Port(port)
			w.Host(result.Host{Addr: port.Host, Up: true, Reason: result.ReasonSynAck, Counts: map[result.State]int{result.Open: 1}})
			w.End(result.Summary{HostsUp: 1, Open: 1})
			run, err := Read("run."+format, &buf, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := run.Host(port.Host).Ports[port.Port].Detected
			want := svc
			if format == "xml" { // nmap's XML carries no banner and no TLS details
				w := *svc
				w.Banner, w.TLS = "", nil
				want = &w
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v, want %+v", got, want)
			}
		})
	}
}

// TestCompareDetected compares two jsonl runs with detection: a changed
// service and changed versions are differences, marked ~, by default; a
// run without detection on a port, detection that named nothing, and a
// changed info are not. Hostile strings from the network come out
// escaped in text.
func TestCompareDetected(t *testing.T) {
	old, err := ReadFile("testdata/detect-before.jsonl", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ReadFile("testdata/detect-after.jsonl", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := Compare(old, cur, CompareOptions{})
	var txt, js bytes.Buffer
	if err := d.WriteText(&txt, false); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	gold.Check(t, "testdata/golden/detect-diff.txt", txt.Bytes())
	gold.Check(t, "testdata/golden/detect-diff.json", js.Bytes())
	for _, line := range strings.Split(txt.String(), "\n") {
		if strings.ContainsAny(line, "\x1b\a") || strings.HasPrefix(line, "::") {
			t.Errorf("unescaped line %q", line)
		}
	}
	if !Compare(old, old, CompareOptions{}).Empty() {
		t.Error("a run differs from itself")
	}
}

func TestCompareDetectedRules(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.1")
	p := ports.Port{Number: 443, Proto: ports.TCP}
	run := func(label string, s *result.Service) *Run {
		r := NewRun("r")
		var e *services.Entry
		if label != "" {
			e = &services.Entry{Name: label, Port: p}
		}
		r.AddPort(result.Port{Host: a, Port: p, State: result.Open, Service: e, Detected: s})
		return r
	}
	nginx := func(v string) *result.Service {
		return &result.Service{Name: "http", Tunnel: "ssl", Product: "nginx", Version: v}
	}
	for _, c := range []struct {
		name     string
		old, new *Run
		labels   bool
		want     string
	}{
		{"same", run("https", nginx("1.24.0")), run("https", nginx("1.24.0")), false, ""},
		{"version", run("https", nginx("1.22.1")), run("https", nginx("1.24.0")), false, "version-changed nginx 1.22.1 -> nginx 1.24.0"},
		{"version gone", run("https", nginx("1.22.1")), run("https", nginx("")), false, "version-changed nginx 1.22.1 -> nginx"},
		{"product gone", run("https", nginx("1.22.1")), run("https", &result.Service{Name: "http", Tunnel: "ssl"}), false,
			"version-changed nginx 1.22.1 -> "},
		{"tunnel", run("https", nginx("1")), run("https", &result.Service{Name: "http", Product: "nginx", Version: "1"}), false, "detected-changed ssl/http -> http"},
		{"name", run("https", nginx("1")), run("https", &result.Service{Name: "ssh"}), false, "detected-changed ssl/http -> ssh"},
		{"old without detection", run("https", nil), run("https", nginx("1")), false, ""},
		{"new without detection", run("https", nginx("1")), run("https", nil), false, ""},
		{"nothing identified", run("https", nginx("1")), run("https", &result.Service{}), false, ""},
		{"info only", run("https", &result.Service{Name: "ssh", Info: "a"}), run("https", &result.Service{Name: "ssh", Info: "b"}), false, ""},
		{"label without --labels", run("https", nil), run("http", nil), false, ""},
		{"label", run("https", nil), run("http", nil), true, "service-changed https -> http"},
		{"detection before label", run("https", nginx("1")), run("http", nginx("2")), true, "version-changed nginx 1 -> nginx 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Compare(c.old, c.new, CompareOptions{Labels: c.labels})
			got := ""
			for _, ch := range d.Changes {
				got = ch.Kind.String() + " " + ch.Old + " -> " + ch.New
				if ch.mark() != "~" {
					t.Errorf("mark %q", ch.mark())
				}
			}
			if len(d.Changes) > 1 || got != c.want {
				t.Errorf("changes %+v, want %q", d.Changes, c.want)
			}
		})
	}
}
