package output

import (
	"bufio"
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/internal/htmlpage"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

//go:embed html.tmpl
var htmlTemplates string

// htmlTmpl is parsed when a page is first written, not at start: a run
// that writes none pays nothing for it.
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("html").Funcs(htmlpage.Funcs()).Parse(htmlTemplates))
})

// The bounds of what the html writer keeps for its charts, whatever the
// size of the run: a count for each of at most htmlMaxServices service
// names (the rest count as others), and the listed open ports of the
// first htmlHeatHosts hosts that have any, at most htmlHeatPorts of
// them each.
const (
	htmlMaxServices = 1024
	htmlChartBars   = 20
	htmlHeatHosts   = 128
	htmlHeatColumns = 48
	htmlHeatPorts   = 4096
)

// htmlWriter writes one self-contained HTML page: the head at Begin,
// each host's rows at its Host call, in target order as text does, and
// at End the summary, the chart of open services and the heat map,
// which the page's style sheet shows first.
type htmlWriter struct {
	w         *bufio.Writer
	opt       Options
	lang      string
	info      result.Info
	pcap      bool
	discovery bool
	cols      []htmlCol
	hosts     inflight

	order targetOrder[htmlBlock] // finished hosts' blocks, for target order
	// held are the blocks an earlier run held back (Continue), by
	// Index: each is written before the first host after it.
	held []htmlBlock

	listed    int // host groups written
	rows      int
	openBy    map[ports.Protocol]int
	services  map[string]int // open ports listed, by service name
	others    int            // open ports of names past htmlMaxServices
	portHosts map[ports.Port]int
	heat      []heatHost
	heatMore  int // hosts with open ports past htmlHeatHosts
	down      tally
	tarpits   int
	first     time.Time // the evidence's first and last packets
	last      time.Time
}

// htmlBlock is a host's rows, as written, held back until the hosts
// before it in the targets are written.
type htmlBlock struct {
	index uint64 // result.Host.Index
	text  []byte
}

// heatHost is a row of the heat map: a host and its listed ports that
// may be open.
type heatHost struct {
	index uint64 // result.Host.Index: the map is drawn in target order
	name  string
	cells map[ports.Port]result.State
	more  int // such ports past htmlHeatPorts
}

func newHTML(w io.Writer, opt Options) *htmlWriter {
	return &htmlWriter{w: bufio.NewWriter(w), opt: opt, hosts: make(inflight), order: newTargetOrder[htmlBlock](),
		openBy: make(map[ports.Protocol]int), services: make(map[string]int), portHosts: make(map[ports.Port]int)}
}

// htmlCol is a column of the hosts' tables, and how the script sorts it.
// Class sets its width: the tables' layout is fixed, so that a browser
// lays out their rows without measuring every cell, and the tables of
// all hosts line up.
type htmlCol struct {
	Name, Sort, Class string
	Opt               bool // the script hides it when every row leaves it empty
}

var (
	// The optional columns come last, so that a row without what they
	// hold leaves their cells out: a page of ten thousand rows parses
	// the faster.
	// The host is in each host's row group, and in a column of its own
	// only once the script sorts the rows across hosts.
	scanCols = []htmlCol{{"Port", "port", "c-port", false}, {"State", "text", "c-state", false}, {"Service", "text", "c-svc", false},
		{"Reason", "text", "c-reason", false}, {"Version", "text", "c-ver", true}, {"Certificate expiry", "key", "c-cert", true}}
	pcapCols = []htmlCol{{"Port", "port", "c-port", false}, {"State", "text", "c-state", false}, {"Service", "text", "c-svc", false},
		{"Reason", "text", "c-reason", false}, {"Flows", "num", "c-num", false}, {"Clients", "num", "c-num", false},
		{"Packets to / from server", "num", "c-pair", false}, {"Bytes to / from server", "num", "c-pair", false}, {"First seen", "key", "c-time", false}, {"Last seen", "key", "c-time", false},
		{"Version", "text", "c-ver", true}}
)

