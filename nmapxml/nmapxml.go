// Package nmapxml is the one Go model of nmap's XML output format, the
// document nmap.dtd describes (xmloutputversion 1.05): the output
// package writes portscan's XML with it, and the baseline package reads
// portscan's and nmap's XML with it.
//
// A run streams: writers encode the root's start tag from [Run.StartTag],
// then each [ScanInfo], [Level], [Host] and finally [RunStats] as an
// element of its own, so no more than one host is ever held; readers
// walk the tokens and decode those elements one by one the same way
// ([Run.DecodeStartTag] reads the root's attributes).
//
// Attribute values are kept as the text of the file, numbers included:
// a reader judges only the values it uses, with errors of its own
// ([Status.TTL] reads reason_ttl and [Status.IP] reason_ip for both
// readers), and a host read and written again keeps what nmap wrote.
// Optional attributes and elements are omitted when empty, as nmap
// omits them. Elements the
// model does not cover (os, trace, times' siblings, scripts' tables,
// taskbegin and the like) are skipped when decoding.
package nmapxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// Run is the root element, <nmaprun>. Its child slices serve a whole
// document held in memory; a streaming writer or reader leaves them
// empty and handles the children one at a time.
type Run struct {
	XMLName          xml.Name   `xml:"nmaprun"`
	Scanner          string     `xml:"scanner,attr"` // nmap.dtd allows only "nmap"
	Args             string     `xml:"args,attr"`
	Start            string     `xml:"start,attr,omitempty"` // Unix seconds
	StartStr         string     `xml:"startstr,attr,omitempty"`
	Version          string     `xml:"version,attr"`
	ProfileName      string     `xml:"profile_name,attr,omitempty"`
	XMLOutputVersion string     `xml:"xmloutputversion,attr"`
	ScanInfo         []ScanInfo `xml:"scaninfo"`
	Verbose          *Level     `xml:"verbose"`
	Debugging        *Level     `xml:"debugging"`
	Hosts            []Host     `xml:"host"`
	RunStats         *RunStats  `xml:"runstats"`
}

// ScanInfo is a <scaninfo>: one scan type over one protocol's ports.
type ScanInfo struct {
	XMLName     xml.Name `xml:"scaninfo"`
	Type        string   `xml:"type,attr"` // "connect", "udp", "syn", ...
	ScanFlags   string   `xml:"scanflags,attr,omitempty"`
	Protocol    string   `xml:"protocol,attr"` // "tcp", "udp", "sctp", "ip"
	NumServices string   `xml:"numservices,attr"`
	Services    string   `xml:"services,attr"` // "1-1024,3306"
}

// Level is <verbose> or <debugging>: the level the run was given.
type Level struct {
	Level string `xml:"level,attr"`
}

// Host is a <host>: one host's status, addresses, names and ports.
type Host struct {
	XMLName   xml.Name   `xml:"host"`
	StartTime string     `xml:"starttime,attr,omitempty"` // Unix seconds
	EndTime   string     `xml:"endtime,attr,omitempty"`
	TimedOut  string     `xml:"timedout,attr,omitempty"` // "true" or "false"
	Comment   string     `xml:"comment,attr,omitempty"`
	Status    Status     `xml:"status"`
	Addresses []Address  `xml:"address"`
	Hostnames *Hostnames `xml:"hostnames"`
	Ports     *Ports     `xml:"ports"`
	Times     *Times     `xml:"times"`
}

// IPAddr returns the host's first IPv4 or IPv6 address (an <address>
// with no addrtype counts as one, as nmap's DTD defaults it to ipv4),
// not its MAC address; "" if it has none.
func (h *Host) IPAddr() string {
	for _, a := range h.Addresses {
		if a.AddrType == "ipv4" || a.AddrType == "ipv6" || a.AddrType == "" {
			return a.Addr
		}
	}
	return ""
}

// Status is a host's <status> and, as [State], a port's <state>: what
// is known and why.
type Status struct {
	State     string `xml:"state,attr"` // "up", "down", "unknown", "skipped"; a port's "open", "closed", ...
	Reason    string `xml:"reason,attr"`
	ReasonTTL string `xml:"reason_ttl,attr"`
	ReasonIP  string `xml:"reason_ip,attr,omitempty"` // ports only
}

