package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// indexXML reads an nmap XML file (portscan's or nmap's) from base: the
// comment that carries portscan's fingerprint, the root's attributes,
// the scaninfo elements, each <host>, whose span in the file is kept,
// and runstats. Nothing but white space, comments and processing
// instructions may follow the root.
func indexXML(ctx context.Context, f *file, base int64) error {
	dec := xml.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(f.f, base, f.size-base), 256<<10))
	dec.Strict = true
	fail := func(line, col int, msg string) error {
		return &InputError{Name: f.name, Line: line, Col: col, Offset: -1, Msg: msg}
	}
	syntax := func(err error) error {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Line, 0, "XML: "+se.Msg)
		}
		line, col := dec.InputPos()
		return fail(line, col, "XML: "+err.Error())
	}
	var h head
	var seg *segment
	var sum *tail
	var protos []ports.Protocol
	var specs []string
	counts := map[ports.Protocol]int{}
	depth, hosts, root := 0, 0, false
	// The run's segment begins at the root's first child that is no
	// scaninfo, or at its end, so that the head has every scaninfo.
	begin := func() error {
		if seg != nil {
			return nil
		}
		scanInfoHead(&h, protos, specs, counts)
		var err error
		seg, err = f.segment(h)
		return err
	}
	for {
		line, col := dec.InputPos()
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return syntax(err)
		}
		if root && depth == 0 {
			// After the root: only white space, comments and
			// processing instructions.
			if msg, line, col, off := nmapxml.AfterRoot(tok, line, col, off); msg != "" {
				return &InputError{Name: f.name, Line: line, Col: col, Offset: base + off, Msg: msg}
			}
			continue
		}
		switch t := tok.(type) {
		case xml.Comment:
			if !root {
				if err := readScanComment(&h, t); err != nil {
					return fail(line, col, err.Error())
				}
			}
		case xml.EndElement:
			if depth--; depth == 0 {
				if err := begin(); err != nil {
					return err
				}
			}
		case xml.StartElement:
			if !root {
				if t.Name.Local != "nmaprun" {
					return fail(line, col, fmt.Sprintf("root element <%s>; expected <nmaprun> (nmap XML)", t.Name.Local))
				}
				var run nmapxml.Run
				if err := run.DecodeStartTag(t); err != nil {
					return fail(line, col, "nmaprun: "+err.Error())
				}
				rootHead(&h, run)
				root, depth = true, 1
				continue
			}
			if t.Name.Local != "scaninfo" {
				if err := begin(); err != nil {
					return err
				}
			}
			switch t.Name.Local {
			case "scaninfo":
				var si nmapxml.ScanInfo
				if err := dec.DecodeElement(&si, &t); err != nil {
					return syntax(err)
				}
				if seg != nil {
					continue // after the hosts: too late to be the scan's
				}
				p, err := ports.ParseProtocol(si.Protocol)
				if err != nil || p == ports.DDP {
					continue // sctp and others: not portscan's
				}
				protos = append(protos, p)
				n, _ := strconv.Atoi(si.NumServices)
				counts[p] = n
				if si.Services != "" {
					specs = append(specs, prefixSpec(p, si.Services))
				}
			case "host":
				if hosts%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				var x nmapxml.Host
				if err := dec.DecodeElement(&x, &t); err != nil {
					return syntax(err)
				}
				end := dec.InputOffset()
				hh, _, err := xmlHost(&x, nil)
				if err != nil {
					return fail(line, col, "host: "+err.Error())
				}
				if end-off > maxElement {
					return fail(line, col, fmt.Sprintf("host larger than %d MiB", maxElement>>20))
				}
				addr, name, fl := keyOf(hh.Addr, hh.Hostname)
				f.slots.add(slot{addr: addr, name: name, flags: fl, off: base + off, size: uint32(end - off), first: noRec,
					file: uint16(f.index), seg: seg.id})
				hosts++
			case "runstats":
				var rs nmapxml.RunStats
				if err := dec.DecodeElement(&rs, &t); err != nil {
					return syntax(err)
				}
				sum = &tail{start: h.start, end: unixTime(rs.Finished.Time), interrupted: rs.Finished.Exit == "error"}
			default:
				if err := dec.Skip(); err != nil {
					return syntax(err)
				}
			}
		}
	}
	if !root {
		return fail(0, 0, "no <nmaprun> element (not nmap XML)")
	}
	if depth != 0 {
		line, col := dec.InputPos()
		return fail(line, col, "XML: the root element is not closed")
	}
	seg.tail = sum
	return nil
}

