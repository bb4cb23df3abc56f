package probes

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// PCRE meanings that regexp2's RE2 mode gives otherwise: its $ and \Z
// match only at the very end, where PCRE's also match before a final
// newline; its \b and \B use Unicode word characters, where PCRE's (and
// RE2 mode's own \w) are ASCII.
const (
	pcreEnd      = `(?=\n?\z)`
	pcreBoundary = `(?:(?<=\w)(?!\w)|(?<!\w)(?=\w))`
	pcreInside   = `(?:(?<=\w)(?=\w)|(?<!\w)(?!\w))`
)

// multiline finds an inline option group that turns on m, under which
// $ means end of line and must be left alone.
var multiline = regexp.MustCompile(`\(\?[a-zA-Z]*m`)

// translate rewrites a PCRE pattern for regexp2's RE2 mode: $, \Z, \b and
// \B outside character classes, \Q...\E quotes and (?#...) comments get
// their PCRE meaning; everything else is passed on as it is.
func translate(pat string) string {
	keepDollar := multiline.MatchString(pat)
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '[':
			j := classEnd(pat, i)
			b.WriteString(pat[i:j])
			i = j - 1
		case c == '$' && !keepDollar:
			b.WriteString(pcreEnd)
		case strings.HasPrefix(pat[i:], "(?#"):
			j := strings.IndexByte(pat[i:], ')')
			if j < 0 {
				j = len(pat) - i - 1
			}
			b.WriteString(pat[i : i+j+1])
			i += j
		case c == '\\' && i+1 < len(pat):
			i++
			switch pat[i] {
			case 'Z':
				b.WriteString(pcreEnd)
			case 'b':
				b.WriteString(pcreBoundary)
			case 'B':
				b.WriteString(pcreInside)
			case 'Q':
				j := strings.Index(pat[i:], `\E`)
				if j < 0 {
					j = len(pat) - i
				} else {
					j += 2
				}
				b.WriteByte('\\')
				b.WriteString(pat[i : i+j])
				i += j - 1
			default:
				b.WriteByte('\\')
				b.WriteByte(pat[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// classEnd returns the offset after the character class that starts at
// pat[i] == '['. A ] first in the class (after an optional ^) is literal,
// as are escaped characters; [:name:] is a POSIX class inside it.
func classEnd(pat string, i int) int {
	j := i + 1
	if j < len(pat) && pat[j] == '^' {
		j++
	}
	if j < len(pat) && pat[j] == ']' {
		j++
	}
	for j < len(pat) {
		switch {
		case pat[j] == '\\':
			j += 2
			continue
		case pat[j] == ']':
			return j + 1
		case strings.HasPrefix(pat[j:], "[:"):
			if k := strings.Index(pat[j+2:], ":]"); k >= 0 {
				j += 2 + k + 2
				continue
			}
		}
		j++
	}
	return len(pat)
}

// compile compiles a match line's pattern, its groups numbered in
// pattern order whether named or not, as PCRE numbers them for $1. regexp2 is asked never to
// panic, but a file is untrusted input: a panic is taken as a refusal.
func compile(m *Match, opts Options) (re *regexp2.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, fmt.Errorf("engine panic: %v", r)
		}
	}()
	o := regexp2.RE2
	if m.CaseInsensitive {
		o |= regexp2.IgnoreCase
	}
	if m.DotAll {
		o |= regexp2.Singleline
	}
	re, err = regexp2.Compile(translate(m.Pattern), o, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = opts.matchTimeout()
	return re, nil
}
