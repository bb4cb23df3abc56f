package detect

import (
	"bytes"
	"strings"
)

// maxGreeting bounds what a greeting matcher reads: a greeting longer
// than this is judged on its first maxGreeting bytes, and a matcher
// never asks for more once it has them.
const maxGreeting = 4096

// greetHead returns the part of got a greeting matcher reads, and
// whether that is all it will ever read (got reached maxGreeting).
func greetHead(got []byte) (head []byte, full bool) {
	if len(got) >= maxGreeting {
		return got[:maxGreeting], true
	}
	return got, false
}

// cutLine splits b after its first line, which ends in LF (a CR before
// it is dropped: RFCs say CRLF, some servers send LF). ok is false when
// b holds no LF yet; line is then all of b but a CR at its end, the
// first half of a CRLF cut short.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line = b
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest, i >= 0
}

// isText says whether b is text a line-based protocol may send: no
// control bytes but tab (line ends are cut off before). Bytes of 0x80
// and above pass: greetings carry UTF-8 and Latin-1 host names.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// hasPrefixOf says whether b is a prefix of s or s a prefix of b: a
// greeting cut short before its fixed opening could still be s.
func hasPrefixOf(b []byte, s string) bool {
	if len(b) < len(s) {
		return string(b) == s[:len(b)]
	}
	return string(b[:len(s)]) == s
}

// containsFold says whether s contains sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	return indexFold(s, sub) >= 0
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// wordAfter returns the space-separated word that follows the first
// occurrence of key in s ("" when key is absent or ends s). key is
// matched exactly and must start s or follow a space or '(' and be
// followed by a space.
func wordAfter(s, key string) string {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], key)
		if i < 0 {
			return ""
		}
		i += off
		end := i + len(key)
		if (i == 0 || s[i-1] == ' ' || s[i-1] == '(') && end < len(s) && s[end] == ' ' {
			w := strings.TrimLeft(s[end:], " ")
			if j := strings.IndexByte(w, ' '); j >= 0 {
				w = w[:j]
			}
			return w
		}
		off = i + 1
	}
	return ""
}

// versionPrefix returns the leading part of s that reads as a version
// number: a digit, then digits, letters and . + ~, and - or _ before a
// digit (so "9.2p1", "4.96", "8.15.2/8.15.2" gives "8.15.2",
// "2.4.17-Debian-2.4.17" "2.4.17"). Trailing punctuation is dropped:
// "3.0.3)" gives "3.0.3", "2.7.1," "2.7.1".
func versionPrefix(s string) string {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return ""
	}
	i := 0
	for i < len(s) && i < 64 && isVersionByte(s[i]) {
		if (s[i] == '-' || s[i] == '_') && (i+1 == len(s) || s[i+1] < '0' || s[i+1] > '9') {
			break
		}
		i++
	}
	v := s[:i]
	for v != "" && strings.IndexByte(".-_+~", v[len(v)-1]) >= 0 {
		v = v[:len(v)-1]
	}
	return v
}

func isVersionByte(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	}
	return strings.IndexByte("._+~-", c) >= 0
}

// cleanText makes a field of a result from bytes a server sent: valid
// UTF-8 (other bytes become U+FFFD), control characters dropped, spaces
// collapsed and trimmed, at most max bytes (cut at a rune boundary).
func cleanText(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == ' ' || r == '\t':
			space = b.Len() > 0
			continue
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			continue
		}
		n := len(string(r))
		if space {
			n++
		}
		if b.Len()+n > max {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cpeApp returns the CPE 2.2 name of an application, with its version
// when known: cpeApp("openbsd:openssh", "9.2p1") is
// "cpe:/a:openbsd:openssh:9.2p1".
func cpeApp(vendorProduct, version string) []string {
	if version == "" {
		return []string{"cpe:/a:" + vendorProduct}
	}
	return []string{"cpe:/a:" + vendorProduct + ":" + strings.ToLower(version)}
}

// packageInfo turns a distribution's package revision, as daemons print
// it beside their version ("Debian-2+deb12u3", "0+deb12u1",
// "3ubuntu0.10"), into the words of a result's Info ("Debian 2+deb12u3",
// "Ubuntu 3ubuntu0.10"); "" when s names no distribution.
func packageInfo(s string) string {
	return cleanText(distribution(s), 80)
}

func distribution(s string) string {
	for _, d := range []string{"Debian", "Ubuntu"} {
		if len(s) > len(d) && strings.EqualFold(s[:len(d)], d) && (s[len(d)] == '-' || s[len(d)] == ' ') {
			return d + " " + s[len(d)+1:]
		}
	}
	switch {
	case containsFold(s, "ubuntu"):
		return "Ubuntu " + s
	case strings.Contains(s, "+deb"), strings.Contains(s, "~deb"):
		return "Debian " + s
	}
	return ""
}

// joinInfo joins the non-empty parts of a result's Info with "; ".
func joinInfo(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
