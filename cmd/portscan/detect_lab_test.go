package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/output"
)

// TestLabDetect runs portscan -sV against the detection lab's real
// Debian daemons (internal/lab.StartDetectionLab: each on its usual
// port, and ssh on 2222, http on 8000, redis on 7777, TLS on 8443), and
// checks that every service is named, with its product and version
// where the daemon reveals them, in the jsonl output.
func TestLabDetect(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemons of the detection lab")
	}
	bin := binary(t)
	ns, services := lab.StartDetectionLab(t) // skips unless root (fails under PORTSCAN_LAB_REQUIRE=1)
	var portList []string
	want := map[uint16]lab.DetectService{}
	for _, s := range services {
		if !s.Addr.Addr().Is4() {
			continue
		}
		portList = append(portList, fmt.Sprint(s.Addr.Port()))
		want[s.Addr.Port()] = s
	}
	sort.Strings(portList)
	cmd := ns.Command(bin, "-q", "-sV", "-Pn", "--format", "jsonl", "-p", strings.Join(portList, ","), "127.0.0.1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("portscan -sV: %v: %s", err, stderr.String())
	}
	got := map[uint16]output.PortRecord{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec output.PortRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Type == "port" {
			got[rec.Port] = rec
		}
	}
	for port, s := range want {
		t.Run(fmt.Sprintf("%d-%s", port, s.FullName()), func(t *testing.T) {
			rec, ok := got[port]
			if !ok || rec.Detected == nil {
				t.Fatalf("no detection for %d/tcp: %+v", port, rec)
			}
			d := rec.Detected
			name := d.Name
			if d.Tunnel != "" {
				name = d.Tunnel + "/" + d.Name
			}
			if name != s.FullName() {
				t.Errorf("named %q, want %q (banner %q)", name, s.FullName(), d.Banner)
			}
			if s.Product != "" && d.Product != s.Product {
				t.Errorf("product %q, want %q", d.Product, s.Product)
			}
			if s.Version != "" && d.Version != s.Version {
				t.Errorf("version %q, want %q", d.Version, s.Version)
			}
			if d.Method != "probe" {
				t.Errorf("method %q, want probe", d.Method)
			}
			if s.TLS && (d.TLS == nil || d.TLS.Version == "" || !d.TLS.SelfSigned) {
				t.Errorf("TLS details %+v, want a version and a self-signed certificate", d.TLS)
			}
		})
	}
}
