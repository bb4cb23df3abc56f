package probes

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

func TestMatchFixture(t *testing.T) {
	f := loadFixture(t, Options{})
	cases := []struct {
		name, probe, reply string
		want               result.Service
		soft               bool
		from               string // the probe whose line matched
		host, os, device   string
	}{
		{name: "version and cpe", probe: "NULL", reply: "TOY 1.2 ready\r\n",
			want: svc("toygreet", "Toy server", "1.2", "", 10, "cpe:/a:toyco:toy_server:1.2"), from: "NULL"},
		{name: "lookahead and PCRE dollar before a final newline", probe: "NULL", reply: "TOY-stable \n",
			want: svc("toygreet", "Toy server", "", "stable build", 10), from: "NULL"},
		{name: "softmatch when the lookahead refuses", probe: "NULL", reply: "TOY-beta2 \n",
			want: svc("toygreet", "", "", "", 7), soft: true, from: "NULL"},
		{name: "s option and $I", probe: "NULL", reply: "W\x02\x01\x00\n\x00",
			want: svc("widget", "Widget", "256", "flags 10", 10), from: "NULL", device: "media device"},
		{name: "i option, h o fields, cpe flag", probe: "NULL", reply: "HELLO FROM Box7\r\n",
			want: svc("namecase", "Hello", "", "", 10, "cpe:/o:bell:plan9"), from: "NULL", host: "Box7", os: "Plan 9"},
		{name: "$P drops unprintable bytes", probe: "NULL", reply: "NAME=A\x01B\x7fC\xe9\r\n",
			want: svc("padded", "ABC", "", "", 10), from: "NULL"},
		{name: "$SUBST and an ASCII word boundary before a high byte", probe: "NULL", reply: "VER 2_4_1\xe9",
			want: svc("dotted", "Dotted", "2.4.1", "", 10), from: "NULL"},
		{name: "backreference", probe: "NULL", reply: "abc=abc;",
			want: svc("backref", "Echoer", "", "said abc twice", 10), from: "NULL"},
		{name: "named group numbered in pattern order", probe: "NULL", reply: "N 3 4",
			want: svc("named", "Named", "3.4", "", 10), from: "NULL"},
		{name: "fallback probe's lines, literal $", probe: "Ask", reply: "HI there\r\n",
			want: svc("hi", "Hi server", "there", "price $x, there", 10), from: "Hello"},
		{name: "fallback to the other protocol's probe", probe: "Ask", reply: "PONG 3",
			want: svc("pinger", "Pinger", "3", "", 10), from: "Ping"},
		{name: "softmatch alone", probe: "Ask", reply: "? HI x\r\n",
			want: svc("asker", "", "", "", 7), soft: true, from: "Ask"},
		{name: "own softmatch, then a fallback's match wins", probe: "Ask", reply: "HI x\r\n? ",
			want: svc("hi", "Hi server", "x", "price $x, x", 10), from: "Hello"},
		{name: "implicit NULL fallback for TCP", probe: "Widgets", reply: "TOY 3 ready\r\n",
			want: svc("toygreet", "Toy server", "3", "", 10, "cpe:/a:toyco:toy_server:3"), from: "NULL"},
		{name: "own line before the NULL fallback", probe: "Widgets", reply: "W\x00\xff",
			want: svc("widget", "Widget", `\xff`, "", 10), from: "Widgets"},
		{name: "CRLF lines", probe: "Crlf", reply: "xyz", want: svc("crlf", "", "", "", 10), from: "Crlf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := probeNamed(t, f, tc.probe)
			found, ok := f.Find(p, []byte(tc.reply))
			if !ok {
				t.Fatalf("no match for %q", tc.reply)
			}
			if !reflect.DeepEqual(found.Service, tc.want) || found.Soft != tc.soft || found.Probe.Name != tc.from {
				t.Errorf("got %+v soft=%v from %s\nwant %+v soft=%v from %s", found.Service, found.Soft,
					found.Probe.Name, tc.want, tc.soft, tc.from)
			}
			if found.Hostname != tc.host || found.OS != tc.os || found.Device != tc.device {
				t.Errorf("h o d = %q %q %q, want %q %q %q", found.Hostname, found.OS, found.Device, tc.host, tc.os, tc.device)
			}
			if found.Match == nil || found.Match.Service != tc.want.Name {
				t.Errorf("Found.Match is %+v", found.Match)
			}
			s, ok2, soft := f.Match(p, []byte(tc.reply))
			if !ok2 || soft != tc.soft || !reflect.DeepEqual(s, found.Service) {
				t.Errorf("Match disagrees with Find: %+v %v %v", s, ok2, soft)
			}
		})
	}
}

func svc(name, product, version, info string, conf int, cpe ...string) result.Service {
	return result.Service{Name: name, Product: product, Version: version, Info: info, CPE: cpe,
		Method: result.MethodServiceProbe, Confidence: conf}
}

