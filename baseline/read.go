package baseline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// ReadOptions tune Read.
type ReadOptions struct {
	// Label names ports from the catalog when a capture is read; nil
	// leaves them unnamed. Result files carry their own labels.
	Label services.Labeler
}

// posError is an error at a place in a result file; it prints as
// "name:line:col: message" (or "name:line:" when the column is unknown),
// with the byte offset after the message when it is known. err, when
// set, is the error of a reader below (a capture's *capture.ReadError),
// which gives the message and can be unwrapped.
type posError struct {
	name      string
	line, col int
	msg       string
	off       int64 // byte offset from the start of the file, if hasOff
	hasOff    bool
	err       error
}

func (e *posError) Error() string {
	msg := e.msg
	if e.err != nil {
		msg = e.err.Error()
	}
	msg = clean(msg)
	if e.hasOff {
		msg += fmt.Sprintf(" (byte offset %d)", e.off)
	}
	switch {
	case e.line == 0:
		return fmt.Sprintf("%s: %s", e.name, msg)
	case e.col == 0:
		return fmt.Sprintf("%s:%d: %s", e.name, e.line, msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.name, e.line, e.col, msg)
}

func (e *posError) Unwrap() []error {
	if e.err != nil {
		return []error{ErrInput, e.err}
	}
	return []error{ErrInput}
}

// Errors quote what they found in a file; these bound how much, so that
// a file can neither flood a terminal nor send it control sequences.
const (
	maxQuote = 40  // bytes of input a quoted excerpt keeps
	maxMsg   = 200 // bytes of an error message
)

// excerpt quotes at most maxQuote bytes of s, escaped as Go escapes
// strings, with "..." after it when s was cut.
func excerpt(s string) string { return text.QuoteCut(s, maxQuote) }

// clean makes an error message safe to print on one line and short:
// every quoted string in it (ours, the JSON decoder's, the ports and
// state parsers') is cut to an excerpt, anything else not printable is
// escaped, and the message is cut to maxMsg bytes. Messages of the XML
// decoder quote names without quotes, raw.
func clean(msg string) string {
	var b strings.Builder
	add := func(piece string) bool {
		if b.Len()+len(piece) > maxMsg {
			b.WriteString("...")
			return false
		}
		b.WriteString(piece)
		return true
	}
	for i := 0; i < len(msg); {
		piece, size := msg[i:i+1], 1
		q, quoted := "", false
		if msg[i] == '"' {
			var err error
			q, err = strconv.QuotedPrefix(msg[i:])
			quoted = err == nil
		}
		if quoted {
			s, _ := strconv.Unquote(q)
			piece, size = excerpt(s), len(q)
		} else {
			_, size = utf8.DecodeRuneInString(msg[i:])
			piece = text.Escape(msg[i : i+size])
		}
		if !add(piece) {
			break
		}
		i += size
	}
	return text.Escape(b.String()) // for a "##[" across pieces
}

// ReadFile reads the result file at path; see Read.
func ReadFile(path string, opt ReadOptions) (*Run, error) {
	return ReadFileContext(context.Background(), path, opt)
}

// ReadFileContext is ReadFile with a context; see ReadContext.
func ReadFileContext(ctx context.Context, path string, opt ReadOptions) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadContext(ctx, path, f, opt)
}

// maxLine bounds one jsonl line.
const maxLine = 1 << 20

// Read reads a result file: portscan's jsonl or json, nmap XML (written
// by portscan or by nmap), or a packet capture. name serves in the run's
// Name and in errors, which give the line and column of the trouble and
// wrap ErrInput. A UTF-8 byte order mark and any amount of white space
// may come before the content; nothing but white space (and, in XML,
// comments and processing instructions) may come after it. A damaged
// capture's error also wraps its *capture.ReadError, with the packet and
// offset where it broke.
func Read(name string, r io.Reader, opt ReadOptions) (*Run, error) {
	return ReadContext(context.Background(), name, r, opt)
}

