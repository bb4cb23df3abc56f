package services

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portscan/portscan/ports"
)

// ErrSyntax is wrapped by every error about a malformed catalog line.
var ErrSyntax = errors.New("malformed catalog")

// SyntaxError says where a catalog is malformed.
type SyntaxError struct {
	Source string // file name or "builtin"
	Line   int    // 1-based
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
}

// Unwrap lets errors.Is(err, ErrSyntax) match.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// maxLine bounds one catalog line; a longer line is an error, not a
// reason to grow memory without limit.
const maxLine = 64 << 10

type lineReader struct {
	sc     *bufio.Scanner
	source string
	n      int
}

func newLineReader(r io.Reader, source string) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	return &lineReader{sc: sc, source: source}
}

// next returns the next line with its trailing CR removed, and false at
// the end of the input; a line that is not UTF-8 is an error.
func (lr *lineReader) next() (string, bool, error) {
	if !lr.sc.Scan() {
		return "", false, lr.err()
	}
	lr.n++
	line := strings.TrimSuffix(lr.sc.Text(), "\r")
	if !utf8.ValidString(line) {
		return "", false, lr.errf("not valid UTF-8")
	}
	return line, true, nil
}

func (lr *lineReader) errf(format string, a ...any) error {
	return &SyntaxError{Source: lr.source, Line: lr.n, Msg: fmt.Sprintf(format, a...)}
}

func (lr *lineReader) err() error {
	if err := lr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &SyntaxError{Source: lr.source, Line: lr.n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		return fmt.Errorf("%s: %w", lr.source, err)
	}
	return nil
}

// Parse reads a catalog in portscan's own tab-separated format (the format
// of data/ports.tsv, described there). source names the catalog in errors
// and in each entry's Source.
func Parse(r io.Reader, source string) (*Catalog, error) {
	c := newCatalog()
	lr := newLineReader(r, source)
	type pending struct {
		e    *Entry
		line int
	}
	var noted []pending
	for {
		line, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if f[0] == "@note" {
			if len(f) != 3 || f[1] == "" || f[1] == "-" {
				return nil, lr.errf("@note wants a key and a text, tab-separated")
			}
			c.notes[f[1]] = f[2]
			continue
		}
		if len(f) != 7 {
			return nil, lr.errf("want 7 tab-separated fields (port, name, aliases, table, note, zh, en), got %d", len(f))
		}
		protos, num, specific, err := parsePortField(f[0])
		if err != nil {
			return nil, lr.errf("%v", err)
		}
		name := f[1]
		if err := checkName(name); err != nil {
			return nil, lr.errf("%v", err)
		}
		var aliases []string
		if f[2] != "-" && f[2] != "" {
			for _, a := range strings.Split(f[2], ",") {
				a = strings.TrimSpace(a)
				if err := checkName(a); err != nil {
					return nil, lr.errf("alias: %v", err)
				}
				aliases = append(aliases, a)
			}
		}
		table := dash(f[3])
		note := dash(f[4])
		for _, p := range protos {
			e := &Entry{
				Port:          ports.Port{Number: num, Proto: p},
				Name:          name,
				Aliases:       aliases,
				Description:   f[5],
				DescriptionEn: f[6],
				Table:         table,
				Note:          note, // a key for now; replaced by its text below
				Source:        source,
			}
			c.add(e, specific)
			if note != "" {
				noted = append(noted, pending{e, lr.n})
			}
		}
	}
	for _, p := range noted {
		text, ok := c.notes[p.e.Note]
		if !ok {
			return nil, &SyntaxError{Source: source, Line: p.line, Msg: fmt.Sprintf("note %q has no @note line", p.e.Note)}
		}
		p.e.Note = text
	}
	return c, nil
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parsePortField reads "80", "512/tcp" or "1/ddp". A bare number means tcp
// and udp.
func parsePortField(s string) (protos []ports.Protocol, num uint16, specific bool, err error) {
	numStr, protoStr, hasProto := strings.Cut(s, "/")
	n, err := strconv.ParseUint(numStr, 10, 16)
	if err != nil || n == 0 {
		return nil, 0, false, fmt.Errorf("invalid port %q: want a number from 1 to 65535", numStr)
	}
	if !hasProto {
		return []ports.Protocol{ports.TCP, ports.UDP}, uint16(n), false, nil
	}
	p, err := ports.ParseProtocol(protoStr)
	if err != nil {
		return nil, 0, false, err
	}
	return []ports.Protocol{p}, uint16(n), true, nil
}

// checkName accepts service names as /etc/services has them: printable,
// no spaces, tabs or commas, at most 64 bytes.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty service name")
	}
	if len(s) > 64 {
		return fmt.Errorf("service name %.20q... longer than 64 bytes", s)
	}
	for _, r := range s {
		if r <= ' ' || r == ',' || r == '#' || r == 0x7f || r == utf8.RuneError {
			return fmt.Errorf("service name %q has a character %q that is not allowed", s, r)
		}
	}
	return nil
}

