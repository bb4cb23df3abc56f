package audit

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

var catalog = services.Default()

func opts() Options {
	return Options{Lookup: catalog.Ports, Resolve: func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "db.lab" {
			return []netip.Addr{netip.MustParseAddr("198.18.0.4")}, nil
		}
		return nil, errors.New("no such host")
	}}
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src), opts())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseExample(t *testing.T) {
	p, err := Load("testdata/policy.yaml", opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Groups) != 2 {
		t.Fatalf("%d groups", len(p.Groups))
	}
	web := p.Groups[0]
	if web.Name != "web" || web.Other != Fail || len(web.Targets) != 1 || web.Targets[0].Pos != (Pos{9, 15}) {
		t.Errorf("web: %+v", web)
	}
	tcp := func(n uint16) ports.Port { return ports.Port{Number: n, Proto: ports.TCP} }
	for _, c := range []struct {
		port           ports.Port
		allowed, named bool
	}{{tcp(22), true, true}, {tcp(443), true, true}, {tcp(8050), true, true}, {tcp(3306), false, true}, {tcp(23), false, true}, {tcp(25), false, false}} {
		if web.Allowed(c.port) != c.allowed || web.Named(c.port) != c.named {
			t.Errorf("%v: allowed %v named %v", c.port, web.Allowed(c.port), web.Named(c.port))
		}
	}
	var req []string
	for _, r := range web.Rules {
		if r.Kind == Require {
			req = append(req, r.Text+"="+r.Ports.String())
		}
	}
	if strings.Join(req, " ") != "https=T:443" {
		t.Errorf("require %v", req)
	}
	if dns := p.Groups[1]; dns.Other != Warn || !dns.Allowed(ports.Port{Number: 53, Proto: ports.UDP}) || dns.Allowed(ports.Port{Number: 53, Proto: ports.TCP}) {
		t.Errorf("dns: %+v", dns)
	}
	if s, ok := p.Setting("ports"); !ok || s.Value != "1-1024,3306,8000-8100" || s.Pos != (Pos{4, 10}) {
		t.Errorf("ports setting %+v", s)
	}
	if s, _ := p.Setting("max-rtt-timeout"); s.Value != "500ms" {
		t.Errorf("timeout setting %+v", s)
	}
	if got := p.Ports().String(); got != "T:23,443,3306,U:53" {
		t.Errorf("Ports() = %s", got)
	}
	if got := strings.Join(p.Targets(), " "); got != "198.18.0.1-5 198.18.0.1" {
		t.Errorf("Targets() = %s", got)
	}
}

