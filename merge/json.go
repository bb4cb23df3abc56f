package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// jsonHost is a host object of portscan's json document.
type jsonHost struct {
	output.HostRecord
	Ports []output.PortRecord `json:"ports"`
}

// maxElement bounds one host element of a json or XML document: a host
// with every TCP and UDP port listed, detected and described is less.
const maxElement = 64 << 20

// indexJSON reads a json document from base: the "scan" object, then
// each element of "hosts", whose span in the file is kept, then
// "summary". Nothing but white space may follow the document.
func indexJSON(ctx context.Context, f *file, base int64) error {
	dec := json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(f.f, base, f.size-base), 256<<10))
	// at is the position of the decoder's offset off, for errors.
	fail := func(off int64, msg string) error {
		line, col := f.lineCol(base + off)
		return &InputError{Name: f.name, Line: line, Col: col, Offset: -1, Msg: msg}
	}
	decodeErr := func(what string, start int64, err error) error {
		off := start
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset - 1
		case errors.As(err, &te):
			// Decode counts a type error's offset from the value, which
			// starts after the separator before it.
			off = f.afterSeparator(base+start) - base + te.Offset
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			off = f.size - base
		}
		msg := jsonMessage(err)
		if what != "" {
			msg = what + ": " + msg
		}
		return fail(off, msg)
	}
	delim := func(want json.Delim, what string) error {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return decodeErr(what, start, err)
		}
		if d, ok := tok.(json.Delim); !ok || d != want {
			return fail(start, fmt.Sprintf("%s: expected %q, found %v", what, want, tok))
		}
		return nil
	}
	if err := delim('{', "the document"); err != nil {
		return err
	}
	var seg *segment
	var sum *tail
	hosts := 0
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return decodeErr("", start, err)
		}
		key, _ := tok.(string)
		if seg == nil && key != "scan" {
			return fail(start, fmt.Sprintf(`key %s before "scan": not portscan json output`, quote(key)))
		}
		start = dec.InputOffset()
		switch key {
		case "scan":
			if seg != nil {
				return fail(start, `a second "scan" object`)
			}
			var rec output.ScanRecord
			if err := dec.Decode(&rec); err != nil {
				return decodeErr("scan", start, err)
			}
			h, err := scanHead(rec)
			if err != nil {
				return fail(start, "scan: "+err.Error())
			}
			if seg, err = f.segment(h); err != nil {
				return err
			}
		case "hosts":
			if err := delim('[', "hosts"); err != nil {
				return err
			}
			for dec.More() {
				if hosts%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				start := dec.InputOffset()
				var jh jsonHost
				what := fmt.Sprintf("hosts[%d]", hosts)
				if err := dec.Decode(&jh); err != nil {
					return decodeErr(what, start, err)
				}
				end := dec.InputOffset()
				h, _, err := jsonPart(jh)
				if err != nil {
					return fail(start, what+": "+err.Error())
				}
				if end-start > maxElement {
					return fail(start, fmt.Sprintf("%s larger than %d MiB", what, maxElement>>20))
				}
				addr, name, fl := keyOf(h.Addr, h.Hostname)
				f.slots.add(slot{addr: addr, name: name, flags: fl, index: h.Index, off: base + start, size: uint32(end - start),
					first: noRec, file: uint16(f.index), seg: seg.id})
				seg.hostProbes += int64(h.Probes)
				hosts++
			}
			if err := delim(']', "hosts"); err != nil {
				return err
			}
		case "summary":
			var rec output.SummaryRecord
			if err := dec.Decode(&rec); err != nil {
				return decodeErr("summary", start, err)
			}
			sum = summaryTail(rec)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return decodeErr(key, start, err)
			}
		}
	}
	if err := delim('}', "the document"); err != nil {
		return err
	}
	if seg == nil {
		return fail(0, `no "scan" object: not portscan json output`)
	}
	seg.tail = sum
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := io.NewSectionReader(f.f, base+end, f.size-base-end)
		off := end
		br := bufio.NewReader(rest)
		for {
			c, err := br.ReadByte()
			if err != nil || c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				break
			}
			off++
		}
		line, col := f.lineCol(base + off)
		return &InputError{Name: f.name, Line: line, Col: col, Offset: base + off, Msg: "data after the JSON document"}
	}
	return nil
}

// afterSeparator is where a JSON value that follows off begins for the
// decoder: after white space and one ',' or ':', if there is one.
func (f *file) afterSeparator(off int64) int64 {
	br := bufio.NewReader(io.NewSectionReader(f.f, off, f.size-off))
	for i := off; ; i++ {
		c, err := br.ReadByte()
		switch {
		case err != nil:
			return off
		case c == ',' || c == ':':
			return i + 1
		case c != ' ' && c != '\t' && c != '\r' && c != '\n':
			return off
		}
	}
}

// jsonPart turns a json host object into the model.
func jsonPart(jh jsonHost) (result.Host, []result.Port, error) {
	h, err := hostOf(jh.HostRecord)
	if err != nil {
		return h, nil, err
	}
	list := make([]result.Port, 0, len(jh.Ports))
	for i, rec := range jh.Ports {
		p, err := portOf(rec, h.Addr)
		if err != nil {
			return h, nil, fmt.Errorf("ports[%d]: %w", i, err)
		}
		list = append(list, p)
	}
	return h, list, nil
}

// jsonDocPart reads back a json slot: its host element, after the
// separator before it.
func (m *Merger) jsonDocPart(r *reader, f *file, s *slot) (part, error) {
	b, err := r.read(f, s.off, int(s.size))
	if err != nil {
		return part{}, err
	}
	b = bytes.TrimLeft(b, " \t\r\n,")
	var jh jsonHost
	if err := json.Unmarshal(b, &jh); err != nil {
		return part{}, changed(f, s.off, err)
	}
	h, list, err := jsonPart(jh)
	if err != nil {
		return part{}, changed(f, s.off, err)
	}
	return part{host: h, ports: list}, nil
}