// TTL reads ReasonTTL, the IP TTL of the reply that gave Reason: 0
// when it is "0" or missing (nmap's unknown), an error when it is not
// a number from 0 to 255.
func (s Status) TTL() (uint8, error) {
	if s.ReasonTTL == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s.ReasonTTL, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("reason_ttl %q is not a TTL (0 to 255)", s.ReasonTTL)
	}
	return uint8(n), nil
}

// IP reads ReasonIP, who sent the ICMP error that gave Reason when it
// was not the target: the zero Addr when it is missing, an error when it
// is not an IP address. See [ParseReasonIP].
func (s Status) IP() (netip.Addr, error) { return ParseReasonIP(s.ReasonIP) }

// ParseReasonIP reads a reason_ip as nmap and portscan write it, in XML
// and in portscan's jsonl and json: "" is the zero Addr (the target
// answered, or nobody did); anything else must be an IP address, and is
// kept unmapped.
func ParseReasonIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("reason_ip %q is not an IP address", s)
	}
	return a.Unmap(), nil
}

// State is a port's <state>; it has the attributes of [Status].
type State = Status

// Address is an <address>: an IP address, or a MAC address with the
// vendor its prefix names.
type Address struct {
	Addr     string `xml:"addr,attr"`
	AddrType string `xml:"addrtype,attr"` // "ipv4", "ipv6", "mac"
	Vendor   string `xml:"vendor,attr,omitempty"`
}

// Hostnames is <hostnames>, the names known for a host.
type Hostnames struct {
	Hostname []Hostname `xml:"hostname"`
}

// Hostname is a <hostname>: one name, as the user gave it ("user") or
// as reverse DNS found it ("PTR").
type Hostname struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

// Ports is <ports>: the ports not listed, counted by state, then the
// ports listed one by one.
type Ports struct {
	Extra []ExtraPorts `xml:"extraports"`
	Port  []Port       `xml:"port"`
}

// ExtraPorts is an <extraports>: how many ports of a state are not listed.
type ExtraPorts struct {
	State   string         `xml:"state,attr"`
	Count   string         `xml:"count,attr"`
	Reasons []ExtraReasons `xml:"extrareasons"`
}

// ExtraReasons is an <extrareasons>: how many of the unlisted ports are
// in their state for one reason, and optionally which ones.
type ExtraReasons struct {
	Reason string `xml:"reason,attr"`
	Count  string `xml:"count,attr"`
	Proto  string `xml:"proto,attr,omitempty"`
	Ports  string `xml:"ports,attr,omitempty"` // "1-21,23-79"
}

// Port is a <port>: one listed port's state and service.
type Port struct {
	Protocol string   `xml:"protocol,attr"`
	PortID   string   `xml:"portid,attr"`
	State    State    `xml:"state"`
	Owner    *Owner   `xml:"owner"`
	Service  *Service `xml:"service"`
	// Comment is an XML comment inside the port. nmap writes none;
	// portscan writes there the catalog's description of the service,
	// for which <service> has no attribute (its product, version and
	// extrainfo are what probing found). Readers ignore it.
	Comment string   `xml:",comment"`
	Scripts []Script `xml:"script"`
}

// Owner is an <owner>: the user that owns the port's service (ident).
type Owner struct {
	Name string `xml:"name,attr"`
}

// Service is a <service>: the port's service, named from a table
// (method "table", conf "3") or found by probing ("probed") with the
// product and version that matched and their CPE names.
type Service struct {
	Name       string   `xml:"name,attr"`
	Method     string   `xml:"method,attr"`
	Conf       string   `xml:"conf,attr"` // 0 to 10
	Product    string   `xml:"product,attr,omitempty"`
	Version    string   `xml:"version,attr,omitempty"`
	ExtraInfo  string   `xml:"extrainfo,attr,omitempty"`
	Tunnel     string   `xml:"tunnel,attr,omitempty"` // "ssl"
	Proto      string   `xml:"proto,attr,omitempty"`  // "rpc"
	RPCNum     string   `xml:"rpcnum,attr,omitempty"`
	LowVer     string   `xml:"lowver,attr,omitempty"`
	HighVer    string   `xml:"highver,attr,omitempty"`
	Hostname   string   `xml:"hostname,attr,omitempty"`
	OSType     string   `xml:"ostype,attr,omitempty"`
	DeviceType string   `xml:"devicetype,attr,omitempty"`
	ServiceFP  string   `xml:"servicefp,attr,omitempty"`
	CPE        []string `xml:"cpe"`
}