// setup takes from info what the page needs, for begin and Continue.
func (h *htmlWriter) setup(info result.Info) {
	h.info = info
	h.lang = cmp.Or(h.opt.Lang, info.Lang, "en")
	h.pcap = info.ScanType == "pcap"
	h.discovery = info.ScanType == result.ScanDiscovery
	h.cols = scanCols
	if h.pcap {
		h.cols = pcapCols
	}
}

func (h *htmlWriter) begin(info result.Info) error {
	h.setup(info)
	head := htmlpage.Head{Title: htmlpage.Clean(cmp.Or(h.opt.Title, "portscan report")), Kind: "scan", Nav: []htmlpage.Link{
		{ID: "summary", Name: "Summary"}, {ID: "services", Name: "Open services"}, {ID: "heatmap", Name: "Heat map"}, {ID: "ports", Name: "Hosts and ports"}}}
	what := "scan"
	switch {
	case h.pcap:
		what, head.Kind = "capture analysis", "pcap"
	case h.discovery:
		what = "host discovery"
	case info.ScanType != "":
		what = info.ScanType + " scan"
		if info.Ports != nil && len(info.Protocols) > 0 {
			var parts []string
			for _, p := range info.Protocols {
				parts = append(parts, text.Count(info.Ports.Len(p), p.String()+" port", p.String()+" ports"))
			}
			what += " of " + strings.Join(parts, " and ")
		}
	}
	head.Facts = append(head.Facts, htmlpage.Fact{Name: "Run", Value: what})
	if len(info.Args) > 0 {
		head.Facts = append(head.Facts, htmlpage.Fact{Name: "Command", Value: htmlpage.Clean(strings.Join(info.Args, " ")), Code: true})
	}
	if !info.Start.IsZero() {
		head.Facts = append(head.Facts, htmlpage.Fact{Name: "Started", Time: info.Start})
	}
	if info.Shard.Sharded() {
		head.Facts = append(head.Facts, htmlpage.Fact{Name: "Shard", Value: info.Shard.String()})
	}
	if err := htmlpage.WriteHead(h.w, head); err != nil {
		return err
	}
	caption := "A table for each host, of the ports it lists; sorting by a column lists the ports of every host together, in one table."
	if err := htmlTmpl().ExecuteTemplate(h.w, "table", map[string]any{"Cols": h.cols, "Caption": caption}); err != nil {
		return err
	}
	return h.w.Flush()
}

func (h *htmlWriter) port(r result.Port) error {
	if r.State == result.Open {
		h.openBy[r.Port.Proto]++
	}
	h.hosts.get(hostKey{r.Host, r.Hostname}).add(r, h.opt.shows(r.State))
	return nil
}

func (h *htmlWriter) host(hs result.Host) error {
	b := h.hosts.take(hostKey{hs.Addr, hs.Hostname})
	blk, err := h.render(hs, b)
	if err != nil {
		return err
	}
	return h.order.put(hs.Seq, blk, h.emit)
}

// render returns a host's rows as the page will hold them, and counts
// them for the summary, the chart and the heat map.
func (h *htmlWriter) render(hs result.Host, b *hostBuf) (htmlBlock, error) {
	var buf bytes.Buffer
	err := h.report(&buf, hs, b)
	return htmlBlock{index: hs.Index, text: buf.Bytes()}, err
}

// emit writes blk, after the blocks held back from an earlier run that
// come before it in the targets.
func (h *htmlWriter) emit(blk htmlBlock) error {
	if blk.index > 0 {
		for len(h.held) > 0 && h.held[0].index < blk.index {
			if err := h.write(h.held[0]); err != nil {
				return err
			}
			h.held = h.held[1:]
		}
	}
	return h.write(blk)
}

func (h *htmlWriter) write(blk htmlBlock) error {
	h.w.Write(blk.text)
	return h.w.Flush()
}

// htmlHost is a host's table: the columns' header (when it lists a
// port) and a row group headed by the host. Each host is a table of its
// own so that the browser lays out only the hosts in view
// (content-visibility), not all the rows of a large run as it opens.
type htmlHost struct {
	Cols                []htmlCol
	Span                int
	Host                string
	Status, StatusClass string
	Details             string
	Warnings            []string
	Rows                []htmlRow
}

