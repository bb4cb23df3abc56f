package ports

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fakeLookup stands in for the catalog.
func fakeLookup(name string) []Port {
	switch name {
	case "ssh":
		return []Port{{22, TCP}, {22, UDP}}
	case "http", "www":
		return []Port{{80, TCP}, {80, UDP}}
	case "domain":
		return []Port{{53, TCP}, {53, UDP}}
	case "snmp":
		return []Port{{161, UDP}}
	case "3com-tsmux":
		return []Port{{106, TCP}}
	case "914c/g":
		return []Port{{211, TCP}}
	}
	return nil
}

func TestParseSpec(t *testing.T) {
	both := SpecOptions{Protocols: []Protocol{TCP, UDP}, Lookup: fakeLookup}
	tcp := SpecOptions{Lookup: fakeLookup}
	tests := []struct {
		name string
		spec string
		opts SpecOptions
		want string // Set.String of the result
	}{
		{"single", "22", tcp, "T:22"},
		{"list", "22,80,8000-8100", tcp, "T:22,80,8000-8100"},
		{"all", "-", tcp, "T:1-65535"},
		{"open high", "60000-", tcp, "T:60000-65535"},
		{"open low", "-1024", tcp, "T:1-1024"},
		{"edges", "1,65535", tcp, "T:1,65535"},
		{"leading zeros", "0080", tcp, "T:80"},
		{"merge overlaps", "1-10,5-20,21", tcp, "T:1-21"},
		{"spaces", " 22 , 80 ", tcp, "T:22,80"},
		{"default both", "22", both, "T:22,U:22"},
		{"prefixes", "T:80,U:53", both, "T:80,U:53"},
		{"prefix carries", "U:53,111,T:21-25", both, "T:21-25,U:53,111"},
		{"lower prefix", "u:53", tcp, "U:53"},
		{"prefix all", "U:-", tcp, "U:1-65535"},
		{"suffix", "80/tcp,53/udp", tcp, "T:80,U:53"},
		{"suffix range", "1-3/udp", both, "U:1-3"},
		{"suffix upper", "53/UDP", tcp, "U:53"},
		{"suffix ddp", "4/ddp", tcp, "4/ddp"},
		{"suffix matches prefix", "T:80/tcp", tcp, "T:80"},
		{"name", "ssh,http", tcp, "T:22,80"},
		{"name both", "domain", both, "T:53,U:53"},
		{"name prefixed", "U:domain", both, "U:53"},
		{"name suffixed", "ssh/udp", tcp, "U:22"},
		{"alias", "www", tcp, "T:80"},
		{"name starting with digit", "3com-tsmux", tcp, "T:106"},
		{"name with slash", "914c/g", tcp, "T:211"},
		{"names and numbers", "ssh,8080,U:snmp", both, "T:22,8080,U:22,161,8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSpec(tt.spec, tt.opts)
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tt.spec, err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("ParseSpec(%q) = %q, want %q", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		want    string
		offset  int
		unknown bool
	}{
		{"empty", "", `invalid port "": empty port specification`, 0, false},
		{"too big", "22,70000", `invalid port "70000": ports run 1-65535`, 3, false},
		{"huge", "99999999999999999999", `invalid port "99999999999999999999": ports run 1-65535`, 0, false},
		{"zero", "0", `invalid port "0": ports run 1-65535`, 0, false},
		{"zero range", "0-10", `invalid port "0-10": ports run 1-65535`, 0, false},
		{"backwards", "100-20", `invalid port "100-20": range runs backwards; did you mean 20-100?`, 0, false},
		{"two dashes", "1-2-3", `invalid port "1-2-3": more than one dash`, 0, false},
		{"empty entry", "22,,80", `invalid port "": empty entry`, 3, false},
		{"trailing comma", "22,", `invalid port "": empty entry`, 3, false},
		{"bad prefix", "S:80", `invalid port "S:80": unknown protocol prefix "S:"; want T: or U:`, 0, false},
		{"bare prefix", "T:", `invalid port "T:": no port after T:`, 0, false},
		{"bad suffix", "80/sctp", `invalid port "80/sctp": unknown protocol "sctp"; want tcp, udp or ddp`, 0, false},
		{"conflict", "T:80/udp", `invalid port "T:80/udp": protocol suffix conflicts with the prefix before it`, 0, false},
		{"unknown name", "22, foo", `unknown service name "foo"`, 4, true},
		{"unknown prefixed", "T:foo", `unknown service name "foo"`, 2, true},
		{"glob", "http*", `unknown service name "http*"`, 0, true},
		{"wrong proto name", "T:snmp", `invalid port "T:snmp": service has no port on tcp`, 0, false},
		{"space inside", "2 2", `unknown service name "2 2"`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec(tt.spec, SpecOptions{Lookup: fakeLookup})
			if err == nil {
				t.Fatalf("ParseSpec(%q) succeeded", tt.spec)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrSpec) {
				t.Errorf("error %v does not match ErrSpec", err)
			}
			if errors.Is(err, ErrUnknownService) != tt.unknown {
				t.Errorf("errors.Is(ErrUnknownService) = %v, want %v", !tt.unknown, tt.unknown)
			}
			var se *SpecError
			if !errors.As(err, &se) || se.Offset != tt.offset {
				t.Errorf("offset = %+v, want %d", se, tt.offset)
			}
		})
	}
}

func TestParseSpecNoLookup(t *testing.T) {
	_, err := ParseSpec("ssh", SpecOptions{})
	if !errors.Is(err, ErrUnknownService) {
		t.Fatalf("err = %v, want ErrUnknownService", err)
	}
}

func TestSetOps(t *testing.T) {
	var s Set
	s.AddRange(TCP, 60, 130)
	s.Add(Port{7, UDP})
	s.Add(Port{1, Protocol(9)}) // ignored
	if got, want := s.Len(TCP), 71; got != want {
		t.Errorf("Len(TCP) = %d, want %d", got, want)
	}
	if !s.Contains(Port{64, TCP}) || s.Contains(Port{59, TCP}) || s.Contains(Port{7, TCP}) {
		t.Error("Contains is wrong at a word edge or across protocols")
	}
	s.Remove(Port{64, TCP})
	if s.Contains(Port{64, TCP}) {
		t.Error("Remove left 64/tcp")
	}
	if got := s.String(); got != "T:60-63,65-130,U:7" {
		t.Errorf("String = %q", got)
	}

	var o Set
	o.AddRange(TCP, 100, 200)
	u := s
	u.Union(&o)
	if got := u.String(); got != "T:60-63,65-200,U:7" {
		t.Errorf("Union = %q", got)
	}
	d := s
	d.Subtract(&o)
	if got := d.String(); got != "T:60-63,65-99,U:7" {
		t.Errorf("Subtract = %q", got)
	}
	i := s
	i.Intersect(&o)
	if got := i.String(); got != "T:100-130" {
		t.Errorf("Intersect = %q", got)
	}
	if s.String() != "T:60-63,65-130,U:7" {
		t.Error("operations on copies changed the original")
	}

	var full Set
	full.AddRange(UDP, 0, 65535)
	if full.Len(UDP) != 65536 || full.Len(Protocol(0)) != 0 {
		t.Errorf("full Len = %d", full.Len(UDP))
	}
	var got []uint16
	for n := range full.All(UDP) {
		got = append(got, n)
		if len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, []uint16{0, 1, 2}) {
		t.Errorf("All stopped early = %v", got)
	}
	var ports []string
	for p := range u.Ports() {
		if p.Number > 62 && p.Number < 199 {
			continue
		}
		ports = append(ports, p.String())
	}
	if strings.Join(ports, " ") != "60/tcp 61/tcp 62/tcp 199/tcp 200/tcp 7/udp" {
		t.Errorf("Ports = %v", ports)
	}
}

func TestStringRoundTrip(t *testing.T) {
	var s Set
	s.AddRange(DDP, 1, 4)
	s.Add(Port{65535, TCP})
	s.Add(Port{1, TCP})
	s.AddRange(UDP, 500, 600)
	back, err := ParseSpec(s.String(), SpecOptions{Protocols: []Protocol{UDP}})
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(&s) {
		t.Errorf("round trip of %q gave %q", s.String(), back.String())
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"22", "22,80,8000-8100", "-", "60000-", "-1024", "T:80,U:53", "80/tcp", "ssh,http", "U:53,111,T:21-25", "70000", "0", "1-2-3", "T:", "914c/g"} {
		f.Add(s)
	}
	opts := SpecOptions{Protocols: []Protocol{TCP, UDP}, Lookup: fakeLookup}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSpec(spec, opts)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("error %v does not wrap ErrSpec", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			var se *SpecError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(spec) {
				t.Fatalf("bad offset in %#v", se)
			}
			return
		}
		if s.Contains(Port{0, TCP}) || s.Contains(Port{0, UDP}) {
			t.Fatal("port 0 accepted")
		}
		back, err := ParseSpec(s.String(), SpecOptions{})
		if err != nil && s.String() != "" {
			t.Fatalf("String %q does not parse: %v", s.String(), err)
		}
		if err == nil && !back.Equal(s) {
			t.Fatalf("round trip %q -> %q", s.String(), back.String())
		}
	})
}

func ExampleParseSpec() {
	lookup := func(name string) []Port {
		if name == "ssh" {
			return []Port{{22, TCP}}
		}
		return nil
	}
	s, err := ParseSpec("ssh,80,8000-8010,U:53", SpecOptions{Lookup: lookup})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Len(TCP), "TCP ports,", s.Len(UDP), "UDP port")
	fmt.Println(s)

	_, err = ParseSpec("22,70000", SpecOptions{})
	fmt.Println(err)
	// Output:
	// 13 TCP ports, 1 UDP port
	// T:22,80,8000-8010,U:53
	// invalid port "70000": ports run 1-65535
}

func ExampleSet_Subtract() {
	scan, _ := ParseSpec("1-1024", SpecOptions{})
	skip, _ := ParseSpec("25,110-143", SpecOptions{Protocols: []Protocol{TCP, UDP}})
	scan.Subtract(skip)
	fmt.Println(scan)
	// Output:
	// T:1-24,26-109,144-1024
}

func ExampleSet_All() {
	s, _ := ParseSpec("443,22,80", SpecOptions{})
	for n := range s.All(TCP) {
		fmt.Println(n)
	}
	// Output:
	// 22
	// 80
	// 443
}
