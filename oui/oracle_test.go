package oui

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type entry struct {
	prefix uint32
	line   int // of the first claim, which stands
	name   string
}

// oldParse is the parser as it was before it was made fast (a
// bufio.Scanner, a sort of every entry): the oracle the fast one must
// agree with, registry and error alike.
func oldParse(file string, rd io.Reader) (*Registry, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var entries []entry
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 || b[0] == '\t' || b[0] == '\r' {
			continue
		}
		prefix, name, ok, col, err := oldParseLine(b)
		if err != nil {
			return nil, &ParseError{File: file, Line: line, Col: col, Err: err}
		}
		if !ok {
			continue
		}
		if n := len(entries); n > 0 && entries[n-1].prefix == prefix {
			continue
		}
		if name := clean(name); name != "" {
			entries = append(entries, entry{prefix, line, name})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Line: line + 1, Col: 1, Err: err}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.prefix == b.prefix })
	r := &Registry{prefixes: make([]uint32, len(entries)), names: make([]string, len(entries))}
	for i, e := range entries {
		r.prefixes[i], r.names[i] = e.prefix, e.name
	}
	return r, nil
}

func oldParseLine(s []byte) (prefix uint32, name []byte, ok bool, col int, err error) {
	start := len(s) - len(bytes.TrimLeft(s, " \t"))
	rest := s[start:]
	end := bytes.IndexAny(rest, " \t")
	if end < 0 {
		return 0, nil, false, 0, nil
	}
	field, after := rest[:end], bytes.TrimLeft(rest[end:], " \t")
	var mark []byte
	switch {
	case bytes.HasPrefix(after, []byte("(hex)")):
		mark = []byte("(hex)")
	case bytes.HasPrefix(after, []byte("(base 16)")):
		mark = []byte("(base 16)")
	default:
		return 0, nil, false, 0, nil
	}
	prefix, col, err = oldHexPrefix(field, len(mark) == len("(hex)"))
	if err != nil {
		return 0, nil, false, start + col, err
	}
	return prefix, after[len(mark):], true, 0, nil
}

func oldHexPrefix(f []byte, dashed bool) (uint32, int, error) {
	form := "00000C"
	if dashed {
		form = "00-00-0C"
	}
	var p uint32
	for i := 0; i < len(f); i++ {
		c := f[i]
		if i >= len(form) {
			return 0, i + 1, fmt.Errorf("%w: the prefix %q is longer than three bytes (%s)", ErrSyntax, f, form)
		}
		if form[i] == '-' {
			if c != '-' {
				return 0, i + 1, fmt.Errorf("%w: want a dash between the prefix's bytes, not %q", ErrSyntax, c)
			}
			continue
		}
		v, ok := hexDigit(c)
		if !ok {
			return 0, i + 1, fmt.Errorf("%w: %q is not a hex digit", ErrSyntax, c)
		}
		p = p<<4 | uint32(v)
	}
	if len(f) < len(form) {
		return 0, len(f) + 1, fmt.Errorf("%w: the prefix %q is shorter than three bytes (%s)", ErrSyntax, f, form)
	}
	return p, 0, nil
}

// sameAsOld fails t unless Parse and oldParse agree on in: the same
// prefixes and names, or the same error at the same place.
func sameAsOld(t testing.TB, in []byte) {
	t.Helper()
	want, wantErr := oldParse("f", bytes.NewReader(in))
	got, err := parse("f", bytes.NewReader(in))
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("error %v, want %v", err, wantErr)
	}
	if err != nil {
		var pe, wpe *ParseError
		if !errors.As(err, &pe) || !errors.As(wantErr, &wpe) ||
			pe.File != wpe.File || pe.Line != wpe.Line || pe.Col != wpe.Col || errors.Is(pe, ErrSyntax) != errors.Is(wpe, ErrSyntax) {
			t.Fatalf("error %#v, want %#v", err, wantErr)
		}
		return
	}
	if !slices.Equal(got.prefixes, want.prefixes) || !slices.Equal(got.names, want.names) {
		t.Fatalf("registry of %d prefixes differs from the old parser's %d", got.Len(), want.Len())
	}
}

