package detect

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/probes"
	"github.com/portscan/portscan/result"
)

// probeFile is an nmap-service-probes file of this test's own, in the
// format's syntax, for services portscan's matchers do not know.
const probeFile = `Probe TCP NULL q||
totalwaitms 2000
match acmedb m|^ACME-DB ([\d.]+) ready\r\n| p/AcmeDB/ v/$1/ cpe:/a:acme:acmedb:$1/

Probe TCP Hello q|HELLO\r\n|
rarity 1
match widget m|^WIDGET/(\d+)| p/Widget server/ i/protocol $1/
`

func loadProbes(t *testing.T) *probes.File {
	t.Helper()
	f, err := probes.Parse("test.nsp", strings.NewReader(probeFile), probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestServiceProbes(t *testing.T) {
	widget := func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line == "HELLO\r\n" {
			io.WriteString(c, "WIDGET/3 at your service\r\n")
		}
	}
	tests := []struct {
		name    string
		serve   func(net.Conn)
		file    bool
		want    string
		product string
		version string
	}{
		{"a greeting the file names", greeter("ACME-DB 4.2 ready\r\n"), true, "acmedb", "AcmeDB", "4.2"},
		{"a probe of the file", widget, true, "widget", "Widget server", ""},
		{"without the file, unknown", greeter("ACME-DB 4.2 ready\r\n"), false, "", "", ""},
		{"portscan's own matchers first", greeter("SSH-2.0-OpenSSH_9.2p1\r\n"), true, "ssh", "OpenSSH", "9.2p1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ap := listen(t, tc.serve)
			cfg := Config{Timeout: 3 * time.Second, Intensity: probes.DefaultIntensity}
			if tc.file {
				cfg.ServiceProbes = loadProbes(t)
			}
			svc := detectOne(t, cfg, open(ap, 0))
			if svc.Name != tc.want || svc.Product != tc.product || svc.Version != tc.version {
				t.Fatalf("detected %q %q %q, want %q %q %q", svc.Name, svc.Product, svc.Version, tc.want, tc.product, tc.version)
			}
			wantMethod := result.MethodProbe
			if tc.file && tc.want != "ssh" {
				wantMethod = result.MethodServiceProbe
			}
			if svc.Method != wantMethod {
				t.Errorf("method %q, want %q", svc.Method, wantMethod)
			}
		})
	}
}
