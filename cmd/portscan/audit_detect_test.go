package main

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/audit"
	"github.com/portscan/portscan/services"
)

// detectedResults is labResults with what detection found on
// 198.18.0.1: a product name that tries to start a line of its own.
const detectedResults = `{"type":"scan","scanner":"portscan","version":"0.1.0","args":[],"scan_type":"connect","protocols":["tcp"],"ports":"T:1-1024","num_ports":1024}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","source":"scan","detected":{"name":"ssh","tunnel":"","product":"OpenSSH","version":"9.2p1","method":"probe","confidence":10}}
{"type":"port","host":"198.18.0.1","port":23,"protocol":"tcp","state":"open","reason":"syn-ack","service":"telnet","source":"scan","detected":{"name":"telnet","tunnel":"","product":"x\n::error::pwned","method":"probe","confidence":10}}
{"type":"port","host":"198.18.0.1","port":443,"protocol":"tcp","state":"open","reason":"syn-ack","service":"https","source":"scan","detected":{"name":"http","tunnel":"ssl","product":"nginx","method":"probe","confidence":10,"tls":{"version":"TLS 1.1","self_signed":true,"not_after":"2099-01-01T00:00:00Z"}}}
{"type":"host","host":"198.18.0.1","up":true,"reason":"syn-ack","source":"scan"}
{"type":"summary","hosts":1,"hosts_up":1,"hosts_down":0,"open":3,"interrupted":false}
`

const detectPolicy = `groups:
  - name: web
    targets: [198.18.0.1]
    allow: [ssh, telnet, http, https]
    services: {443/tcp: https, 22: ssh}
    deny_services: [telnet]
    tls: {min_version: "1.2", self_signed: warn}
`

func TestAuditFromDetected(t *testing.T) {
	dir := t.TempDir()
	policy := writeFile(t, dir, "p.yaml", detectPolicy)
	out, errs, code := runCLI(t, "audit", "--policy", policy, "--from", writeFile(t, dir, "r.jsonl", detectedResults))
	if code != exitFail || !strings.HasPrefix(errs, "portscan: audit failed: 2 violations, 1 warning, 3 checks passed") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	for _, w := range []string{
		`FAIL  deny-service telnet  denied service "telnet" detected: 23/tcp telnet (x\n::error::pwned)`,
		`FAIL  tls-version 1.2      TLS below 1.2: 443/tcp ssl/http (nginx): TLS 1.1`,
		`WARN  tls-self-signed warn self-signed certificate: 443/tcp ssl/http (nginx): subject `,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "Note:") {
		t.Errorf("a note with detection results:\n%s", out)
	}
	// The same rules against results without detection: not verified.
	out, _, code = runCLI(t, "audit", "--policy", policy, "--from", writeFile(t, dir, "plain.jsonl", labResults))
	if code != 0 || !strings.Contains(out, "Note: service rules were not verified: ") || !strings.Contains(out, "WARN  service 443/tcp https not verified") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestAuditDetectOption checks that an audit's scan runs detection when
// the policy has rules on detected services, unless told otherwise.
func TestAuditDetectOption(t *testing.T) {
	for _, c := range []struct {
		name, policy string
		want, auto   bool
	}{
		{"no service rules", labPolicy, false, false},
		{"service rules", detectPolicy, true, true},
		{"detect: false", "scan:\n  detect: false\n" + detectPolicy, false, false},
		{"detect: true", "scan:\n  detect: true\n" + labPolicy, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			pol, err := audit.Parse("p.yaml", []byte(c.policy), audit.Options{Lookup: services.Default().Ports})
			if err != nil {
				t.Fatal(err)
			}
			var sf scanFlags
			if o := auditOptions(&sf, pol); o.Detect != c.want {
				t.Errorf("Detect = %v", o.Detect)
			}
			if autoDetect(&sf, pol) != c.auto {
				t.Errorf("autoDetect = %v", !c.auto)
			}
		})
	}
}

// TestAuditScanDetectNote audits a loopback listener with a service
// rule: the report says detection was turned on for it.
func TestAuditScanDetectNote(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	policy := writeFile(t, dir, "p.yaml", "scan:\n  ports: ["+p+"]\n  skip-discovery: true\ngroups:\n  - name: lo\n    targets: 127.0.0.1\n    allow: ["+p+"]\n    deny_services: [telnet]\n")
	out, errs, code := runCLI(t, "audit", "--policy", policy)
	if code != 0 || !strings.Contains(out, "\nNote: detection on: the policy has service rules\n") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
}
