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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
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

// chunk is how much of a registry is read at a time, into one buffer
// reused to the end: a line must fit in it whole.
const chunk = 2 * maxLine

// maxEmptyReads is how many reads in a row may return nothing before
// the reader is taken to be stuck (as bufio.Scanner takes it).
const maxEmptyReads = 100

// parse walks the registry's lines in a buffer of its own, not a
// bufio.Scanner's, and keeps each name in one text shared by all: it
// runs on the first vendor asked for, where a scan waits on it.
func parse(file string, rd io.Reader) (*Registry, error) {
	p := newParser(sizeHint(rd))
	buf := make([]byte, chunk)
	n, line, empty := 0, 0, 0 // n: bytes of buf read and not yet parsed
	for {
		m, rerr := rd.Read(buf[n:])
		if m < 0 || m > len(buf)-n {
			return nil, &ParseError{File: file, Line: line + 1, Col: 1, Err: errBadRead}
		}
		data := buf[:n+m]
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			line++
			if i >= maxLine {
				return nil, &ParseError{File: file, Line: line, Col: 1, Err: bufio.ErrTooLong}
			}
			if err := p.line(data[:i], line); err != nil {
				err.File = file
				return nil, err
			}
			data = data[i+1:]
		}
		if rerr != nil {
			if len(data) > 0 { // the last line, with no newline after it
				line++
				if len(data) >= maxLine {
					return nil, &ParseError{File: file, Line: line, Col: 1, Err: bufio.ErrTooLong}
				}
				if err := p.line(data, line); err != nil {
					err.File = file
					return nil, err
				}
			}
			if rerr != io.EOF {
				return nil, &ParseError{File: file, Line: line + 1, Col: 1, Err: rerr}
			}
			return p.registry(), nil
		}
		if len(data) >= maxLine {
			return nil, &ParseError{File: file, Line: line + 1, Col: 1, Err: bufio.ErrTooLong}
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyReads {
			return nil, &ParseError{File: file, Line: line + 1, Col: 1, Err: io.ErrNoProgress}
		}
		n = copy(buf, data)
	}
}

// errBadRead is a reader's count of bytes read that cannot be.
var errBadRead = errors.New("read returned an impossible count")

// parser gathers a registry's claims as they are read.
type parser struct {
	keys []uint64 // of each claim: its prefix<<40 | its index in ends (< 1<<40)
	ends []int    // of each claim's name in text
	text []byte   // the names, cleaned, one after another
}

// newParser presizes its slices for a registry of about size bytes, so
// that they do not grow (and grow again) line by line.
func newParser(size int) *parser {
	size = min(size, maxHint)
	return &parser{
		keys: make([]uint64, 0, size/bytesPerClaim),
		ends: make([]int, 0, size/bytesPerClaim),
		text: make([]byte, 0, size/bytesPerNameByte+MaxName),
	}
}

// The IEEE's file has 161 bytes to a claim and 7 to a byte of the
// names; a little more is asked for, rather than grow twice.
const (
	bytesPerClaim    = 128
	bytesPerNameByte = 6
	maxHint          = 64 << 20 // presized for no more than this
)

// sizeHint is the size of what rd has to read, where it tells (a
// regular file, a bytes.Reader), or 0.
func sizeHint(rd io.Reader) int {
	switch rd := rd.(type) {
	case interface{ Len() int }:
		return rd.Len()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := rd.Stat(); err == nil && fi.Mode().IsRegular() {
			return int(min(fi.Size(), maxHint))
		}
	}
	return 0
}

// line takes one line of the registry, its newline cut, at line n.
func (p *parser) line(b []byte, n int) *ParseError {
	if k := len(b) - 1; k >= 0 && b[k] == '\r' {
		b = b[:k]
	}
	if len(b) == 0 || b[0] == '\t' || b[0] == '\r' {
		return nil // the address lines of an entry, and blank ones
	}
	prefix, name, ok, col, err := parseLine(b)
	if err != nil {
		return &ParseError{Line: n, Col: col, Err: err}
	}
	if !ok {
		return nil
	}
	if k := len(p.keys); k > 0 && uint32(p.keys[k-1]>>40) == prefix {
		return nil // the (base 16) line after its (hex) line
	}
	if cap(p.text)-len(p.text) < MaxName {
		p.text = slices.Grow(p.text, max(len(p.text), 64<<10)) // doubling, where no size was hinted
	}
	start := len(p.text)
	if p.text = appendClean(p.text, name); len(p.text) > start {
		if len(p.keys) == cap(p.keys) {
			p.keys = slices.Grow(p.keys, max(len(p.keys), 1<<10))
			p.ends = slices.Grow(p.ends, max(len(p.ends), 1<<10))
		}
		p.keys = append(p.keys, uint64(prefix)<<40|uint64(len(p.ends)))
		p.ends = append(p.ends, len(p.text))
	}
	return nil
}

