package probes

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
)

const fixture = "testdata/example.nsp"

func loadFixture(tb testing.TB, opts Options) *File {
	tb.Helper()
	f, err := Load(fixture, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if len(f.Refused) != 0 {
		tb.Fatalf("fixture patterns refused: %v", f.Refused)
	}
	return f
}

func TestParseFixtureProbes(t *testing.T) {
	f := loadFixture(t, Options{})
	type want struct {
		proto              ports.Protocol
		name               string
		payload            string
		noPayload          bool
		ports, ssl         []PortRange
		rarity             int
		wait, wrapped      time.Duration
		fallback           []string
		matches, line      int
		waitGot, wrapGot   time.Duration
		fallbackProbeNames []string
	}
	wants := []want{
		{ports.TCP, "NULL", "", false, nil, nil, 5, 4 * time.Second, 1500 * time.Millisecond, nil, 9, 7,
			4 * time.Second, 1500 * time.Millisecond, nil},
		{ports.TCP, "Hello", "HELLO\r\n", false, []PortRange{{1000, 1010}, {1100, 1100}}, []PortRange{{1443, 1443}},
			1, 0, 0, nil, 1, 20, DefaultTotalWait, DefaultTCPWrapped, nil},
		{ports.TCP, "Ask", "ASK / now\r\n", false, []PortRange{{2000, 2000}}, nil, 8, 0, 0,
			[]string{"Hello", "Ping"}, 1, 26, DefaultTotalWait, DefaultTCPWrapped, []string{"Hello", "Ping"}},
		{ports.TCP, "Escapes", "\x00\a\b\f\n\r\t\v\x41\x7f\xff\\|\"", false, nil, nil, 9, 0, 0, nil, 0, 34,
			DefaultTotalWait, DefaultTCPWrapped, nil},
		{ports.TCP, "Widgets", "W?", false, nil, nil, 6, 7 * time.Second, 0, nil, 1, 37,
			7 * time.Second, DefaultTCPWrapped, nil},
		{ports.UDP, "Ping", "\xfe\xedPING", true, []PortRange{{7777, 7777}, {5000, 5010}}, nil, 3, 0, 0, nil, 1, 42,
			DefaultTotalWait, DefaultTCPWrapped, nil},
		{ports.TCP, "Crlf", "x", false, nil, nil, 5, 0, 0, nil, 1, 46, DefaultTotalWait, DefaultTCPWrapped, nil},
	}
	if len(f.Probes) != len(wants) {
		t.Fatalf("%d probes, want %d", len(f.Probes), len(wants))
	}
	for i, w := range wants {
		p := f.Probes[i]
		t.Run(w.name, func(t *testing.T) {
			var fb []string
			for _, q := range p.FallbackProbes {
				fb = append(fb, q.Name)
			}
			got := want{p.Protocol, p.Name, string(p.Payload), p.NoPayload, p.Ports, p.SSLPorts, p.Rarity,
				p.TotalWait, p.TCPWrapped, p.Fallback, len(p.Matches), p.Line, p.Wait(), p.WrappedWait(), fb}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if f.Lookup(w.proto, w.name) != p {
				t.Errorf("Lookup(%v, %s) is not the probe", w.proto, w.name)
			}
		})
	}
}

func TestParseFixtureMatches(t *testing.T) {
	f := loadFixture(t, Options{})
	null := f.Lookup(ports.TCP, "NULL")
	type fields struct {
		Service                                      string
		Soft, I, S                                   bool
		Pattern                                      string
		Product, Version, Info, Hostname, OS, Device string
		CPE                                          []string
		Line                                         int
	}
	wants := []fields{
		{"toygreet", false, false, false, `^TOY ([\d.]+) ready\r\n`, "Toy server", "$1", "", "", "", "",
			[]string{"cpe:/a:toyco:toy_server:$1"}, 10},
		{"toygreet", false, false, false, `^TOY-(?:(?!beta)\w)+ $`, "Toy server", "", "stable build", "", "", "", nil, 11},
		{"toygreet", true, false, false, `^TOY`, "", "", "", "", "", "", nil, 12},
		{"widget", false, false, true, `^W(\x01|\x02)(..)(.{2})`, "Widget", `$I(2,">")`, `flags $I(3,"<")`, "", "",
			"media device", nil, 13},
		{"namecase", false, true, false, `^hello from (\S+)`, "Hello", "", "", "$1", "Plan 9", "",
			[]string{"cpe:/o:bell:plan9"}, 14},
		{"padded", false, false, false, `^NAME=([^\r\n]*)\r\n`, "$P(1)", "", "", "", "", "", nil, 15},
		{"dotted", false, false, false, `^VER ([\d_]+)\b`, "Dotted", `$SUBST(1,"_",".")`, "", "", "", "", nil, 16},
		{"backref", false, false, false, `^(\w+)=\1;`, "Echoer", "", "said $1 twice", "", "", "", nil, 17},
		{"named", false, false, false, `^N (?<major>\d+) (\d+)`, "Named", "$1.$2", "", "", "", "", nil, 18},
	}
	for i, w := range wants {
		m := null.Matches[i]
		got := fields{m.Service, m.Soft, m.CaseInsensitive, m.DotAll, m.Pattern, m.Product, m.Version, m.Info,
			m.Hostname, m.OS, m.Device, m.CPE, m.Line}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("match %d:\ngot  %+v\nwant %+v", i, got, w)
		}
	}
	if f.Exclude == nil || !f.Excluded(ports.TCP, 9) || !f.Excluded(ports.UDP, 9) ||
		!f.Excluded(ports.TCP, 6001) || f.Excluded(ports.UDP, 6001) || !f.Excluded(ports.UDP, 7777) {
		t.Errorf("Exclude read wrong: %v", f.Exclude)
	}
	if g := loadFixture(t, Options{AllPorts: true}); g.Exclude != nil || g.Excluded(ports.TCP, 9) {
		t.Error("AllPorts kept the Exclude directive")
	}
}