// ParseEtcServices reads the /etc/services format: "name port/proto
// [aliases...] [# comment]". The comment, if any, becomes the English
// description. Lines of a protocol the catalog does not hold (sctp, dccp)
// are left out and counted, as [Catalog.Skipped] reports; a protocol that
// is not even shaped like a name is an error.
func ParseEtcServices(r io.Reader, source string) (*Catalog, error) {
	c := newCatalog()
	lr := newLineReader(r, source)
	for {
		line, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		body, comment, _ := strings.Cut(line, "#")
		f := strings.Fields(body)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, lr.errf("want \"name port/protocol [aliases]\", got %q", strings.TrimSpace(body))
		}
		if err := checkName(f[0]); err != nil {
			return nil, lr.errf("%v", err)
		}
		numStr, protoStr, ok := strings.Cut(f[1], "/")
		if !ok {
			return nil, lr.errf("port %q lacks its /protocol", f[1])
		}
		n, err := strconv.ParseUint(numStr, 10, 16)
		if err != nil || n == 0 {
			return nil, lr.errf("invalid port %q: want a number from 1 to 65535", numStr)
		}
		var aliases []string
		for _, a := range f[2:] {
			if err := checkName(a); err != nil {
				return nil, lr.errf("alias: %v", err)
			}
			aliases = append(aliases, a)
		}
		proto, err := ports.ParseProtocol(protoStr)
		if err != nil {
			if !isProtocolName(protoStr) {
				return nil, lr.errf("%v", err)
			}
			// A well-formed line of a protocol portscan does not scan
			// (sctp, dccp in netbase): not an error, but counted.
			if c.skipped == nil {
				c.skipped = make(map[string]int)
			}
			c.skipped[strings.ToLower(protoStr)]++
			continue
		}
		c.add(&Entry{
			Port:          ports.Port{Number: uint16(n), Proto: proto},
			Name:          f[0],
			Aliases:       aliases,
			DescriptionEn: strings.TrimSpace(comment),
			Source:        source,
		}, true)
	}
	return c, nil
}

// isProtocolName says whether s is shaped like a protocol name in
// /etc/protocols: a letter, then letters, digits or hyphens.
func isProtocolName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '-')) {
			return false
		}
	}
	return true
}

// maxCatalog bounds a user catalog file; /etc/services is about 12 KiB.
const maxCatalog = 16 << 20

// Read reads a user catalog, telling the two formats apart by the first
// line that is not blank or a comment: portscan's format starts with a port
// number or "@note", /etc/services with a name.
func Read(r io.Reader, source string) (*Catalog, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCatalog+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(data) > maxCatalog {
		return nil, fmt.Errorf("%s: %w: larger than %d MiB", source, ErrSyntax, maxCatalog>>20)
	}
	if firstContentIsOwn(data) {
		return Parse(bytes.NewReader(data), source)
	}
	return ParseEtcServices(bytes.NewReader(data), source)
}

func firstContentIsOwn(buf []byte) bool {
	for _, l := range strings.Split(string(buf), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return t[0] >= '0' && t[0] <= '9' || strings.HasPrefix(t, "@note")
	}
	return false
}

// Open reads the user catalog at path (either format).
func Open(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}
