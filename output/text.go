package output

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rivo/uniseg"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/result"
)

// textWriter prints an nmap-like report: a block per host, written when
// the host is done, and a summary line.
type textWriter struct {
	w     *bufio.Writer
	out   io.Writer // under w
	opt   Options
	lang  string
	hosts inflight
	paint *text.Paint
	// discovery is set for a run that only discovered hosts: no port
	// counts in the reports or the summary.
	discovery bool

	order targetOrder[textBlock] // finished hosts' reports, for target order
	// held are the reports an earlier run held back (Continue), by
	// Index: each is written before the first host after it.
	held []textBlock

	// Hosts found down and not listed (no ShowDown), counted by reason;
	// the note on the last one, for a lone target.
	down     tally
	lastNote string
	// Hosts flagged as tarpits, and their open ports.
	tarpits, tarpitOpen int
}

// textBlock is a host's report, as written, and what it adds to the
// counts of the report's end.
type textBlock struct {
	index  uint64 // result.Host.Index
	text   []byte
	down   bool   // found down and not listed: counted, with reason
	reason string // why it is down
	note   string // on it as a lone target
	tarpit bool
	open   int // its open ports, when a tarpit
}

func newText(w io.Writer, opt Options) *textWriter {
	t := &textWriter{w: bufio.NewWriter(w), out: w, opt: opt, hosts: make(inflight), order: newTargetOrder[textBlock]()}
	// Forced on or off: whether w is a terminal is the caller's call.
	t.paint = text.NewPaint(opt.Color)
	return t
}

// setup takes from info what the report needs, for begin and Continue.
func (t *textWriter) setup(info result.Info) {
	t.lang = t.opt.Lang
	if t.lang == "" {
		t.lang = info.Lang
	}
	t.discovery = info.ScanType == result.ScanDiscovery
}

func (t *textWriter) begin(info result.Info) error {
	t.setup(info)
	version := info.Version
	if version != "" {
		version = " " + version
	}
	fmt.Fprintf(t.w, "Starting portscan%s", version)
	if !info.Start.IsZero() {
		fmt.Fprintf(t.w, " at %s", info.Start.Format("2006-01-02 15:04 MST"))
	}
	switch {
	case info.ScanType == "pcap":
		t.w.WriteString(": capture analysis")
	case t.discovery:
		t.w.WriteString(": host discovery")
	case info.ScanType != "":
		fmt.Fprintf(t.w, ": %s scan", info.ScanType)
		if info.Ports != nil && len(info.Protocols) > 0 {
			parts := make([]string, len(info.Protocols))
			for i, p := range info.Protocols {
				parts[i] = text.Count(info.Ports.Len(p), p.String()+" port", p.String()+" ports")
			}
			fmt.Fprintf(t.w, " of %s", strings.Join(parts, " and "))
		} else if info.NumPorts > 0 {
			names := make([]string, len(info.Protocols))
			for i, p := range info.Protocols {
				names[i] = p.String()
			}
			noun := "port"
			if len(names) > 0 {
				noun = strings.Join(names, "+") + " port"
			}
			fmt.Fprintf(t.w, " of %s", text.Count(info.NumPorts, noun, noun+"s"))
		}
	}
	if info.Shard.Sharded() {
		fmt.Fprintf(t.w, ", shard %s", info.Shard)
	}
	t.w.WriteString("\n")
	return t.w.Flush()
}

func (t *textWriter) port(r result.Port) error {
	t.hosts.get(hostKey{r.Host, r.Hostname}).add(r, t.opt.shows(r.State))
	return nil
}

func (t *textWriter) host(h result.Host) error {
	b := t.hosts.take(hostKey{h.Addr, h.Hostname})
	return t.order.put(h.Seq, t.render(h, b), t.emit)
}

// render returns h's report, written by report into a buffer.
func (t *textWriter) render(h result.Host, b *hostBuf) textBlock {
	var buf bytes.Buffer
	t.w.Reset(&buf) // nothing is left buffered between events
	blk := textBlock{index: h.Index}
	t.report(h, b, &blk)
	t.w.Flush()
	t.w.Reset(t.out)
	blk.text = buf.Bytes()
	return blk
}

// emit writes blk, after the reports held back from an earlier run
// that come before it, and counts it.
func (t *textWriter) emit(blk textBlock) error {
	if blk.index > 0 {
		for len(t.held) > 0 && t.held[0].index < blk.index {
			if err := t.write(t.held[0]); err != nil {
				return err
			}
			t.held = t.held[1:]
		}
	}
	return t.write(blk)
}

