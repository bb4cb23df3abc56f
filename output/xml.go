package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// XMLOutputVersion is the nmap XML output version the xml format follows.
const XMLOutputVersion = "1.05"

// ctime is the layout nmap uses for its human-readable times.
const ctime = "Mon Jan _2 15:04:05 2006"

// xmlWriter writes nmap's XML format. The root element names nmap as the
// scanner because nmap.dtd allows no other value and the tools that read
// the format (ndiff, importers) look for it; a comment at the top says
// which program really wrote the file.
type xmlWriter struct {
	enc   *xml.Encoder
	opt   Options
	hosts inflight
}

func newXML(w io.Writer, opt Options) *xmlWriter {
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return &xmlWriter{enc: enc, opt: opt, hosts: make(inflight)}
}

type xmlScanInfo struct {
	XMLName     xml.Name `xml:"scaninfo"`
	Type        string   `xml:"type,attr"`
	Protocol    string   `xml:"protocol,attr"`
	NumServices int      `xml:"numservices,attr"`
	Services    string   `xml:"services,attr"`
}

type xmlLevel struct {
	Level int `xml:"level,attr"`
}

type xmlHost struct {
	XMLName   xml.Name     `xml:"host"`
	StartTime int64        `xml:"starttime,attr,omitempty"`
	EndTime   int64        `xml:"endtime,attr,omitempty"`
	Comment   string       `xml:"comment,attr,omitempty"`
	Status    xmlStatus    `xml:"status"`
	Address   xmlAddress   `xml:"address"`
	Hostnames xmlHostnames `xml:"hostnames"`
	Ports     *xmlPorts    `xml:"ports"`
}

// xmlStatus is both a host's status and a port's state.
type xmlStatus struct {
	State     string `xml:"state,attr"`
	Reason    string `xml:"reason,attr"`
	ReasonTTL string `xml:"reason_ttl,attr"`
}

type xmlAddress struct {
	Addr     string `xml:"addr,attr"`
	AddrType string `xml:"addrtype,attr"`
}

type xmlHostnames struct {
	Hostname []xmlHostname `xml:"hostname"`
}

type xmlHostname struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

type xmlPorts struct {
	Extra []xmlExtraPorts `xml:"extraports"`
	Port  []xmlPort       `xml:"port"`
}

type xmlExtraPorts struct {
	State   string            `xml:"state,attr"`
	Count   int               `xml:"count,attr"`
	Reasons []xmlExtraReasons `xml:"extrareasons"`
}

type xmlExtraReasons struct {
	Reason string `xml:"reason,attr"`
	Count  int    `xml:"count,attr"`
}

type xmlPort struct {
	Protocol string      `xml:"protocol,attr"`
	PortID   uint16      `xml:"portid,attr"`
	State    xmlStatus   `xml:"state"`
	Service  *xmlService `xml:"service"`
}

type xmlService struct {
	Name   string `xml:"name,attr"`
	Method string `xml:"method,attr"`
	Conf   int    `xml:"conf,attr"`
}

type xmlRunStats struct {
	XMLName  xml.Name    `xml:"runstats"`
	Finished xmlFinished `xml:"finished"`
	Hosts    xmlHosts    `xml:"hosts"`
}

type xmlFinished struct {
	Time     int64  `xml:"time,attr"`
	TimeStr  string `xml:"timestr,attr"`
	Elapsed  string `xml:"elapsed,attr"`
	Summary  string `xml:"summary,attr"`
	Exit     string `xml:"exit,attr"`
	ErrorMsg string `xml:"errormsg,attr,omitempty"`
}

type xmlHosts struct {
	Up    int `xml:"up,attr"`
	Down  int `xml:"down,attr"`
	Total int `xml:"total,attr"`
}

func (x *xmlWriter) newline() error {
	return x.enc.EncodeToken(xml.CharData("\n"))
}

func (x *xmlWriter) element(v any) error {
	return x.enc.Encode(v)
}

func (x *xmlWriter) begin(info result.Info) error {
	args := joinArgs(info.Args)
	head := []xml.Token{
		xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)},
		xml.CharData("\n"),
		xml.Directive("DOCTYPE nmaprun"),
		xml.CharData("\n"),
		xml.Comment(commentSafe(fmt.Sprintf(" portscan %s run started %s as: %s ", info.Version, timestr(info.Start), args))),
		xml.CharData("\n"),
	}
	for _, tok := range head {
		if err := x.enc.EncodeToken(tok); err != nil {
			return err
		}
	}
	root := xml.StartElement{Name: xml.Name{Local: "nmaprun"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "scanner"}, Value: "nmap"},
		{Name: xml.Name{Local: "args"}, Value: args},
	}}
	if !info.Start.IsZero() {
		root.Attr = append(root.Attr,
			xml.Attr{Name: xml.Name{Local: "start"}, Value: strconv.FormatInt(info.Start.Unix(), 10)},
			xml.Attr{Name: xml.Name{Local: "startstr"}, Value: timestr(info.Start)})
	}
	root.Attr = append(root.Attr,
		xml.Attr{Name: xml.Name{Local: "version"}, Value: info.Version},
		xml.Attr{Name: xml.Name{Local: "xmloutputversion"}, Value: XMLOutputVersion})
	if err := x.enc.EncodeToken(root); err != nil {
		return err
	}
	for _, si := range scanInfos(info) {
		if err := x.element(si); err != nil {
			return err
		}
	}
	for _, name := range []string{"verbose", "debugging"} {
		if err := x.enc.EncodeElement(xmlLevel{}, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
	}
	return x.enc.Flush()
}

