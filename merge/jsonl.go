package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// pendKey names a host whose port lines came and whose host line has
// not yet.
type pendKey struct {
	addr netip.Addr
	name string
}

// pend lists the port lines of a pending host.
type pend struct {
	head, tail uint32
	off        int64 // of the first
}

// jsonlType finds a line's type: the prefix every portscan line starts
// with, else the line's "type" field.
func jsonlType(line []byte) (string, error) {
	const pre = `{"type":"`
	if rest, ok := bytes.CutPrefix(line, []byte(pre)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i]), nil
		}
	}
	var t struct {
		Type string `json:"type"`
	}
	err := json.Unmarshal(line, &t)
	return t.Type, err
}

// indexJSONL reads a jsonl file from base. Port lines wait, listed, for
// their host's line; those of hosts whose line never came (a run killed
// outright, before it wrote them) make slots of their own when the run
// ends: at the next "scan" line, or at the end of the file.
func indexJSONL(ctx context.Context, f *file, base int64) error {
	r := bufio.NewReaderSize(io.NewSectionReader(f.f, base, f.size-base), 256<<10)
	pending := make(map[pendKey]*pend)
	flush := func(s *segment) {
		for k, p := range pending {
			addr, name, fl := keyOf(k.addr, k.name)
			f.slots.add(slot{addr: addr, name: name, flags: fl | orphan, off: p.off, first: p.head, file: uint16(f.index), seg: s.id})
		}
		clear(pending)
	}
	var seg *segment
	var buf []byte
	off := base
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := readLine(r, buf, maxLine)
		if err == io.EOF {
			break
		}
		fail := func(col int, msg string) error {
			return &InputError{Name: f.name, Line: n, Col: col, Offset: -1, Msg: msg}
		}
		if errors.Is(err, errLineTooLong) {
			return fail(0, fmt.Sprintf("line longer than %d bytes", maxLine))
		}
		if err != nil {
			return err
		}
		buf = line
		start := off
		off += int64(len(line)) + 1
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		typ, err := jsonlType(line)
		if err != nil {
			return jsonError(f.name, n, line, err)
		}
		if seg == nil && typ != "scan" {
			return fail(1, fmt.Sprintf("a %s line before any \"scan\" line: not portscan jsonl output", quote(typ)))
		}
		switch typ {
		case "scan":
			var rec output.ScanRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return jsonError(f.name, n, line, err)
			}
			h, err := scanHead(rec)
			if err != nil {
				return fail(0, err.Error())
			}
			if seg != nil {
				flush(seg)
			}
			if seg, err = f.segment(h); err != nil {
				return err
			}
		case "port":
			var rec output.PortRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return jsonError(f.name, n, line, err)
			}
			p, err := portOf(rec, netip.Addr{})
			if err != nil {
				return fail(0, err.Error())
			}
			i := f.recs.add(start, len(line))
			k := pendKey{p.Host, p.Hostname}
			if q := pending[k]; q != nil {
				*f.recs.next.at(int(q.tail)) = i
				q.tail = i
			} else {
				pending[k] = &pend{head: i, tail: i, off: start}
			}
		case "host":
			var rec output.HostRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return jsonError(f.name, n, line, err)
			}
			h, err := hostOf(rec)
			if err != nil {
				return fail(0, err.Error())
			}
			k := pendKey{h.Addr, h.Hostname}
			first := noRec
			if q := pending[k]; q != nil {
				first = q.head
				delete(pending, k)
			}
			addr, name, fl := keyOf(h.Addr, h.Hostname)
			f.slots.add(slot{addr: addr, name: name, flags: fl, index: h.Index, off: start, size: uint32(len(line)), first: first,
				file: uint16(f.index), seg: seg.id})
			seg.hostProbes += int64(h.Probes)
		case "summary":
			var rec output.SummaryRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return jsonError(f.name, n, line, err)
			}
			seg.tail = summaryTail(rec)
		default:
			// Later versions may add line types: skip them.
		}
	}
	if seg != nil {
		flush(seg)
	}
	return nil
}

