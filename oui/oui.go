// Package oui names the vendor of a MAC address from the IEEE's registry
// of organizationally unique identifiers: the MA-L assignments, each the
// first three bytes of the addresses one organisation hands out, in the
// text form the IEEE publishes (oui.txt), which Debian's ieee-data
// package installs at [SystemPath].
//
// portscan bundles no copy of the registry. [System] reads the system's
// the first time a vendor is asked for; where the system has none, every
// vendor is unknown and nothing fails.
//
// The file is read defensively: only lines that assign a prefix count
// ("00-00-0C   (hex)\t\tName" and "00000C     (base 16)\t\tName"), an
// organisation's name is cut to [MaxName] bytes and cleaned of control
// characters and invalid UTF-8, and a line that claims to assign a
// prefix but does not parse is a [*ParseError] naming its line and
// column.
package oui

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// SystemPath is where Debian's ieee-data package installs the registry.
const SystemPath = "/usr/share/ieee-data/oui.txt"

// MaxName is the longest organisation name kept, in bytes; a longer one
// is cut at a character boundary. The registry's longest is under 100.
const MaxName = 128

// maxLine bounds a line of the file; a longer one is an error.
const maxLine = 64 << 10

// ErrSyntax is matched (errors.Is) by a *ParseError for a line that
// claims to assign a prefix and does not.
var ErrSyntax = errors.New("not an assignment line")

// ParseError says where a registry file could not be read.
type ParseError struct {
	File string // the file's name, if known
	Line int    // from 1
	Col  int    // the byte in the line, from 1
	Err  error
}

func (e *ParseError) Error() string {
	name := e.File
	if name == "" {
		name = "oui registry"
	}
	return fmt.Sprintf("%s:%d:%d: %v", name, e.Line, e.Col, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Registry maps the first three bytes of a MAC address to the name of
// the organisation the IEEE assigned them to. The zero Registry, or a
// nil one, knows no vendor. It is safe for use by several goroutines.
type Registry struct {
	prefixes []uint32 // sorted, distinct
	names    []string // of each prefix
}

// Len is the number of prefixes the registry names.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.prefixes)
}

// Vendor returns the organisation the address's first three bytes are
// assigned to, or "" when the registry names none (or mac is not an
// address of 6 or more bytes).
func (r *Registry) Vendor(mac net.HardwareAddr) string {
	if r == nil || len(mac) < 6 {
		return ""
	}
	p := uint32(mac[0])<<16 | uint32(mac[1])<<8 | uint32(mac[2])
	if i, ok := slices.BinarySearch(r.prefixes, p); ok {
		return r.names[i]
	}
	return ""
}

// Parse reads a registry in the IEEE's oui.txt form. Lines other than
// assignments (headers, addresses, blank lines) are skipped; of a prefix
// assigned twice, the first name stands.
func Parse(rd io.Reader) (*Registry, error) {
	return parse("", rd)
}

// Open reads the registry file at path.
func Open(path string) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(path, f)
}

type entry struct {
	prefix uint32
	line   int // of the first claim, which stands
	name   string
}

func parse(file string, rd io.Reader) (*Registry, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var entries []entry
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 || b[0] == '\t' || b[0] == '\r' {
			continue // the address lines of an entry, and blank ones
		}
		prefix, name, ok, col, err := parseLine(b)
		if err != nil {
			return nil, &ParseError{File: file, Line: line, Col: col, Err: err}
		}
		if !ok {
			continue
		}
		if n := len(entries); n > 0 && entries[n-1].prefix == prefix {
			continue // the (base 16) line after its (hex) line
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

// The markers after the prefix of an assignment line.
var (
	markHex    = []byte("(hex)")
	markBase16 = []byte("(base 16)")
)

// parseLine reads one line: an assignment (ok) and its name, not yet
// cleaned, or nothing of use. A line whose second field is an
// assignment's marker must carry a prefix in the marker's form; col is
// where it went wrong.
func parseLine(s []byte) (prefix uint32, name []byte, ok bool, col int, err error) {
	start := len(s) - len(bytes.TrimLeft(s, " \t"))
	rest := s[start:]
	end := bytes.IndexAny(rest, " \t")
	if end < 0 {
		return 0, nil, false, 0, nil
	}
	field, after := rest[:end], bytes.TrimLeft(rest[end:], " \t")
	var mark []byte
	switch {
	case bytes.HasPrefix(after, markHex):
		mark = markHex
	case bytes.HasPrefix(after, markBase16):
		mark = markBase16
	default:
		return 0, nil, false, 0, nil
	}
	prefix, col, err = hexPrefix(field, len(mark) == len(markHex))
	if err != nil {
		return 0, nil, false, start + col, err
	}
	return prefix, after[len(mark):], true, 0, nil
}

// hexPrefix reads "00-00-0C" (dashed) or "00000C"; col is the offending
// byte's, from 1.
func hexPrefix(f []byte, dashed bool) (uint32, int, error) {
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

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// clean makes an organisation's name safe to print anywhere: invalid
// UTF-8 becomes U+FFFD, control and other non-printing characters and
// runs of white space a single space, and the name is cut to MaxName
// bytes.
func clean(s []byte) string {
	if t := bytes.Trim(s, " \t\r"); len(t) <= MaxName && plain(t) {
		return string(t) // the registry's usual name
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		i += n
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		add := utf8.RuneLen(r)
		if space {
			add++
		}
		if b.Len()+add > MaxName {
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

// plain reports whether s is printable ASCII with no two spaces in a
// row: nothing to clean.
func plain(s []byte) bool {
	for i, c := range s {
		if c < ' ' || c > '~' || c == ' ' && i > 0 && s[i-1] == ' ' {
			return false
		}
	}
	return true
}

var (
	systemOnce sync.Once
	systemReg  *Registry
	systemErr  error
)

// System returns the registry at SystemPath, read once, the first time
// it is asked for. A system without the file has an empty registry and
// no error; a file that cannot be read or parsed gives an empty registry
// and that error, once and every time after.
func System() (*Registry, error) {
	systemOnce.Do(func() {
		systemReg, systemErr = Open(SystemPath)
		if errors.Is(systemErr, fs.ErrNotExist) {
			systemErr = nil
		}
		if systemReg == nil {
			systemReg = &Registry{}
		}
	})
	return systemReg, systemErr
}
