package baseline

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// The parts of nmap's XML format (nmap.dtd) a comparison needs.
type (
	xmlScanInfo struct {
		Protocol string `xml:"protocol,attr"`
		Services string `xml:"services,attr"`
	}
	xmlHost struct {
		Status    xmlState     `xml:"status"`
		Addresses []xmlAddress `xml:"address"`
		Hostnames []xmlName    `xml:"hostnames>hostname"`
		Ports     []xmlPort    `xml:"ports>port"`
	}
	xmlState struct {
		State  string `xml:"state,attr"`
		Reason string `xml:"reason,attr"`
	}
	xmlAddress struct {
		Addr     string `xml:"addr,attr"`
		AddrType string `xml:"addrtype,attr"`
	}
	xmlName struct {
		Name string `xml:"name,attr"`
		Type string `xml:"type,attr"`
	}
	xmlPort struct {
		Protocol string          `xml:"protocol,attr"`
		PortID   string          `xml:"portid,attr"`
		State    xmlState        `xml:"state"`
		Service  *xmlServiceName `xml:"service"`
	}
	xmlServiceName struct {
		Name string `xml:"name,attr"`
	}
	xmlFinished struct {
		Exit string `xml:"exit,attr"`
	}
)

// readXML streams an nmap XML file host by host.
func readXML(name string, r io.Reader) (*Run, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	run := NewRun(name)
	run.Scanner = "nmap"
	fail := func(msg string) error {
		line, col := dec.InputPos()
		return &posError{name: name, line: line, col: col, msg: msg}
	}
	seenRoot := false
	var protos []ports.Protocol
	var specs []string
	for {
		tagLine, tagCol := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &posError{name: name, line: se.Line, msg: "XML: " + se.Msg}
			}
			return nil, fail("XML: " + err.Error())
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !seenRoot {
			if se.Name.Local != "nmaprun" {
				return nil, fail(fmt.Sprintf("root element <%s>; expected <nmaprun> (nmap XML)", se.Name.Local))
			}
			seenRoot = true
			for _, a := range se.Attr {
				if a.Name.Local == "start" {
					if n, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
						run.Start = time.Unix(n, 0).UTC()
					}
				}
			}
			continue
		}
		switch se.Name.Local {
		case "scaninfo":
			var si xmlScanInfo
			if err := dec.DecodeElement(&si, &se); err != nil {
				return nil, fail("scaninfo: " + xmlMessage(err))
			}
			p, err := ports.ParseProtocol(si.Protocol)
			if err != nil || p == ports.DDP {
				continue // sctp and others: not ours to judge
			}
			protos = append(protos, p)
			if si.Services != "" {
				specs = append(specs, prefixSpec(p, si.Services))
			}
		case "host":
			var h xmlHost
			if err := dec.DecodeElement(&h, &se); err != nil {
				return nil, fail("host: " + xmlMessage(err))
			}
			if err := run.addXMLHost(&h); err != nil {
				return nil, &posError{name: name, line: tagLine, col: tagCol, msg: "host: " + err.Error()}
			}
		case "finished":
			var f xmlFinished
			if err := dec.DecodeElement(&f, &se); err != nil {
				return nil, fail("finished: " + xmlMessage(err))
			}
			run.Interrupted = f.Exit == "error"
		}
	}
	if !seenRoot {
		return nil, &posError{name: name, msg: "no <nmaprun> element (not nmap XML)"}
	}
	if len(protos) > 0 {
		run.Protocols = protos
		if len(specs) == len(protos) {
			if set, err := ports.ParseSpec(strings.Join(specs, ","), ports.SpecOptions{}); err == nil {
				run.Scanned = set
			}
		}
	}
	return run, nil
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

func (r *Run) addXMLHost(x *xmlHost) error {
	var addr string
	for _, a := range x.Addresses {
		if a.AddrType == "ipv4" || a.AddrType == "ipv6" || a.AddrType == "" {
			addr = a.Addr
			break
		}
	}
	if addr == "" {
		return errors.New("no IPv4 or IPv6 address")
	}
	a, err := parseHost(addr)
	if err != nil {
		return err
	}
	hostname := ""
	for _, n := range x.Hostnames {
		if n.Type == "user" || hostname == "" {
			hostname = n.Name
		}
	}
	r.AddHost(result.Host{Addr: a, Hostname: hostname, Up: x.Status.State == "up", Reason: x.Status.Reason})
	for _, xp := range x.Ports {
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
		res := result.Port{Host: a, Hostname: hostname, Port: ports.Port{Number: uint16(n), Proto: proto}, State: st, Reason: xp.State.Reason}
		if xp.Service != nil && xp.Service.Name != "" {
			res.Service = &services.Entry{Name: xp.Service.Name, Port: res.Port}
		}
		r.AddPort(res)
	}
	return nil
}

// xmlMessage is an XML error without the line the position already gives.
func xmlMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return "XML: " + se.Msg
	}
	return err.Error()
}
