package services

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
)

func TestLookup(t *testing.T) {
	c := Default()
	tests := []struct {
		port ports.Port
		name string
		note bool
	}{
		{ports.Port{Number: 22, Proto: ports.TCP}, "ssh", false},
		{ports.Port{Number: 22, Proto: ports.UDP}, "ssh", false},
		{ports.Port{Number: 512, Proto: ports.TCP}, "exec", false},
		{ports.Port{Number: 512, Proto: ports.UDP}, "biff", false},
		{ports.Port{Number: 520, Proto: ports.UDP}, "router", false},
		{ports.Port{Number: 74, Proto: ports.TCP}, "netrjs-4", false},
		{ports.Port{Number: 73, Proto: ports.TCP}, "netrjs-3", false},
		{ports.Port{Number: 4, Proto: ports.DDP}, "echo", false},
		{ports.Port{Number: 1236, Proto: ports.TCP}, "bvcontrol", true},
		{ports.Port{Number: 2603, Proto: ports.UDP}, "servicemeter", true},
		{ports.Port{Number: 22273, Proto: ports.TCP}, "wnn6", true},
		{ports.Port{Number: 5, Proto: ports.DDP}, "", false},
		{ports.Port{Number: 517, Proto: ports.TCP}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.port.String(), func(t *testing.T) {
			e := c.Lookup(tt.port)
			if tt.name == "" {
				if e != nil {
					t.Fatalf("Lookup(%v) = %q, want none", tt.port, e.Name)
				}
				return
			}
			if e == nil || e.Name != tt.name {
				t.Fatalf("Lookup(%v) = %v, want %q", tt.port, e, tt.name)
			}
			if (e.Note != "") != tt.note {
				t.Errorf("Lookup(%v).Note = %q, want note: %v", tt.port, e.Note, tt.note)
			}
			if e.Source != Builtin {
				t.Errorf("Source = %q", e.Source)
			}
		})
	}
}

