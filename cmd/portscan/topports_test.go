package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/services"
)

// TestDefaultPortsCommon checks that a scan without -p covers the ports a
// network engineer expects found (issue 14), as every catalog TCP port.
func TestDefaultPortsCommon(t *testing.T) {
	set, err := scanPorts(services.Default(), &scan.Options{}, []ports.Protocol{ports.TCP})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint16{8000, 8443, 3389, 5900, 6379, 27017, 9200, 11211, 5000, 135} {
		if !set.Contains(ports.Port{Number: n, Proto: ports.TCP}) {
			t.Errorf("default ports lack %d/tcp", n)
		}
	}
	if set.Len(ports.TCP) != 311 {
		t.Errorf("default: %d tcp ports, want the catalog's 311", set.Len(ports.TCP))
	}
}

// scanRecord runs a scan and returns its jsonl head.
func scanRecord(t *testing.T, args ...string) (spec string, num int) {
	t.Helper()
	out, errs, code := runCLI(t, append([]string{"-q", "-Pn", "--format", "jsonl"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rec struct {
		Type     string
		Ports    string
		NumPorts int `json:"num_ports"`
	}
	head, _, _ := strings.Cut(out, "\n")
	if err := json.Unmarshal([]byte(head), &rec); err != nil || rec.Type != "scan" {
		t.Fatalf("first line %q: %v", head, err)
	}
	return rec.Ports, rec.NumPorts
}

func TestTopPortsFlag(t *testing.T) {
	spec, n := scanRecord(t, "--top-ports", "10", "127.0.0.1")
	if want := "T:21-23,25,53,80,135,139,443,445"; spec != want || n != 10 {
		t.Errorf("--top-ports 10 scans %s (%d ports), want the first 10 of the ranking: %s", spec, n, want)
	}
	spec, n = scanRecord(t, "-F", "127.0.0.1")
	var want ports.Set
	for _, p := range services.Top(ports.TCP, 100) {
		want.Add(p)
	}
	if n != 100 || spec != want.String() {
		t.Errorf("-F scans %s (%d ports), want the top 100: %s", spec, n, want.String())
	}
	if spec, n := scanRecord(t, "--top-ports", "10", "--exclude-ports", "21-25", "127.0.0.1"); n != 6 || strings.Contains(spec, "21") {
		t.Errorf("--top-ports 10 --exclude-ports 21-25 scans %s (%d ports), want 6", spec, n)
	}
}

// TestTopPortsProtocols checks that UDP scans take UDP ports from the
// same ranking, and both protocols N each.
func TestTopPortsProtocols(t *testing.T) {
	tests := []struct {
		protos   []ports.Protocol
		tcp, udp int
	}{
		{[]ports.Protocol{ports.UDP}, 0, 20},
		{[]ports.Protocol{ports.TCP, ports.UDP}, 20, 20},
	}
	for _, tt := range tests {
		set, err := scanPorts(services.Default(), &scan.Options{TopPorts: 20}, tt.protos)
		if err != nil {
			t.Fatal(err)
		}
		if set.Len(ports.TCP) != tt.tcp || set.Len(ports.UDP) != tt.udp {
			t.Errorf("%v: %d tcp, %d udp; want %d, %d", tt.protos, set.Len(ports.TCP), set.Len(ports.UDP), tt.tcp, tt.udp)
		}
		for _, p := range services.Top(ports.UDP, 20) {
			if !set.Contains(p) {
				t.Errorf("%v: lacks %v, one of the top 20 udp", tt.protos, p)
			}
		}
	}
}

func TestTopPortsUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"zero", []string{"--top-ports", "0", "127.0.0.1"}, "invalid --top-ports 0: want 1 or more"},
		{"negative", []string{"--top-ports=-3", "127.0.0.1"}, "invalid --top-ports -3: want 1 or more"},
		{"negative apart", []string{"--top-ports", "-3", "127.0.0.1"}, "invalid --top-ports -3"},
		{"word", []string{"--top-ports", "many", "127.0.0.1"}, `invalid argument "many" for "--top-ports"`},
		{"with -p", []string{"--top-ports", "10", "-p", "22", "127.0.0.1"}, "--top-ports (or -F) and --ports (-p) exclude each other"},
		{"-F with -p-", []string{"-F", "-p-", "127.0.0.1"}, "--top-ports (or -F) and --ports (-p) exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if code != 2 || !strings.Contains(errs, tt.msg) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", code, out, errs, tt.msg)
			}
		})
	}
}

// TestAuditTopPortsOverridesPolicyPorts checks that --top-ports given to
// audit replaces the policy's scan ports, as -p would.
func TestAuditTopPortsOverridesPolicyPorts(t *testing.T) {
	dir := t.TempDir()
	policy := writeFile(t, dir, "p.yaml", "scan:\n  ports: [22]\n  skip-discovery: true\ngroups:\n  - name: lo\n    targets: 127.0.0.1\n    allow: [1-65535]\n")
	save := filepath.Join(dir, "saved.jsonl")
	if _, errs, code := runCLI(t, "audit", "-q", "--policy", policy, "--top-ports", "5", "--save", save); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(save)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(data), "\n")
	if !strings.Contains(head, `"ports":"T:21-23,25,53"`) {
		t.Errorf("saved scan head %s, want the top 5 tcp ports", head)
	}
}
