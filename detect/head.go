package detect

import (
	"bytes"
	"strings"
)

// The HTTP message head (RFC 9112 §2.1), which SIP (RFC 3261 §7) and
// RTSP (RFC 2326 §6, §7) share: a start line, header fields, an empty
// line. Read here for the three.

// maxHead bounds the bytes of a message head that are read.
const maxHead = 16 << 10

// maxFields bounds the header fields that are read.
const maxFields = 100

// statusHead is a response's status line and the header fields read.
type statusHead struct {
	proto    string // "HTTP/1.1"
	code     int    // 200
	reason   string
	fields   []headField
	complete bool   // the empty line that ends the head was read
	body     []byte // what followed it
}

type headField struct{ name, value string }

// get returns the first value of a header field, by name in any case.
func (h *statusHead) get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// headResult says what parseStatus made of the bytes.
type headResult int

const (
	headNo    headResult = iota // not a status line of the protocol
	headMore                    // a prefix of one: read on
	headFound                   // a status line, and the fields read
)

// parseStatus reads a status line "PROTO/d.d SSS reason" of the protocol
// named by prefix ("HTTP/", "SIP/", "RTSP/"), then as many header fields
// as are there.
func parseStatus(got []byte, prefix string) (statusHead, headResult) {
	var h statusHead
	if len(got) > maxHead {
		got = got[:maxHead]
	}
	// The version: prefix, digit, '.', digit, then a space (RFC 9112 §2.3).
	want := prefix + "0.0 000 "
	for i := 0; i < len(want); i++ {
		if i >= len(got) {
			return h, headMore
		}
		c, w := got[i], want[i]
		switch {
		case w == '0':
			if c < '0' || c > '9' {
				return h, headNo
			}
		case c != w:
			return h, headNo
		}
	}
	line, rest, ok := cutLine(got)
	if !ok {
		if len(got) >= 1024 {
			return h, headNo // no status line is that long
		}
		// The status code is there: the line is decided, its reason
		// phrase is not.
		line = got
	}
	h.proto = string(line[:len(prefix)+3])
	h.code = int(line[len(prefix)+4]-'0')*100 + int(line[len(prefix)+5]-'0')*10 + int(line[len(prefix)+6]-'0')
	if len(line) > len(prefix)+7 {
		h.reason = cleanBytes(line[len(prefix)+8:], maxText)
	}
	if !ok {
		return h, headFound
	}
	for len(h.fields) < maxFields {
		line, r, ok := cutLine(rest)
		if !ok {
			return h, headFound
		}
		rest = r
		if len(line) == 0 {
			h.complete = true
			h.body = rest
			return h, headFound
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			continue // obs-fold and malformed lines are skipped
		}
		h.fields = append(h.fields, headField{string(name), cleanBytes(value, 256)})
	}
	return h, headFound
}

// parseRequestLine reads a request line "METHOD target PROTO/d.d" whose
// protocol is prefix, returning its method and target.
func parseRequestLine(sent []byte, prefix string) (method, target string, ok bool) {
	line, _, ok := cutLine(sent[:min(len(sent), 8192)])
	if !ok {
		return "", "", false
	}
	m, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(m) == 0 || len(m) > 32 {
		return "", "", false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	i := bytes.LastIndexByte(rest, ' ')
	if i <= 0 {
		return "", "", false
	}
	v := rest[i+1:]
	if len(v) != len(prefix)+3 || !strings.EqualFold(string(v[:len(prefix)]), prefix) ||
		v[len(prefix)] < '0' || v[len(prefix)] > '9' || v[len(prefix)+1] != '.' || v[len(prefix)+2] < '0' || v[len(prefix)+2] > '9' {
		return "", "", false
	}
	return string(m), cleanBytes(rest[:i], 256), true
}

// productToken splits the first product of a Server or User-Agent field
// (RFC 9110 §10.2.4: product *( RWS ( product / comment ) ), product =
// token ["/" version]) from what follows: "nginx/1.22.1" is nginx and
// 1.22.1; "Apache/2.4.57 (Debian)" is Apache, 2.4.57 and "(Debian)".
func productToken(s string) (product, version, rest string) {
	s = strings.TrimSpace(s)
	tok, rest, _ := strings.Cut(s, " ")
	product, version, _ = strings.Cut(tok, "/")
	return product, version, strings.TrimSpace(rest)
}

// comments returns the text of the parenthesised comments of rest,
// joined: "(Debian) (Ubuntu)" is "Debian, Ubuntu"; a word outside
// parentheses is kept as it is.
func comments(rest string) string {
	var out []string
	for rest != "" && len(out) < 8 {
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "(") {
			depth, i := 0, 0
			for i = 0; i < len(rest); i++ {
				if rest[i] == '(' {
					depth++
				} else if rest[i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if i >= len(rest) {
				out = append(out, strings.TrimSpace(rest[1:]))
				break
			}
			out = append(out, strings.TrimSpace(rest[1:i]))
			rest = rest[i+1:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		if w = strings.Trim(w, ")"); w != "" {
			out = append(out, w)
		}
		rest = r
	}
	return strings.Join(out, ", ")
}