// htmlRow is one port's row; every string is cleaned.
type htmlRow struct {
	PCAP               bool
	Lang               string
	Host               string
	Port               string
	State              string
	StateClass         string
	Svc, Catalog       string
	Differs            bool
	Desc               string
	Version            string
	VersionTitle       string
	CertKey, CertTitle string
	CertDate           string
	CertClass          string
	CertNote           string
	Reason             string
	TTL                uint8  // of the reply that gave Reason; 0, unknown, is not shown
	From               string // who sent the ICMP error of Reason, when not the target
	Ev                 *htmlEvidence
}

type htmlEvidence struct {
	Flows, Clients        int
	Packets, Bytes        uint64
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	First, Last           time.Time
	FirstKey, LastKey     string
}

// stateClass names a state in class names: "of" for open|filtered.
func stateClass(s string) string {
	if s == result.OpenFiltered.String() {
		return "of"
	}
	return s
}

// report writes a host's rows to out (nothing for a host down and not
// listed, which is counted) and counts them.
func (h *htmlWriter) report(out io.Writer, hs result.Host, b *hostBuf) error {
	list := b.finish(&h.opt, hs.Counts)
	if hs.Tarpit {
		h.tarpits++
	}
	if !hs.Up && !h.opt.ShowDown && (!hs.Incomplete || len(list) == 0) {
		if !hs.Incomplete {
			h.down.add(hs.Reason, 1)
		}
		return nil
	}
	name := hostName(hs.Addr, hs.Hostname)
	g := htmlHost{Cols: h.cols, Span: len(h.cols), Host: name, Status: hs.Status(), StatusClass: hs.Status()}
	var details []string
	switch {
	case hs.Incomplete:
		g.Status, g.StatusClass = "incomplete", "unknown"
		if hs.Up {
			details = append(details, "up when the run ended")
		}
	case !hs.Up:
		details = append(details, downWhy(hs))
	default:
		// The page shows a known TTL whatever --reason says, as the
		// rows do: it has room, and the TTL tells who answered.
		if hs.Reason != "" && (h.opt.Reason || hs.TTL != 0) {
			details = append(details, "received "+reasonTTL(hs.Reason, netip.Addr{}, hs.TTL)) // no sender on the host's line, as nmap
		}
		if l := hostLatency(hs, b); l > 0 {
			details = append(details, seconds2(l)+" s latency")
		}
	}
	if mac := hs.MACString(); mac != "" {
		details = append(details, "MAC Address: "+mac+" ("+htmlpage.Clean(cmp.Or(hs.Vendor, "Unknown"))+")")
	}
	if states := b.hiddenStates(); len(states) > 0 {
		var parts []string
		for _, s := range states {
			tl := b.hidden[s]
			part := text.Count(tl.count, s.String()+" port", s.String()+" ports") + reasonNote(tl)
			if tl.folded {
				part += ", folded: --show " + s.String() + " lists them"
			}
			parts = append(parts, part)
		}
		details = append(details, "not shown: "+strings.Join(parts, ", "))
	}
	g.Details = strings.Join(details, " · ")
	if hs.Tarpit {
		g.Warnings = append(g.Warnings, fmt.Sprintf("answered open on %d of the %s with a state: a tarpit, or a firewall redirecting every port to one listener? Its open ports say nothing of its services.",
			hs.Counts[result.Open], text.Count(portsDecided(hs), "port", "ports")))
	}
	if hs.CutShort {
		g.Warnings = append(g.Warnings, fmt.Sprintf("probing stopped at %s (the cap on open ports per host); %s not scanned.",
			text.Count(hs.Counts[result.Open], "open port", "open ports"), text.Count(hs.Unscanned, "port", "ports")))
	}
	var heat *heatHost
	heatStarted := false
	for _, r := range list {
		row := h.row(r, name)
		g.Rows = append(g.Rows, row)
		h.count(r, row.Svc)
		if r.State != result.Open && r.State != result.OpenFiltered {
			continue
		}
		h.portHosts[r.Port]++
		if !heatStarted {
			heat, heatStarted = h.heatRow(name, hs.Index), true
		}
		if heat != nil {
			if len(heat.cells) < htmlHeatPorts {
				heat.cells[r.Port] = r.State
			} else {
				heat.more++
			}
		}
	}
	h.listed++
	h.rows += len(g.Rows)
	return htmlTmpl().ExecuteTemplate(out, "host", g)
}