// registry sorts the claims by prefix, the first claim of each ahead
// of later ones, and keeps the first. The IEEE's file is in no order.
func (p *parser) registry() *Registry {
	// A key is the prefix above the claim's place in the file, so
	// sorting the keys sorts by prefix and keeps a prefix's claims in
	// file order: the first is the one kept.
	slices.Sort(p.keys)
	distinct := 0
	for i, k := range p.keys {
		if i == 0 || k>>40 != p.keys[i-1]>>40 {
			distinct++
		}
	}
	r := &Registry{prefixes: make([]uint32, 0, distinct), names: make([]string, 0, distinct)}
	text := string(p.text)
	for i, k := range p.keys {
		if i > 0 && k>>40 == p.keys[i-1]>>40 {
			continue // a later claim
		}
		j, start := k&(1<<40-1), 0
		if j > 0 {
			start = p.ends[j-1]
		}
		r.prefixes = append(r.prefixes, uint32(k>>40))
		r.names = append(r.names, text[start:p.ends[j]])
	}
	return r
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
	start := skipBlank(s, 0)
	end := start
	for end < len(s) && s[end] != ' ' && s[end] != '\t' {
		end++
	}
	if end == len(s) {
		return 0, nil, false, 0, nil
	}
	field, after := s[start:end], s[skipBlank(s, end):]
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

// skipBlank returns the index of the first byte of s from i on that is
// neither a space nor a tab.
func skipBlank(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// hexPrefix reads "00-00-0C" (dashed) or "00000C"; col is the offending
// byte's, from 1.
func hexPrefix(f []byte, dashed bool) (uint32, int, error) {
	if p, ok := wellFormed(f, dashed); ok {
		return p, 0, nil
	}
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

// wellFormed reads a prefix in the form the registry writes, the fast
// way; hexPrefix finds what is wrong with any other.
func wellFormed(f []byte, dashed bool) (uint32, bool) {
	var d [6]byte
	switch {
	case dashed && len(f) == 8 && f[2] == '-' && f[5] == '-':
		d = [6]byte{hexVal[f[0]], hexVal[f[1]], hexVal[f[3]], hexVal[f[4]], hexVal[f[6]], hexVal[f[7]]}
	case !dashed && len(f) == 6:
		d = [6]byte{hexVal[f[0]], hexVal[f[1]], hexVal[f[2]], hexVal[f[3]], hexVal[f[4]], hexVal[f[5]]}
	default:
		return 0, false
	}
	if d[0]|d[1]|d[2]|d[3]|d[4]|d[5] > 0xf {
		return 0, false
	}
	return uint32(d[0])<<20 | uint32(d[1])<<16 | uint32(d[2])<<12 | uint32(d[3])<<8 | uint32(d[4])<<4 | uint32(d[5]), true
}

// hexVal is each byte's value as a hex digit, or 0xff.
var hexVal = func() (t [256]byte) {
	for c := range t {
		v, ok := hexDigit(byte(c))
		if !ok {
			v = 0xff
		}
		t[c] = v
	}
	return t
}()

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
	return string(appendClean(nil, s))
}

// appendClean appends s, cleaned, to dst.
func appendClean(dst, s []byte) []byte {
	if t := trim(s); len(t) <= MaxName && plain(t) {
		return append(dst, t...) // the registry's usual name
	}
	start := len(dst)
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		i += n
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = len(dst) > start
			continue
		}
		add := utf8.RuneLen(r)
		if space {
			add++
		}
		if len(dst)-start+add > MaxName {
			break
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// trim cuts spaces, tabs and carriage returns from both ends of s.
func trim(s []byte) []byte {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
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