// TestParseSameAsOld holds the fast parser to the old one's registry on
// the system's file, where it is installed, and on a synthetic one.
func TestParseSameAsOld(t *testing.T) {
	t.Run("system", func(t *testing.T) {
		data, err := os.ReadFile(SystemPath)
		if err != nil {
			t.Skipf("%v (apt-get install ieee-data)", err)
		}
		sameAsOld(t, data)
	})
	t.Run("synthetic", func(t *testing.T) { sameAsOld(t, synthetic(35000)) })
	t.Run("sample", func(t *testing.T) { sameAsOld(t, []byte(sample)) })
}

// TestParseEdgesSameAsOld holds the fast parser to the old one where
// lines end oddly and at the bound of a line's length.
func TestParseEdgesSameAsOld(t *testing.T) {
	long := func(n int) string { return "AA-BB-CC (hex) " + strings.Repeat("x", n-len("AA-BB-CC (hex) ")) }
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"newlines only", "\n\n\r\n"},
		{"no final newline", "00-00-5E (hex) X"},
		{"CR alone", "00-00-5E (hex) X\r"},
		{"two CRs", "00-00-5E (hex) X\r\r\n\r\r\n"},
		{"CR inside", "00-00-5E (hex) X\rY\n"},
		{"leading spaces", "   00-00-5E (hex) X\n \t000060 (base 16) Y\n"},
		{"leading tab", "\t00-0G-5E (hex) X\n"},
		{"marker glued", "00-00-5E(hex) X\n"},
		{"marker alone", "(hex) X\n"},
		{"field only", "00-00-5E\n"},
		{"field and space", "00-00-5E \n"},
		{"empty name then base 16", "00-00-5E (hex) \t\n00005E (base 16) Named\n"},
		{"control name then base 16", "00-00-5E (hex) \a\x1b\n00005E (base 16) Named\n"},
		{"base 16 differs", "00-00-5E (hex) A\n0000AA (base 16) B\n"},
		{"hex twice", "00-00-5E (hex) A\n00-00-5E (hex) B\n"},
		{"claims out of order", "00-00-5F (hex) A\n00-00-5E (hex) B\n00-00-5F (hex) C\n00-00-5E (hex) D\n"},
		{"bad after good", "00-00-5E (hex) A\n00-0G-5E (hex) B\n"},
		{"bad base 16 after its hex", "00-00-5E (hex) A\n00005G (base 16) A\n"},
		{"error before a long line", "00-0G-5E (hex) B\n" + strings.Repeat("x", maxLine+5) + "\n"},
		{"long name", "00-00-5E (hex) " + strings.Repeat("é", 200) + "\n"},
		{"lowercase", "ab-cd-ef (hex) lower\nABCDEF (base 16) upper\n"},
		{"line of maxLine-1", long(maxLine-1) + "\n"},
		{"line of maxLine-1 unterminated", long(maxLine - 1)},
		{"line of maxLine", long(maxLine) + "\n"},
		{"line of maxLine unterminated", long(maxLine)},
		{"line of maxLine-2 and CR", long(maxLine-2) + "\r\n"},
		{"line of maxLine-1 and CR", long(maxLine-1) + "\r\n"},
		{"long line later", "00-00-5E (hex) A\n\n" + long(maxLine+100) + "\n"},
		{"long address line", "\t" + strings.Repeat("x", 3*maxLine) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsOld(t, []byte(tt.in)) })
	}
}

// TestParseReadErrorSameAsOld: a read that fails midway is a
// *ParseError at the line after the last one read, as it was.
func TestParseReadErrorSameAsOld(t *testing.T) {
	errBroken := errors.New("broken")
	for _, in := range []string{"", "00-00-5E (hex) A\n", "00-00-5E (hex) A\n00-00", "00-0G-5E (hex) A\n"} {
		rd := func() io.Reader { return io.MultiReader(strings.NewReader(in), iotest.ErrReader(errBroken)) }
		want, wantErr := oldParse("f", rd())
		got, err := parse("f", rd())
		if want != nil || got != nil || wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Errorf("%q: %v, %v; want %v, %v", in, got, err, want, wantErr)
		}
		if !errors.Is(err, errBroken) && !errors.Is(wantErr, ErrSyntax) {
			t.Errorf("%q: %v does not wrap the read error", in, err)
		}
	}
}
