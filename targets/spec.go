package targets

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

type kind uint8

const (
	kindRange   kind = iota // a contiguous range: an address, a prefix, a-b
	kindPattern             // an IPv4 octet pattern that is not contiguous
	kindName                // a host name, maybe with a prefix length
)

// Spec is one parsed target token: an address, a prefix, a range, an
// octet pattern or a host name. It holds the token's bounds, never its
// addresses, so a /8 and a single host cost the same.
type Spec struct {
	text        string
	kind        kind
	space       space
	first, last u128     // kindRange
	pat         *pattern // kindPattern
	name        string   // kindName
	bits        int      // kindName: prefix length, or -1
}

// String returns the token as it was written.
func (s Spec) String() string { return s.text }

// Name returns the host name of a host-name spec ("scanme.example" for
// "scanme.example/28"), or "" for an address literal.
func (s Spec) Name() string { return s.name }

// ParseSpec reads one target token:
//
//	192.0.2.7            an IPv4 address
//	2001:db8::1, fe80::1%eth0, [::1]   an IPv6 address, with a zone or brackets
//	192.0.2.7/24         a prefix; host bits are ignored (192.0.2.0/24)
//	2001:db8::/120       an IPv6 prefix
//	192.0.2.1-192.0.2.50 a range of addresses (IPv6 too)
//	192.0.2.1-50         an octet pattern: each octet a value, a range
//	10.0-3.*.1,129       ("1-50", "-50", "50-"), "*" for 0-255, or a
//	                     comma-separated list of those
//	scanme.example       a host name, resolved when the set is iterated
//	scanme.example/28    the prefix around the host name's address
//
// A token made only of digits, dots, dashes, commas, stars and a slash is
// read as IPv4 and never looked up in DNS, so 10.0.0.300 is an error rather
// than a host name. Errors wrap ErrSpec and quote the token.
func ParseSpec(text string) (Spec, error) {
	s, reason := parse(text)
	if reason != "" {
		return Spec{}, fmt.Errorf("%w %q: %s", ErrSpec, text, reason)
	}
	s.text = text
	return s, nil
}

func parse(t string) (Spec, string) {
	switch {
	case t == "":
		return Spec{}, "empty target"
	case strings.ContainsFunc(t, isSpace):
		return Spec{}, "contains white space"
	case strings.Contains(t, ":"):
		return parseIPv6(t)
	case strings.Trim(t, "0123456789.-,*/") == "":
		return parseIPv4(t)
	}
	return parseName(t)
}

// key returns a string that two specs share when they name the same
// addresses the same way, so that a Set keeps one of them.
func (s Spec) key() string {
	b := make([]byte, 0, 64)
	switch s.kind {
	case kindRange:
		b = append(b, 'r')
		if s.space.v6 {
			b = append(b, '6')
		}
		b = append(b, s.space.zone...)
		b = append(b, 0)
		for _, x := range []uint64{s.first.hi, s.first.lo, s.last.hi, s.last.lo} {
			b = binary.BigEndian.AppendUint64(b, x)
		}
	case kindPattern:
		b = append(b, 'p')
		for _, o := range s.pat {
			for _, w := range o {
				b = binary.BigEndian.AppendUint64(b, w)
			}
		}
	case kindName:
		b = append(b, 'n')
		b = append(b, s.name...)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(s.bits), 10)
	}
	return string(b)
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

func parseIPv6(t string) (Spec, string) {
	body, plen, hasLen := strings.Cut(t, "/")
	if strings.HasPrefix(body, "[") {
		if !strings.HasSuffix(body, "]") {
			return Spec{}, "unbalanced brackets"
		}
		body = body[1 : len(body)-1]
	}
	if !hasLen {
		if lo, hi, ok := strings.Cut(body, "-"); ok && !strings.Contains(body, "%") {
			a, reason := parseAddr6(lo)
			if reason != "" {
				return Spec{}, reason
			}
			b, reason := parseAddr6(hi)
			if reason != "" {
				return Spec{}, reason
			}
			first, last := fromAddr(a), fromAddr(b)
			if first.cmp(last) > 0 {
				return Spec{}, "range runs backwards"
			}
			return Spec{kind: kindRange, space: space{v6: true}, first: first, last: last}, ""
		}
	}
	a, reason := parseAddr6(body)
	if reason != "" {
		return Spec{}, reason
	}
	sp := space{v6: true, zone: a.Zone()}
	x := fromAddr(a)
	if !hasLen {
		return Spec{kind: kindRange, space: sp, first: x, last: x}, ""
	}
	if sp.zone != "" {
		return Spec{}, "a prefix cannot have a zone"
	}
	n, reason := prefixLen(plen, 128)
	if reason != "" {
		return Spec{}, reason
	}
	first, last := prefixRange(x, true, n)
	return Spec{kind: kindRange, space: sp, first: first, last: last}, ""
}

func parseAddr6(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, "not a valid IPv6 address"
	}
	return a, ""
}

// prefixLen reads the length after a slash.
func prefixLen(s string, max int) (int, string) {
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, "prefix length " + strconv.Quote(s) + " is not a number"
	}
	if n > max {
		return 0, "prefix length " + s + " out of range 0-" + strconv.Itoa(max)
	}
	return n, ""
}