func (t *textWriter) write(blk textBlock) error {
	if blk.tarpit {
		t.tarpits++
		t.tarpitOpen += blk.open
	}
	if blk.down {
		t.down.add(blk.reason, 1)
		t.lastNote = blk.note
	}
	if len(blk.text) == 0 {
		return nil
	}
	if _, err := t.w.Write(blk.text); err != nil {
		return err
	}
	return t.w.Flush()
}

// report writes h's report to t.w, and says in blk what it counts.
func (t *textWriter) report(h result.Host, b *hostBuf, blk *textBlock) {
	list := b.finish(&t.opt, h.Counts)
	if h.Tarpit {
		blk.tarpit, blk.open = true, h.Counts[result.Open]
	}
	if !h.Up && !t.opt.ShowDown && (!h.Incomplete || len(list) == 0) {
		if !h.Incomplete {
			blk.down, blk.reason, blk.note = true, h.Reason, downNote(h)
		}
		return
	}
	name := h.Addr.String()
	if h.Hostname != "" {
		name = text.Escape(h.Hostname) + " (" + name + ")"
	}
	t.w.WriteString("\n")
	fmt.Fprintf(t.w, "portscan report for %s", name)
	switch {
	case h.Incomplete:
		t.w.WriteString(" [incomplete]\n")
	case !h.Up:
		fmt.Fprintf(t.w, "\nHost seems down: %s.\n", downWhy(h))
		if len(list) == 0 {
			return // its silent ports were counted just now
		}
	default:
		t.w.WriteString("\nHost is up")
		if t.opt.Reason && h.Reason != "" {
			fmt.Fprintf(t.w, ", received %s", reasonTTL(h.Reason, netip.Addr{}, h.TTL))
		}
		if l := hostLatency(h, b); l > 0 {
			fmt.Fprintf(t.w, " (%ss latency)", seconds2(l))
		}
		t.w.WriteString(".\n")
	}
	if h.Tarpit {
		fmt.Fprintf(t.w, "Warning: %s answered open on %d of the %s with a state: a tarpit, or a firewall redirecting every port to one listener? Its open ports say nothing of its services.\n",
			name, h.Counts[result.Open], text.Count(portsDecided(h), "port", "ports"))
	}
	if h.CutShort {
		fmt.Fprintf(t.w, "Probing stopped at %s (the cap on open ports per host); %s not scanned.\n",
			text.Count(h.Counts[result.Open], "open port", "open ports"), text.Count(h.Unscanned, "port", "ports"))
	}
	if states := b.hiddenStates(); len(states) > 0 {
		if n := b.hiddenTotal(); len(list) == 0 && !h.Incomplete {
			if n == 1 {
				fmt.Fprintf(t.w, "The 1 scanned port on %s is not shown.\n", name)
			} else {
				fmt.Fprintf(t.w, "All %d scanned ports on %s are not shown.\n", n, name)
			}
		}
		t.w.WriteString("Not shown: ")
		var folded []string
		for i, s := range states {
			if i > 0 {
				t.w.WriteString(", ")
			}
			tl := b.hidden[s]
			fmt.Fprintf(t.w, "%s", text.Count(tl.count, s.String()+" port", s.String()+" ports"))
			fmt.Fprint(t.w, reasonNote(tl))
			if tl.folded {
				folded = append(folded, s.String())
			}
		}
		if len(folded) > 0 {
			fmt.Fprintf(t.w, "; %s folded, more than %d on this host: --show %s lists them",
				strings.Join(folded, ", "), t.opt.collapse(), strings.Join(folded, ","))
		}
		t.w.WriteString("\n")
	}
	if len(list) > 0 {
		t.table(list)
	}
	if mac := h.MACString(); mac != "" {
		fmt.Fprintf(t.w, "MAC Address: %s (%s)\n", mac, vendorName(h))
	}
}

// downNote is the note on h, found down, as a lone target.
func downNote(h result.Host) string {
	note := fmt.Sprintf("\nNote: %s seems down: %s.", h.Addr, downWhy(h))
	if portsDecided(h) == 0 {
		note += " If it is up but drops discovery probes, scan it with --skip-discovery (-Pn)."
	}
	return note + "\n"
}

// vendorName is the vendor text prints after a MAC address, escaped
// (it comes from a file), or "Unknown", as nmap prints it.
func vendorName(h result.Host) string {
	if h.Vendor == "" {
		return "Unknown"
	}
	return text.Escape(h.Vendor)
}

// hostLatency is the latency a report gives h: that of its ports'
// answers, or when none answered (a discovery run) the host's own
// round trip time.
func hostLatency(h result.Host, b *hostBuf) time.Duration {
	if l := b.latency(); l > 0 {
		return l
	}
	return h.RTT
}

