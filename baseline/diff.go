package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Kind is the kind of a Change.
type Kind uint8

// The kinds of change between two runs.
const (
	HostAppeared    Kind = iota + 1 // up now, down or absent before
	HostGone                        // up before, down or absent now
	PortOpened                      // open now, not before
	PortClosed                      // open before, not now
	ServiceChanged                  // open in both, with another label (CompareOptions.Labels)
	DetectedChanged                 // open in both, detection named another service
	VersionChanged                  // open in both, detection named the same service, another product or version
)

var kindNames = [...]string{"", "host-appeared", "host-gone", "port-opened", "port-closed", "service-changed", "detected-changed", "version-changed"}

// String returns the kind as JSON writes it ("port-opened").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Change is one difference between two runs.
type Change struct {
	Kind     Kind       `json:"change"`
	Host     netip.Addr `json:"host"`
	Hostname string     `json:"hostname,omitempty"`
	// Port is the port that changed; zero for host changes.
	Port ports.Port `json:"-"`
	// Old and New are the port's state (PortOpened, PortClosed: "closed",
	// "filtered", "open|filtered", "not scanned", or "not listed" when the
	// run has no record of it), service label (ServiceChanged), detected
	// service ("ssl/http", DetectedChanged) or product and version
	// ("nginx 1.24.0", VersionChanged) in each run.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// OldDetected and NewDetected are what detection found in each run,
	// for DetectedChanged and VersionChanged.
	OldDetected *Detection `json:"old_detected,omitempty"`
	NewDetected *Detection `json:"new_detected,omitempty"`
	// Ports are the open ports of a host that appeared or went away,
	// labelled, as "22/tcp ssh".
	Ports []string `json:"ports,omitempty"`
}

