package baseline

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// xmlReader reads an nmap XML file into a run, one element at a time.
type xmlReader struct {
	name   string
	dec    *xml.Decoder
	run    *Run
	protos []ports.Protocol // from the scaninfo elements, in order
	specs  []string         // their services lists, protocol-prefixed
	depth  int              // elements open, those element decodes left out
}

// readXML streams an nmap XML file host by host: each <host> is decoded
// into the nmapxml model, added to the run and dropped.
func readXML(name string, r io.Reader) (*Run, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	x := &xmlReader{name: name, dec: dec, run: NewRun(name)}
	x.run.Scanner = "nmap"
	seenRoot := false
	for {
		tagLine, tagCol := dec.InputPos()
		tagOff := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, x.syntax(err)
		}
		if seenRoot && x.depth == 0 {
			// The root is closed: only white space, comments and
			// processing instructions may follow.
			if err := x.afterRoot(tok, tagLine, tagCol, tagOff); err != nil {
				return nil, err
			}
			continue
		}
		if _, ok := tok.(xml.EndElement); ok {
			x.depth--
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !seenRoot {
			if err := x.root(se); err != nil {
				return nil, err
			}
			seenRoot, x.depth = true, 1
			continue
		}
		if err := x.element(se, tagLine, tagCol); err != nil {
			return nil, err
		}
	}
	if !seenRoot {
		return nil, &posError{name: name, msg: "no <nmaprun> element (not nmap XML)"}
	}
	x.coverage()
	return x.run, nil
}

// fail is an error at the decoder's position.
func (x *xmlReader) fail(msg string) error {
	line, col := x.dec.InputPos()
	return &posError{name: x.name, line: line, col: col, msg: msg}
}

// syntax is an error the decoder met between elements.
func (x *xmlReader) syntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &posError{name: x.name, line: se.Line, msg: "XML: " + se.Msg}
	}
	return x.fail("XML: " + err.Error())
}

// root reads the <nmaprun> start tag: the run's start time, if it is a
// number of seconds.
func (x *xmlReader) root(se xml.StartElement) error {
	if se.Name.Local != "nmaprun" {
		return x.fail(fmt.Sprintf("root element <%s>; expected <nmaprun> (nmap XML)", se.Name.Local))
	}
	var root nmapxml.Run
	if err := root.DecodeStartTag(se); err != nil {
		return x.fail("nmaprun: " + xmlMessage(err))
	}
	if n, err := strconv.ParseInt(root.Start, 10, 64); err == nil {
		x.run.Start = time.Unix(n, 0).UTC()
	}
	if root.Args != "" {
		x.run.Args = []string{root.Args}
	}
	return nil
}

// element decodes one element inside the root, whose start tag se began
// at line:col; the elements a comparison does not need are skipped.
func (x *xmlReader) element(se xml.StartElement, line, col int) error {
	switch se.Name.Local {
	case "scaninfo":
		var si nmapxml.ScanInfo
		if err := x.dec.DecodeElement(&si, &se); err != nil {
			return x.fail("scaninfo: " + xmlMessage(err))
		}
		p, err := ports.ParseProtocol(si.Protocol)
		if err != nil || p == ports.DDP {
			return nil // sctp and others: not ours to judge
		}
		x.protos = append(x.protos, p)
		if si.Services != "" {
			x.specs = append(x.specs, prefixSpec(p, si.Services))
		}
	case "host":
		var h nmapxml.Host
		if err := x.dec.DecodeElement(&h, &se); err != nil {
			return x.fail("host: " + xmlMessage(err))
		}
		if err := x.run.addXMLHost(&h); err != nil {
			return &posError{name: x.name, line: line, col: col, msg: "host: " + err.Error()}
		}
	case "finished":
		var f nmapxml.Finished
		if err := x.dec.DecodeElement(&f, &se); err != nil {
			return x.fail("finished: " + xmlMessage(err))
		}
		x.run.Interrupted = f.Exit == "error"
		if n, err := strconv.ParseInt(f.Time, 10, 64); err == nil {
			x.run.End = time.Unix(n, 0).UTC()
		}
	default:
		x.depth++ // not decoded here: its end comes as a token
	}
	return nil
}

// afterRoot refuses a token after the root element that is not white
// space, a comment or a processing instruction: a second root, or text.
// The token began at line:col, at byte offset off.
func (x *xmlReader) afterRoot(tok xml.Token, line, col int, off int64) error {
	if msg, line, col, off := nmapxml.AfterRoot(tok, line, col, off); msg != "" {
		return &posError{name: x.name, line: line, col: col, off: off, hasOff: true, msg: msg}
	}
	return nil
}