func TestParseErrors(t *testing.T) {
	const p = "Probe TCP X q||\n"
	cases := []struct {
		name, in string
		line     int
		col      int
		msg      string
	}{
		{"unknown directive", "Foo bar", 1, 1, `unknown directive "Foo"`},
		{"match before probe", "match x m|a|", 1, 1, "match before any Probe"},
		{"indented directive", "  ports 1", 1, 3, "ports before any Probe"},
		{"protocol", "Probe ICMP X q||", 1, 7, `probe protocol "ICMP": want TCP or UDP`},
		{"no name", "Probe TCP ", 1, 11, "probe needs a name"},
		{"no q", "Probe TCP X |a|", 1, 13, "probe string must be q followed by a delimiter"},
		{"letter delimiter", "Probe TCP X qaba", 1, 14, "probe string delimiter must be a punctuation mark"},
		{"unclosed probe string", "Probe TCP X q|abc", 1, 14, "probe string has no closing |"},
		{"escaped last delimiter", `Probe TCP X q|ab\|`, 1, 14, "probe string has no closing |"},
		{"unknown escape", `Probe TCP X q|\q|`, 1, 15, `unknown escape \q`},
		{"octal escape", `Probe TCP X q|\12|`, 1, 15, `unknown escape \1`},
		{"short hex", `Probe TCP X q|\x4|`, 1, 15, `\x needs two hex digits`},
		{"bad hex", `Probe TCP X q|\xg0|`, 1, 15, `\x needs two hex digits`},
		{"junk after probe", "Probe TCP X q|| junk", 1, 17, `unexpected "junk" after the probe string`},
		{"second probe", p + "Probe TCP X q|y|", 2, 11, "second probe TCP X"},
		{"rarity range", p + "rarity 10", 2, 8, `invalid rarity "10": want 1 to 9`},
		{"rarity twice", p + "rarity 1\nrarity 2", 3, 1, "second rarity line for probe X"},
		{"no argument", p + "rarity", 2, 7, "rarity needs an argument"},
		{"port zero", p + "ports 0", 2, 7, `invalid port or range "0"`},
		{"backward range", p + "ports 1,5-3", 2, 9, `invalid port or range "5-3"`},
		{"empty port", p + "ports 1,,2", 2, 9, `invalid port or range ""`},
		{"big port", p + "sslports 70000", 2, 10, `invalid port or range "70000"`},
		{"wait", p + "totalwaitms soon", 2, 13, `invalid milliseconds "soon": want 1 to 3600000`},
		{"wrapped zero", p + "tcpwrappedms 0", 2, 14, `invalid milliseconds "0": want 1 to 3600000`},
		{"no m", p + "match svc |abc|", 2, 11, "pattern must be m followed by a delimiter"},
		{"unclosed pattern", p + "match svc m|abc", 2, 12, "pattern has no closing |"},
		{"pattern option", p + "match svc m|abc|iz", 2, 18, `unknown pattern option 'z': want i or s`},
		{"unknown field", p + "match svc m|abc| q/x/", 2, 18, `unknown version field 'q'`},
		{"field without delimiter", p + "match svc m|abc| p", 2, 18, "version field needs a delimiter"},
		{"unclosed field", p + "match svc m|abc| p/x", 2, 18, "version field has no closing /"},
		{"field twice", p + "match svc m|abc| p/x/ p|y|", 2, 23, "second p/ field"},
		{"junk after field", p + "match svc m|abc| p/x/junk", 2, 22, `unexpected 'j' after a version field`},
		{"subst args", p + `match svc m|(a)| v/$SUBST(1,"a")/`, 2, 20, `$SUBST(...): want ,"..." after the group`},
		{"subst group", p + `match svc m|(a)| v/$SUBST(x,"a","b")/`, 2, 20, `$SUBST(...): want a group number 1 to 9`},
		{"subst empty", p + `match svc m|(a)| v/$SUBST(1,"","b")/`, 2, 20, `$SUBST(...): empty string to replace`},
		{"int order", p + `match svc m|(a)| v/$I(1,"x")/`, 2, 20, `$I(...): byte order must be "<" or ">"`},
		{"printable close", p + `match svc m|(a)| v/$P(1/`, 2, 20, `$P(...): want )`},
		{"fallback unknown", p + "fallback Nope", 2, 10, `fallback names no probe "Nope"`},
		{"fallback empty", p + "fallback A,,B", 2, 12, `invalid fallback probe name ""`},
		{"exclude spec", "Exclude 1,T:99999", 1, 11, `Exclude: invalid port "T:99999": ports run 1-65535`},
		{"exclude twice", "Exclude 1\nExclude 2", 2, 1, "second Exclude line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.nsp", strings.NewReader(tc.in), Options{})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if !errors.Is(err, ErrSyntax) || pe.Line != tc.line || pe.Column != tc.col || pe.Msg != tc.msg {
				t.Errorf("got %v (line %d col %d %q)\nwant t.nsp:%d:%d: %s", err, pe.Line, pe.Column, pe.Msg,
					tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	long := "Probe TCP X q|" + strings.Repeat("a", MaxLineSize) + "|\n"
	var many strings.Builder
	for i := range MaxProbes + 1 {
		many.WriteString("Probe TCP P" + strconv.Itoa(i) + " q||\n")
	}
	cases := []struct {
		name string
		in   io.Reader
		want string
	}{
		{"file size", io.LimitReader(zeros{}, MaxFileSize+1), "t.nsp: file is larger than 16777216 bytes"},
		{"line size", strings.NewReader(long), "t.nsp:1: line is longer than 65536 bytes"},
		{"probes", strings.NewReader(many.String()), "t.nsp:4097: more than 4096 probes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.nsp", tc.in, Options{})
			if !errors.Is(err, ErrLimit) || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = '\n'
	}
	return len(b), nil
}

func TestRefusedPattern(t *testing.T) {
	in := "Probe TCP NULL q||\nmatch ok m|^a|\nmatch bad m=a(b= p/x/\nmatch ok2 m|^b|\n"
	f, err := Parse("t.nsp", strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Refused) != 1 {
		t.Fatalf("refused %v, want one", f.Refused)
	}
	e := f.Refused[0]
	if !errors.Is(e, ErrPattern) || e.Line != 3 || e.Column != 11 || !strings.HasPrefix(e.Error(), "t.nsp:3:11: ") {
		t.Errorf("refused error %v", e)
	}
	p := f.Probes[0]
	if svc, ok, _ := f.Match(p, []byte("b")); !ok || svc.Name != "ok2" {
		t.Errorf("the lines after a refused one do not match: %+v %v", svc, ok)
	}
	if _, ok, _ := f.Match(p, []byte("ab")); !ok {
		t.Error("the line before a refused one does not match")
	}
}