// Detection is what a Change shows of a detected service.
type Detection struct {
	Name    string `json:"name"`
	Tunnel  string `json:"tunnel,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
}

func detection(s *result.Service) *Detection {
	return &Detection{Name: s.Name, Tunnel: s.Tunnel, Product: s.Product, Version: s.Version}
}

// label is the service as nmap prints it ("ssl/http"), or "service"
// when d is nil.
func (d *Detection) label() string {
	switch {
	case d == nil:
		return "service"
	case d.Tunnel == "ssl":
		return "ssl/" + d.Name
	}
	return d.Name
}

// Diff is what changed from one run to the next, host by host in address
// order.
type Diff struct {
	Old     string   `json:"old"`
	New     string   `json:"new"`
	Changes []Change `json:"changes"`
}

// Empty reports whether the runs agree.
func (d *Diff) Empty() bool { return len(d.Changes) == 0 }

// CompareOptions tune Compare. The zero value compares states, and
// what service detection found on ports open in both runs.
type CompareOptions struct {
	// Labels also reports open ports whose service label changed
	// (ServiceChanged). Runs labelled from different catalogs, such as
	// nmap's nmap-services and portscan's, differ by design.
	Labels bool
}

// Compare lists what changed from old to new.
func Compare(old, new *Run, opt CompareOptions) *Diff {
	d := &Diff{Old: old.Name, New: new.Name, Changes: []Change{}}
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	for _, r := range []*Run{old, new} {
		for _, h := range r.Hosts() {
			if !seen[h.Addr] {
				seen[h.Addr] = true
				addrs = append(addrs, h.Addr)
			}
		}
	}
	sortAddrs(addrs)
	for _, a := range addrs {
		d.Changes = append(d.Changes, compareHost(old, new, a, opt)...)
	}
	return d
}

func sortAddrs(a []netip.Addr) { slices.SortFunc(a, netip.Addr.Compare) }

func up(h *Host) bool { return h != nil && (h.Up || len(h.OpenPorts()) > 0) }

func compareHost(old, new *Run, a netip.Addr, opt CompareOptions) []Change {
	oh, nh := old.Host(a), new.Host(a)
	name := ""
	for _, h := range []*Host{oh, nh} {
		if h != nil && h.Hostname != "" {
			name = h.Hostname
		}
	}
	switch {
	case !up(oh) && !up(nh):
		return nil
	case !up(oh):
		return []Change{{Kind: HostAppeared, Host: a, Hostname: name, Ports: labelled(nh)}}
	case !up(nh):
		return []Change{{Kind: HostGone, Host: a, Hostname: name, Ports: labelled(oh)}}
	}
	var out []Change
	all := map[ports.Port]bool{}
	for _, h := range []*Host{oh, nh} {
		for _, p := range h.OpenPorts() {
			all[p] = true
		}
	}
	list := make([]ports.Port, 0, len(all))
	for p := range all {
		list = append(list, p)
	}
	sortPorts(list)
	for _, p := range list {
		op, oOpen := oh.Ports[p]
		np, nOpen := nh.Ports[p]
		oOpen = oOpen && op.State == result.Open
		nOpen = nOpen && np.State == result.Open
		c := Change{Host: a, Hostname: name, Port: p}
		switch {
		case oOpen && nOpen:
			if !compareOpen(&c, op, np, opt) {
				continue
			}
		case nOpen:
			c.Kind, c.Old, c.New = PortOpened, stateIn(old, oh, p), np.Service
		default:
			c.Kind, c.Old, c.New = PortClosed, op.Service, stateIn(new, nh, p)
		}
		out = append(out, c)
	}
	return out
}

// compareOpen compares a port open in both runs, and says whether it
// changed: the service detection named, then its product and version,
// then (with opt.Labels) the catalog's label. Detection is compared only
// when it named a service in both runs: a run without detection, or
// where it identified nothing (a timeout, a slow server), shows no
// change. Info, CPEs and TLS details are not compared: certificates are
// renewed as a matter of course.
func compareOpen(c *Change, op, np Port, opt CompareOptions) bool {
	od, nd := op.Detected, np.Detected
	if od != nil && nd != nil && od.Name != "" && nd.Name != "" {
		switch {
		case od.Name != nd.Name || od.Tunnel != nd.Tunnel:
			c.Kind, c.Old, c.New = DetectedChanged, detectedName(od), detectedName(nd)
		case od.Product != nd.Product || od.Version != nd.Version:
			c.Kind, c.Old, c.New = VersionChanged, productVersion(od), productVersion(nd)
		}
		if c.Kind != 0 {
			c.OldDetected, c.NewDetected = detection(od), detection(nd)
			return true
		}
	}
	if !opt.Labels || op.Service == np.Service {
		return false
	}
	c.Kind, c.Old, c.New = ServiceChanged, op.Service, np.Service
	return true
}

// detectedName is a detected service as nmap prints it: "ssl/http".
func detectedName(s *result.Service) string {
	if s.Tunnel == "ssl" {
		return "ssl/" + s.Name
	}
	return s.Name
}

// productVersion is "nginx 1.24.0", or "" when detection named neither.
func productVersion(s *result.Service) string {
	return strings.TrimSpace(s.Product + " " + s.Version)
}

// stateIn says what run r knows of port p on host h, when it is not open:
// its state, listed or told by the host's counts, or "not scanned", or
// "not listed" when the run has no record of it.
func stateIn(r *Run, h *Host, p ports.Port) string {
	if st, ok := h.Ports[p]; ok {
		return st.State.String()
	}
	if !r.Covers(p) {
		return "not scanned"
	}
	if s, ok := h.unlisted(); ok && r.Scanned != nil {
		return s.String()
	}
	return "not listed"
}

// labelled lists a host's open ports as "22/tcp ssh".
func labelled(h *Host) []string {
	var out []string
	for _, p := range h.OpenPorts() {
		s := p.String()
		if svc := h.Ports[p].Service; svc != "" {
			s += " " + svc
		}
		out = append(out, s)
	}
	return out
}

// MarshalJSON adds "port" and "protocol" for port changes.
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change
	v := struct {
		plain
		Port     uint16         `json:"port,omitempty"`
		Protocol ports.Protocol `json:"protocol,omitempty"`
	}{plain: plain(c), Port: c.Port.Number, Protocol: c.Port.Proto}
	return json.Marshal(v)
}

// Line returns the change as one line of text, without a mark or colour:
// "198.18.0.1 8080/tcp newly open (http-proxy)".
func (c Change) Line() string {
	host := c.Host.String()
	if c.Hostname != "" {
		host = c.Hostname + " (" + host + ")"
	}
	svc := func(s string) string {
		if s == "" {
			return "unlabelled"
		}
		return s
	}
	switch c.Kind {
	case HostAppeared:
		return fmt.Sprintf("host %s appeared%s", host, portList(c.Ports, "open: "))
	case HostGone:
		return fmt.Sprintf("host %s gone%s", host, portList(c.Ports, "was open: "))
	case PortOpened:
		s := fmt.Sprintf("%s %s newly open", host, c.Port)
		if c.New != "" {
			s += " (" + c.New + ")"
		}
		return s + ", was " + c.Old
	case PortClosed:
		s := fmt.Sprintf("%s %s no longer open", host, c.Port)
		if c.Old != "" {
			s += " (" + c.Old + ")"
		}
		return s + ", now " + c.New
	case ServiceChanged:
		return fmt.Sprintf("%s %s service %s -> %s", host, c.Port, svc(c.Old), svc(c.New))
	case DetectedChanged:
		return fmt.Sprintf("%s %s detected service %s -> %s", host, c.Port, c.Old, c.New)
	case VersionChanged:
		pv := func(s string) string {
			if s == "" {
				return "no version"
			}
			return s
		}
		return fmt.Sprintf("%s %s %s version %s -> %s", host, c.Port, c.NewDetected.label(), pv(c.Old), pv(c.New))
	}
	return host + " " + c.Kind.String()
}

func portList(ps []string, lead string) string {
	if len(ps) == 0 {
		return ""
	}
	return " (" + lead + strings.Join(ps, ", ") + ")"
}

// mark is the sign before a change in text: + new, - gone, ~ changed.
func (c Change) mark() string {
	switch c.Kind {
	case HostAppeared, PortOpened:
		return "+"
	case HostGone, PortClosed:
		return "-"
	}
	return "~"
}

// WriteText writes the diff for people: one line per change, marked +
// (new), - (gone) or ~ (changed), then a count. With colour, the marks
// are green, red and yellow.
func (d *Diff) WriteText(w io.Writer, colour bool) error {
	p := text.NewPaint(colour)
	paint := map[string]func(string) string{"+": p.Good, "-": p.Bad, "~": p.Warn}
	var b strings.Builder
	fmt.Fprintf(&b, "Differences from %s to %s:\n", text.Escape(d.Old), text.Escape(d.New))
	for _, c := range d.Changes {
		m := c.mark()
		fmt.Fprintf(&b, "  %s %s\n", paint[m](m), text.Escape(c.Line()))
	}
	if d.Empty() {
		b.WriteString("  none\n")
	}
	fmt.Fprintf(&b, "%s\n", d.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary counts the changes in one line.
func (d *Diff) Summary() string {
	n := map[Kind]int{}
	for _, c := range d.Changes {
		n[c.Kind]++
	}
	if d.Empty() {
		return "No differences."
	}
	var parts []string
	for _, k := range []Kind{PortOpened, PortClosed, ServiceChanged, DetectedChanged, VersionChanged, HostAppeared, HostGone} {
		if n[k] > 0 {
			parts = append(parts, text.Count(n[k], kindCounted[k][0], kindCounted[k][1]))
		}
	}
	return fmt.Sprintf("%s: %s.", text.Count(len(d.Changes), "difference", "differences"), strings.Join(parts, ", "))
}

// kindCounted names each kind of change in the summary, for one and many.
var kindCounted = map[Kind][2]string{
	PortOpened:      {"port opened", "ports opened"},
	PortClosed:      {"port closed", "ports closed"},
	ServiceChanged:  {"service changed", "services changed"},
	DetectedChanged: {"detected service changed", "detected services changed"},
	VersionChanged:  {"version changed", "versions changed"},
	HostAppeared:    {"host appeared", "hosts appeared"},
	HostGone:        {"host gone", "hosts gone"},
}

// WriteJSON writes the diff as one JSON document.
func (d *Diff) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
