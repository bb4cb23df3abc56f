package capture

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// describe is a port and its detection on one line: "10.0.0.5 22/tcp open
// ssh: product OpenSSH, version 9.2p1, conf 10, banner "SSH-2.0-..."", and
// the TLS facts after it.
func describe(p result.Port) string {
	s := fmt.Sprintf("%v %v %v", p.Host, p.Port, p.State)
	d := p.Detected
	if d == nil {
		return s + " (no detection)"
	}
	name := d.Name
	if d.Tunnel != "" {
		name = d.Tunnel + "/" + name
	}
	if name == "" {
		name = "(unknown)"
	}
	s += fmt.Sprintf(" %s [%s %s]", name, d.Method, p.Label())
	for _, f := range []struct{ k, v string }{{"product", d.Product}, {"version", d.Version}, {"info", d.Info},
		{"cpe", strings.Join(d.CPE, " ")}} {
		if f.v != "" {
			s += fmt.Sprintf(", %s %q", f.k, f.v)
		}
	}
	if d.Banner != "" {
		s += `, banner "` + d.Banner + `"` // escaped already
	}
	s += fmt.Sprintf(", conf %d", d.Confidence)
	if t := d.TLS; t != nil {
		s += fmt.Sprintf("\n    tls %s %s alpn %q sni %q", t.Version, t.Cipher, t.ALPN, t.SNI)
		if t.Subject != "" {
			s += fmt.Sprintf("\n    cert subject %q issuer %q sans %q\n    %s to %s, self-signed %v, chain %d",
				t.Subject, t.Issuer, t.SANs, t.NotBefore.Format("2006-01-02"), t.NotAfter.Format("2006-01-02"), t.SelfSigned, t.ChainLength)
		}
	}
	return s
}

// TestDetectionGolden runs every fixture through Analyze and compares
// each port's detection with testdata/detect/NAME.txt.
func TestDetectionGolden(t *testing.T) {
	for _, name := range []string{"tcp-ethernet.pcap", "udp-vlan.pcap", "ipv6-sll.pcap", "sll2.pcapng", "multi.pcapng",
		"loopback.pcap", "raw.pcap.gz", "lab-lo.pcap", "dhcp.pcap", "tshark-lo.pcapng", "detect.pcap"} {
		t.Run(name, func(t *testing.T) {
			var rec recorder
			opt := AnalyzeOptions{Options: Options{Label: services.Default().Lookup}}
			if _, err := Analyze(context.Background(), []Source{fixtureSource(t, name)}, opt, &rec); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, p := range rec.ports {
				b.WriteString(describe(p) + "\n")
			}
			golden.Check(t, filepath.Join("testdata", "detect", name+".txt"), []byte(b.String()))
		})
	}
}
