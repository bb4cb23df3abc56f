package baseline

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
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
