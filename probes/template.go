package probes

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A template is a version field with its substitutions: literal text,
// $1 to $9 (the pattern's groups), and the helpers $P(n) (the group's
// printable bytes), $SUBST(n,"from","to") (the group with every "from"
// replaced) and $I(n,">") or $I(n,"<") (the group's bytes as a big- or
// little-endian unsigned integer, in decimal). A $ that starts none of
// these is literal.
type template []piece

type piece struct {
	lit      string
	op       byte // 0 literal, '$' group, 'P', 'S' (SUBST), 'I'
	group    int
	from, to string // SUBST's strings; from is "<" or ">" for I
}

// maxField bounds an expanded field: a reply cannot make a version
// string longer than this.
const maxField = 256

// parseTemplate reads a version field; errors are at byte offsets of s.
func parseTemplate(s string) (template, *posError) {
	var t template
	lit := 0 // start of the pending literal
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		var pc piece
		n := 0
		var err *posError
		switch c := s[i+1]; {
		case c >= '1' && c <= '9':
			pc, n = piece{op: '$', group: int(c - '0')}, 2
		case strings.HasPrefix(s[i+1:], "P("):
			pc, n, err = helper(s, i, "P(", 0)
		case strings.HasPrefix(s[i+1:], "SUBST("):
			pc, n, err = helper(s, i, "SUBST(", 2)
		case strings.HasPrefix(s[i+1:], "I("):
			pc, n, err = helper(s, i, "I(", 1)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if lit < i {
			t = append(t, piece{lit: s[lit:i]})
		}
		t = append(t, pc)
		i += n - 1
		lit = i + 1
	}
	if lit < len(s) {
		t = append(t, piece{lit: s[lit:]})
	}
	return t, nil
}

// helper reads $NAME(n[,"a"[,"b"]]) at s[at]; nargs is the number of
// quoted strings after the group number, which take the escapes of a
// probe string ("\r\n"). Blanks may stand around the commas. It returns
// the piece and its length.
func helper(s string, at int, name string, nargs int) (piece, int, *posError) {
	i := at + 1 + len(name)
	bad := func(msg string) (piece, int, *posError) {
		return piece{}, 0, &posError{at, "$" + name + "...): " + msg}
	}
	if i >= len(s) || s[i] < '1' || s[i] > '9' {
		return bad("want a group number 1 to 9")
	}
	pc := piece{op: name[0], group: int(s[i] - '0')}
	i++
	var args []string
	for range nargs {
		i = skipBlank(s, i)
		if i >= len(s) || s[i] != ',' {
			return bad(`want ,"..." after the group`)
		}
		i = skipBlank(s, i+1)
		if i >= len(s) || s[i] != '"' {
			return bad(`want a quoted string`)
		}
		arg, next, err := probeString(s, i)
		if err != nil {
			return bad(err.msg)
		}
		args = append(args, string(arg))
		i = next
	}
	i = skipBlank(s, i)
	if i >= len(s) || s[i] != ')' {
		return bad("want )")
	}
	switch pc.op {
	case 'S':
		if args[0] == "" {
			return bad("empty string to replace")
		}
		pc.from, pc.to = args[0], args[1]
	case 'I':
		if args[0] != "<" && args[0] != ">" {
			return bad(`byte order must be "<" or ">"`)
		}
		pc.from = args[0]
	}
	return pc, i + 1 - at, nil
}

// expand fills the template from the groups of a match; a group that
// did not take part is empty.
func (t template) expand(groups [][]byte) string {
	if len(t) == 0 {
		return ""
	}
	var b []byte
	for _, pc := range t {
		var g []byte
		if pc.group > 0 && pc.group < len(groups) {
			g = groups[pc.group]
		}
		switch pc.op {
		case 0:
			b = append(b, pc.lit...)
		case '$':
			b = append(b, g...)
		case 'P':
			for _, c := range g {
				if c >= 0x20 && c < 0x7f {
					b = append(b, c)
				}
			}
		case 'S':
			b = append(b, bytes.ReplaceAll(g, []byte(pc.from), []byte(pc.to))...)
		case 'I':
			b = appendUint(b, g, pc.from == ">")
		}
		if len(b) > maxField {
			b = b[:maxField]
			break
		}
	}
	return text(b)
}

// appendUint writes g, one to eight bytes, as an unsigned integer; other
// lengths write nothing.
func appendUint(b, g []byte, bigEndian bool) []byte {
	if len(g) == 0 || len(g) > 8 {
		return b
	}
	var n uint64
	for i := range g {
		c := g[i]
		if !bigEndian {
			c = g[len(g)-1-i]
		}
		n = n<<8 | uint64(c)
	}
	return strconv.AppendUint(b, n, 10)
}

// text makes a field a string: valid UTF-8 stays as it is; otherwise each
// byte that is not valid UTF-8 is written \xHH, as nmap prints them.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			s.WriteString(`\x`)
			s.WriteByte("0123456789abcdef"[b[0]>>4])
			s.WriteByte("0123456789abcdef"[b[0]&0xf])
		} else {
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}
