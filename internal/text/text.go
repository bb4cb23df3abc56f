// Package text writes data from result files, policies, catalogs and the
// network into the text that people read: on one line, with nothing a
// terminal or a CI runner would act on, and with counts in the right
// number.
//
// Every text writer of portscan goes through [Escape]: output's text
// report and catalog table, baseline's diff, audit's report, its GitHub
// annotations and step summary, and the command's error lines.
package text

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes s safe to print: control characters (C0, DEL and C1,
// newlines and tabs among them), Unicode format characters (the bidi
// overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width
// characters, U+FEFF), line and paragraph separators and invalid UTF-8
// are written as strconv.Quote writes them inside a string: \x1b, \a,
// \n, \u202e, \xff. The rest, backslashes and quotes included, is kept
// as it is, so a valid name prints unchanged.
//
// It also breaks "##[", the start of GitHub Actions' older workflow
// command syntax, which the runner finds anywhere in a line of output:
// it is written "##\x5b". (The newer "::" syntax counts only at the
// start of a line, which writers keep for their own words.)
//
// The result is valid UTF-8, one line, and free of control characters.
func Escape(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[s[i]>>4])
			b.WriteByte("0123456789abcdef"[s[i]&0xf])
		case unsafe(r):
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		case r == '[' && strings.HasSuffix(b.String(), "##"):
			b.WriteString(`\x5b`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// safe reports whether Escape would return s as it is.
func safe(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") || unsafe(r) {
			return false
		}
	}
	return !strings.Contains(s, "##[")
}

// unsafe reports whether r is written escaped: a control character, a
// format character or a line or paragraph separator.
func unsafe(r rune) bool {
	if r < 0x20 || r == 0x7f {
		return true
	}
	if r < 0x80 {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Count writes n and the noun phrase that goes with it: one when n is 1,
// else many. The phrase may carry a verb, so that it agrees too:
// Count(2, "port is", "ports are") is "2 ports are".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// OneLine is s on one line, escaped: every run of white space (line
// breaks too) becomes one space. Error messages that quote files and
// replies go through it.
func OneLine(s string) string { return Escape(strings.Join(strings.Fields(s), " ")) }

// Cut is s cut to at most n bytes, at a character boundary, with "..."
// after it when it was cut: what a file says, quoted in a message,
// neither floods a terminal nor hides the rest of the line.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:boundary(s, n)] + "..."
}

// QuoteCut quotes at most n bytes of s, escaped as Go escapes strings,
// with "..." after it when s was cut.
func QuoteCut(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:boundary(s, n)]) + "..."
}

// boundary is the last character boundary of s at or before n < len(s).
func boundary(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