// ReadContext is Read with a context: the analysis of a capture, which
// may be long, stops when ctx is cancelled and returns an error that
// wraps ctx's.
func ReadContext(ctx context.Context, name string, r io.Reader, opt ReadOptions) (*Run, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(8)
	if capture.HasMagic(head) {
		return readCapture(ctx, name, br, opt)
	}
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return nil, &posError{name: name, msg: "UTF-16 byte order mark; expected UTF-8 text"}
	}
	// Skip a byte order mark and white space, however much, to find the
	// first character: where the content starts is kept, so that
	// positions in errors count from the start of the file.
	at := origin{line: 1, col: 1}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		at.off = 3 // the mark is not a column: editors do not show it
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil, &posError{name: name, msg: "empty file; expected portscan jsonl, json or XML, nmap XML, or a capture"}
		}
		if err != nil {
			return nil, err
		}
		switch c {
		case '\n':
			at.line, at.col = at.line+1, 1
		case ' ', '\t', '\r':
			at.col++
		case '<', '{':
			br.UnreadByte()
			var run *Run
			if c == '<' {
				run, err = readXML(name, br)
			} else {
				run, err = readJSON(name, br)
			}
			return run, at.shift(err)
		default:
			what := fmt.Sprintf("%q", c)
			if c >= utf8.RuneSelf {
				what = fmt.Sprintf("byte 0x%02x", c)
			}
			return nil, &posError{name: name, line: at.line, col: at.col, msg: "unexpected " + what + "; expected portscan jsonl, json or XML, nmap XML, or a capture"}
		}
		at.off++
	}
}

// origin is where the content of a file starts, after a byte order mark
// and white space.
type origin struct {
	line, col int
	off       int64
}

// shift makes the position of err, counted from o, count from the start
// of the file.
func (o origin) shift(err error) error {
	var pe *posError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.line == 1 && pe.col > 0 {
		pe.col += o.col - 1
	}
	if pe.line > 0 {
		pe.line += o.line - 1
	}
	pe.off += o.off
	return err
}

// typed is the part of a jsonl line that says what it is.
type typed struct {
	Type string `json:"type"`
}

// readJSON tells jsonl from json: a jsonl file's first line is an object
// with a "type".
func readJSON(name string, br *bufio.Reader) (*Run, error) {
	all, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	first := all
	if i := bytes.IndexByte(all, '\n'); i >= 0 {
		first = all[:i]
	}
	var t typed
	if json.Unmarshal(first, &t) == nil && t.Type != "" {
		return readJSONL(name, all)
	}
	return readJSONDoc(name, all)
}

func readJSONL(name string, data []byte) (*Run, error) {
	run := NewRun(name)
	run.Scanner = "portscan"
	line := 0
	for len(data) > 0 {
		line++
		var text []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			text, data = data, nil
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if len(text) > maxLine {
			return nil, &posError{name: name, line: line, msg: "line too long"}
		}
		fail := func(err error) error {
			l, c := jsonPos(text, err)
			if l > 1 {
				c = 0
			}
			return &posError{name: name, line: line, col: c, msg: jsonMessage(err)}
		}
		var t typed
		if err := json.Unmarshal(text, &t); err != nil {
			return nil, fail(err)
		}
		switch t.Type {
		case "scan":
			var rec output.ScanRecord
			if err := json.Unmarshal(text, &rec); err != nil {
				return nil, fail(err)
			}
			if err := run.addScan(rec); err != nil {
				return nil, &posError{name: name, line: line, msg: err.Error()}
			}
		case "port":
			var rec output.PortRecord
			if err := json.Unmarshal(text, &rec); err != nil {
				return nil, fail(err)
			}
			if err := run.addPortRecord(rec); err != nil {
				return nil, &posError{name: name, line: line, msg: err.Error()}
			}
		case "host":
			var rec output.HostRecord
			if err := json.Unmarshal(text, &rec); err != nil {
				return nil, fail(err)
			}
			if err := run.addHostRecord(rec); err != nil {
				return nil, &posError{name: name, line: line, msg: err.Error()}
			}
		case "summary":
			var rec output.SummaryRecord
			if err := json.Unmarshal(text, &rec); err != nil {
				return nil, fail(err)
			}
			run.Interrupted = rec.Interrupted
			if rec.End != nil {
				run.End = *rec.End
			}
		default:
			// Later versions may add line types: skip them.
		}
	}
	return run, nil
}

// jsonDoc is portscan's json output.
type jsonDoc struct {
	Scan  *output.ScanRecord `json:"scan"`
	Hosts []struct {
		output.HostRecord
		Ports []output.PortRecord `json:"ports"`
	} `json:"hosts"`
	Summary *output.SummaryRecord `json:"summary"`
}