// coverage sets the run's protocols and scanned ports from its scaninfo
// elements, when they name them all.
func (x *xmlReader) coverage() {
	if len(x.protos) == 0 {
		return
	}
	x.run.Protocols = x.protos
	if len(x.specs) == len(x.protos) {
		if set, err := ports.ParseSpec(strings.Join(x.specs, ","), ports.SpecOptions{}); err == nil {
			x.run.Scanned = set
		}
	}
}

// prefixSpec gives every entry of one protocol's services list the
// protocol, so lists of several protocols can be joined: nmap writes
// "1-1000" under protocol="tcp", and portscan may already write "T:1-1000".
func prefixSpec(p ports.Protocol, services string) string {
	pre := "T:"
	if p == ports.UDP {
		pre = "U:"
	}
	if len(services) >= 2 && services[1] == ':' {
		return services
	}
	return pre + services
}

func (r *Run) addXMLHost(x *nmapxml.Host) error {
	addr := x.IPAddr()
	if addr == "" {
		return errors.New("no IPv4 or IPv6 address")
	}
	a, err := parseHost(addr)
	if err != nil {
		return err
	}
	hostname := ""
	if x.Hostnames != nil {
		for _, n := range x.Hostnames.Hostname {
			if n.Type == "user" || hostname == "" {
				hostname = n.Name
			}
		}
	}
	ttl, err := x.Status.TTL()
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	from, err := x.Status.IP() // portscan's; nmap's DTD has none on <status>
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	host := result.Host{Addr: a, Hostname: hostname, Up: x.Status.State == "up", Reason: x.Status.Reason, TTL: ttl, ReasonIP: from}
	for _, ad := range x.Addresses {
		if ad.AddrType == "mac" {
			if host.MAC, err = parseMAC(ad.Addr); err != nil {
				return err
			}
			host.Vendor = ad.Vendor
			break
		}
	}
	if x.Ports != nil {
		host.Counts = xmlCounts(x.Ports)
	}
	r.AddHost(host)
	if x.Ports == nil {
		return nil
	}
	for _, xp := range x.Ports.Port {
		n, err := strconv.ParseUint(xp.PortID, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("invalid portid %q", xp.PortID)
		}
		proto, err := ports.ParseProtocol(xp.Protocol)
		if err != nil || proto == ports.DDP {
			continue // sctp, ip: not judged
		}
		st, err := result.ParseState(xp.State.State)
		if err != nil {
			// nmap's other states (unfiltered, closed|filtered) are not open.
			st = result.Unknown
		}
		ttl, err := xp.State.TTL()
		if err != nil {
			return fmt.Errorf("port %s: %w", xp.PortID, err)
		}
		from, err := xp.State.IP()
		if err != nil {
			return fmt.Errorf("port %s: %w", xp.PortID, err)
		}
		res := result.Port{Host: a, Hostname: hostname, Port: ports.Port{Number: uint16(n), Proto: proto}, State: st, Reason: xp.State.Reason, TTL: ttl,
			ReasonIP: from}
		if xp.Service != nil && xp.Service.Name != "" {
			res.Service = &services.Entry{Name: xp.Service.Name, Port: res.Port}
		}
		res.Detected = xmlDetected(xp.Service)
		r.AddPort(res)
	}
	return nil
}

// xmlDetected reads what version detection found from a <service> whose
// method is "probed" (nmap -sV, or portscan -sV); a table lookup found
// nothing.
func xmlDetected(s *nmapxml.Service) *result.Service {
	if s == nil || s.Method != "probed" {
		return nil
	}
	conf, _ := strconv.Atoi(s.Conf)
	return &result.Service{Name: s.Name, Tunnel: s.Tunnel, Product: s.Product, Version: s.Version, Info: s.ExtraInfo,
		CPE: s.CPE, Method: result.MethodProbe, Confidence: conf}
}

// xmlCounts counts a host's ports by state: its extraports and its
// listed ports. nmap's states of its own (unfiltered, closed|filtered)
// count as Unknown; a count that is no number makes the counts unknown.
func xmlCounts(ps *nmapxml.Ports) map[result.State]int {
	out := make(map[result.State]int)
	for _, ex := range ps.Extra {
		n, err := strconv.Atoi(ex.Count)
		if err != nil || n < 0 {
			return nil
		}
		s, _ := result.ParseState(ex.State)
		out[s] += n
	}
	for _, p := range ps.Port {
		s, _ := result.ParseState(p.State.State)
		out[s]++
	}
	return out
}

// xmlMessage is an XML error without the line the position already gives.
func xmlMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return "XML: " + se.Msg
	}
	return err.Error()
}
