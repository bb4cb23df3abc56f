package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// XMLOutputVersion is the nmap XML output version the xml format follows.
const XMLOutputVersion = "1.05"

// ctime is the layout nmap uses for its human-readable times.
const ctime = "Mon Jan _2 15:04:05 2006"

// xmlWriter writes nmap's XML format. The root element names nmap as the
// scanner because nmap.dtd allows no other value and the tools that read
// the format (ndiff, importers) look for it; the version attribute, the
// comment at the top and the run's summary say which program really
// wrote the file.
type xmlWriter struct {
	w     io.Writer // under enc
	enc   *xml.Encoder
	opt   Options
	lang  string // of the descriptions in the port comments
	hosts inflight
	// discovery is set for a run that only discovered hosts, whose
	// hosts have no <ports>, as nmap -sn writes them.
	discovery bool
	// resumed is set for a document that Continue goes on with: the
	// encoder has not seen <nmaprun> opened. wrote says whether it has
	// written an element yet.
	resumed, wrote bool
}

func newXML(w io.Writer, opt Options) *xmlWriter {
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return &xmlWriter{w: w, enc: enc, opt: opt, hosts: make(inflight)}
}

func (x *xmlWriter) newline() error {
	return x.enc.EncodeToken(xml.CharData("\n"))
}

func (x *xmlWriter) element(v any) error {
	if x.resumed && !x.wrote {
		// The encoder puts no newline before its first element.
		x.wrote = true
		if _, err := io.WriteString(x.w, "\n"); err != nil {
			return err
		}
	}
	return x.enc.Encode(v)
}

// setup takes from info what the document needs, for begin and Continue.
func (x *xmlWriter) setup(info result.Info) {
	x.lang = x.opt.Lang
	if x.lang == "" {
		x.lang = info.Lang
	}
	x.discovery = info.ScanType == result.ScanDiscovery
}

func (x *xmlWriter) begin(info result.Info) error {
	x.setup(info)
	args := joinArgs(info.Args)
	head := []xml.Token{
		xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)},
		xml.CharData("\n"),
		xml.Directive("DOCTYPE nmaprun"),
		xml.CharData("\n"),
	}
	if x.opt.Stylesheet != "" {
		head = append(head, nmapxml.Stylesheet(x.opt.Stylesheet), xml.CharData("\n"))
	}
	head = append(head,
		xml.Comment(commentSafe(fmt.Sprintf(" portscan %s run started %s as: %s ", info.Version, timestr(info.Start), args))),
		xml.CharData("\n"))
	if c := scanComment(info); c != "" {
		head = append(head, xml.Comment(c), xml.CharData("\n"))
	}
	for _, tok := range head {
		if err := x.enc.EncodeToken(tok); err != nil {
			return err
		}
	}
	root, err := nmapxml.Run{Scanner: "nmap", Args: args, Start: unixstr(info.Start), StartStr: timestr(info.Start),
		Version: runVersion(info.Version), XMLOutputVersion: XMLOutputVersion}.StartTag()
	if err != nil {
		return err
	}
	if err := x.enc.EncodeToken(root); err != nil {
		return err
	}
	for _, si := range scanInfos(info) {
		if err := x.element(si); err != nil {
			return err
		}
	}
	for _, name := range []string{"verbose", "debugging"} {
		if err := x.enc.EncodeElement(nmapxml.Level{Level: "0"}, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
	}
	return x.enc.Flush()
}

