package scanner

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/ports"
)

// daemon is a real server from Debian's packages, started on 127.0.0.1
// inside a lab namespace.
type daemon struct {
	bin    string
	port   uint16
	reason string // what the scan must say of its port
	args   func(dir string) []string
	conf   func(dir string) (name, body string)
}

var daemons = []daemon{
	{bin: "dnsmasq", port: 53, reason: "dns-response id match", args: func(dir string) []string {
		return []string{"-k", "--port=53", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
			"--no-hosts", "--conf-file=/dev/null", "--pid-file=" + filepath.Join(dir, "dnsmasq.pid")}
	}},
	{bin: "chronyd", port: 123, reason: "ntp-response origin match", args: func(dir string) []string {
		return []string{"-d", "-x", "-u", "root", "-f", filepath.Join(dir, "chrony.conf")}
	}, conf: func(dir string) (string, string) {
		return "chrony.conf", fmt.Sprintf("allow 127.0.0.1\nlocal stratum 10\nport 123\ncmdport 0\nbindaddress 127.0.0.1\npidfile %s/chrony.pid\ndriftfile %s/drift\n", dir, dir)
	}},
	{bin: "snmpd", port: 161, reason: "snmp-response request-id match", args: func(dir string) []string {
		return []string{"-f", "-Lo", "-C", "-c", filepath.Join(dir, "snmpd.conf"), "-p", filepath.Join(dir, "snmpd.pid"), "--persistentDir=" + dir}
	}, conf: func(dir string) (string, string) {
		return "snmpd.conf", "rocommunity public 127.0.0.1\nagentaddress udp:127.0.0.1:161\n"
	}},
}

// TestLabUDPDaemons scans dnsmasq, chrony and snmpd, each answering its
// protocol's payload, and checks that the reply matched the request.
func TestLabUDPDaemons(t *testing.T) {
	if lab.InChild() {
		var want map[uint16]string
		lab.ChildData(t, &want)
		cfg := Config{Ports: &ports.Set{}, SkipDiscovery: true}
		for p := range want {
			cfg.Ports.Add(ports.Port{Number: p, Proto: ports.UDP})
		}
		cfg.Ports.Add(ports.Port{Number: 69, Proto: ports.UDP}) // nothing there
		want[69] = "closed port-unreach"
		res, _, _ := scanSpec(t, cfg, "127.0.0.1")
		for p, w := range want {
			r := res[fmt.Sprintf("127.0.0.1:%d", p)]
			if got := r.State.String() + " " + r.Reason; got != w {
				t.Errorf("%d/udp: %q, want %q", p, got, w)
			}
		}
		return
	}
	ns := lab.NewNamespace(t, "daemons")
	dir := t.TempDir()
	want := map[uint16]string{}
	for _, d := range daemons {
		if _, err := exec.LookPath(d.bin); err != nil {
			if os.Getenv(lab.RequireEnv) != "" {
				t.Fatalf("%s not installed (apt-get install dnsmasq-base chrony snmpd)", d.bin)
			}
			t.Logf("skipping %s: not installed", d.bin)
			continue
		}
		if d.conf != nil {
			name, body := d.conf(dir)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ns.Start(d.bin, d.args(dir)...)
		want[d.port] = "open " + d.reason
	}
	if len(want) == 0 {
		t.Skip("none of dnsmasq, chronyd, snmpd is installed")
	}
	waitUDP(t, ns, want)
	ns.Reexec(t, want)
}

// waitUDP waits until every daemon has bound its port.
func waitUDP(t *testing.T, ns *lab.Namespace, want map[uint16]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := ns.Run("ss", "-Hulpn")
		missing := 0
		for p := range want {
			if !strings.Contains(out, net.JoinHostPort("127.0.0.1", fmt.Sprint(p))+" ") {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("daemons did not bind %v in time", want)
}