func readJSONDoc(name string, data []byte) (*Run, error) {
	var doc jsonDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		l, c := jsonPos(data, err)
		return nil, &posError{name: name, line: l, col: c, msg: jsonMessage(err)}
	}
	end := dec.InputOffset()
	if i := bytes.IndexFunc(data[end:], func(r rune) bool { return !isSpace(r) }); i >= 0 {
		off := end + int64(i)
		l, c := lineCol(data, off)
		return nil, &posError{name: name, line: l, col: c, off: off, hasOff: true, msg: "data after the JSON document"}
	}
	if doc.Scan == nil {
		return nil, &posError{name: name, line: 1, col: 1, msg: `no "scan" object: not portscan json output`}
	}
	run := NewRun(name)
	run.Scanner = "portscan"
	if err := run.addScan(*doc.Scan); err != nil {
		return nil, &posError{name: name, msg: "scan: " + err.Error()}
	}
	for i, h := range doc.Hosts {
		if err := run.addHostRecord(h.HostRecord); err != nil {
			return nil, &posError{name: name, msg: fmt.Sprintf("hosts[%d]: %v", i, err)}
		}
		for j, p := range h.Ports {
			if p.Host == "" {
				p.Host = h.Host
			}
			if err := run.addPortRecord(p); err != nil {
				return nil, &posError{name: name, msg: fmt.Sprintf("hosts[%d].ports[%d]: %v", i, j, err)}
			}
		}
	}
	if doc.Summary != nil {
		run.Interrupted = doc.Summary.Interrupted
		if doc.Summary.End != nil {
			run.End = *doc.Summary.End
		}
	}
	return run, nil
}

// jsonPos finds the line and column of a decoding error in data.
func jsonPos(data []byte, err error) (line, col int) {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // the offending byte was read
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		off = int64(len(data))
	}
	if off < 0 {
		return 1, 0
	}
	return lineCol(data, off)
}

// lineCol returns the line and column of the byte at off in data.
func lineCol(data []byte, off int64) (line, col int) {
	off = max(off, 0)
	off = min(off, int64(len(data)))
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// isSpace reports whether r is white space in JSON and XML.
func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %q: expected %s, found %s", te.Field, te.Type, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON"
	}
	return err.Error()
}

func (r *Run) addScan(rec output.ScanRecord) error {
	if rec.Start != nil {
		r.Start = *rec.Start
	}
	if len(rec.Args) > 0 {
		r.Args = rec.Args
	}
	if rec.ScanType == "pcap" {
		r.Scanner = "pcap"
		return nil
	}
	if len(rec.Protocols) > 0 {
		r.Protocols = rec.Protocols
	}
	if rec.Ports != "" {
		set, err := ports.ParseSpec(rec.Ports, ports.SpecOptions{Protocols: r.Protocols})
		if err != nil {
			return fmt.Errorf("ports: %w", err)
		}
		r.Scanned = set
	}
	return nil
}

func parseHost(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("host %q is not an IP address", s)
	}
	return a, nil
}

func (r *Run) addPortRecord(rec output.PortRecord) error {
	a, err := parseHost(rec.Host)
	if err != nil {
		return err
	}
	if rec.Port == 0 {
		return errors.New("port 0")
	}
	if rec.Protocol != ports.TCP && rec.Protocol != ports.UDP {
		return fmt.Errorf("protocol %v: want tcp or udp", rec.Protocol)
	}
	from, err := nmapxml.ParseReasonIP(rec.ReasonIP)
	if err != nil {
		return err
	}
	res := result.Port{Host: a, Hostname: rec.Hostname, Port: ports.Port{Number: rec.Port, Proto: rec.Protocol}, State: rec.State, Reason: rec.Reason,
		TTL: rec.TTL, ReasonIP: from, Detected: rec.Detected.Service(), Evidence: rec.Evidence}
	if rec.Service != "" {
		res.Service = &services.Entry{Name: rec.Service, Port: res.Port}
	}
	r.AddPort(res)
	return nil
}

// parseCounts reads a host record's counts by state name; a name this
// version does not know counts as Unknown.
func parseCounts(m map[string]int) map[result.State]int {
	if m == nil {
		return nil
	}
	out := make(map[result.State]int, len(m))
	for name, n := range m {
		s, _ := result.ParseState(name)
		out[s] += n
	}
	return out
}

func (r *Run) addHostRecord(rec output.HostRecord) error {
	a, err := parseHost(rec.Host)
	if err != nil {
		return err
	}
	from, err := nmapxml.ParseReasonIP(rec.ReasonIP)
	if err != nil {
		return err
	}
	h := result.Host{Addr: a, Hostname: rec.Hostname, Up: rec.Up, Reason: rec.Reason, TTL: rec.TTL, ReasonIP: from, Counts: parseCounts(rec.Counts), Vendor: rec.Vendor}
	if rec.MAC != "" {
		if h.MAC, err = parseMAC(rec.MAC); err != nil {
			return err
		}
	}
	if rec.Start != nil {
		h.Start = *rec.Start
	}
	if rec.End != nil {
		h.End = *rec.End
	}
	r.AddHost(h)
	return nil
}

// parseMAC reads a host's MAC address as the outputs write it (and nmap:
// "00:00:0C:12:34:56"): six bytes, no other link address.
func parseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("invalid MAC address %q: want six hex pairs, 00:00:0C:12:34:56", s)
	}
	return mac, nil
}