// rootHead reads the root's attributes into h: portscan writes its
// version "portscan 0.1.0", nmap a number.
func rootHead(h *head, root nmapxml.Run) {
	h.args = splitArgs(root.Args)
	h.start = unixTime(root.Start)
	if v, ok := strings.CutPrefix(root.Version, "portscan "); ok {
		h.portscan, h.version = true, v
	} else {
		h.version = root.Version
	}
}

// scanInfoHead reads the scaninfo elements into h: the protocols, their
// ports, and the scan type.
func scanInfoHead(h *head, protos []ports.Protocol, specs []string, counts map[ports.Protocol]int) {
	h.protocols = protos
	if len(specs) == len(protos) && len(specs) > 0 {
		h.portsSpec = strings.Join(specs, ",")
	}
	if len(protos) > 0 {
		h.numPorts = counts[protos[0]]
	}
	var types []string
	for _, p := range protos {
		switch p {
		case ports.TCP:
			types = append(types, "connect")
		case ports.UDP:
			types = append(types, "udp")
		}
	}
	h.scanType = strings.Join(types, "+")
}

// prefixSpec gives every entry of one protocol's services list its
// protocol, so that lists of several protocols join: nmap writes
// "1-1000" under protocol="tcp", portscan "T:1-1000".
func prefixSpec(p ports.Protocol, services string) string {
	if len(services) >= 2 && services[1] == ':' {
		return services
	}
	if p == ports.UDP {
		return "U:" + services
	}
	return "T:" + services
}

// readScanComment reads portscan's comment of the scan's definition,
// " portscan-scan fingerprint=F seed=S shard=I/N ", into h; any other
// comment is not its business. A comment that starts so and says
// something else is an error.
func readScanComment(h *head, c xml.Comment) error {
	fields := strings.Fields(string(c))
	if len(fields) == 0 || fields[0] != output.ScanCommentPrefix {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("%s comment: %s", output.ScanCommentPrefix, why)
	}
	seen := map[string]bool{}
	for _, kv := range fields[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return bad(fmt.Sprintf("%s is no new key=value", quote(kv)))
		}
		seen[k] = true
		switch k {
		case "fingerprint":
			if v == "" {
				return bad("empty fingerprint")
			}
			h.fingerprint = v
		case "seed":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return bad(fmt.Sprintf("seed %s is no number", quote(v)))
			}
			h.seed = n
		case "shard":
			s, err := parseShard(v)
			if err != nil {
				return bad(err.Error())
			}
			h.shard = s
		default:
			// Later versions may say more.
		}
	}
	if !seen["fingerprint"] {
		return bad("no fingerprint")
	}
	return nil
}

// parseShard reads a shard as --shard writes it, "I/N" with I from 1 to
// N and N at least 2.
func parseShard(s string) (result.Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 2 || i < 1 || i > n || strings.HasPrefix(is, "+") || strings.HasPrefix(ns, "+") {
		return result.Shard{}, fmt.Errorf("shard %s: want I/N, I from 1 to N, N 2 or more", quote(s))
	}
	return result.Shard{Index: i - 1, Count: n}, nil
}

// splitArgs splits the root's args attribute back into words: portscan
// writes a word that a shell would split with Go's quoting ("a b",
// "\t"), and nmap writes its command line as it was typed.
func splitArgs(s string) []string {
	var out []string
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		if s[0] == '"' {
			if q, err := strconv.QuotedPrefix(s); err == nil {
				if w, err := strconv.Unquote(q); err == nil {
					out = append(out, w)
					s = s[len(q):]
					continue
				}
			}
		}
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			i = len(s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// xmlPart reads back an XML slot: its host element.
func (m *Merger) xmlPart(r *reader, f *file, s *slot) (part, error) {
	b, err := r.read(f, s.off, int(s.size))
	if err != nil {
		return part{}, err
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var x nmapxml.Host
	if err := dec.Decode(&x); err != nil {
		return part{}, changed(f, s.off, err)
	}
	h, list, err := xmlHost(&x, m.opt.Label)
	if err != nil {
		return part{}, changed(f, s.off, err)
	}
	return part{host: h, ports: list}, nil
}
