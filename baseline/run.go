package baseline

import (
	"cmp"
	"errors"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// ErrInput is wrapped by every error Read returns for a file that is not
// a readable result file: unknown format, bad syntax, impossible values.
var ErrInput = errors.New("invalid result file")

// Run is what one run found: its hosts and, for each, the ports it lists.
type Run struct {
	// Name says where the run comes from: a file name, or "scan".
	Name string
	// Scanner is "portscan", "nmap", or "pcap" for a capture.
	Scanner string
	// Start is when the run started; zero if unknown.
	Start time.Time
	// Protocols are the protocols the run probed; nil when unknown, as
	// for a capture, which may show any.
	Protocols []ports.Protocol
	// Scanned holds the ports the run probed; nil when unknown.
	Scanned *ports.Set
	// Interrupted is true when the run did not finish.
	Interrupted bool
	// Args is the run's command line, when the file gives it: portscan's
	// arguments, or nmap's args attribute as one string.
	Args []string
	// End is when the run ended; zero if unknown.
	End time.Time

	hosts map[netip.Addr]*Host
}

// Host is one host of a run.
type Host struct {
	Addr     netip.Addr
	Hostname string
	// Up is whether the host answered. A host only seen through its
	// ports is up.
	Up     bool
	Reason string
	// TTL is that of the reply that gave Reason (result.Host.TTL); 0
	// when the file does not say.
	TTL uint8
	// ReasonIP is who sent the ICMP error that gave Reason, when not the
	// host (result.Host.ReasonIP).
	ReasonIP netip.Addr
	Ports    map[ports.Port]Port
	// Counts are how many ports of each state the run found on the host,
	// listed in Ports or not (portscan's counts, nmap's extraports); nil
	// when the run does not say.
	Counts map[result.State]int
	// MAC and Vendor are the host's link address and the vendor the
	// IEEE registry names for it, when the run found them (discovery on
	// the scanner's own link); nil and "" otherwise.
	MAC    net.HardwareAddr
	Vendor string
}

// Port is what a run says of one port.
type Port struct {
	State  result.State
	Reason string
	TTL    uint8 // of the reply that decided State (result.Port.TTL); 0 when unknown
	// ReasonIP is who sent the ICMP error that decided State, when not
	// the target (result.Port.ReasonIP).
	ReasonIP netip.Addr
	Service  string // the catalog's name for the port; "" if none
	// Detected is what service detection found there, if it ran.
	Detected *result.Service
	// Evidence is what a capture showed of the port, for results of
	// captures.
	Evidence *result.Evidence
}

// NewRun returns an empty run named name.
func NewRun(name string) *Run {
	return &Run{Name: name, hosts: make(map[netip.Addr]*Host)}
}

// host returns the entry for a, making it if needed.
func (r *Run) host(a netip.Addr) *Host {
	a = a.Unmap()
	h := r.hosts[a]
	if h == nil {
		h = &Host{Addr: a, Ports: make(map[ports.Port]Port)}
		r.hosts[a] = h
	}
	return h
}

// Host returns the host with address a, or nil.
func (r *Run) Host(a netip.Addr) *Host { return r.hosts[a.Unmap()] }

// Hosts returns the hosts in address order, IPv4 first.
func (r *Run) Hosts() []*Host {
	out := make([]*Host, 0, len(r.hosts))
	for _, h := range r.hosts {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *Host) int { return a.Addr.Compare(b.Addr) })
	return out
}

// AddPort records one port result. A host with a port result is up.
func (r *Run) AddPort(res result.Port) {
	h := r.host(res.Host)
	if res.Hostname != "" {
		h.Hostname = res.Hostname
	}
	if res.State == result.Open || res.State == result.Closed {
		h.Up = true // it answered
	}
	p := Port{State: res.State, Reason: res.Reason, TTL: res.TTL, ReasonIP: res.ReasonIP, Detected: res.Detected, Evidence: res.Evidence}
	if res.Service != nil {
		p.Service = res.Service.Name
	}
	h.Ports[res.Port] = p
}