func parseIPv4(t string) (Spec, string) {
	if a, err := netip.ParseAddr(t); err == nil && a.Is4() {
		// The common case, a plain address, without building a pattern.
		x := fromAddr(a)
		return Spec{kind: kindRange, first: x, last: x}, ""
	}
	body, plen, hasLen := strings.Cut(t, "/")
	if hasLen {
		a, reason := parseAddr4(body)
		if reason != "" {
			return Spec{}, reason
		}
		n, reason := prefixLen(plen, 32)
		if reason != "" {
			return Spec{}, reason
		}
		first, last := prefixRange(a, false, n)
		return Spec{kind: kindRange, first: first, last: last}, ""
	}
	if lo, hi, ok := strings.Cut(body, "-"); ok && strings.Count(lo, ".") == 3 && strings.Count(hi, ".") == 3 {
		a, reason := parseAddr4(lo)
		if reason != "" {
			return Spec{}, reason
		}
		b, reason := parseAddr4(hi)
		if reason != "" {
			return Spec{}, reason
		}
		if a.cmp(b) > 0 {
			return Spec{}, "range runs backwards"
		}
		return Spec{kind: kindRange, first: a, last: b}, ""
	}
	p, reason := parsePattern(body)
	if reason != "" {
		return Spec{}, reason
	}
	if p.runs() == 1 {
		var first, last uint32
		p.spans(func(a, b uint32) { first, last = a, b })
		return Spec{kind: kindRange, first: u128{0, uint64(first)}, last: u128{0, uint64(last)}}, ""
	}
	return Spec{kind: kindPattern, pat: p}, ""
}

// parseAddr4 reads a dotted quad where a range or a prefix needs a single
// address.
func parseAddr4(s string) (u128, string) {
	p, reason := parsePattern(s)
	if reason != "" {
		return u128{}, reason
	}
	if p.size() != 1 {
		return u128{}, strconv.Quote(s) + " is not a single address"
	}
	var a uint32
	p.spans(func(first, _ uint32) { a = first })
	return u128{0, uint64(a)}, ""
}

func parsePattern(s string) (*pattern, string) {
	octets := strings.Split(s, ".")
	if len(octets) != 4 {
		return nil, "want 4 dot-separated octets, got " + strconv.Itoa(len(octets))
	}
	p := new(pattern)
	for o, text := range octets {
		if text == "" {
			return nil, "empty octet"
		}
		for item := range strings.SplitSeq(text, ",") {
			lo, hi, reason := octetRange(item)
			if reason != "" {
				return nil, reason
			}
			for v := lo; v <= hi; v++ {
				p.set(o, uint8(v))
			}
		}
	}
	return p, ""
}

// octetRange reads "*", "N", "N-M", "N-", "-M" or "-".
func octetRange(s string) (lo, hi int, reason string) {
	if s == "*" {
		return 0, 255, ""
	}
	if s == "" {
		return 0, 0, "empty item in an octet list"
	}
	a, b, dash := strings.Cut(s, "-")
	lo, hi = 0, 255
	if a != "" {
		if lo, reason = octet(a); reason != "" {
			return 0, 0, reason
		}
	}
	if !dash {
		return lo, lo, ""
	}
	if b != "" {
		if hi, reason = octet(b); reason != "" {
			return 0, 0, reason
		}
	}
	if lo > hi {
		return 0, 0, "octet range " + s + " runs backwards"
	}
	return lo, hi, ""
}

func octet(s string) (int, string) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, "octet " + strconv.Quote(s) + " is not a number"
		}
	}
	if len(s) > 3 {
		return 0, "octet " + s + " out of range 0-255"
	}
	n, _ := strconv.Atoi(s)
	if n > 255 {
		return 0, "octet " + s + " out of range 0-255"
	}
	return n, ""
}

func parseName(t string) (Spec, string) {
	name, plen, hasLen := strings.Cut(t, "/")
	bits := -1
	if hasLen {
		n, reason := prefixLen(plen, 128)
		if reason != "" {
			return Spec{}, reason
		}
		bits = n
	}
	if reason := checkName(name); reason != "" {
		return Spec{}, reason
	}
	return Spec{kind: kindName, name: name, bits: bits}, ""
}

// checkName accepts what DNS and /etc/hosts accept: labels of letters,
// digits, '-' and '_', at most 63 bytes each and 253 in all, with an
// optional final dot.
func checkName(name string) string {
	trimmed := strings.TrimSuffix(name, ".")
	if trimmed == "" {
		return "empty host name"
	}
	if len(trimmed) > 253 {
		return "host name longer than 253 bytes"
	}
	for label := range strings.SplitSeq(trimmed, ".") {
		if label == "" {
			return "empty label in host name"
		}
		if len(label) > 63 {
			return "host name label longer than 63 bytes"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			// RFC 952 and 1123; a leading "-" is most often a mistyped option.
			return fmt.Sprintf("label %q starts or ends with \"-\"", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Sprintf("%q is not allowed in a host name", label[i:i+1])
			}
		}
	}
	return ""
}