// heatRow starts the heat map's row of a host with open ports, or
// returns nil when the map has its rows already.
func (h *htmlWriter) heatRow(name string, index uint64) *heatHost {
	if len(h.heat) >= htmlHeatHosts {
		h.heatMore++
		return nil
	}
	h.heat = append(h.heat, heatHost{index: index, name: name, cells: make(map[ports.Port]result.State)})
	return &h.heat[len(h.heat)-1]
}

// count adds a listed port to the counts of the chart and the evidence.
func (h *htmlWriter) count(r result.Port, svc string) {
	if e := r.Evidence; e != nil {
		if !e.FirstSeen.IsZero() && (h.first.IsZero() || e.FirstSeen.Before(h.first)) {
			h.first = e.FirstSeen
		}
		if e.LastSeen.After(h.last) {
			h.last = e.LastSeen
		}
	}
	if r.State != result.Open {
		return
	}
	if _, ok := h.services[svc]; ok || len(h.services) < htmlMaxServices {
		h.services[svc]++
	} else {
		h.others++
	}
}

// hostName is a host as the page names it: "name (address)" or the
// address.
func hostName(a netip.Addr, name string) string {
	if name != "" {
		return htmlpage.Clean(name) + " (" + a.String() + ")"
	}
	return a.String()
}

func (h *htmlWriter) row(r result.Port, host string) htmlRow {
	row := htmlRow{PCAP: h.pcap, Host: host, Port: r.Port.String(), State: r.State.String(), Reason: htmlpage.Clean(r.Reason), TTL: r.TTL}
	if r.ReasonIP.IsValid() {
		row.From = r.ReasonIP.String()
	}
	row.StateClass = stateClass(row.State)
	row.Svc = "unknown"
	if e := r.Service; e != nil {
		row.Svc = htmlpage.Clean(e.Name)
		row.Desc = htmlpage.Clean(e.Describe(h.lang))
		// The page is in English; a description in Chinese says so.
		if h.lang == "zh" && e.Description != "" || h.lang != "zh" && e.DescriptionEn == "" && e.Description != "" {
			row.Lang = "zh"
		}
	}
	if d := r.Detected; d != nil {
		if r.Label() == result.LabelDiffers {
			if r.Service != nil {
				row.Catalog = row.Svc
			}
			row.Svc, row.Differs = htmlpage.Clean(detectedName(d)), true
		}
		row.Version = htmlpage.Clean(versionText(d))
		var title []string
		if d.Method != "" {
			title = append(title, fmt.Sprintf("%s, confidence %d", d.Method, d.Confidence))
		}
		if len(d.CPE) > 0 {
			title = append(title, strings.Join(d.CPE, " "))
		}
		if d.Banner != "" {
			title = append(title, "banner: "+d.Banner)
		}
		row.VersionTitle = htmlpage.Clean(strings.Join(title, "; "))
		if t := d.TLS; t != nil && !t.NotAfter.IsZero() {
			row.CertDate, row.CertKey = htmlpage.Clean(t.NotAfter.UTC().Format(time.DateOnly)), t.NotAfter.UTC().Format(time.RFC3339)
			row.CertClass, row.CertNote = h.expiry(r, t.NotAfter)
			var parts []string
			if t.Subject != "" {
				parts = append(parts, "subject "+t.Subject)
			}
			if t.Issuer != "" {
				parts = append(parts, "issuer "+t.Issuer)
			}
			if t.SelfSigned {
				parts = append(parts, "self-signed")
			}
			if t.Version != "" {
				parts = append(parts, t.Version)
			}
			row.CertTitle = htmlpage.Clean(strings.Join(parts, "; "))
		}
	}
	if e := r.Evidence; e != nil {
		row.Ev = &htmlEvidence{Flows: e.Flows, Clients: e.Clients, PacketsIn: e.PacketsIn, PacketsOut: e.PacketsOut, BytesIn: e.BytesIn, BytesOut: e.BytesOut,
			Packets: e.PacketsIn + e.PacketsOut, Bytes: e.BytesIn + e.BytesOut, First: e.FirstSeen, Last: e.LastSeen}
		if !e.FirstSeen.IsZero() {
			row.Ev.FirstKey = e.FirstSeen.UTC().Format(time.RFC3339Nano)
		}
		if !e.LastSeen.IsZero() {
			row.Ev.LastKey = e.LastSeen.UTC().Format(time.RFC3339Nano)
		}
	}
	return row
}

