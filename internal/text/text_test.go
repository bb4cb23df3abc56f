package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "http-alt", "http-alt"},
		{"empty", "", ""},
		{"chinese", "安全 Shell（SSH）服务", "安全 Shell（SSH）服务"},
		{"backslash and quotes kept", `C:\scan "a" 'b'`, `C:\scan "a" 'b'`},
		{"osc title and clear screen", "\x1b]0;pwned\a\x1b[2J", `\x1b]0;pwned\a\x1b[2J`},
		{"newline and workflow command", "ssh\n::error::pwned", `ssh\n::error::pwned`},
		{"carriage return", "a\rb", `a\rb`},
		{"tab", "a\tb", `a\tb`},
		{"nul and del", "\x00\x7f", `\x00\x7f`},
		{"c1 controls", "\u0085\u009b31m", `\u0085\u009b31m`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"bidi embeddings", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"zero width and bom", "a\u200bb\ufeff", `a\u200bb\ufeff`},
		{"line separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"invalid utf-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"surrogate half", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"replacement character kept", "a\ufffdb", "a\ufffdb"},
		{"legacy workflow command", "x ##[error]pwned", `x ##\x5berror]pwned`},
		{"two legacy commands", "##[a]##[b]", `##\x5ba]##\x5bb]`},
		{"hashes alone kept", "## [x] #[", "## [x] #["},
		{"wide and no-break spaces kept", "a\u3000b\u00a0c", "a\u3000b\u00a0c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n         int
		one, many string
		want      string
	}{
		{0, "port", "ports", "0 ports"},
		{1, "port", "ports", "1 port"},
		{2, "port", "ports", "2 ports"},
		{1, "check passed", "checks passed", "1 check passed"},
		{3, "check passed", "checks passed", "3 checks passed"},
		{2, "skipped", "skipped", "2 skipped"},
		{1, "packet before it is", "packets before it are", "1 packet before it is"},
		{12, "packet before it is", "packets before it are", "12 packets before it are"},
		{2, "address", "addresses", "2 addresses"},
		{-1, "port", "ports", "-1 ports"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Count(tc.n, tc.one, tc.many); got != tc.want {
				t.Errorf("Count(%d, %q, %q) = %q, want %q", tc.n, tc.one, tc.many, got, tc.want)
			}
		})
	}
}

// FuzzEscape checks what every writer relies on: whatever the input, the
// output is valid UTF-8 on one line, with no control character, no bidi
// or other format character and no legacy workflow command, and text
// that needs no escaping comes back unchanged.
func FuzzEscape(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 ||
				r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Fatalf("Escape(%q) = %q: contains %U", s, out, r)
			}
			if unsafe(r) {
				t.Fatalf("Escape(%q) = %q: contains %U", s, out, r)
			}
		}
		if strings.Contains(out, "##[") {
			t.Fatalf("Escape(%q) = %q: contains ##[", s, out)
		}
		if safe(s) != (out == s) {
			t.Fatalf("Escape(%q) = %q, but safe says %v", s, out, safe(s))
		}
		if Escape(out) != out {
			t.Fatalf("Escape(%q) = %q is not stable: %q", s, out, Escape(out))
		}
	})
}

func TestPaint(t *testing.T) {
	off, on := NewPaint(false), NewPaint(true)
	for name, f := range map[string][2]func(string) string{
		"good": {off.Good, on.Good}, "bad": {off.Bad, on.Bad}, "warn": {off.Warn, on.Warn},
		"note": {off.Note, on.Note}, "strong": {off.Strong, on.Strong}, "faint": {off.Faint, on.Faint},
	} {
		if got := f[0]("x"); got != "x" {
			t.Errorf("%s off = %q, want the text alone", name, got)
		}
		if got := f[1]("x"); got == "x" || !strings.HasPrefix(got, "\x1b[") || !strings.Contains(got, "x\x1b[") {
			t.Errorf("%s on = %q, want it coloured", name, got)
		}
	}
	if got := on.Good("x"); got != "\x1b[32mx\x1b[0m" {
		t.Errorf("good = %q, want green", got)
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("a\n  b\tc\x1b[2J "); got != `a b c\x1b[2J` {
		t.Errorf("OneLine = %q", got)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s          string
		n          int
		cut, quote string
	}{
		{"short", 10, "short", `"short"`},
		{"exactly10!", 10, "exactly10!", `"exactly10!"`},
		{"a longer line", 6, "a long...", `"a long"...`},
		{"ab端口", 4, "ab...", `"ab"...`}, // 端 is 3 bytes: not cut inside it
		{"\x1bred", 2, "\x1br...", `"\x1br"...`},
	}
	for _, tt := range tests {
		if got := Cut(tt.s, tt.n); got != tt.cut {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.cut)
		}
		if got := QuoteCut(tt.s, tt.n); got != tt.quote {
			t.Errorf("QuoteCut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.quote)
		}
	}
}
