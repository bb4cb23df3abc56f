package oui

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// sample is the registry's layout with made-up organisations.
const sample = "OUI/MA-L                                                    Organization                                 \r\n" +
	"company_id                                                  Organization                                 \r\n" +
	"                                                            Address                                      \r\n" +
	"\r\n" +
	"00-00-5E   (hex)\t\tExample Networks, Inc.\r\n" +
	"00005E     (base 16)\t\tExample Networks, Inc.\r\n" +
	"\t\t\t\t1 Example Road\r\n" +
	"\t\t\t\tSpringfield  XX  00000\r\n" +
	"\t\t\t\tUS\r\n" +
	"\r\n" +
	"a4-b1-C2   (hex)\t\tLower   Case\tLtd\r\n" +
	"\r\n" +
	"FC-FF-AA   (hex)\t\tFörsta Exempel AB\r\n" +
	"FCFFAA     (base 16)\t\tFörsta Exempel AB\r\n" +
	"00-00-5E   (hex)\t\tA Second Claim\r\n" +
	"0A0B0C     (base 16)\t\tOnly In Base 16\n"

func TestParse(t *testing.T) {
	r, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mac, want string
	}{
		{"00:00:5e:00:01:01", "Example Networks, Inc."},
		{"A4:B1:C2:00:00:00", "Lower Case Ltd"},
		{"fc:ff:aa:12:34:56", "Första Exempel AB"},
		{"0a:0b:0c:0d:0e:0f", "Only In Base 16"},
		{"00:00:5f:00:00:00", ""},
		{"02:42:ac:11:00:02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.mac, func(t *testing.T) {
			mac, err := net.ParseMAC(tt.mac)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Vendor(mac); got != tt.want {
				t.Errorf("Vendor(%s) = %q, want %q", tt.mac, got, tt.want)
			}
		})
	}
	if r.Len() != 4 {
		t.Errorf("Len() = %d, want 4", r.Len())
	}
	var none *Registry
	if none.Vendor(net.HardwareAddr{0, 0, 0x5e, 0, 0, 1}) != "" || r.Vendor(net.HardwareAddr{0, 0, 0x5e}) != "" || none.Len() != 0 {
		t.Error("a nil registry or a short address named a vendor")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
	}{
		{"a letter that is no hex", "\n00-0G-5E   (hex)\t\tX\n", 2, 5},
		{"no dash", "00:00:5E   (hex)\t\tX\n", 1, 3},
		{"short prefix", "  00-00   (hex)\t\tX\n", 1, 8},
		{"long prefix", "00-00-5E-01   (hex)\t\tX\n", 1, 9},
		{"dashes in base 16", "00-00-5E   (base 16)\t\tX\n", 1, 3},
		{"base 16 too short", "\n\n0000     (base 16)\t\tX\n", 3, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want a *ParseError matching ErrSyntax", err)
			}
			if pe.Line != tt.line || pe.Col != tt.col {
				t.Errorf("at %d:%d, want %d:%d (%v)", pe.Line, pe.Col, tt.line, tt.col, err)
			}
		})
	}
	_, err := Parse(strings.NewReader(strings.Repeat("x", maxLine+1)))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 {
		t.Errorf("a line too long: %v, want a *ParseError at line 1", err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\t\tPlain Name\r", "Plain Name"},
		{"Bell\a and \x1b[31mred", "Bell and [31mred"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"  ", ""},
		{strings.Repeat("é", 100), strings.Repeat("é", MaxName/2)},
		{"zero\u200bwidth and\u2028line", "zero width and line"},
	}
	for _, tt := range tests {
		if got := clean([]byte(tt.in)); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSystem reads the system's registry, where it is installed (Debian's
// ieee-data; .ci/run installs it).
func TestSystem(t *testing.T) {
	if _, err := os.Stat(SystemPath); err != nil {
		if os.Getenv("PORTSCAN_LAB_REQUIRE") != "" {
			t.Fatalf("%s: %v (PORTSCAN_LAB_REQUIRE is set: apt-get install ieee-data)", SystemPath, err)
		}
		t.Skipf("%s: %v (apt-get install ieee-data)", SystemPath, err)
	}
	r, err := System()
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() < 10000 {
		t.Fatalf("%d prefixes, want tens of thousands", r.Len())
	}
	// Cisco's first prefix, assigned in the 1980s.
	if v := r.Vendor(net.HardwareAddr{0x00, 0x00, 0x0c, 1, 2, 3}); !strings.HasPrefix(v, "Cisco") {
		t.Errorf("00:00:0C is %q, want Cisco's", v)
	}
	for i, name := range r.names {
		if !printable(name) {
			t.Errorf("prefix %06X: %q is not printable", r.prefixes[i], name)
		}
	}
}

func printable(s string) bool {
	if s == "" || len(s) > MaxName || !utf8.ValidString(s) || strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// BenchmarkOpenSystem reads the system's registry, as the first vendor
// lookup of a run does.
func BenchmarkOpenSystem(b *testing.B) {
	if _, err := os.Stat(SystemPath); err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(SystemPath); err != nil {
			b.Fatal(err)
		}
	}
}
