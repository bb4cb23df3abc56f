package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// scanHeader is the first record of a jsonl run.
type scanHeader struct {
	Type     string   `json:"type"`
	Args     []string `json:"args"`
	ScanType string   `json:"scan_type"`
	Ports    string   `json:"ports"`
	NumPorts int      `json:"num_ports"`
}

// readHeader returns the scan record that opens a jsonl run.
func readHeader(t *testing.T, jsonl string) scanHeader {
	t.Helper()
	line, _, _ := strings.Cut(jsonl, "\n")
	var h scanHeader
	if err := json.Unmarshal([]byte(line), &h); err != nil || h.Type != "scan" {
		t.Fatalf("first line %q: %v", line, err)
	}
	return h
}

// TestScanRecordsItsArgs checks that a run records the command line it
// was given, as written (nmap spellings included), not the process's.
func TestScanRecordsItsArgs(t *testing.T) {
	args := []string{"-sT", "-p", "1", "-Pn", "--max-rtt-timeout", "200ms", "--format", "jsonl", "127.0.0.1"}
	out, errs, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := append([]string{"portscan", "--color", "never"}, args...)
	if got := readHeader(t, out).Args; !reflect.DeepEqual(got, want) {
		t.Errorf("args %q, want %q", got, want)
	}
}

// TestAuditFlagsOverridePolicy runs audits of a loopback listener whose
// policy's scan block sets the ports and UDP: the flags given explicitly
// win over it, the policy wins over the flags' defaults, and the ports
// the rules name are scanned whatever the block says.
func TestAuditFlagsOverridePolicy(t *testing.T) {
	port, _ := listenCatalogPort(t)
	p := strconv.Itoa(port)
	dir := t.TempDir()
	policy := writeFile(t, dir, "p.yaml", `scan:
  ports: [1]
  udp: true
  skip-discovery: true
  max-rtt-timeout: 200ms
groups:
  - name: lo
    targets: 127.0.0.1
    deny: [telnet]
    other: warn
`)
	for _, c := range []struct {
		name      string
		flags     []string
		scanType  string
		ports     string
		reportHas string
	}{
		{"policy", nil, "connect+udp", "T:1,23,U:1", "127.0.0.1  ok"},
		{"flags win", []string{"-p", p, "--udp=false"}, "connect", "T:23," + p, "WARN  other"},
		{"tcp off", []string{"--tcp=false"}, "udp", "U:1", `SKIP  deny telnet          "telnet" (T:23) not checked`},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := filepath.Join(dir, c.name+".jsonl")
			args := append([]string{"audit", "-q", "--policy", policy, "--save", saved}, c.flags...)
			out, errs, code := runCLI(t, args...)
			if code != 0 || !strings.Contains(out, c.reportHas) {
				t.Fatalf("exit %d, stderr %q, report:\n%s", code, errs, out)
			}
			data, err := os.ReadFile(saved)
			if err != nil {
				t.Fatal(err)
			}
			h := readHeader(t, string(data))
			if h.ScanType != c.scanType || h.Ports != c.ports {
				t.Errorf("saved scan %q of ports %q, want %q of %q", h.ScanType, h.Ports, c.scanType, c.ports)
			}
			if want := append([]string{"portscan", "--color", "never"}, args...); !reflect.DeepEqual(h.Args, want) {
				t.Errorf("args %q, want %q", h.Args, want)
			}
			sc := bufio.NewScanner(strings.NewReader(string(data)))
			for sc.Scan() {
				if strings.Contains(sc.Text(), `"type":"port"`) && !strings.Contains(sc.Text(), `"port":`+p+`,`) {
					t.Errorf("saved a port the audit does not need: %s", sc.Text())
				}
			}
		})
	}
}