func TestByName(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		want []string
	}{
		{"ssh", []string{"22/tcp", "22/udp"}},
		{"SSH", []string{"22/tcp", "22/udp"}},
		{"comsat", []string{"512/udp"}},
		{"routed", []string{"520/udp"}},
		{"bgpd", []string{"2605/tcp", "2605/udp"}},
		{"echo", []string{"7/tcp", "7/udp", "4/ddp"}},
		{"nonesuch", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range c.Ports(tt.name) {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("Ports(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"fields", "22\tssh\n", 1, "want 7 tab-separated fields"},
		{"port zero", "# c\n0\tx\t-\t-\t-\t\t\n", 2, "invalid port"},
		{"port big", "70000\tx\t-\t-\t-\t\t\n", 1, "invalid port"},
		{"proto", "22/sctp\tx\t-\t-\t-\t\t\n", 1, "invalid protocol"},
		{"name", "22\t\t-\t-\t-\t\t\n", 1, "empty service name"},
		{"alias", "22\tssh\ta b\t-\t-\t\t\n", 1, "alias"},
		{"note", "22\tssh\t-\t-\tz\t\t\n", 1, `note "z"`},
		{"bad note line", "@note\ta\n", 1, "@note"},
		{"utf8", "22\tssh\t-\t-\t-\t\xff\t\n", 1, "UTF-8"},
		{"long", strings.Repeat("x", maxLine+1), 1, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "t.tsv")
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse = %v, want a SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse = %v, want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}
}

func TestParseEtcServices(t *testing.T) {
	in := "# comment\n\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\nmyapp 9999/udp\n"
	c, err := ParseEtcServices(strings.NewReader(in), "/etc/services")
	if err != nil {
		t.Fatal(err)
	}
	e := c.Lookup(ports.Port{Number: 80, Proto: ports.TCP})
	if e == nil || e.Name != "http" || len(e.Aliases) != 1 || e.Aliases[0] != "www" || e.DescriptionEn != "WorldWideWeb HTTP" {
		t.Fatalf("80/tcp = %+v", e)
	}
	if c.Lookup(ports.Port{Number: 80, Proto: ports.UDP}) != nil {
		t.Error("80/udp should be absent")
	}
	if e := c.Lookup(ports.Port{Number: 9999, Proto: ports.UDP}); e == nil || e.Name != "myapp" {
		t.Errorf("9999/udp = %+v", e)
	}
	for _, bad := range []struct{ in, msg string }{
		{"http\n", "want \"name port/protocol"},
		{"http 80\n", "lacks its /protocol"},
		{"http 80/\n", "invalid protocol"},
		{"http 80/t*p\n", "invalid protocol"},
		{"http 0/tcp\n", "invalid port"},
		{"http 0/sctp\n", "invalid port"},
		{"ht,tp 80/sctp\n", "not allowed"},
	} {
		if _, err := ParseEtcServices(strings.NewReader(bad.in), "s"); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("ParseEtcServices(%q) = %v, want %q", bad.in, err, bad.msg)
		}
	}
}

func TestSpecificRowWins(t *testing.T) {
	in := "520\tgeneric\t-\t-\t-\t\t\n520/udp\trouter\t-\t-\t-\t\t\n520/udp\tlater\t-\t-\t-\t\t\n"
	c, err := Parse(strings.NewReader(in), "t")
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Lookup(ports.Port{Number: 520, Proto: ports.UDP}); e.Name != "router" {
		t.Errorf("520/udp = %q, want router", e.Name)
	}
	if e := c.Lookup(ports.Port{Number: 520, Proto: ports.TCP}); e.Name != "generic" {
		t.Errorf("520/tcp = %q, want generic", e.Name)
	}
}

func TestMergePrecedence(t *testing.T) {
	user, err := Read(strings.NewReader("# mine\nmy-ssh 22/tcp\nextra 40000/tcp\n"), "mine.txt")
	if err != nil {
		t.Fatal(err)
	}
	own, err := Read(strings.NewReader("\n40001/udp\tother\t-\t-\t-\t中\ten\n"), "own.tsv")
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(user, own, Default())
	if e := m.Lookup(ports.Port{Number: 22, Proto: ports.TCP}); e.Name != "my-ssh" || e.Source != "mine.txt" {
		t.Errorf("22/tcp = %q from %q", e.Name, e.Source)
	}
	if e := m.Lookup(ports.Port{Number: 22, Proto: ports.UDP}); e.Name != "ssh" || e.Source != Builtin {
		t.Errorf("22/udp = %q from %q", e.Name, e.Source)
	}
	if e := m.Lookup(ports.Port{Number: 40001, Proto: ports.UDP}); e == nil || e.Describe("zh") != "中" {
		t.Errorf("40001/udp = %+v", e)
	}
	if got := m.Ports("extra"); len(got) != 1 || got[0].Number != 40000 {
		t.Errorf("Ports(extra) = %v", got)
	}
	if m.Len() != Default().Len()+3 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestEtcServicesSkipsOtherProtocols(t *testing.T) {
	c, err := Open(filepath.Join("testdata", "etc-services"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Skipped(), map[string]int{"sctp": 2, "dccp": 1}; !maps.Equal(got, want) {
		t.Errorf("Skipped() = %v, want %v", got, want)
	}
	var got []string
	for e := range c.All() {
		got = append(got, e.Port.String()+" "+e.Name)
	}
	want := "22/tcp ssh,53/tcp domain,53/udp domain,5672/tcp amqp,1/ddp rtmp,6/ddp zip"
	if strings.Join(got, ",") != want {
		t.Errorf("entries %v, want %s", got, want)
	}
	if len(c.Ports("sip-sctp")) != 0 {
		t.Error("the alias of a skipped line was indexed")
	}
	c.Skipped()["sctp"] = 99
	if c.Skipped()["sctp"] != 2 {
		t.Error("Skipped returned the catalog's own map")
	}
	if own, _ := Parse(strings.NewReader("22/tcp\tssh\t-\t-\t-\t\t\n"), "t"); len(own.Skipped()) != 0 {
		t.Errorf("TSV catalog Skipped() = %v", own.Skipped())
	}
}

// TestReadSystemServices reads this machine's /etc/services (netbase on
// Debian, which .ci/run installs), whose sctp lines must be skipped, not
// fatal.
func TestReadSystemServices(t *testing.T) {
	const path = "/etc/services"
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("PORTSCAN_LAB_REQUIRE") == "" {
		t.Skipf("no %s (on Debian: apt-get install netbase)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Count the lines independently: those of tcp, udp and ddp are
	// entries, the others skipped.
	entries, skipped := 0, map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		body, _, _ := strings.Cut(line, "#")
		f := strings.Fields(body)
		if len(f) < 2 {
			continue
		}
		switch _, proto, _ := strings.Cut(f[1], "/"); proto {
		case "tcp", "udp", "ddp":
			entries++
		default:
			skipped[proto]++
		}
	}
	if c.Len() != entries || !maps.Equal(c.Skipped(), skipped) {
		t.Errorf("%s: %d entries, skipped %v; want %d, %v", path, c.Len(), c.Skipped(), entries, skipped)
	}
	if e := c.Lookup(ports.Port{Number: 22, Proto: ports.TCP}); e == nil || e.Name != "ssh" {
		t.Errorf("22/tcp = %+v", e)
	}
}

func TestMergeKeepsBuiltinDescription(t *testing.T) {
	user, err := Read(strings.NewReader("ssh 22/tcp\nSSH 22/udp\ncomsat 512/udp\nmy-ssh 2222/tcp\nhttp 80/tcp # our own words\nother 443/tcp\n"), "mine")
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(user, Default())
	tests := []struct {
		port       ports.Port
		name, en   string
		zh, source string
	}{
		// Same name and port, no description: the built-in one stays.
		{ports.Port{Number: 22, Proto: ports.TCP}, "ssh", "Secure Shell (SSH) service", "安全 Shell（SSH）服务", "mine"},
		{ports.Port{Number: 22, Proto: ports.UDP}, "SSH", "Secure Shell (SSH) service", "安全 Shell（SSH）服务", "mine"},
		{ports.Port{Number: 512, Proto: ports.UDP}, "comsat", "Asynchronous mail client (biff) and service (comsat)", "异步邮件客户（biff）和服务（comsat）", "mine"},
		// A description of one's own wins; another name gets none.
		{ports.Port{Number: 80, Proto: ports.TCP}, "http", "our own words", "", "mine"},
		{ports.Port{Number: 443, Proto: ports.TCP}, "other", "", "", "mine"},
		{ports.Port{Number: 2222, Proto: ports.TCP}, "my-ssh", "", "", "mine"},
	}
	for _, tt := range tests {
		t.Run(tt.port.String(), func(t *testing.T) {
			e := m.Lookup(tt.port)
			if e == nil || e.Name != tt.name || e.DescriptionEn != tt.en || e.Description != tt.zh || e.Source != tt.source {
				t.Fatalf("Lookup(%v) = %+v, want %s %q %q from %s", tt.port, e, tt.name, tt.en, tt.zh, tt.source)
			}
			found := false
			for x := range m.All() {
				found = found || x == e
			}
			if !found || !slices.Contains(m.ByName(tt.name), e) {
				t.Errorf("All or ByName does not hold the entry Lookup returns")
			}
		})
	}
	if e := user.Lookup(ports.Port{Number: 22, Proto: ports.TCP}); e.DescriptionEn != "" {
		t.Errorf("Merge changed its input: %+v", e)
	}
}