// scanInfos returns a scaninfo per scanned protocol; a capture analysis
// has none, as nmap's scan types do not cover it.
func scanInfos(info result.Info) []nmapxml.ScanInfo {
	protos := info.Protocols
	if len(protos) == 0 {
		switch info.ScanType {
		case "connect", "syn":
			protos = []ports.Protocol{ports.TCP}
		case "udp":
			protos = []ports.Protocol{ports.UDP}
		}
	}
	if info.ScanType == "pcap" || info.ScanType == result.ScanDiscovery {
		return nil
	}
	var out []nmapxml.ScanInfo
	for _, p := range protos {
		n, spec := info.NumPorts, info.PortsSpec
		if info.Ports != nil {
			n, spec = info.Ports.Len(p), info.Ports.Spec(p)
		}
		si := nmapxml.ScanInfo{Protocol: p.String(), NumServices: strconv.Itoa(n), Services: spec}
		switch p {
		case ports.TCP:
			si.Type = "connect"
			if strings.HasPrefix(info.ScanType, "syn") {
				si.Type = "syn" // nmap -sS
			}
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
	return x.write(h, x.hosts.take(hostKey{h.Addr, h.Hostname}))
}

// write writes h's <host>; a host found down only with ShowDown, as
// nmap writes them only with -v (the runstats count them all).
func (x *xmlWriter) write(h result.Host, b *hostBuf) error {
	list := b.finish(&x.opt, h.Counts)
	if !h.Up && !x.opt.ShowDown && (!h.Incomplete || len(list) == 0) {
		return nil
	}
	addr := nmapxml.Address{Addr: h.Addr.String(), AddrType: "ipv6"}
	if h.Addr.Is4() {
		addr.AddrType = "ipv4"
	}
	e := nmapxml.Host{
		StartTime: unixstr(h.Start),
		EndTime:   unixstr(h.End),
		Status:    nmapxml.Status{State: h.Status(), Reason: h.Reason, ReasonTTL: strconv.Itoa(int(h.TTL))},
		Addresses: []nmapxml.Address{addr},
		Hostnames: &nmapxml.Hostnames{},
	}
	if mac := h.MACString(); mac != "" {
		e.Addresses = append(e.Addresses, nmapxml.Address{Addr: mac, AddrType: "mac", Vendor: validUTF8(h.Vendor)})
	}
	if h.Hostname != "" {
		e.Hostnames.Hostname = []nmapxml.Hostname{{Name: h.Hostname, Type: "user"}}
	}
	e.Comment = xmlHostNote(h)
	if (h.Up || len(list) > 0) && !x.discovery {
		e.Ports = xmlPorts(b, list, x.lang)
	}
	if h.Up && (h.RTT > 0 || h.Timeout > 0) {
		e.Times = &nmapxml.Times{SRTT: micros(h.RTT), RTTVar: micros(h.RTTVar), To: micros(h.Timeout)}
	}
	if err := x.element(e); err != nil {
		return err
	}
	return x.enc.Flush()
}

// micros writes d in whole microseconds, as nmap's <times> does.
func micros(d time.Duration) string {
	return strconv.FormatInt(d.Microseconds(), 10)
}

// runVersion is the root's version attribute: nmap's is its own version
// number, and nmap.xsl and ndiff print it after the word "Nmap" ("Nmap
// 7.93 was initiated", "Nmap 7.93 scan initiated"). Ours names portscan
// first, so they print "Nmap portscan 0.1.0" and claim no nmap version.
func runVersion(v string) string {
	return strings.TrimSpace("portscan " + v)
}

// xmlHostNote is the comment attribute of h's <host>: what nmap's format
// has no element for (nmap.dtd allows a comment on a host).
func xmlHostNote(h result.Host) string {
	var notes []string
	if h.Incomplete {
		notes = append(notes, "incomplete: the run ended before this host was done")
	}
	if h.Tarpit {
		notes = append(notes, fmt.Sprintf("tarpit: answered open on %d of the %s with a state",
			h.Counts[result.Open], text.Count(portsDecided(h), "port", "ports")))
	}
	if h.CutShort {
		notes = append(notes, fmt.Sprintf("cut short at %s, %s not scanned",
			text.Count(h.Counts[result.Open], "open port", "open ports"), text.Count(h.Unscanned, "port", "ports")))
	}
	return strings.Join(notes, "; ")
}

// xmlPorts lists a host's ports: the hidden ones counted by state and
// reason, then the shown ones, each with its catalog description in
// lang in a comment.
func xmlPorts(b *hostBuf, list []result.Port, lang string) *nmapxml.Ports {
	ps := &nmapxml.Ports{}
	for _, s := range b.hiddenStates() {
		t := b.hidden[s]
		ex := nmapxml.ExtraPorts{State: s.String(), Count: strconv.Itoa(t.count)}
		for _, rc := range t.sorted() {
			if rc.reason != "" {
				ex.Reasons = append(ex.Reasons, nmapxml.ExtraReasons{Reason: rc.reason, Count: strconv.Itoa(rc.count)})
			}
		}
		ps.Extra = append(ps.Extra, ex)
	}
	for _, r := range list {
		p := nmapxml.Port{
			Protocol: r.Port.Proto.String(),
			PortID:   strconv.Itoa(int(r.Port.Number)),
			State:    nmapxml.State{State: r.State.String(), Reason: r.Reason, ReasonTTL: strconv.Itoa(int(r.TTL))},
		}
		if r.ReasonIP.IsValid() {
			p.State.ReasonIP = r.ReasonIP.String()
		}
		if d := r.Detected; d != nil && d.Name != "" {
			p.Service = xmlService(d)
		}
		if r.Service != nil {
			if p.Service == nil {
				p.Service = &nmapxml.Service{Name: r.Service.Name, Method: "table", Conf: "3"}
			}
			p.Comment = describeComment(r.Service, lang)
		}
		ps.Port = append(ps.Port, p)
	}
	return ps
}

func (x *xmlWriter) end(s result.Summary) error {
	for _, b := range x.hosts.drain() {
		h := b.unfinished()
		count(&s, h)
		if err := x.write(h, b); err != nil {
			return err
		}
	}
	elapsed := max(s.End.Sub(s.Start).Seconds(), 0)
	word := "done"
	if s.Interrupted {
		word = "interrupted"
	}
	rs := nmapxml.RunStats{
		Finished: nmapxml.Finished{
			Time:    strconv.FormatInt(s.End.Unix(), 10),
			TimeStr: timestr(s.End),
			Elapsed: strconv.FormatFloat(elapsed, 'f', 2, 64),
			Summary: fmt.Sprintf("portscan %s at %s: %s (%d up) scanned in %.2f s",
				word, timestr(s.End), text.Count(s.Hosts(), "host", "hosts"), s.HostsUp, elapsed),
			Exit: "success",
		},
		Hosts: nmapxml.Hosts{Up: strconv.Itoa(s.HostsUp), Down: strconv.Itoa(s.HostsDown), Total: strconv.Itoa(s.Hosts())},
	}
	if s.End.IsZero() {
		rs.Finished.Time = "0"
	}
	if s.Interrupted {
		rs.Finished.Exit = "error"
		rs.Finished.ErrorMsg = "interrupted"
	}
	if err := x.element(rs); err != nil {
		return err
	}
	if x.resumed {
		if err := x.enc.Flush(); err != nil {
			return err
		}
		_, err := io.WriteString(x.w, "\n</nmaprun>\n")
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

// describeComment is the comment a port carries: the description of its
// catalog entry, and the catalog when it is not the built-in one. No
// attribute of nmap's <service> is meant for it: product, version and
// extrainfo are what version detection read from the service itself,
// servicefp its fingerprint, and nmap's own table lookups write only
// name, method and conf.
func describeComment(e *services.Entry, lang string) string {
	d := e.Describe(lang)
	if d == "" {
		return ""
	}
	from := "catalog"
	if e.Source != "" && e.Source != services.Builtin {
		from += " " + e.Source
	}
	return commentSafe(" " + from + ": " + d + " ")
}

// unixstr writes t in Unix seconds, or nothing when t is unknown.
func unixstr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10)
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

// xmlService is what service detection found, as nmap's -sV writes it:
// method "probed" and the match's confidence.
func xmlService(d *result.Service) *nmapxml.Service {
	s := &nmapxml.Service{Name: validUTF8(d.Name), Method: "probed", Conf: strconv.Itoa(d.Confidence), Product: validUTF8(d.Product),
		Version: validUTF8(d.Version), ExtraInfo: validUTF8(d.Info), Tunnel: d.Tunnel}
	for _, c := range d.CPE {
		s.CPE = append(s.CPE, validUTF8(c))
	}
	return s
}

// scanComment is the comment that ties an XML file to its scan's
// definition, which nmap's DTD has no attribute for: the fingerprint,
// the seed and the shard, as ScanCommentPrefix and key=value pairs; ""
// when the run has no fingerprint.
func scanComment(info result.Info) string {
	if info.Fingerprint == "" {
		return ""
	}
	c := fmt.Sprintf(" %s fingerprint=%s seed=%d", ScanCommentPrefix, info.Fingerprint, info.Seed)
	if info.Shard.Sharded() {
		c += " shard=" + info.Shard.String()
	}
	return commentSafe(c + " ")
}

// ScanCommentPrefix starts the comment of XML output that carries the
// scan's fingerprint, seed and shard (written "shard=I/N", counting
// from 1), for readers that merge or compare files.
const ScanCommentPrefix = "portscan-scan"