func TestCovers(t *testing.T) {
	p := mustParse(t, `
groups:
  - name: g
    targets: [198.18.0.0/29, db.lab, "2001:db8::/126"]
    exclude: 198.18.0.3
`)
	g := p.Groups[0]
	for _, c := range []struct {
		addr, name string
		want       bool
	}{
		{"198.18.0.1", "", true}, {"198.18.0.3", "", false}, {"198.18.0.9", "", false},
		{"198.18.0.4", "", true}, {"203.0.113.9", "DB.lab.", true}, {"2001:db8::2", "", true},
	} {
		got, err := g.Covers(context.Background(), netip.MustParseAddr(c.addr), c.name)
		if err != nil || got != c.want {
			t.Errorf("Covers(%s, %q) = %v, %v", c.addr, c.name, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"unknown group key", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    allwo: [ssh]\n",
			`policy.yaml:4:5: unknown key "allwo" in group "web"; expected one of name, description, targets, exclude, allow, require, deny, other, services, deny_services, tls`},
		{"unknown top key", "group:\n  - name: web\n",
			`policy.yaml:1:1: unknown key "group" at the top level; expected one of version, scan, groups`},
		{"unknown scan key", "scan:\n  timeout: 1s\ngroups: []\n",
			`policy.yaml:2:3: unknown key "timeout" in scan; expected one of ports, exclude-ports, udp, rate, retries, concurrency, host-group, initial-rtt-timeout, min-rtt-timeout, max-rtt-timeout, skip-discovery, detect`},
		{"syntax", "groups:\n  - name: [web\n    targets: x\n",
			`policy.yaml:3:`},
		{"tab", "groups:\n\t- name: web\n", `policy.yaml:2:1: YAML: `},
		{"duplicate key", "groups: []\ngroups: []\n", `policy.yaml:2:1: YAML: mapping key "groups" already defined at [1:1]`},
		{"empty", "# nothing\n", `policy.yaml:1:1: empty policy; expected a mapping with a groups list`},
		{"not a mapping", "- a\n- b\n", `policy.yaml:1:1: at the top level: expected a mapping with keys version, scan, groups, found a list`},
		{"no groups", "version: 1\n", `policy.yaml:1:8: no groups: a policy needs a groups list`},
		{"groups empty", "groups: []\n", `policy.yaml:1:9: groups: expected a list of groups (mappings with name, targets and rules), found an empty list`},
		{"version", "version: 2\ngroups: []\n", `policy.yaml:1:10: version 2: this portscan reads policy version 1`},
		{"two documents", "groups: []\n---\ngroups: []\n", `policy.yaml:3:`},
		{"no name", "groups:\n  - targets: [198.18.0.1]\n", `policy.yaml:2:12: group without a name; expected name, targets and rules`},
		{"no targets", "groups:\n  - name: web\n    allow: [ssh]\n", `policy.yaml:2:11: group "web" has no targets; expected targets: [addresses, ranges, prefixes or host names]`},
		{"bad target", "groups:\n  - name: web\n    targets: [198.18.0.300]\n", `policy.yaml:3:15: targets in group "web": invalid target "198.18.0.300"`},
		{"unknown service", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    allow: [ssh, htttp]\n",
			`policy.yaml:4:18: allow in group "web": unknown service name "htttp"; expected a port (443), a range (8000-8100), a service name from the catalog, with /tcp or /udp if need be`},
		{"offset in entry", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    deny: \"22,70000\"\n",
			`policy.yaml:4:15: deny in group "web": invalid port "70000"`},
		{"ports mapping", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    require: {a: 1}\n",
			`policy.yaml:4:14: require in group "web": expected a list of ports (22, 8000-8100, ssh, 53/udp), found a mapping`},
		{"nested list", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    require: [[22]]\n",
			`policy.yaml:4:15: require in group "web": expected ports (22, 8000-8100, ssh, 53/udp), found a list`},
		{"other", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    other: allow\n",
			`policy.yaml:4:12: other in group "web": expected deny or warn, found "allow"`},
		{"require and deny", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    deny: [1-1024]\n    require: [https]\n",
			`policy.yaml:5:15: require in group "web": 443/tcp is both required by "https" and denied by "1-1024" at line 4`},
		{"allow and deny", "groups:\n  - name: web\n    targets: [198.18.0.1]\n    allow: [22]\n    deny: [ssh]\n",
			`policy.yaml:4:13: allow in group "web": 22/tcp is both allowed by "22" and denied by "ssh" at line 5`},
		{"duplicate group", "groups:\n  - name: web\n    targets: [198.18.0.1]\n  - name: web\n    targets: [198.18.0.2]\n",
			`policy.yaml:4:11: group "web" is defined twice (first at line 2)`},
		{"alias", "groups:\n  - name: web\n    targets: &t [198.18.0.1]\n  - name: db\n    targets: *t\n",
			`policy.yaml:3:14: anchors and aliases are not supported in a policy`},
		{"tag", "groups:\n  - name: !!str web\n", `policy.yaml:2:11: tags are not supported in a policy`},
		{"bad rate", "scan:\n  rate: fast\ngroups: []\n", `policy.yaml:2:9: scan rate: expected probes per second, a number 0 or more, found "fast"`},
		{"bad timeout", "scan:\n  max-rtt-timeout: 5\ngroups: []\n", `policy.yaml:2:20: scan max-rtt-timeout: expected a duration such as 500ms or 2s, found "5"`},
		{"bad bool", "scan:\n  udp: yes\ngroups: []\n", `policy.yaml:2:8: scan udp: expected true or false, found "yes"`},
		{"bad count", "scan:\n  retries: -1\ngroups: []\n", `policy.yaml:2:12: scan retries: expected a whole number, 0 or more, found "-1"`},
		{"bad scan ports", "scan:\n  ports: 1-1024,bogus\ngroups: []\n", `policy.yaml:2:17: scan ports: unknown service name "bogus"`},
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

func TestLoadMissing(t *testing.T) {
	_, err := Load("testdata/nope.yaml", opts())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v", err)
	}
}