// expiry classes a certificate that has expired, or expires within
// expiryWarning of when the port was probed (the run's start when the
// port has no time); "" for one that does not, or when there is no time
// to tell.
func (h *htmlWriter) expiry(r result.Port, end time.Time) (class, note string) {
	now := cmp.Or(r.Time, h.info.Start)
	if now.IsZero() {
		return "", ""
	}
	switch left := end.Sub(now); {
	case left < 0:
		return "expired", "expired"
	case left < expiryWarning:
		return "expiring", "in " + text.Count(int(math.Ceil(left.Hours()/24)), "day", "days")
	}
	return "", ""
}

func (h *htmlWriter) end(s result.Summary) error {
	if err := h.order.flush(h.emit); err != nil {
		return err
	}
	for _, blk := range h.held {
		if err := h.write(blk); err != nil {
			return err
		}
	}
	h.held = nil
	for _, b := range h.hosts.drain() {
		hs := b.unfinished()
		count(&s, hs)
		blk, err := h.render(hs, b)
		if err != nil {
			return err
		}
		if err := h.emit(blk); err != nil {
			return err
		}
	}
	v := map[string]any{"Listed": h.listed > 0, "Chart": h.chart(), "Heat": h.heatMap()}
	cards, notes, facts := h.summary(s)
	v["Cards"], v["Notes"], v["Facts"] = cards, notes, facts
	if err := htmlTmpl().ExecuteTemplate(h.w, "end", v); err != nil {
		return err
	}
	gen := "Written by portscan"
	if h.info.Version != "" {
		gen += " " + htmlpage.Clean(h.info.Version)
	}
	if err := htmlpage.WriteFoot(h.w, gen+"."); err != nil {
		return err
	}
	return h.w.Flush()
}

type htmlCard struct{ N, L string }

func card(n int, one, many string) htmlCard {
	l := many
	if n == 1 {
		l = one
	}
	return htmlCard{strconv.Itoa(n), l}
}

