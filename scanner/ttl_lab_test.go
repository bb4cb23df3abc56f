//go:build linux

package scanner

import (
	"encoding/xml"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/result"
)

// The TTLs the namespaces of the routed lab send with in the TTL tests
// (Linux's default is 64, the scanner's own): the TTL an answer arrives
// with says who sent it. The hosts' answers cross the router, which
// takes one off; the router's own answers and ICMP errors do not.
const (
	labHostTTL   = 111
	labRouterTTL = 222
	viaRouter    = labHostTTL - 1
)

// ttlRouted is the routed lab with those TTLs.
func ttlRouted(t testing.TB) *lab.Routed {
	l := lab.NewRouted(t)
	l.Hosts.SetTTL(labHostTTL)
	l.Router.SetTTL(labRouterTTL)
	return l
}

// TestLabSynTTL scans the routed lab with the SYN scan and raw
// discovery: each port's TTL is that of the answer that decided it, a
// host's SYN-ACK or RST (its TTL less the router's hop), the router's
// ICMP admin-prohibited and host unreachable (the router's own TTL), the
// router's RST for its own ports; each host's is that of the ping
// answer that showed it up, and none for the router, found by ARP.
func TestLabSynTTL(t *testing.T) {
	l, child := inLab(t, ttlRouted, routedScanner)
	if !child {
		return
	}
	router := nextHop(t, l.Live[0].Addr)
	cfg := Config{Ports: portSet(t, "22,23,80,443"), Syn: true, RawDiscovery: true, InitialRTTTimeout: 500 * time.Millisecond}
	spec := []string{router.String()}
	for _, h := range l.Live {
		spec = append(spec, h.Addr.String())
	}
	res, hosts, st := scanSpec(t, cfg, strings.Join(spec, " "))
	t.Logf("%+v", st)
	if h := hosts[router]; status(h) != "up arp-response" || h.TTL != 0 {
		t.Errorf("router %s: %q ttl %d, want up arp-response ttl 0 (ARP has no TTL)", router, status(h), h.TTL)
	}
	for _, lh := range l.Live {
		// Whichever ping was answered first, the answer came from the
		// host.
		if h := hosts[lh.Addr]; !h.Up || h.TTL != viaRouter {
			t.Errorf("host %s: %q ttl %d, want up ttl %d", lh.Addr, status(h), h.TTL, viaRouter)
		}
	}
	for _, a := range append([]netip.Addr{router}, l.Live[0].Addr, l.Live[1].Addr, l.Live[2].Addr) {
		for _, p := range []uint16{22, 23, 80, 443} {
			r, ok := res[netip.AddrPortFrom(a, p).String()]
			ttl := viaRouter
			switch {
			case a == router:
				ttl = labRouterTTL // its own RST, on the scanner's link
			case netip.AddrPortFrom(a, p) == l.Prohibited:
				ttl = labRouterTTL // its ICMP error
			}
			if !ok || int(r.TTL) != ttl {
				t.Errorf("%s port %d: %v %s ttl %d, want ttl %d", a, p, r.State, r.Reason, r.TTL, ttl)
			}
		}
	}

	// Nobody holds l.Nobody: the router says so, host unreachable.
	cfg.RawDiscovery, cfg.SkipDiscovery = false, true
	res, _, _ = scanSpec(t, cfg, l.Nobody.String())
	for _, p := range []uint16{22, 80} {
		r := res[netip.AddrPortFrom(l.Nobody, p).String()]
		if r.Reason != result.ReasonHostUnreach || r.TTL != labRouterTTL {
			t.Errorf("%s port %d: %v %s ttl %d, want host-unreach ttl %d", l.Nobody, p, r.State, r.Reason, r.TTL, labRouterTTL)
		}
	}
}

