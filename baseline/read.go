package baseline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// ReadOptions tune Read.
type ReadOptions struct {
	// Label names ports from the catalog when a capture is read; nil
	// leaves them unnamed. Result files carry their own labels.
	Label func(ports.Port) *services.Entry
}

// posError is an error at a place in a result file; it prints as
// "name:line:col: message" (or "name:line:" when the column is unknown).
type posError struct {
	name      string
	line, col int
	msg       string
}

func (e *posError) Error() string {
	switch {
	case e.line == 0:
		return fmt.Sprintf("%s: %s", e.name, e.msg)
	case e.col == 0:
		return fmt.Sprintf("%s:%d: %s", e.name, e.line, e.msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.name, e.line, e.col, e.msg)
}

func (e *posError) Unwrap() error { return ErrInput }

// ReadFile reads the result file at path; see Read.
func ReadFile(path string, opt ReadOptions) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f, opt)
}

// maxLine bounds one jsonl line.
const maxLine = 1 << 20

// Read reads a result file: portscan's jsonl or json, nmap XML (written
// by portscan or by nmap), or a packet capture. name serves in the run's
// Name and in errors, which give the line and column of the trouble and
// wrap ErrInput.
func Read(name string, r io.Reader, opt ReadOptions) (*Run, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(8)
	if isCapture(head) {
		return readCapture(name, br, opt)
	}
	// Skip a byte order mark and white space to find the first character.
	i := 0
	for {
		b, err := br.Peek(i + 1)
		if err != nil {
			if err == io.EOF {
				return nil, &posError{name: name, msg: "empty file; expected portscan jsonl, json or XML, nmap XML, or a capture"}
			}
			return nil, err
		}
		c := b[i]
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) && i < 3 {
			i++
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || i < 3 && c >= 0x80 {
			i++
			continue
		}
		switch c {
		case '<':
			return readXML(name, br)
		case '{':
			return readJSON(name, br)
		}
		line, col := 1, 1
		for _, x := range b[:i] {
			if x == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return nil, &posError{name: name, line: line, col: col, msg: fmt.Sprintf("unexpected %q; expected portscan jsonl, json or XML, nmap XML, or a capture", c)}
	}
}

// isCapture reports whether head starts a pcap, pcapng or gzip file.
func isCapture(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch string(head[:4]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1", "\x0a\x0d\x0d\x0a":
		return true
	}
	return head[0] == 0x1f && head[1] == 0x8b
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
	res := result.Port{Host: a, Hostname: rec.Hostname, Port: ports.Port{Number: rec.Port, Proto: rec.Protocol}, State: rec.State, Reason: rec.Reason}
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
	h := result.Host{Addr: a, Hostname: rec.Hostname, Up: rec.Up, Reason: rec.Reason, Counts: parseCounts(rec.Counts)}
	if rec.Start != nil {
		h.Start = *rec.Start
	}
	if rec.End != nil {
		h.End = *rec.End
	}
	r.AddHost(h)
	return nil
}
