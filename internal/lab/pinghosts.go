package lab

import (
	"net/netip"
	"strings"
	"testing"
)

// PingHosts are hosts of the routed lab's subnet, beyond its router,
// that each drop some kinds of host discovery pings and answer others,
// so that each ping's answer, and its absence, can be seen. The routed
// lab gains them with AddPingHosts.
type PingHosts struct {
	// NoEcho drops ICMP echo requests and answers the rest: its ports
	// are open, every other port closed, timestamps answered.
	NoEcho LiveHost
	// TimestampOnly drops ICMP echo requests and TCP: only a timestamp
	// ping finds it.
	TimestampOnly netip.Addr
	// ACKOnly drops ICMP echo and timestamp requests and TCP SYNs: only
	// an ACK ping finds it, by the RST its kernel sends.
	ACKOnly netip.Addr
	// UDPOnly drops ICMP echo and timestamp requests and TCP: only a UDP
	// ping finds it, by the port unreachable its kernel sends.
	UDPOnly netip.Addr
}

var pingHosts = PingHosts{
	NoEcho:        LiveHost{Addr: netip.MustParseAddr("198.18.2.11"), TCP: []uint16{443}},
	TimestampOnly: netip.MustParseAddr("198.18.2.12"),
	ACKOnly:       netip.MustParseAddr("198.18.2.13"),
	UDPOnly:       netip.MustParseAddr("198.18.2.14"),
}

// Addrs returns the hosts' addresses.
func (p PingHosts) Addrs() []netip.Addr {
	return []netip.Addr{p.NoEcho.Addr, p.TimestampOnly, p.ACKOnly, p.UDPOnly}
}

// rules are the hosts' firewall, a table of its own beside the lab's.
func (p PingHosts) rules() string {
	var r ruleset
	r.add("ip daddr %s icmp type echo-request drop", set([]netip.Addr{p.NoEcho.Addr, p.TimestampOnly}))
	r.add("ip daddr %s icmp type { echo-request, timestamp-request } drop", set([]netip.Addr{p.ACKOnly, p.UDPOnly}))
	r.add("ip daddr %s tcp flags & (syn | ack) == syn drop", set([]netip.Addr{p.ACKOnly}))
	r.add("ip daddr %s meta l4proto tcp drop", set([]netip.Addr{p.TimestampOnly, p.UDPOnly}))
	// A table of its own: the lab's portscan_lab has an input chain
	// already.
	return strings.Replace(r.String(), "table inet portscan_lab", "table inet portscan_pings", 1)
}

// AddPingHosts adds the PingHosts to the routed lab's hosts, their
// addresses, listeners and firewall, and returns them.
func (l *Routed) AddPingHosts(t testing.TB) PingHosts {
	t.Helper()
	p := pingHosts
	for _, a := range p.Addrs() {
		l.Hosts.AddAddr(a.String()+"/24", "eth0")
	}
	l.Hosts.Serve(p.NoEcho.services()...)
	l.Hosts.Nft(p.rules())
	return p
}