// TestLabPingTTL finds the routed lab's hosts by ICMP echo and by UDP
// ping: the echo reply's TTL, and the TTL of the port unreachable the
// host itself sends, are its record's.
func TestLabPingTTL(t *testing.T) {
	l, child := inLab(t, ttlRouted, routedScanner)
	if !child {
		return
	}
	for _, tt := range []struct {
		name   string
		ping   Ping
		reason string
	}{
		{"-PE", Ping{Kind: PingEcho}, result.ReasonEchoReply},
		{"-PU", Ping{Kind: PingUDP, Port: DefaultPingUDPPort}, result.ReasonPortUnreach},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rawDiscovery()
			cfg.Pings = []Ping{tt.ping}
			_, hosts, _ := scanSpec(t, cfg, l.Live[0].Addr.String()+" "+l.Live[2].Addr.String())
			for _, a := range []netip.Addr{l.Live[0].Addr, l.Live[2].Addr} {
				h := hosts[a]
				if got, w := status(h)+" ttl "+strconv.Itoa(int(h.TTL)), "up "+tt.reason+" ttl "+strconv.Itoa(viaRouter); got != w {
					t.Errorf("%s: %q, want %q", a, got, w)
				}
			}
		})
	}
}

// TestLabSynTTLAgreesWithNmap scans the routed lab with the SYN scan and
// with nmap -sS --reason, IPv4 and IPv6, skipping discovery: every port
// gets the same state, reason, reason_ttl and reason_ip from both, the
// router's ICMP errors and RSTs included.
func TestLabSynTTLAgreesWithNmap(t *testing.T) {
	l, child := inLab(t, ttlRouted, routedScanner)
	if !child {
		return
	}
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap not found (apt-get install nmap)")
	}
	router := nextHop(t, l.Live[0].Addr)
	cfg := Config{Ports: portSet(t, "22,23,80,443"), Syn: true, SkipDiscovery: true, InitialRTTTimeout: 500 * time.Millisecond}
	for _, addrs := range [][]netip.Addr{{router, l.Live[0].Addr, l.Live[1].Addr, l.Nobody}, {l.Live[2].Addr}} {
		var spec []string
		for _, a := range addrs {
			spec = append(spec, a.String())
		}
		res, _, _ := scanSpec(t, cfg, strings.Join(spec, " "))
		args := append([]string{"-sS", "-T4", "-n", "-Pn", "--reason", "-oX", "-", "-p", "22,23,80,443"}, spec...)
		if addrs[0].Is6() {
			args = append([]string{"-6"}, args...)
		}
		theirs := nmapPorts(t, nmap, args)
		for _, a := range addrs {
			for _, n := range []uint16{22, 23, 80, 443} {
				p := netip.AddrPortFrom(a, n)
				r, ok := res[p.String()]
				np, nok := theirs[p]
				got := r.State.String() + " " + r.Reason + " ttl " + strconv.Itoa(int(r.TTL)) + " from " + ipOrEmpty(r.ReasonIP)
				if want := np.State + " " + np.Reason + " ttl " + np.ReasonTTL + " from " + np.ReasonIP; !ok || !nok || got != want {
					t.Errorf("%s: %q, nmap -sS %q", p, got, want)
				}
			}
		}
	}
}

// nmapState is the <state> of a port in nmap's XML.
type nmapState struct {
	State     string `xml:"state,attr"`
	Reason    string `xml:"reason,attr"`
	ReasonTTL string `xml:"reason_ttl,attr"`
	ReasonIP  string `xml:"reason_ip,attr"`
}

// ipOrEmpty is a as nmap's reason_ip writes it: "" when there is none.
func ipOrEmpty(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// nmapPorts runs nmap with args (-oX - among them) and returns the state
// of each port it lists.
func nmapPorts(t *testing.T, nmap string, args []string) map[netip.AddrPort]nmapState {
	t.Helper()
	out, err := exec.Command(nmap, args...).Output()
	if err != nil {
		t.Fatalf("nmap %s: %v", strings.Join(args, " "), err)
	}
	var run struct {
		Hosts []struct {
			Addrs []struct {
				Addr string `xml:"addr,attr"`
				Type string `xml:"addrtype,attr"`
			} `xml:"address"`
			Ports []struct {
				ID    uint16    `xml:"portid,attr"`
				State nmapState `xml:"state"`
			} `xml:"ports>port"`
		} `xml:"host"`
	}
	if err := xml.Unmarshal(out, &run); err != nil {
		t.Fatalf("nmap's XML: %v", err)
	}
	states := map[netip.AddrPort]nmapState{}
	for _, h := range run.Hosts {
		var a netip.Addr
		for _, ad := range h.Addrs {
			if ad.Type == "ipv4" || ad.Type == "ipv6" {
				a, _ = netip.ParseAddr(ad.Addr)
			}
		}
		for _, p := range h.Ports {
			states[netip.AddrPortFrom(a, p.ID)] = p.State
		}
	}
	return states
}