// portsDecided is how many of h's ports got a state.
func portsDecided(h result.Host) int {
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// downWhy says why h seems down: no answer to discovery, or (-Pn) to
// any of its ports.
func downWhy(h result.Host) string {
	var why string
	switch n := portsDecided(h); {
	case n > 0:
		why = fmt.Sprintf("none of its %s answered", text.Count(n, "port", "ports"))
		if h.Probes > 0 {
			why += " " + text.Count(h.Probes, "probe", "probes")
		}
	case h.Probes > 0:
		why = "no answer to " + text.Count(h.Probes, "probe", "probes")
	default:
		why = "no answer"
	}
	if h.Reason != "" {
		why += " (" + text.Escape(h.Reason) + ")"
	}
	return why
}

// table prints the listed ports in aligned columns. Widths are measured
// in terminal cells, so wide (CJK) text lines up, and colour codes are
// added after padding so they take no room. When detection ran on the
// host, a VERSION column says what it read, and a service it named
// other than the catalog's label is marked.
func (t *textWriter) table(list []result.Port) {
	rows, marked := t.rows(list)
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], uniseg.StringWidth(cell))
		}
	}
	for n, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i == len(row)-1 {
				line.WriteString(cell)
				break
			}
			pad := strings.Repeat(" ", widths[i]-uniseg.StringWidth(cell)+1)
			switch {
			case i == 1 && n > 0:
				cell = paintState(t.paint, list[n-1].State, cell)
			case i == 2 && n > 0 && marked[n-1]:
				cell = t.paint.Note(cell)
			}
			line.WriteString(cell)
			line.WriteString(pad)
		}
		t.w.WriteString(strings.TrimRight(line.String(), " "))
		t.w.WriteString("\n")
	}
	if slices.Contains(marked, true) {
		t.w.WriteString(differsMark + " detection names another service than the catalog's label\n")
	}
	for _, r := range list {
		if note := expiryNote(r); note != "" {
			t.w.WriteString(t.paint.Warn(note) + "\n")
		}
	}
}

// differsMark follows a detected service name that differs from the
// catalog's label.
const differsMark = "*"

// rows are the table's header and a row per port, and which ports'
// service cells are marked.
func (t *textWriter) rows(list []result.Port) (rows [][]string, marked []bool) {
	detected := slices.ContainsFunc(list, func(r result.Port) bool { return r.Detected != nil })
	head := []string{"PORT", "STATE", "SERVICE"}
	if t.opt.Reason {
		head = append(head, "REASON")
	}
	if detected {
		head = append(head, "VERSION")
	}
	head = append(head, "DESCRIPTION")
	rows = make([][]string, 0, len(list)+1)
	rows = append(rows, head)
	marked = make([]bool, len(list))
	for n, r := range list {
		service, desc := "unknown", ""
		if e := r.Service; e != nil {
			service = e.Name
			desc = e.Describe(t.lang)
		}
		service = text.Escape(service)
		if d := r.Detected; d != nil && r.Label() == result.LabelDiffers {
			service, marked[n] = text.Escape(detectedName(d))+differsMark, true
		}
		row := []string{r.Port.String(), r.State.String(), service}
		if t.opt.Reason {
			row = append(row, reasonTTL(r.Reason, r.ReasonIP, r.TTL))
		}
		if detected {
			row = append(row, text.Escape(versionText(r.Detected)))
		}
		rows = append(rows, append(row, text.Escape(desc)))
	}
	return rows, marked
}

// reasonTTL is a reason as nmap's --reason prints it, escaped: with the
// router that sent the ICMP error when it was not the target, and the
// TTL of the reply that gave it when it is known ("syn-ack ttl 64",
// "admin-prohibited from 198.18.1.1 ttl 64"). A host's line never has
// the router (nmap's neither): from is zero there.
func reasonTTL(reason string, from netip.Addr, ttl uint8) string {
	s := text.Escape(reason)
	if from.IsValid() {
		s += " from " + from.String()
	}
	if ttl != 0 {
		s += " ttl " + strconv.Itoa(int(ttl))
	}
	return s
}

// detectedName is a detected service as nmap names it: "ssl/http"
// inside TLS.
func detectedName(d *result.Service) string {
	if d.Tunnel != "" {
		return d.Tunnel + "/" + d.Name
	}
	return d.Name
}

// versionText is nmap's VERSION column: product, version, and the
// extra information in parentheses.
func versionText(d *result.Service) string {
	if d == nil {
		return ""
	}
	var parts []string
	for _, p := range []string{d.Product, d.Version} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if d.Info != "" {
		parts = append(parts, "("+d.Info+")")
	}
	return strings.Join(parts, " ")
}

// expiryWarning is how close to its end a certificate is noted.
const expiryWarning = 30 * 24 * time.Hour