// summary is the summary section: cards of counts, notes and facts.
func (h *htmlWriter) summary(s result.Summary) ([]htmlCard, []string, []htmlpage.Fact) {
	cards := []htmlCard{card(s.Hosts(), "host", "hosts"), card(s.HostsUp, "up", "up"), card(s.HostsDown, "down", "down")}
	if s.HostsUnknown > 0 {
		cards = append(cards, card(s.HostsUnknown, "unknown", "unknown"))
	}
	if !h.discovery {
		cards = append(cards, card(s.Open, "open port", "open ports"))
		for _, p := range slices.Sorted(maps.Keys(h.openBy)) {
			cards = append(cards, card(h.openBy[p], "open "+p.String(), "open "+p.String()))
		}
	}
	if !s.Start.IsZero() && !s.End.IsZero() {
		cards = append(cards, htmlCard{fmt.Sprintf("%.2f s", max(s.End.Sub(s.Start).Seconds(), 0)), "duration"})
	}
	if s.Probes > 0 {
		cards = append(cards, htmlCard{strconv.FormatInt(s.Probes, 10), fmt.Sprintf("probes (%.0f/s)", s.ProbesPerSecond())})
	}
	var notes []string
	if s.Interrupted {
		notes = append(notes, "The run was interrupted: what it had found is listed, hosts still in flight as incomplete.")
	}
	if h.down.count > 0 {
		verb := map[bool]string{true: "is", false: "are"}[h.down.count == 1]
		notes = append(notes, fmt.Sprintf("%s%s %s not listed; --show down lists them.", text.Count(h.down.count, "down host", "down hosts"), reasonNote(&h.down), verb))
	}
	if h.tarpits > 0 {
		notes = append(notes, fmt.Sprintf("%s answered open on nearly every port (a tarpit?): %s say nothing of the services.",
			text.Count(h.tarpits, "host", "hosts"), map[bool]string{true: "its open ports", false: "their open ports"}[h.tarpits == 1]))
	}
	var facts []htmlpage.Fact
	if !s.Start.IsZero() {
		facts = append(facts, htmlpage.Fact{Name: "Started", Time: s.Start})
	}
	if !s.End.IsZero() {
		facts = append(facts, htmlpage.Fact{Name: "Ended", Time: s.End})
	}
	if c := s.Capture; c != nil {
		cards = append(cards, htmlCard{strconv.FormatUint(c.Packets, 10), "packets"}, htmlCard{strconv.FormatUint(c.Flows, 10), "flows"})
		facts = append(facts, htmlpage.Fact{Name: "Packets skipped", Value: strconv.FormatUint(c.Skipped, 10)},
			htmlpage.Fact{Name: "Flows evicted", Value: fmt.Sprintf("%d idle, %d with the table full", c.EvictedIdle, c.EvictedFull)},
			htmlpage.Fact{Name: "Flows unreported", Value: fmt.Sprintf("%d (service table full)", c.Unreported)})
	}
	if !h.first.IsZero() {
		facts = append(facts, htmlpage.Fact{Name: "First seen", Time: h.first})
	}
	if !h.last.IsZero() {
		facts = append(facts, htmlpage.Fact{Name: "Last seen", Time: h.last})
	}
	return cards, notes, facts
}

// short cuts a label of a chart to what its room holds, with an
// ellipsis; the full name is in the table and in the tooltips.
func short(s string) string {
	const room = 22
	if utf8.RuneCountInString(s) <= room {
		return s
	}
	r := []rune(s)
	return string(r[:room-1]) + "…"
}

// The geometry of the charts, in SVG user units (CSS pixels).
const (
	barLabelW = 150
	barMaxW   = 420
	barPitch  = 22
	barH      = 16
	cellPitch = 14 // bigPitch and bigSize for a map of few hosts and ports
	cellSize  = 12
	bigPitch  = 22
	bigSize   = 19
	heatTop   = 70
)

type htmlBar struct {
	Full               string
	Name               string
	Count              int
	LabelX, X, Y, W, H int
	TextY, CountX      int
}

type htmlChart struct {
	W, H  int
	Label string
	Bars  []htmlBar
	More  string
}

// chart is the bar chart of open ports by service, the most first; nil
// when no port is open.
func (h *htmlWriter) chart() *htmlChart {
	if len(h.services) == 0 {
		return nil
	}
	names := slices.Collect(maps.Keys(h.services))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(h.services[b], h.services[a]), cmp.Compare(a, b)) })
	top := h.services[names[0]]
	c := &htmlChart{W: barLabelW + barMaxW + 60}
	var label []string
	rest := h.others
	for i, n := range names {
		if i >= htmlChartBars {
			rest += h.services[n]
			continue
		}
		y := i*barPitch + 4
		w := max(1, h.services[n]*barMaxW/top)
		c.Bars = append(c.Bars, htmlBar{Name: short(n), Full: n, Count: h.services[n], LabelX: barLabelW - 8, X: barLabelW, Y: y, W: w, H: barH, TextY: y + 12, CountX: barLabelW + w + 6})
		label = append(label, fmt.Sprintf("%s %d", n, h.services[n]))
	}
	c.H = len(c.Bars)*barPitch + 8
	c.Label = "Open ports by service: " + strings.Join(label, ", ")
	if rest > 0 {
		c.More = fmt.Sprintf("And %s on other services, not drawn.", text.Count(rest, "open port", "open ports"))
	}
	return c
}