func probeNamed(t *testing.T, f *File, name string) *Probe {
	t.Helper()
	for _, p := range f.Probes {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no probe %s", name)
	return nil
}

func TestNoMatch(t *testing.T) {
	f := loadFixture(t, Options{})
	cases := []struct{ name, probe, reply string }{
		{"empty reply", "NULL", ""},
		{"unknown reply", "NULL", "nothing known\r\n"},
		{"no NULL fallback for UDP", "Ping", "TOY 1 ready\r\n"},
		{"dot stops at a newline without s", "Crlf", "\n"},
		{"case matters without i", "Hello", "hi there\r\n"},
		{"Unicode word bytes are not word characters", "NULL", "\xe9=\xe9;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if s, ok, _ := f.Match(probeNamed(t, f, tc.probe), []byte(tc.reply)); ok {
				t.Errorf("matched %q: %+v", tc.reply, s)
			}
		})
	}
	if _, ok, _ := f.Match(nil, []byte("TOY 1 ready\r\n")); ok {
		t.Error("a nil probe matched")
	}
}

// A pattern that backtracks without end gives up after the match
// timeout or the engine's backtracking limit, and counts as no match.
func TestMatchGivesUp(t *testing.T) {
	in := "Probe TCP NULL q||\nmatch slow m=^(a|aa|a?)+$=\nmatch next m|^a|\n"
	f, err := Parse("t.nsp", strings.NewReader(in), Options{MatchTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reply := []byte(strings.Repeat("a", 5000) + "!")
	s, ok, _ := f.Match(f.Probes[0], reply)
	if !ok || s.Name != "next" {
		t.Errorf("got %+v %v; want the line after the slow one", s, ok)
	}
	if f.MatchFailures() != 1 {
		t.Errorf("MatchFailures() = %d, want 1", f.MatchFailures())
	}
}

func TestProbesFor(t *testing.T) {
	f := loadFixture(t, Options{})
	all := loadFixture(t, Options{AllPorts: true})
	cases := []struct {
		name      string
		f         *File
		proto     ports.Protocol
		port      uint16
		tls       bool
		intensity int
		want      string
	}{
		{"ports line first", f, ports.TCP, 2000, false, 7, "NULL Ask Hello Widgets Crlf"},
		{"ports line whatever the rarity", f, ports.TCP, 2000, false, 0, "NULL Ask"},
		{"range in a ports line", f, ports.TCP, 1005, false, 7, "NULL Hello Widgets Crlf"},
		{"intensity 9 sends all", f, ports.TCP, 80, false, 9, "NULL Hello Ask Escapes Widgets Crlf"},
		{"intensity clamped high", f, ports.TCP, 80, false, 99, "NULL Hello Ask Escapes Widgets Crlf"},
		{"intensity clamped low", f, ports.TCP, 80, false, -3, "NULL"},
		{"intensity 1", f, ports.TCP, 80, false, 1, "NULL Hello"},
		{"sslports under TLS", f, ports.TCP, 1443, true, 0, "NULL Hello"},
		{"sslports only under TLS", f, ports.TCP, 1443, false, 0, "NULL"},
		{"ports line not under TLS", f, ports.TCP, 1005, true, 0, "NULL"},
		{"excluded on every protocol", f, ports.TCP, 9, false, 9, ""},
		{"excluded TCP range", f, ports.TCP, 6002, false, 9, ""},
		{"AllPorts", all, ports.TCP, 6002, false, 0, "NULL"},
		{"UDP", f, ports.UDP, 5005, false, 0, "Ping"},
		{"UDP by rarity", f, ports.UDP, 53, false, 3, "Ping"},
		{"UDP rarity too high", f, ports.UDP, 53, false, 2, ""},
		{"UDP excluded", f, ports.UDP, 7777, false, 9, ""},
		{"UDP excluded on both", f, ports.UDP, 9, false, 9, ""},
		{"UDP not excluded by a TCP range", f, ports.UDP, 6001, false, 3, "Ping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var plan []*Probe
			if tc.proto == ports.TCP {
				plan = tc.f.ProbesFor(tc.port, tc.tls, tc.intensity)
			} else {
				plan = tc.f.ProbesForUDP(tc.port, tc.intensity)
			}
			var names []string
			for _, p := range plan {
				names = append(names, p.Name)
			}
			if got := strings.Join(names, " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPossible(t *testing.T) {
	f := loadFixture(t, Options{})
	var kept []string
	for _, p := range f.ProbesFor(80, false, 9) {
		if p.Possible("widget") {
			kept = append(kept, p.Name)
		}
	}
	if got := strings.Join(kept, " "); got != "NULL Widgets" {
		t.Errorf("probes possible for widget: %q", got)
	}
}

// A loaded File serves many goroutines at once, as the prober uses it.
func TestConcurrentMatch(t *testing.T) {
	f := loadFixture(t, Options{})
	null := probeNamed(t, f, "NULL")
	done := make(chan bool)
	for i := range 8 {
		go func() {
			ok := true
			for range 50 {
				s, m, _ := f.Match(null, []byte("TOY 1."+string(rune('0'+i))+" ready\r\n"))
				ok = ok && m && s.Version == "1."+string(rune('0'+i))
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent match went wrong")
		}
	}
}
