package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// auditTime is when the tests' audits run, for certificate expiry.
var auditTime = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// detected sets what detection found on "addr port/proto" of run, a
// port fakeRun made.
func detected(run *baseline.Run, where string, s *result.Service) *baseline.Run {
	addr, port, _ := strings.Cut(where, " ")
	h := run.Host(netip.MustParseAddr(addr))
	set, err := ports.ParseSpec(port, ports.SpecOptions{})
	if err != nil {
		panic(err)
	}
	for p := range set.Ports() {
		st := h.Ports[p]
		st.Detected = s
		h.Ports[p] = st
	}
	return run
}

func judgeAt(t *testing.T, policy string, run *baseline.Run) *Report {
	t.Helper()
	o := opts()
	o.Now = func() time.Time { return auditTime }
	p, err := Parse("policy.yaml", []byte(policy), o)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Judge(context.Background(), p, run)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Detected services of the tests.
var (
	nginx     = &result.Service{Name: "http", Tunnel: "ssl", Product: "nginx", Version: "1.24.0", TLS: goodCert()}
	plainHTTP = &result.Service{Name: "http", Product: "nginx", Version: "1.24.0"}
	openSSH   = &result.Service{Name: "ssh", Product: "OpenSSH", Version: "9.2p1"}
	telnetd   = &result.Service{Name: "telnet", Product: "BusyBox telnetd"}
	nothing   = &result.Service{Method: result.MethodProbe}
	bareTLS   = &result.Service{Name: "ssl", TLS: goodCert()}
)

func goodCert() *result.TLS {
	return &result.TLS{Version: "TLS 1.3", Subject: "CN=web1.lab", Issuer: "CN=Lab CA", NotAfter: auditTime.AddDate(1, 0, 0), ChainLength: 2}
}

// tlsWith is nginx over a handshake changed by edit.
func tlsWith(edit func(*result.TLS)) *result.Service {
	s := *nginx
	t := *nginx.TLS
	edit(&t)
	s.TLS = &t
	return &s
}

const svcHead = "groups:\n  - name: web\n    targets: [198.18.0.1-5]\n    other: warn\n"

func TestJudgeServices(t *testing.T) {
	web := func(open string) *baseline.Run { return fakeRun("198.18.0.1 " + open) }
	for _, c := range []struct {
		name, policy string
		run          *baseline.Run
		want         []string
		failed       bool
	}{
		{"speaks it", svcHead + "    services: {443/tcp: https, ssh: [ssh]}\n",
			detected(detected(web("22,443:open"), "198.18.0.1 443", nginx), "198.18.0.1 22", openSSH), nil, false},
		{"speaks another", svcHead + "    services: {443/tcp: https}\n", detected(web("443:open"), "198.18.0.1 443", openSSH),
			[]string{`198.18.0.1 service 443/tcp https: fail 443/tcp speaks ssh (OpenSSH 9.2p1), not https`}, true},
		{"clear text is not https", svcHead + "    services: {443/tcp: [https, ssl/http]}\n", detected(web("443:open"), "198.18.0.1 443", plainHTTP),
			[]string{`198.18.0.1 service 443/tcp https,ssl/http: fail 443/tcp speaks http (nginx 1.24.0), not https or ssl/http`}, true},
		{"a range", svcHead + "    services: {8000-8100: http}\n", detected(detected(web("8000,8001,8002:open"), "198.18.0.1 8000-8001", openSSH), "198.18.0.1 8002", plainHTTP),
			[]string{`198.18.0.1 service 8000-8100 http: fail 8000/tcp speaks ssh (OpenSSH 9.2p1), 8001/tcp speaks ssh (OpenSSH 9.2p1), not http`}, true},
		{"not run", svcHead + "    services: {443/tcp: https}\n", web("443:open"),
			[]string{`198.18.0.1 service 443/tcp https: warn not verified that "443/tcp" speaks https: 443/tcp: detection did not run`}, false},
		{"nothing identified", svcHead + "    services: {443/tcp: https}\n", detected(web("443:open"), "198.18.0.1 443", nothing),
			[]string{`198.18.0.1 service 443/tcp https: warn not verified that "443/tcp" speaks https: 443/tcp: nothing identified`}, false},
		{"TLS, nothing inside", svcHead + "    services: {443/tcp: https}\n", detected(web("443:open"), "198.18.0.1 443", bareTLS),
			[]string{`198.18.0.1 service 443/tcp https: warn not verified that "443/tcp" speaks https: 443/tcp ssl: TLS, the service inside not identified`}, false},
		{"ssl accepted", svcHead + "    services: {443/tcp: [https, ssl]}\n", detected(web("443:open"), "198.18.0.1 443", bareTLS), nil, false},
		{"closed", svcHead + "    services: {443/tcp: https}\n", web("443:closed 22:open"), nil, false},
		{"udp not scanned", svcHead + "    services: {53/udp: domain}\n", web("22:open"),
			[]string{`198.18.0.1 service 53/udp domain: skip "53/udp" not checked: no results for its protocol`}, false},
		{"denied", svcHead + "    deny_services: [telnet, ftp]\n", detected(detected(web("22,2323:open"), "198.18.0.1 2323", telnetd), "198.18.0.1 22", openSSH),
			[]string{`198.18.0.1 deny-service telnet: fail denied service "telnet" detected: 2323/tcp telnet (BusyBox telnetd)`}, true},
		{"denied in the clear only", svcHead + "    deny_services: [http]\n", detected(web("443:open"), "198.18.0.1 443", nginx), nil, false},
		{"denied https", svcHead + "    deny_services: [https]\n", detected(web("443:open"), "198.18.0.1 443", nginx),
			[]string{`198.18.0.1 deny-service https: fail denied service "https" detected: 443/tcp ssl/http (nginx 1.24.0)`}, true},
		{"deny not run", svcHead + "    deny_services: [telnet]\n", detected(web("22,23:open"), "198.18.0.1 22", openSSH),
			[]string{`198.18.0.1 deny-service telnet: warn not verified that no port speaks "telnet": 23/tcp: detection did not run`}, false},
		{"deny, nothing identified", svcHead + "    deny_services: [telnet]\n", detected(web("23:open"), "198.18.0.1 23", nothing), nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := judgeAt(t, c.policy, c.run)
			var got []string
			for _, s := range outcome(rep) {
				if !strings.Contains(s, " other: ") {
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("checks not passed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if rep.Failed() != c.failed {
				t.Errorf("Failed() = %v", rep.Failed())
			}
		})
	}
}

func TestJudgeTLS(t *testing.T) {
	const policy = svcHead + "    tls: {min_version: \"1.2\", expires_within: 30d, self_signed: deny}\n"
	one := func(s *result.Service) *baseline.Run {
		return detected(detected(fakeRun("198.18.0.1 22,443:open"), "198.18.0.1 443", s), "198.18.0.1 22", openSSH)
	}
	for _, c := range []struct {
		name   string
		policy string
		run    *baseline.Run
		want   []string
	}{
		{"good", policy, one(nginx), nil},
		{"no TLS", policy, one(plainHTTP), nil},
		{"old version", policy, one(tlsWith(func(t *result.TLS) { t.Version = "TLS 1.0" })),
			[]string{`198.18.0.1 tls-version 1.2: fail TLS below 1.2: 443/tcp ssl/http (nginx 1.24.0): TLS 1.0`}},
		{"SSL 3.0", policy, one(tlsWith(func(t *result.TLS) { t.Version = "SSL 3.0" })),
			[]string{`198.18.0.1 tls-version 1.2: fail TLS below 1.2: 443/tcp ssl/http (nginx 1.24.0): SSL 3.0`}},
		{"future version", policy, one(tlsWith(func(t *result.TLS) { t.Version = "0x0305" })), nil},
		{"unknown version", policy, one(tlsWith(func(t *result.TLS) { t.Version = "QUIC?" })),
			[]string{`198.18.0.1 tls-version 1.2: warn not verified (TLS below 1.2): 443/tcp ssl/http (nginx 1.24.0): TLS version "QUIC?" unknown`}},
		{"expiring", policy, one(tlsWith(func(t *result.TLS) { t.NotAfter = auditTime.Add(9*24*time.Hour + time.Hour) })),
			[]string{`198.18.0.1 tls-expiry 30d: fail certificate expiring within 30d: 443/tcp ssl/http (nginx 1.24.0): certificate expires 2026-11-29T13:00:00Z, in 9 days`}},
		{"expiring today", policy, one(tlsWith(func(t *result.TLS) { t.NotAfter = auditTime.Add(time.Hour) })),
			[]string{`198.18.0.1 tls-expiry 30d: fail certificate expiring within 30d: 443/tcp ssl/http (nginx 1.24.0): certificate expires 2026-11-20T13:00:00Z, in less than a day`}},
		{"expired", policy, one(tlsWith(func(t *result.TLS) { t.NotAfter = auditTime.AddDate(0, 0, -3) })),
			[]string{`198.18.0.1 tls-expiry 30d: fail certificate expiring within 30d: 443/tcp ssl/http (nginx 1.24.0): certificate expired 2026-11-17T12:00:00Z`}},
		{"no expiry", policy, one(tlsWith(func(t *result.TLS) { t.NotAfter = time.Time{} })),
			[]string{`198.18.0.1 tls-expiry 30d: warn not verified (certificate expiring within 30d): 443/tcp ssl/http (nginx 1.24.0): no certificate expiry seen`}},
		{"self-signed", policy, one(tlsWith(func(t *result.TLS) { t.SelfSigned, t.Issuer = true, t.Subject })),
			[]string{`198.18.0.1 tls-self-signed deny: fail self-signed certificate: 443/tcp ssl/http (nginx 1.24.0): subject CN=web1.lab`}},
		{"self-signed warn", svcHead + "    tls: {self_signed: warn}\n", one(tlsWith(func(t *result.TLS) { t.SelfSigned = true })),
			[]string{`198.18.0.1 tls-self-signed warn: warn self-signed certificate: 443/tcp ssl/http (nginx 1.24.0): subject CN=web1.lab`}},
		{"not run", policy, fakeRun("198.18.0.1 443:open"), []string{
			`198.18.0.1 tls-version 1.2: warn not verified (TLS below 1.2): 443/tcp: detection did not run`,
			`198.18.0.1 tls-expiry 30d: warn not verified (certificate expiring within 30d): 443/tcp: detection did not run`,
			`198.18.0.1 tls-self-signed deny: warn not verified (self-signed certificate): 443/tcp: detection did not run`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, s := range outcome(judgeAt(t, c.policy, c.run)) {
				if !strings.Contains(s, " other: ") {
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("checks not passed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestJudgeDetectionNote says when a policy's service rules meet a run
// without detection.
func TestJudgeDetectionNote(t *testing.T) {
	const policy = svcHead + "    deny_services: [telnet]\n"
	rep := judgeAt(t, policy, fakeRun("198.18.0.1 22:open"))
	if len(rep.Notes) != 1 || rep.Notes[0] != "service rules were not verified: scan has no service detection results (scan with detect: true or -sV)" {
		t.Errorf("notes %q", rep.Notes)
	}
	rep = judgeAt(t, policy, detected(fakeRun("198.18.0.1 22:open"), "198.18.0.1 22", openSSH))
	if len(rep.Notes) != 0 {
		t.Errorf("notes %q", rep.Notes)
	}
	if rep := judgeAt(t, webPolicy, fakeRun("198.18.0.1 443:open")); len(rep.Notes) != 0 {
		t.Errorf("notes without service rules: %q", rep.Notes)
	}
}

// servicesPolicy has each rule on detected services, on the lines the
// reports point at.
const servicesPolicy = `groups:
  - name: web
    targets: [198.18.0.1-2]
    allow: [ssh, http, https, 2323]
    services:
      443/tcp: https
      ssh: ssh
    deny_services: [telnet]
    tls: {min_version: "1.2", expires_within: 30d, self_signed: warn}
`

// hostile is what a server may put in its banner to break a report.
const hostile = "\x1b]0;pwned\a\x1b[2J\n::error::pwned"

// sampleServicesReport fails or warns each rule on detected services,
// with a hostile product name, and has a detected change from the
// baseline.
func sampleServicesReport(t *testing.T) *Report {
	run := fakeRun("198.18.0.1 22,443,2323:open", "198.18.0.2 22,443:open")
	detected(run, "198.18.0.1 22", openSSH)
	detected(run, "198.18.0.1 443", tlsWith(func(t *result.TLS) {
		t.Version, t.NotAfter, t.SelfSigned = "TLS 1.0", auditTime.AddDate(0, 0, 12), true
	}))
	detected(run, "198.18.0.1 2323", &result.Service{Name: "telnet", Product: hostile})
	detected(run, "198.18.0.2 443", openSSH)
	rep := judgeAt(t, servicesPolicy, run)
	old := fakeRun("198.18.0.1 22,443,2323:open", "198.18.0.2 22,443:open")
	detected(old, "198.18.0.1 22", &result.Service{Name: "ssh", Product: "OpenSSH", Version: "9.1p1"})
	detected(old, "198.18.0.2 443", nginx)
	old.Name = "last.jsonl"
	rep.Diff = baseline.Compare(old, run, baseline.CompareOptions{})
	rep.Version = "0.1.0"
	return rep
}

func TestServicesWriters(t *testing.T) {
	rep := sampleServicesReport(t)
	for _, c := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"services-report.txt", func(b *bytes.Buffer) error { return rep.WriteText(b, false) }},
		{"services-report.json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"services-junit.xml", func(b *bytes.Buffer) error { return rep.WriteJUnit(b) }},
		{"services-report.sarif", func(b *bytes.Buffer) error { return rep.WriteSARIF(b) }},
		{"services-annotations.txt", func(b *bytes.Buffer) error { return rep.WriteGitHubAnnotations(b) }},
		{"services-summary.md", func(b *bytes.Buffer) error { return rep.WriteMarkdown(b) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
			switch {
			case strings.HasSuffix(c.name, ".xml"):
				validateJUnit(t, b.Bytes())
			case strings.HasSuffix(c.name, ".sarif"):
				validateSARIF(t, b.Bytes())
			case strings.HasSuffix(c.name, ".txt"), strings.HasSuffix(c.name, ".md"):
				// Text for people and for GitHub: nothing hostile gets
				// through, and no line starts a workflow command but ours.
				for _, line := range strings.Split(b.String(), "\n") {
					if strings.ContainsAny(line, "\x1b\a") || strings.HasPrefix(line, "::error::") {
						t.Errorf("unescaped line %q", line)
					}
				}
			}
		})
	}
}

// TestServicesSARIFRules checks each rule on detected services has its
// SARIF rule, and results point at the rule's line.
func TestServicesSARIFRules(t *testing.T) {
	var b bytes.Buffer
	if err := sampleServicesReport(t).WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						Region *struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range log.Runs[0].Results {
		line := 0
		if reg := r.Locations[0].PhysicalLocation.Region; reg != nil {
			line = reg.StartLine
		}
		got[fmt.Sprintf("%s/%s@%d", r.RuleID, r.Level, line)]++
	}
	want := map[string]int{
		"service-mismatch/error@6": 1, "service-mismatch/warning@7": 1, "service-denied/error@8": 1, "service-denied/warning@8": 1,
		"tls-version/error@9": 1, "tls-version/warning@9": 1, "tls-expiry/error@9": 1, "tls-expiry/warning@9": 1,
		"tls-self-signed/warning@9": 2, "changed-since-baseline/error@0": 2,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %v, want %v", got, want)
	}
}