type htmlHeat struct {
	W, H  int
	Label string
	Cols  []htmlHeatCol
	Rows  []htmlHeatRow
	More  []string
}

type htmlHeatCol struct {
	Name string
	X, Y int
}

type htmlHeatRow struct {
	Name          string
	LabelX, TextY int
	Paths         []htmlPath
}

// htmlPath draws the cells of one row and one class as one path, so
// that a map of 128 hosts by 48 ports is a few hundred elements, not
// six thousand; its title lists them.
type htmlPath struct {
	Class, D, Title string
}

// heatMap is the map of the hosts with open ports (rows, in report
// order) by the ports most often open (columns, in port order); nil for
// fewer than two such hosts.
func (h *htmlWriter) heatMap() *htmlHeat {
	if len(h.heat)+h.heatMore < 2 {
		return nil
	}
	cols := slices.Collect(maps.Keys(h.portHosts))
	slices.SortFunc(cols, func(a, b ports.Port) int {
		return cmp.Or(cmp.Compare(h.portHosts[b], h.portHosts[a]), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Number, b.Number))
	})
	left := len(cols) - htmlHeatColumns
	cols = cols[:min(len(cols), htmlHeatColumns)]
	slices.SortFunc(cols, func(a, b ports.Port) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Number, b.Number))
	})
	pitch, size := cellPitch, cellSize
	if len(h.heat) <= 16 && len(cols) <= 24 {
		pitch, size = bigPitch, bigSize
	}
	m := &htmlHeat{W: barLabelW + len(cols)*pitch + 40, H: heatTop + len(h.heat)*pitch + 4}
	for i, p := range cols {
		x := barLabelW + i*pitch + size/2
		m.Cols = append(m.Cols, htmlHeatCol{Name: p.String(), X: x + 4, Y: heatTop - 4})
	}
	rows := slices.Clone(h.heat)
	slices.SortStableFunc(rows, func(a, b heatHost) int { return cmp.Compare(a.index, b.index) })
	for i, hh := range rows {
		y := heatTop + i*pitch
		row := htmlHeatRow{Name: short(hh.name), LabelX: barLabelW - 8, TextY: y + size/2 + 4}
		var d [3]strings.Builder
		var listed [3][]string
		for j, p := range cols {
			k := 0 // not listed
			if st, ok := hh.cells[p]; ok {
				k = map[result.State]int{result.Open: 1, result.OpenFiltered: 2}[st]
				listed[k] = append(listed[k], p.String())
			}
			fmt.Fprintf(&d[k], "M%d %dh%dv%dh-%dz", barLabelW+j*pitch, y, size, size, size)
		}
		for k, class := range []string{"hm-none", "hm-open", "hm-of"} {
			if d[k].Len() == 0 {
				continue
			}
			p := htmlPath{Class: class, D: d[k].String()}
			if k > 0 {
				p.Title = hh.name + " " + []string{"", "open", "open|filtered"}[k] + ": " + strings.Join(listed[k], ", ")
			}
			row.Paths = append(row.Paths, p)
		}
		m.Rows = append(m.Rows, row)
	}
	m.Label = fmt.Sprintf("Heat map: %s with open ports by the %s most often open", text.Count(len(h.heat), "host", "hosts"), text.Count(len(cols), "port", "ports"))
	if h.heatMore > 0 {
		m.More = append(m.More, fmt.Sprintf("%s with open ports not drawn; the table lists them.", text.Count(h.heatMore, "more host", "more hosts")))
	}
	if left > 0 {
		m.More = append(m.More, fmt.Sprintf("%s open on fewer hosts not drawn.", text.Count(left, "port", "ports")))
	}
	return m
}
