package lab

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Routed is a routed lab: the scanner's namespace and the hosts' are
// two links apart, with a router namespace between them that forwards
// IPv4 and IPv6. The scanner (198.18.1.254, fd00:1::fe) reaches the
// hosts' subnet (198.18.2.0/24, fd00:2::/64) only through the router
// (198.18.1.1, fd00:1::1; 198.18.2.254, fd00:2::fe on the hosts' side),
// so probes go to the router's link address and ICMP errors come from
// the router: for Prohibited, which its firewall rejects as
// administratively prohibited, and for Nobody, whose address nobody
// holds (its ARP fails after one request of 100 ms, and it answers host
// unreachable). Dial from the scanner's side: Scanner.Reexec.
type Routed struct {
	Scanner, Router, Hosts *Namespace
	ScannerAddr            netip.Addr // 198.18.1.254
	ScannerAddr6           netip.Addr // fd00:1::fe
	Live                   []LiveHost // in 198.18.2.0/24 and fd00:2::/64
	Dropping               []netip.Addr
	Prohibited             netip.AddrPort // the router rejects it, admin-prohibited
	Nobody                 netip.Addr     // an address of the hosts' subnet that nobody holds
}

var routedLayout = Routed{
	ScannerAddr:  netip.MustParseAddr("198.18.1.254"),
	ScannerAddr6: netip.MustParseAddr("fd00:1::fe"),
	Live: []LiveHost{
		{Addr: netip.MustParseAddr("198.18.2.1"), TCP: []uint16{22, 80}},
		{Addr: netip.MustParseAddr("198.18.2.2"), TCP: []uint16{443}},
		{Addr: netip.MustParseAddr("fd00:2::1"), TCP: []uint16{22}},
	},
	Dropping:   []netip.Addr{netip.MustParseAddr("198.18.2.6")},
	Prohibited: netip.MustParseAddrPort("198.18.2.1:23"),
	Nobody:     netip.MustParseAddr("198.18.2.100"),
}

// NewRouted builds the routed lab: three namespaces, two veth pairs. It
// skips the test when namespaces are unavailable.
func NewRouted(t testing.TB) *Routed {
	t.Helper()
	l := routedLayout
	l.Scanner = NewNamespace(t, "routed-scanner")
	l.Router = NewNamespace(t, "routed-router")
	l.Hosts = NewNamespace(t, "routed-hosts")
	Veth(t, l.Scanner, "eth0", l.Router, "eth0")
	Veth(t, l.Router, "eth1", l.Hosts, "eth0")

	s := l.Scanner
	s.AddAddr("198.18.1.254/24", "eth0")
	s.MustRun("ip", "addr", "add", "fd00:1::fe/64", "dev", "eth0", "nodad")
	s.MustRun("ip", "route", "add", "198.18.2.0/24", "via", "198.18.1.1")
	s.MustRun("ip", "-6", "route", "add", "fd00:2::/64", "via", "fd00:1::1")

	r := l.Router
	r.AddAddr("198.18.1.1/24", "eth0")
	r.AddAddr("198.18.2.254/24", "eth1")
	r.MustRun("ip", "addr", "add", "fd00:1::1/64", "dev", "eth0", "nodad")
	r.MustRun("ip", "addr", "add", "fd00:2::fe/64", "dev", "eth1", "nodad")
	for _, s := range append([]Sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
		// Give up on a missing host after one ARP request of 100 ms
		// (the kernel's default: three, a second apart).
		{"net/ipv4/neigh/eth1/mcast_solicit", "1"},
		{"net/ipv4/neigh/eth1/retrans_time_ms", "100"},
	}, noICMPRateLimit...) {
		r.Sysctl(s.Key, s.Value)
	}
	var rules ruleset
	rules.add("ip daddr %s tcp dport 23 reject with icmpx type admin-prohibited", l.Prohibited.Addr().String())
	r.Nft(forwardChain(rules))

	h := l.Hosts
	for _, lh := range l.Live {
		if lh.Addr.Is4() {
			h.AddAddr(lh.Addr.String()+"/24", "eth0")
		} else {
			h.MustRun("ip", "addr", "add", lh.Addr.String()+"/64", "dev", "eth0", "nodad")
		}
		h.Serve(lh.services()...)
	}
	for _, a := range l.Dropping {
		h.AddAddr(a.String()+"/24", "eth0")
	}
	h.MustRun("ip", "route", "add", "default", "via", "198.18.2.254")
	h.MustRun("ip", "-6", "route", "add", "default", "via", "fd00:2::fe")
	var drop ruleset
	drop.add("ip daddr %s drop", set(l.Dropping))
	h.Nft(drop.String())
	for _, s := range noICMPRateLimit {
		h.Sysctl(s.Key, s.Value)
	}
	for _, ns := range []*Namespace{l.Scanner, l.Router, l.Hosts} {
		ns.waitDAD()
	}
	return &l
}

// waitDAD waits, up to 5 s, until no IPv6 address of the namespace is
// tentative: until then a router's link-local address does not answer
// neighbour solicitations, and forwarding fails.
func (ns *Namespace) waitDAD() {
	ns.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := ns.MustRun("ip", "-6", "addr", "show", "tentative")
		if strings.TrimSpace(out) == "" {
			return
		}
		if time.Now().After(deadline) {
			ns.t.Fatalf("lab: in %s: addresses still tentative after 5 s:\n%s", ns.name, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forwardChain is a ruleset of one forward chain, for a router.
func forwardChain(r ruleset) string {
	out := "table inet portscan_lab {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
	for _, rule := range r.rules {
		out += "\t\t" + rule + "\n"
	}
	return out + "\t}\n}\n"
}
