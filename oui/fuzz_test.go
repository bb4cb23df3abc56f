package oui

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// FuzzParse feeds the parser any bytes, as a damaged or hostile registry
// file may hold: it never panics, fails only with a *ParseError at a
// line of the input, every name it keeps is printable, and it agrees
// with the old parser (oldParse) on every input.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("00-00-5E   (hex)\t\tX\n00005E     (base 16)\t\tY\n"))
	f.Add([]byte("00-0G-5E   (hex)\t\tX\n"))
	f.Add([]byte("AB-CD-EF (hex) \x1b]0;title\a\xff\xfe\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sameAsOld(t, in)
		r, err := Parse(strings.NewReader(string(in)))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > strings.Count(string(in), "\n")+1 || pe.Col < 1 {
				t.Fatalf("error %v (%#v) names no line of the input", err, err)
			}
			return
		}
		for i, name := range r.names {
			if !printable(name) {
				t.Fatalf("kept %q", name)
			}
			p := r.prefixes[i]
			if i > 0 && r.prefixes[i-1] >= p {
				t.Fatalf("prefixes out of order at %d", i)
			}
			if got := r.Vendor(net.HardwareAddr{byte(p >> 16), byte(p >> 8), byte(p), 0, 0, 0}); got != name {
				t.Fatalf("Vendor of %06X = %q, want %q", p, got, name)
			}
		}
	})
}