// scanInfos returns a scaninfo per scanned protocol; a capture analysis
// has none, as nmap's scan types do not cover it.
func scanInfos(info result.Info) []xmlScanInfo {
	protos := info.Protocols
	if len(protos) == 0 {
		switch info.ScanType {
		case "connect":
			protos = []ports.Protocol{ports.TCP}
		case "udp":
			protos = []ports.Protocol{ports.UDP}
		}
	}
	if info.ScanType == "pcap" {
		return nil
	}
	var out []xmlScanInfo
	for _, p := range protos {
		si := xmlScanInfo{Protocol: p.String(), NumServices: info.NumPorts, Services: info.PortsSpec}
		if info.Ports != nil {
			si.NumServices, si.Services = info.Ports.Len(p), info.Ports.Spec(p)
		}
		switch p {
		case ports.TCP:
			si.Type = "connect"
		case ports.UDP:
			si.Type = "udp"
		default:
			continue
		}
		out = append(out, si)
	}
	return out
}

func (x *xmlWriter) port(r result.Port) error {
	x.hosts.get(hostKey{r.Host, r.Hostname}).add(r, x.opt.shows(r.State))
	return nil
}

func (x *xmlWriter) host(h result.Host) error {
	return x.write(h, x.hosts.take(hostKey{h.Addr, h.Hostname}), false)
}

func (x *xmlWriter) write(h result.Host, b *hostBuf, incomplete bool) error {
	list := b.finish(x.opt.collapse(), h.Counts)
	if !h.Up && !x.opt.ShowDown && (!incomplete || len(list) == 0) {
		return nil
	}
	e := xmlHost{
		StartTime: unix(h.Start),
		EndTime:   unix(h.End),
		Status:    xmlStatus{State: "down", Reason: h.Reason, ReasonTTL: "0"},
		Address:   xmlAddress{Addr: h.Addr.String(), AddrType: "ipv6"},
	}
	if h.Addr.Is4() {
		e.Address.AddrType = "ipv4"
	}
	if h.Hostname != "" {
		e.Hostnames.Hostname = []xmlHostname{{Name: h.Hostname, Type: "user"}}
	}
	switch {
	case h.Up:
		e.Status.State = "up"
	case incomplete:
		e.Status.State = "unknown"
	}
	if incomplete {
		e.Comment = "incomplete: the run ended before this host was done"
	}
	if h.Up || len(list) > 0 {
		e.Ports = &xmlPorts{}
		for _, s := range b.hiddenStates() {
			t := b.hidden[s]
			ex := xmlExtraPorts{State: s.String(), Count: t.count}
			for _, rc := range t.sorted() {
				if rc.reason != "" {
					ex.Reasons = append(ex.Reasons, xmlExtraReasons{Reason: rc.reason, Count: rc.count})
				}
			}
			e.Ports.Extra = append(e.Ports.Extra, ex)
		}
		for _, r := range list {
			p := xmlPort{
				Protocol: r.Port.Proto.String(),
				PortID:   r.Port.Number,
				State:    xmlStatus{State: r.State.String(), Reason: r.Reason, ReasonTTL: "0"},
			}
			if r.Service != nil {
				p.Service = &xmlService{Name: r.Service.Name, Method: "table", Conf: 3}
			}
			e.Ports.Port = append(e.Ports.Port, p)
		}
	}
	if err := x.element(e); err != nil {
		return err
	}
	return x.enc.Flush()
}

func (x *xmlWriter) end(s result.Summary) error {
	for _, b := range x.hosts.drain() {
		if err := x.write(b.unfinished(), b, true); err != nil {
			return err
		}
	}
	elapsed := max(s.End.Sub(s.Start).Seconds(), 0)
	word := "done"
	if s.Interrupted {
		word = "interrupted"
	}
	rs := xmlRunStats{
		Finished: xmlFinished{
			Time:    s.End.Unix(),
			TimeStr: timestr(s.End),
			Elapsed: strconv.FormatFloat(elapsed, 'f', 2, 64),
			Summary: fmt.Sprintf("portscan %s at %s: %s (%d up) scanned in %.2f s",
				word, timestr(s.End), plural(s.HostsUp+s.HostsDown, "host"), s.HostsUp, elapsed),
			Exit: "success",
		},
		Hosts: xmlHosts{Up: s.HostsUp, Down: s.HostsDown, Total: s.HostsUp + s.HostsDown},
	}
	if s.End.IsZero() {
		rs.Finished.Time = 0
	}
	if s.Interrupted {
		rs.Finished.Exit = "error"
		rs.Finished.ErrorMsg = "interrupted"
	}
	if err := x.element(rs); err != nil {
		return err
	}
	if err := x.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "nmaprun"}}); err != nil {
		return err
	}
	if err := x.newline(); err != nil {
		return err
	}
	return x.enc.Flush()
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timestr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(ctime)
}

// joinArgs writes the command line, quoting the words a shell would split.
func joinArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// commentSafe makes s legal inside an XML comment, which may not hold
// "--" nor end in "-", nor any character XML forbids.
func commentSafe(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		switch {
		case r == '-' && prev == '-':
			b.WriteString(" -")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(' ')
		case r < 0x20 || r == 0xfffe || r == 0xffff || (r >= 0xd800 && r < 0xe000):
			b.WriteRune('\ufffd')
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	out := b.String()
	if strings.HasSuffix(out, "-") {
		out += " "
	}
	return out
}
