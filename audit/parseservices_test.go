package audit

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scan"
)

const servicePolicy = `scan:
  detect: true
groups:
  - name: web
    targets: [198.18.0.1-5]
    allow: [ssh, http, https, 8443]
    services:
      443/tcp: https
      ssh: ssh
      8443: [https, ssl/http-alt]
    deny_services: [telnet, ftp]
    tls:
      min_version: 1.2
      expires_within: 30d
      self_signed: deny
`

func TestParseServices(t *testing.T) {
	p := mustParse(t, servicePolicy)
	if !p.Scan.Detect || !p.Scan.Given.Has(scan.Detect) || !p.Detects() {
		t.Errorf("detect: %v, given %v, Detects %v", p.Scan.Detect, p.Scan.Given.Has(scan.Detect), p.Detects())
	}
	if s, ok := p.Setting("detect"); !ok || s.Value != "true" {
		t.Errorf("detect setting %+v", s)
	}
	var got []string
	for _, r := range p.Groups[0].Detection {
		s := fmt.Sprintf("%s %s %d:%d", r.Kind, r.Text, r.Pos.Line, r.Pos.Col)
		if r.Ports != nil {
			s += " " + r.Ports.String()
		}
		got = append(got, s)
	}
	want := []string{
		"service 443/tcp https 8:7 T:443",
		"service ssh ssh 9:7 T:22",
		"service 8443 https,ssl/http-alt 10:7 T:8443",
		"deny-service telnet 11:21",
		"deny-service ftp 11:29",
		"tls-version 1.2 13:20",
		"tls-expiry 30d 14:23",
		"tls-self-signed deny 15:20",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	d := p.Groups[0].Detection
	if d[5].Version != tls.VersionTLS12 || d[6].Within != 30*24*time.Hour || d[7].Action != Fail || len(d[2].Names) != 2 {
		t.Errorf("values: %+v", d[5:])
	}
	// services ports are probed; a services entry allows nothing.
	if got := p.Ports().String(); got != "T:22,443,8443" {
		t.Errorf("Ports() = %s", got)
	}
	if mustParse(t, webPolicy).Detects() {
		t.Error("a policy without service rules detects")
	}
	// self_signed: allow makes no rule; warn a warning.
	p = mustParse(t, "groups:\n  - name: a\n    targets: 10.0.0.1\n    tls: {self_signed: allow}\n  - name: b\n    targets: 10.0.0.2\n    tls: {self_signed: WARN}\n")
	if len(p.Groups[0].Detection) != 0 || len(p.Groups[1].Detection) != 1 || p.Groups[1].Detection[0].Action != Warn {
		t.Errorf("self_signed: %+v, %+v", p.Groups[0].Detection, p.Groups[1].Detection)
	}
}

func TestParseServiceErrors(t *testing.T) {
	const head = "groups:\n  - name: web\n    targets: [198.18.0.1]\n"
	for _, c := range []struct{ name, src, want string }{
		{"services list", head + "    services: [https]\n",
			`policy.yaml:4:15: services in group "web": expected a mapping of ports to service names (443/tcp: https), found a list`},
		{"services bad port", head + "    services: {htttp: http}\n",
			`policy.yaml:4:16: services in group "web": unknown service name "htttp"; expected a port`},
		{"services port range", head + "    services:\n      70000: http\n",
			`policy.yaml:5:7: services in group "web": invalid port "70000"`},
		{"services list key", head + "    services: {[22, 23]: ssh}\n",
			`policy.yaml:4:24: YAML: found an invalid key for this map`}, // the parser takes only scalar keys
		{"services bad name", head + "    services:\n      443: \"http s\"\n",
			`policy.yaml:5:12: services in group "web", port 443: expected a service name in nmap's vocabulary (https, ssh, ssl/imap): letters, digits and . _ + -, found "http s"`},
		{"services empty list", head + "    services:\n      443: []\n",
			`policy.yaml:5:12: services in group "web", port 443: expected a service name or a list of them, found an empty list`},
		{"services mapping value", head + "    services:\n      443: {a: b}\n",
			`policy.yaml:5:12: services in group "web", port 443: expected a list of service names (https, ssh, ssl/http), found a mapping`},
		{"services null", head + "    services:\n      443:\n",
			`policy.yaml:5:12: services in group "web", port 443: expected a list of service names (https, ssh, ssl/http), found nothing`},
		{"deny_services bad", head + "    deny_services: [telnet, \"ssl/\"]\n",
			`policy.yaml:4:29: deny_services in group "web": expected a service name in nmap's vocabulary`},
		{"deny_services mapping", head + "    deny_services: {telnet: 1}\n",
			`policy.yaml:4:20: deny_services in group "web": expected a list of service names (https, ssh, ssl/http), found a mapping`},
		{"services denied", head + "    services: {23: telnet}\n    deny_services: [TELNET]\n",
			`policy.yaml:4:16: services in group "web": 23 must speak telnet, which deny_services denies ("TELNET" at line 5)`},
		{"tls unknown key", head + "    tls:\n      min-version: 1.2\n",
			`policy.yaml:5:7: unknown key "min-version" in tls in group "web"; expected one of min_version, expires_within, self_signed`},
		{"tls list", head + "    tls: [1.2]\n",
			`policy.yaml:4:10: in tls in group "web": expected a mapping with keys min_version, expires_within, self_signed, found a list`},
		{"tls version", head + "    tls:\n      min_version: 1.4\n",
			`policy.yaml:5:20: tls min_version in group "web": expected 1.0, 1.1, 1.2 or 1.3, found "1.4"`},
		{"tls version number", head + "    tls:\n      min_version: 1\n",
			`policy.yaml:5:20: tls min_version in group "web": expected 1.0, 1.1, 1.2 or 1.3, found "1"`},
		{"tls version list", head + "    tls:\n      min_version: [1.2]\n",
			`policy.yaml:5:20: tls min_version in group "web": expected a string, found a list`},
		{"tls duration", head + "    tls:\n      expires_within: 30 days\n",
			`policy.yaml:5:23: tls expires_within in group "web": expected a duration more than zero such as 30d, 720h or 1d12h, found "30 days"`},
		{"tls duration zero", head + "    tls:\n      expires_within: 0d\n",
			`policy.yaml:5:23: tls expires_within in group "web": expected a duration more than zero`},
		{"tls duration negative", head + "    tls:\n      expires_within: -5h\n",
			`policy.yaml:5:23: tls expires_within in group "web": expected a duration more than zero`},
		{"tls self_signed", head + "    tls:\n      self_signed: no\n",
			`policy.yaml:5:20: tls self_signed in group "web": expected deny, warn or allow, found "no"`},
		{"scan detect", "scan:\n  detect: on\ngroups: []\n", `policy.yaml:2:11: scan detect: expected true or false, found "on"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("policy.yaml", []byte(c.src), opts())
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error\n  %s\nwant prefix\n  %s", err, c.want)
			}
			if !errors.Is(err, ErrPolicy) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: not one line wrapping ErrPolicy", err)
			}
		})
	}
}

func TestParseWithin(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute, "36500d": 36500 * 24 * time.Hour,
	} {
		if got, ok := parseWithin(in); !ok || got != want {
			t.Errorf("parseWithin(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "d", "0d", "0s", "-1d", "1.5d", "36501d", "1d-1h", "1d+1h", "30 d", "1dd", "2562047h1d", "99999999999999999d"} {
		if got, ok := parseWithin(in); ok {
			t.Errorf("parseWithin(%q) = %v, took it", in, got)
		}
	}
}

type svc = result.Service

func TestMatchService(t *testing.T) {
	http := &svc{Name: "http"}
	https := &svc{Name: "http", Tunnel: "ssl"}
	mqtts := &svc{Name: "mqtt", Tunnel: "ssl"}
	for _, c := range []struct {
		name string
		s    *svc
		want bool
	}{
		{"http", http, true}, {"HTTP", http, true}, {"https", http, false}, {"ssl/http", http, false},
		{"http", https, false}, {"https", https, true}, {"ssl/http", https, true}, {"SSL/HTTP", https, true},
		{"secure-mqtt", mqtts, true}, {"mqtts", mqtts, true}, {"mqtt", mqtts, false},
		{"ssl", &svc{Name: "ssl"}, true}, {"https", &svc{Name: "ssl"}, false},
		{"https", &svc{Name: "https"}, true},
		{"", &svc{}, false}, {"http", nil, false},
	} {
		if got := MatchService(c.name, c.s); got != c.want {
			t.Errorf("MatchService(%q, %+v) = %v", c.name, c.s, got)
		}
	}
}
