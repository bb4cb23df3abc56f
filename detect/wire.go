package detect

// Helpers shared by the matchers of client-first protocols (http.go,
// tls.go, dns.go, ...). They read untrusted bytes: every one is bounded
// and none panics, whatever its input.
//
// A matcher decides as soon as the bytes are decisive: ok once they are
// surely its protocol (reading whatever product and version the bytes at
// hand carry), more only while they are still a prefix of an answer it
// could accept, and false as soon as a byte rules its protocol out.

import (
	"encoding/binary"
	"strings"
)

// octets reads fixed-size integers at offsets of a byte slice; ok is
// false when the slice is too short.
type octets []byte

func (b octets) u8(off int) (byte, bool) {
	if off < 0 || off >= len(b) {
		return 0, false
	}
	return b[off], true
}

func (b octets) be16(off int) (uint16, bool) {
	if off < 0 || len(b)-off < 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[off:]), true
}

func (b octets) be32(off int) (uint32, bool) {
	if off < 0 || len(b)-off < 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[off:]), true
}

func (b octets) le16(off int) (uint16, bool) {
	if off < 0 || len(b)-off < 2 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b[off:]), true
}

func (b octets) le32(off int) (uint32, bool) {
	if off < 0 || len(b)-off < 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[off:]), true
}

// span returns b[off:off+n], or false when b is shorter.
func (b octets) span(off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off > len(b) || len(b)-off < n {
		return nil, false
	}
	return b[off : off+n], true
}

// isPrefixOf says whether got is a proper prefix of want: an answer cut
// short that could still be want.
func isPrefixOf(got []byte, want string) bool {
	return len(got) < len(want) && string(got) == want[:len(got)]
}

// maxText bounds the strings matchers copy out of an answer.
const maxText = 128

// cleanText makes untrusted bytes safe to print: control bytes and
// invalid UTF-8 become spaces, runs of spaces one, the ends trimmed, the
// whole cut to at most max bytes (on a rune boundary).
func cleanBytes(b []byte, max int) string {
	if len(b) > 4*max {
		b = b[:4*max]
	}
	return cleanText(string(b), max)
}

// probeHost returns host fit to go into a request line or a header: only
// the bytes of a DNS name, an address or a port survive (RFC 3986
// §3.2.2), so that no name given on the command line can smuggle a line
// into a probe.
func probeHost(host string) string {
	var sb strings.Builder
	for i := 0; i < len(host) && sb.Len() < 255; i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == ':', c == '[', c == ']', c == '%':
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// versionish says whether s looks like a version: a digit first, then
// digits, letters and the punctuation of version strings.
func versionish(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_' || c == '+' || c == '~') {
			return false
		}
	}
	return true
}

// cpe builds a CPE 2.2 name for an application, or "" without a version.
func cpe(vendor, product, version string) []string {
	if version == "" {
		return []string{"cpe:/a:" + vendor + ":" + product}
	}
	return []string{"cpe:/a:" + vendor + ":" + product + ":" + strings.ToLower(version)}
}
