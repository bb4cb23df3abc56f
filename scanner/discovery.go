package scanner

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/portscan/portscan/oui"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// PingKind is a kind of probe that raw host discovery sends to a host
// beyond the scanner's own links (Config.Pings), as nmap's -P options
// name them.
type PingKind uint8

// The pings. Each says the host is up with nmap's reason for its answer.
const (
	// PingEcho is an ICMP (ICMPv6) echo request (nmap -PE): echo-reply.
	PingEcho PingKind = iota + 1
	// PingTimestamp is an ICMP timestamp request (-PP): timestamp-reply.
	// ICMPv6 has none: IPv6 hosts are not sent it.
	PingTimestamp
	// PingSYN is a TCP SYN to Ping.Port (-PS): syn-ack, or reset from a
	// closed port.
	PingSYN
	// PingACK is a TCP ACK to Ping.Port (-PA): reset, which any host
	// sends to an ACK of no connection, unless a stateful firewall drops
	// it.
	PingACK
	// PingUDP is an empty UDP datagram to Ping.Port (-PU): port-unreach
	// from a closed port, udp-response from an open one.
	PingUDP

	// pingConnect, the zero kind, is the unprivileged discovery probe:
	// a TCP connect to a port (DiscoveryPorts).
	pingConnect PingKind = 0
	// pingNeighbor is the probe of a host on one of the scanner's links:
	// an ARP request (IPv4) or NDP neighbour solicitation (IPv6), which
	// a host answers whatever its firewall drops.
	pingNeighbor PingKind = 64
)

var pingNames = map[PingKind]string{
	pingConnect: "connect", PingEcho: "echo", PingTimestamp: "timestamp",
	PingSYN: "syn", PingACK: "ack", PingUDP: "udp", pingNeighbor: "neighbor",
}

// String names the kind: "echo", "timestamp", "syn", "ack", "udp".
func (k PingKind) String() string {
	if n, ok := pingNames[k]; ok {
		return n
	}
	return "ping(" + strconv.Itoa(int(k)) + ")"
}

// hasPort says whether pings of the kind go to a port.
func (k PingKind) hasPort() bool {
	return k == PingSYN || k == PingACK || k == PingUDP || k == pingConnect
}

// Ping is one probe of raw host discovery.
type Ping struct {
	Kind PingKind
	Port uint16 // the TCP or UDP port of PingSYN, PingACK and PingUDP
}

// String writes the ping as "echo", "timestamp", "syn/443", "ack/80",
// "udp/40125".
func (p Ping) String() string {
	if p.Kind.hasPort() {
		return p.Kind.String() + "/" + strconv.Itoa(int(p.Port))
	}
	return p.Kind.String()
}

// DefaultPings are the pings raw discovery sends to a host beyond the
// scanner's links when Config.Pings is nil: nmap's privileged default,
// an ICMP echo request, a SYN to 443, an ACK to 80 and an ICMP timestamp
// request.
var DefaultPings = []Ping{{Kind: PingEcho}, {Kind: PingSYN, Port: 443}, {Kind: PingACK, Port: 80}, {Kind: PingTimestamp}}

// Default ports of the pings that take one, as nmap's -PS, -PA and -PU
// without a list.
const (
	DefaultPingSYNPort = 80
	DefaultPingACKPort = 80
	DefaultPingUDPPort = 40125
)

// CheckPings reports the first ping of the list that cannot be sent:
// one of no known kind, or a SYN, ACK or UDP ping without a port.
func CheckPings(pings []Ping) error {
	for _, p := range pings {
		switch {
		case p.Kind < PingEcho || p.Kind > PingUDP:
			return fmt.Errorf("ping %s: no such kind", p)
		case p.Kind.hasPort() && p.Port == 0:
			return fmt.Errorf("ping %s: port 0", p)
		}
	}
	return nil
}

// rawDiscoveryFiles are the descriptors raw discovery holds for the
// whole run: its reserved source ports, a netlink socket, and the raw
// sockets of two links, loopback's (a packet socket, its eventfd and two
// raw IP sockets) and one more (a packet socket and its eventfd). They
// are counted as taken before the scan's probes share the rest; a run
// whose targets are on more links takes two more for each.
func (c *Config) rawDiscoveryFiles() int {
	if !c.RawDiscovery || c.SkipDiscovery && !c.DiscoverOnly {
		return 0
	}
	return pingSourcePorts + 1 + 4 + 2
}

func (c *Config) pings() []Ping {
	if c.Pings != nil {
		return c.Pings
	}
	return DefaultPings
}

// pingSourcePorts is how many source ports TCP and UDP pings reserve
// (a socket each holds one): a host's tries of a ping go from different
// ones, whatever answers any of them shows the host up.
const pingSourcePorts = 4

// discProbe is one discovery probe a host is to get.
type discProbe struct {
	kind PingKind
	port uint16
}

// discoveryFor lists the discovery probes of a host: connects to the
// discovery ports, or with raw discovery what its route calls for. The
// list is shared: the host must not change it.
func (e *engine) discoveryFor(addr netip.Addr) []discProbe {
	if e.pinger != nil {
		return e.pinger.plan(addr)
	}
	if e.connectPlan == nil {
		// One list for every host, which only reads it.
		e.connectPlan = make([]discProbe, 0, len(e.cfg.discoveryPorts()))
		for _, n := range e.cfg.discoveryPorts() {
			e.connectPlan = append(e.connectPlan, discProbe{kind: pingConnect, port: n})
		}
	}
	return e.connectPlan
}

// scanPort reports whether p's answer is also that of a port of the
// scan: a connect to the port, not a raw ping, which says nothing of a
// port's state.
func (e *engine) scanPort(h *hostState, p *probe) bool {
	return p.ping == pingConnect && e.scans(h, p.port)
}

// newDiscoveryProbe is the probe of d for a host.
func newDiscoveryProbe(d discProbe) *probe {
	return &probe{port: ports.Port{Number: d.port, Proto: ports.TCP}, discover: true, ping: d.kind}
}

// planner is a prober that chooses each host's discovery probes.
type planner interface {
	prober
	plan(addr netip.Addr) []discProbe
}

// vendors labels MAC addresses for a run, from Config.Vendor or the
// system's IEEE registry, which is read the first time a MAC is to be
// labelled, and never when none is.
type vendors struct {
	fn   func(net.HardwareAddr) string
	once sync.Once
	warn func(error)
}

func (v *vendors) name(mac net.HardwareAddr) string {
	if len(mac) == 0 {
		return ""
	}
	v.once.Do(func() {
		if v.fn != nil {
			return
		}
		reg, err := oui.System()
		if err != nil && v.warn != nil {
			v.warn(fmt.Errorf("vendors of MAC addresses are not named: %w", err))
		}
		v.fn = reg.Vendor
	})
	return v.fn(mac)
}

// aliveVerdict is what an answer that shows the host up concluded.
// The state is that of a port that answered, as connect discovery's
// are (the engine reads either as up); it is never reported as a port.
func aliveVerdict(reason string) verdict {
	return verdict{state: result.Open, reason: reason, answered: true}
}