// AddHost records a host's summary.
func (r *Run) AddHost(hs result.Host) {
	h := r.host(hs.Addr)
	if hs.Hostname != "" {
		h.Hostname = hs.Hostname
	}
	h.Up = hs.Up || h.Up
	h.Reason, h.TTL, h.ReasonIP = hs.Reason, hs.TTL, hs.ReasonIP
	if hs.MAC != nil {
		h.MAC, h.Vendor = hs.MAC, hs.Vendor
	}
	if hs.Counts != nil {
		h.Counts = maps.Clone(hs.Counts)
	}
}

// unlisted returns the state of every port the run scanned on the host
// but did not list, when its counts leave one state for them all: nmap's
// "1021 closed ports", or portscan's counts with only open ports listed.
func (h *Host) unlisted() (result.State, bool) {
	listed := map[result.State]int{}
	for _, st := range h.Ports {
		listed[st.State]++
	}
	only, n := result.Unknown, 0
	for s, c := range h.Counts {
		if c > listed[s] {
			only, n = s, n+1
		}
	}
	return only, n == 1 && only != result.Unknown
}

// OpenPorts returns the host's open ports, TCP first, in order.
func (h *Host) OpenPorts() []ports.Port {
	var out []ports.Port
	for p, st := range h.Ports {
		if st.State == result.Open {
			out = append(out, p)
		}
	}
	sortPorts(out)
	return out
}

func sortPorts(ps []ports.Port) {
	slices.SortFunc(ps, func(a, b ports.Port) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Number, b.Number))
	})
}

// Covers reports whether the run probed p: false only when the run says
// which ports or protocols it probed and p is not among them.
func (r *Run) Covers(p ports.Port) bool {
	if r.Protocols != nil && !slices.Contains(r.Protocols, p.Proto) {
		return false
	}
	return r.Scanned == nil || r.Scanned.Contains(p)
}

// CoversProtocol reports whether the run may have probed ports of proto.
func (r *Run) CoversProtocol(proto ports.Protocol) bool {
	return r.Protocols == nil || slices.Contains(r.Protocols, proto)
}

// WriterOptions tune Run.Writer.
type WriterOptions struct {
	// Keep lists ports whose results are kept whatever their state;
	// otherwise only open and open|filtered ports are.
	Keep *ports.Set
}

// Writer returns an output.Writer that records a live run into r, so
// that it can sit beside the other outputs of a scan (result.Tee). It
// keeps open and open|filtered ports and those in opt.Keep; the rest are
// only counted by the scan. It is safe for concurrent use.
func (r *Run) Writer(opt WriterOptions) output.Writer {
	return &collector{run: r, keep: opt.Keep}
}

type collector struct {
	mu   sync.Mutex
	run  *Run
	keep *ports.Set
}

func (c *collector) Begin(info result.Info) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.run
	r.Scanner = "portscan"
	if info.ScanType == "pcap" {
		r.Scanner = "pcap"
	}
	r.Start = info.Start
	if info.ScanType != "pcap" {
		r.Protocols = slices.Clone(info.Protocols)
		if info.Ports != nil {
			set := *info.Ports
			r.Scanned = &set
		} else if set, err := ports.ParseSpec(info.PortsSpec, ports.SpecOptions{Protocols: info.Protocols}); err == nil {
			r.Scanned = set
		}
	}
	return nil
}

func (c *collector) Port(res result.Port) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.State == result.Open || res.State == result.OpenFiltered || c.keep != nil && c.keep.Contains(res.Port) {
		c.run.AddPort(res)
	}
	return nil
}

func (c *collector) Host(h result.Host) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.run.AddHost(h)
	return nil
}

func (c *collector) End(s result.Summary) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.run.Interrupted = s.Interrupted
	return nil
}