// Script is a <script>: one script's output for a port. Its structured
// <table> and <elem> children are not modelled.
type Script struct {
	ID     string `xml:"id,attr"`
	Output string `xml:"output,attr"`
}

// Times is <times>: the host's round-trip estimates, in microseconds.
type Times struct {
	SRTT   string `xml:"srtt,attr"`
	RTTVar string `xml:"rttvar,attr"`
	To     string `xml:"to,attr"`
}

// RunStats is <runstats>: how the run ended and how many hosts it found.
type RunStats struct {
	XMLName  xml.Name `xml:"runstats"`
	Finished Finished `xml:"finished"`
	Hosts    Hosts    `xml:"hosts"`
}

// Finished is <finished>: when and how the run ended.
type Finished struct {
	Time     string `xml:"time,attr"` // Unix seconds
	TimeStr  string `xml:"timestr,attr,omitempty"`
	Elapsed  string `xml:"elapsed,attr"` // seconds, "2.50"
	Summary  string `xml:"summary,attr,omitempty"`
	Exit     string `xml:"exit,attr,omitempty"` // "success" or "error"
	ErrorMsg string `xml:"errormsg,attr,omitempty"`
}

// Hosts is <hosts>: the hosts found up and down.
type Hosts struct {
	Up    string `xml:"up,attr"`
	Down  string `xml:"down,attr"`
	Total string `xml:"total,attr"`
}

// WebStylesheet is the stylesheet nmap's --webxml names: nmap.xsl as
// nmap.org serves it, for files opened where nmap is not installed.
const WebStylesheet = "https://nmap.org/svn/docs/nmap.xsl"

// Stylesheet returns the xml-stylesheet processing instruction that
// nmap writes after the DOCTYPE, naming href (a URL, or a path relative
// to the file) as the XSL stylesheet a browser renders the document
// with. Quotes, ampersands and angle brackets in href are written as
// character references, so it can neither end the value nor the
// instruction.
func Stylesheet(href string) xml.ProcInst {
	var b bytes.Buffer
	b.WriteString(`href="`)
	xml.EscapeText(&b, []byte(href))
	b.WriteString(`" type="text/xsl"`)
	return xml.ProcInst{Target: "xml-stylesheet", Inst: b.Bytes()}
}

// StartTag returns the root's start tag, its attributes those of r, for a
// writer that streams the children after it. The attributes come from
// r's own encoding, so they follow the same tags as every other element.
func (r Run) StartTag() (xml.StartElement, error) {
	head := Run{Scanner: r.Scanner, Args: r.Args, Start: r.Start, StartStr: r.StartStr,
		Version: r.Version, ProfileName: r.ProfileName, XMLOutputVersion: r.XMLOutputVersion}
	b, err := xml.Marshal(head)
	if err != nil {
		return xml.StartElement{}, err
	}
	tok, err := xml.NewDecoder(bytes.NewReader(b)).Token()
	if err != nil {
		return xml.StartElement{}, err
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return xml.StartElement{}, errors.New("nmapxml: no start tag in the encoded run")
	}
	return se, nil
}

// DecodeStartTag sets r's attributes from the root's start tag se, as a
// streaming reader meets it; the children are left to the reader.
func (r *Run) DecodeStartTag(se xml.StartElement) error {
	return xml.NewTokenDecoder(&startOnly{start: se}).DecodeElement(r, nil)
}

// startOnly yields a start tag and its end tag: the root without children.
type startOnly struct {
	start xml.StartElement
	n     int
}

func (s *startOnly) Token() (xml.Token, error) {
	s.n++
	switch s.n {
	case 1:
		return s.start, nil
	case 2:
		return s.start.End(), nil
	}
	return nil, io.EOF
}

// AfterRoot checks a token that comes after the root element has
// closed, where only white space, comments and processing instructions
// may stand. For one that may not, it says why, and where it starts:
// line, col and off are the token's, moved on past any white space
// before the offending text.
func AfterRoot(tok xml.Token, line, col int, off int64) (msg string, l, c int, o int64) {
	switch t := tok.(type) {
	case xml.StartElement:
		return fmt.Sprintf("a second root element <%s>; an XML file has one", t.Name.Local), line, col, off
	case xml.CharData:
		i := bytes.IndexFunc(t, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' })
		if i < 0 {
			return "", line, col, off
		}
		for _, b := range t[:i] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return "text after the root element", line, col, off + int64(i)
	}
	return "", line, col, off
}