// jsonError is an error decoding line n, with the column of the
// trouble when the decoder gives one.
func jsonError(name string, n int, line []byte, err error) error {
	col := 0
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		col = column(line, se.Offset-1)
	case errors.As(err, &te):
		col = column(line, te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		col = column(line, int64(len(line)))
	}
	return &InputError{Name: name, Line: n, Col: col, Offset: -1, Msg: jsonMessage(err)}
}

// column is the column of byte off of a line, counting characters.
func column(line []byte, off int64) int {
	off = min(max(off, 0), int64(len(line)))
	return bytes.Count(line[:off], nil) // runes before it, plus one
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// A json host's fields are those of its embedded HostRecord.
		field := strings.TrimPrefix(te.Field, "HostRecord.")
		return fmt.Sprintf("field %s: expected %s, found %s", quote(field), te.Type, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON"
	}
	return err.Error()
}

// scanHead reads a scan record (a jsonl "scan" line, json's "scan").
func scanHead(rec output.ScanRecord) (head, error) {
	h := head{portscan: true, args: rec.Args, version: rec.Version, start: timeOf(rec.Start), scanType: rec.ScanType,
		protocols: rec.Protocols, portsSpec: rec.Ports, numPorts: rec.NumPorts, seed: rec.Seed, fingerprint: rec.Fingerprint,
		shard: rec.Shard.Result()}
	if s := h.shard; s != (result.Shard{}) && (s.Count < 2 || s.Index < 0 || s.Index >= s.Count) {
		return head{}, fmt.Errorf("shard index %d of %d: want an index from 0 to the count less one, and a count of 2 or more", s.Index, s.Count)
	}
	return h, nil
}

// summaryTail reads a summary record.
func summaryTail(rec output.SummaryRecord) *tail {
	return &tail{start: timeOf(rec.Start), end: timeOf(rec.End), probes: max(rec.Probes, 0), interrupted: rec.Interrupted, capture: rec.Capture}
}

// jsonlPart reads back a jsonl slot: its host line and port lines. An
// orphan's host is made from its ports, as a writer closes a host whose
// Host call never came: incomplete, up if a port answered.
func (m *Merger) jsonlPart(r *reader, f *file, s *slot) (part, error) {
	var pt part
	for i := s.first; i != noRec; i = *f.recs.next.at(int(i)) {
		off, n := f.recs.at(i)
		b, err := r.read(f, off, n)
		if err != nil {
			return pt, err
		}
		var rec output.PortRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return pt, changed(f, off, err)
		}
		p, err := portOf(rec, netip.Addr{})
		if err != nil {
			return pt, changed(f, off, err)
		}
		pt.ports = append(pt.ports, p)
	}
	if s.flags&orphan != 0 {
		pt.host = unfinished(pt.ports)
		pt.orphan = true
		return pt, nil
	}
	b, err := r.read(f, s.off, int(s.size))
	if err != nil {
		return pt, err
	}
	var rec output.HostRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return pt, changed(f, s.off, err)
	}
	if pt.host, err = hostOf(rec); err != nil {
		return pt, changed(f, s.off, err)
	}
	return pt, nil
}

// changed is the error of a record that no longer reads as it did.
func changed(f *file, off int64, err error) error {
	return &InputError{Name: f.name, Offset: off, Msg: "changed since it was first read: " + err.Error()}
}

// unfinished is the host of ports whose host record never came.
func unfinished(ps []result.Port) result.Host {
	h := result.Host{Incomplete: true}
	for i, p := range ps {
		if i == 0 {
			h.Addr, h.Hostname, h.Source = p.Host, p.Hostname, p.Source
		}
		if p.State == result.Open || p.State == result.Closed {
			h.Up = true
		}
		if !p.Time.IsZero() {
			h.Start, h.End = earliest(h.Start, p.Time), latest(h.End, p.Time)
		}
	}
	return h
}