// expiryNote warns of a port's TLS certificate that has expired or
// expires within expiryWarning of when the port was probed.
func expiryNote(r result.Port) string {
	if r.Detected == nil || r.Detected.TLS == nil || r.Detected.TLS.NotAfter.IsZero() {
		return ""
	}
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	end := r.Detected.TLS.NotAfter
	left := end.Sub(now)
	switch {
	case left < 0:
		return fmt.Sprintf("Warning: %s: the TLS certificate expired on %s.", r.Port, end.UTC().Format(time.DateOnly))
	case left < expiryWarning:
		days := int(math.Ceil(left.Hours() / 24))
		return fmt.Sprintf("Warning: %s: the TLS certificate expires on %s, in %s.", r.Port, end.UTC().Format(time.DateOnly), text.Count(days, "day", "days"))
	}
	return ""
}

func (t *textWriter) end(s result.Summary) error {
	if err := t.order.flush(t.emit); err != nil { // done, but behind one that is not
		return err
	}
	for _, blk := range t.held {
		if err := t.write(blk); err != nil {
			return err
		}
	}
	t.held = nil
	for _, b := range t.hosts.drain() {
		h := b.unfinished()
		count(&s, h)
		if err := t.emit(t.render(h, b)); err != nil {
			return err
		}
	}
	switch {
	case t.down.count == 1 && s.Hosts() == 1:
		// A lone target, as nmap notes it; a range's down hosts are only
		// counted.
		t.w.WriteString(t.lastNote)
	case t.down.count > 0:
		fmt.Fprintf(t.w, "\nNot shown: %s%s; --show down lists them\n", text.Count(t.down.count, "down host", "down hosts"), reasonNote(&t.down))
	}
	word := "done"
	if s.Interrupted {
		word = "interrupted"
	}
	unknown := ""
	if s.HostsUnknown > 0 {
		unknown = fmt.Sprintf(", %d unknown", s.HostsUnknown)
	}
	hosts, secs := text.Count(s.Hosts(), "host", "hosts"), max(s.End.Sub(s.Start).Seconds(), 0)
	if t.discovery {
		fmt.Fprintf(t.w, "\nportscan %s: %s (%s up%s) scanned in %.2f s",
			word, hosts, text.Count(s.HostsUp, "host", "hosts"), unknown, secs)
	} else {
		fmt.Fprintf(t.w, "\nportscan %s: %s (%d up%s) scanned in %.2f s; %s",
			word, hosts, s.HostsUp, unknown, secs, text.Count(s.Open, "open port", "open ports"))
	}
	switch {
	case t.tarpits == 1:
		fmt.Fprintf(t.w, " (%d on 1 host that looks like a tarpit)", t.tarpitOpen)
	case t.tarpits > 1:
		fmt.Fprintf(t.w, " (%d on %d hosts that look like tarpits)", t.tarpitOpen, t.tarpits)
	}
	if s.Probes > 0 {
		fmt.Fprintf(t.w, "; %s (%.0f/s)", text.Count(int(s.Probes), "probe", "probes"), s.ProbesPerSecond())
	}
	if c := s.Capture; c != nil {
		fmt.Fprintf(t.w, "\ncapture: %s (%d skipped), %s (%d evicted idle, %d evicted with the table full, %d unreported)",
			text.Count(int(c.Packets), "packet", "packets"), c.Skipped, text.Count(int(c.Flows), "flow", "flows"), c.EvictedIdle, c.EvictedFull, c.Unreported)
	}
	t.w.WriteString("\n")
	return t.w.Flush()
}

// reasonNote is the parenthesis after a "Not shown" count: the reason
// alone when it covers every port, else the count of each known reason.
func reasonNote(tl *tally) string {
	var parts []string
	for _, rc := range tl.sorted() {
		if rc.reason == "" {
			continue
		}
		if rc.count == tl.count {
			return " (" + text.Escape(rc.reason) + ")"
		}
		parts = append(parts, strconv.Itoa(rc.count)+" "+text.Escape(rc.reason))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// seconds2 writes d in seconds to two significant digits, without an
// exponent: 0.00012, 0.0031, 1.5, 12.
func seconds2(d time.Duration) string {
	s := d.Seconds()
	places := 0
	if s < 10 {
		places = 1 - int(math.Floor(math.Log10(s)))
	}
	return strconv.FormatFloat(s, 'f', places, 64)
}

// paintState colours s, a port's state, by what it means.
func paintState(p *text.Paint, st result.State, s string) string {
	switch st {
	case result.Open:
		return p.Good(s)
	case result.Closed:
		return p.Bad(s)
	case result.Filtered:
		return p.Warn(s)
	case result.OpenFiltered:
		return p.Note(s)
	}
	return s
}
