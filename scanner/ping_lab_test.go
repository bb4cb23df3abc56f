//go:build linux

package scanner

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/oui"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// The tests of raw discovery run in namespaces, as root, like the other
// lab tests: every frame stays inside a lab.

// ciscoMAC is a MAC address of a prefix the IEEE registry names, given
// to the lab's hosts so that their vendor can be checked.
var ciscoMAC = net.HardwareAddr{0x00, 0x00, 0x0c, 0x5c, 0xa4, 0x01}

// lanDiscovery is what the parent of a LAN discovery test passes to the
// child in the lab: the lab, and the hosts' MAC address.
type lanDiscovery struct {
	LAN lab.LAN
	MAC string
}

func rawDiscovery() Config {
	return Config{DiscoverOnly: true, RawDiscovery: true}
}

func status(h result.Host) string {
	if h.Up {
		return "up " + h.Reason
	}
	return "down " + h.Reason
}

func TestLabPingLAN(t *testing.T) {
	var d lanDiscovery
	if !lab.InChild() {
		l := lab.NewLAN(t)
		l.Hosts.MustRun("ip", "link", "set", "eth0", "address", ciscoMAC.String())
		l.Scanner.MustRun("ip", "addr", "add", "fd00:18::fe/64", "dev", "eth0", "nodad")
		l.Hosts.MustRun("ip", "addr", "add", "fd00:18::1/64", "dev", "eth0", "nodad")
		l.Scanner.Reexec(t, lanDiscovery{LAN: *l, MAC: ciscoMAC.String()})
		return
	}
	lab.ChildData(t, &d)
	l := d.LAN
	start := time.Now()
	res, hosts, st := scanSpec(t, rawDiscovery(), l.Prefix.String()+" fd00:18::1 fd00:18::99")
	t.Logf("%v: %+v", time.Since(start), st)
	if len(res) != 0 {
		t.Errorf("%d port results, want none", len(res))
	}
	reg, _ := oui.System()
	vendor := reg.Vendor(ciscoMAC)
	if _, err := oui.Open(oui.SystemPath); err == nil && vendor == "" {
		t.Errorf("the registry names no vendor for %s", ciscoMAC)
	}
	want := map[netip.Addr]string{l.ScannerAddr: "up echo-reply", netip.MustParseAddr("fd00:18::1"): "up nd-response",
		netip.MustParseAddr("fd00:18::99"): "down no-response"}
	for _, h := range l.Live {
		want[h.Addr] = "up arp-response"
	}
	for _, a := range l.Dropping {
		want[a] = "up arp-response"
	}
	for _, a := range l.Unassigned() {
		want[a] = "down no-response"
	}
	for a, w := range want {
		h, ok := hosts[a]
		if got := status(h); !ok || got != w {
			t.Errorf("%s: %q, want %q", a, got, w)
			continue
		}
		switch {
		case strings.HasSuffix(w, "-response") && w != "down no-response":
			if h.MAC.String() != d.MAC || h.Vendor != vendor || h.RTT <= 0 || h.Probes != 1 {
				t.Errorf("%s: MAC %v (%q), RTT %v, %d probes; want %s (%q), a round trip, 1 probe", a, h.MAC, h.Vendor, h.RTT, h.Probes, d.MAC, vendor)
			}
		case h.Up:
			if h.MAC != nil {
				t.Errorf("%s, the scanner's own address: MAC %v", a, h.MAC)
			}
		default:
			// Asked twice (one retry), then down.
			if h.MAC != nil || h.Probes != 2 || h.Silent != 2 {
				t.Errorf("%s: MAC %v, %d probes, %d silent; want none, 2, 2", a, h.MAC, h.Probes, h.Silent)
			}
		}
	}
	if len(hosts) != 256+2 || st.HostsUp != 1+len(l.Live)+len(l.Dropping)+1 {
		t.Errorf("%d hosts, %d up; summary %+v", len(hosts), st.HostsUp, st)
	}
}

// routedDiscovery is what the parent of a routed discovery test passes
// to the child: the lab, its hosts of each kind of ping, and the
// router's MAC address on the scanner's link.
type routedDiscovery struct {
	Lab       lab.Routed
	Pings     lab.PingHosts
	RouterMAC string
}

func routedLab(t *testing.T) (routedDiscovery, bool) {
	var d routedDiscovery
	if !lab.InChild() {
		l := lab.NewRouted(t)
		pings := l.AddPingHosts(t)
		mac := strings.TrimSpace(l.Router.MustRun("cat", "/sys/class/net/eth0/address"))
		l.Scanner.Reexec(t, routedDiscovery{Lab: *l, Pings: pings, RouterMAC: mac})
		return d, false
	}
	lab.ChildData(t, &d)
	return d, true
}

// nextHop is the router the scanner's frames to addr go to.
func nextHop(t *testing.T, addr netip.Addr) netip.Addr {
	t.Helper()
	nl, err := raw.OpenNetlink()
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	r, err := nl.Route(addr)
	if err != nil || !r.Gateway.IsValid() {
		t.Fatalf("route to %s: %+v, %v; want one through a router", addr, r, err)
	}
	return r.Gateway
}

// TestLabPingRouted finds hosts beyond a router, whom ARP cannot reach,
// by each kind of ping: each host is up by the pings it answers, down
// by those it drops, and none has a MAC address (its frames come from
// the router's); the router itself, on the scanner's link, is up by ARP.
func TestLabPingRouted(t *testing.T) {
	d, child := routedLab(t)
	if !child {
		return
	}
	l, ph := d.Lab, d.Pings
	live, live6 := l.Live[0].Addr, l.Live[2].Addr
	router := nextHop(t, live)
	noEcho := ph.NoEcho.Addr
	spec := []string{router.String(), live.String(), l.Live[1].Addr.String(), live6.String(), l.Dropping[0].String(), l.Nobody.String()}
	for _, a := range ph.Addrs() {
		spec = append(spec, a.String())
	}
	tests := []struct {
		name  string
		pings []Ping
		want  map[netip.Addr][]string // any of
	}{
		{"default", nil, map[netip.Addr][]string{
			live:             {"up echo-reply", "up syn-ack", "up reset", "up timestamp-reply"},
			live6:            {"up echo-reply", "up reset"},
			noEcho:           {"up syn-ack", "up reset", "up timestamp-reply"},
			ph.TimestampOnly: {"up timestamp-reply"},
			ph.ACKOnly:       {"up reset"},
			ph.UDPOnly:       {"down no-response"},
			l.Dropping[0]:    {"down no-response"},
		}},
		{"-PE", []Ping{{Kind: PingEcho}}, map[netip.Addr][]string{
			live:             {"up echo-reply"},
			live6:            {"up echo-reply"},
			noEcho:           {"down no-response"},
			ph.TimestampOnly: {"down no-response"},
		}},
		{"-PP", []Ping{{Kind: PingTimestamp}}, map[netip.Addr][]string{
			live:             {"up timestamp-reply"},
			noEcho:           {"up timestamp-reply"},
			ph.TimestampOnly: {"up timestamp-reply"},
			ph.ACKOnly:       {"down no-response"},
		}},
		{"-PS443", []Ping{{Kind: PingSYN, Port: 443}}, map[netip.Addr][]string{
			l.Live[1].Addr: {"up syn-ack"},
			noEcho:         {"up syn-ack"},
			live:           {"up reset"},
			ph.ACKOnly:     {"down no-response"},
			ph.UDPOnly:     {"down no-response"},
			l.Dropping[0]:  {"down no-response"},
		}},
		{"-PS22", []Ping{{Kind: PingSYN, Port: 22}}, map[netip.Addr][]string{
			live:   {"up syn-ack"},
			live6:  {"up syn-ack"},
			noEcho: {"up reset"},
		}},
		{"-PA80", []Ping{{Kind: PingACK, Port: 80}}, map[netip.Addr][]string{
			live:             {"up reset"},
			ph.ACKOnly:       {"up reset"},
			ph.TimestampOnly: {"down no-response"},
		}},
		{"-PU", []Ping{{Kind: PingUDP, Port: DefaultPingUDPPort}}, map[netip.Addr][]string{
			live:          {"up port-unreach"},
			live6:         {"up port-unreach"},
			ph.UDPOnly:    {"up port-unreach"},
			l.Dropping[0]: {"down no-response"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rawDiscovery()
			cfg.Pings = tt.pings
			res, hosts, st := scanSpec(t, cfg, strings.Join(spec, " "))
			t.Logf("%+v", st)
			if len(res) != 0 {
				t.Errorf("%d port results, want none", len(res))
			}
			// The router, on the scanner's link, answers ARP, whatever
			// the pings.
			if h := hosts[router]; status(h) != "up arp-response" || h.MAC.String() != d.RouterMAC {
				t.Errorf("router %s: %q, MAC %v; want up arp-response, %s", router, status(h), h.MAC, d.RouterMAC)
			}
			for a, want := range tt.want {
				if got := status(hosts[a]); !slices.Contains(want, got) {
					t.Errorf("%s: %q, want one of %q", a, got, want)
				}
			}
			if h := hosts[l.Nobody]; h.Up {
				t.Errorf("%s, where nobody is: %q", l.Nobody, status(h))
			}
			for a, h := range hosts {
				if a != router && h.MAC != nil {
					t.Errorf("%s, beyond the router: MAC %v (the router's is %s)", a, h.MAC, d.RouterMAC)
				}
			}
		})
	}
}

func TestLabPingLoopback(t *testing.T) {
	fl, child := filteredLab(t)
	if !child {
		return
	}
	res, hosts, _ := scanSpec(t, rawDiscovery(), filteredSpec(fl))
	if len(res) != 0 {
		t.Errorf("%d port results, want none", len(res))
	}
	for _, a := range []netip.Addr{fl.Addr, fl.Addr6} {
		if h := hosts[a]; status(h) != "up echo-reply" || h.MAC != nil || h.RTT <= 0 {
			t.Errorf("%s: %q, MAC %v, RTT %v; want up echo-reply, no MAC", a, status(h), h.MAC, h.RTT)
		}
	}
	for _, a := range fl.Dead {
		// Echo and timestamp, SYN and ACK, each asked twice.
		if h := hosts[a]; status(h) != "down no-response" || h.Probes != 8 {
			t.Errorf("%s, dropping everything: %q after %d probes, want down no-response after 8", a, status(h), h.Probes)
		}
	}
}

// TestLabPingLANScan scans the ports of the LAN's hosts found by raw
// discovery: those that drop everything are up and their ports
// filtered; the ports' states come from the connect probes, never from
// the pings; nobody's addresses are not scanned.
func TestLabPingLANScan(t *testing.T) {
	l, child := inLab(t, lab.NewLAN, lanScanner)
	if !child {
		return
	}
	cfg := Config{RawDiscovery: true, Ports: portSet(t, "22,80,443"), MaxRTTTimeout: 300 * time.Millisecond}
	res, hosts, st := scanSpec(t, cfg, l.Prefix.String())
	t.Logf("%+v", st)
	for _, h := range l.Live {
		if got := status(hosts[h.Addr]); got != "up arp-response" || hosts[h.Addr].MAC == nil {
			t.Errorf("%s: %q, MAC %v", h.Addr, got, hosts[h.Addr].MAC)
		}
		for _, p := range []uint16{22, 80, 443} {
			want := "closed conn-refused"
			if slices.Contains(h.TCP, p) {
				want = "open syn-ack"
			}
			r := res[netip.AddrPortFrom(h.Addr, p).String()]
			if got := r.State.String() + " " + r.Reason; got != want {
				t.Errorf("%s port %d: %q, want %q", h.Addr, p, got, want)
			}
		}
	}
	for _, a := range l.Dropping {
		if got := status(hosts[a]); got != "up arp-response" {
			t.Errorf("%s: %q, want up arp-response", a, got)
		}
		for _, p := range []uint16{22, 80, 443} {
			r := res[netip.AddrPortFrom(a, p).String()]
			if got := r.State.String() + " " + r.Reason; got != "filtered no-response" {
				t.Errorf("%s port %d: %q, want filtered no-response", a, p, got)
			}
		}
	}
	for _, a := range l.Unassigned() {
		if h := hosts[a]; h.Up || len(h.Counts) != 0 {
			t.Errorf("%s, where nobody is: %q, %v", a, status(h), h.Counts)
		}
	}
	// The scanner's own address is up too, pinged over loopback.
	if h := hosts[l.ScannerAddr]; status(h) != "up echo-reply" || h.MAC != nil {
		t.Errorf("%s, the scanner's own: %q, MAC %v", l.ScannerAddr, status(h), h.MAC)
	}
	if n := (len(l.Live) + len(l.Dropping) + 1) * 3; len(res) != n {
		t.Errorf("%d port results, want %d", len(res), n)
	}
}

// TestLabPingLAN20 finds the hosts of a /20: exactly the eight that
// exist, and the scanner's own address, the other 4087 down after two
// requests each.
func TestLabPingLAN20(t *testing.T) {
	l, child := inLab(t, lab.NewLAN20, lanScanner)
	if !child {
		return
	}
	start := time.Now()
	_, hosts, st := scanSpec(t, rawDiscovery(), l.Prefix.String())
	t.Logf("%v: %+v", time.Since(start), st)
	exist := map[netip.Addr]bool{l.ScannerAddr: true}
	for _, h := range l.Live {
		exist[h.Addr] = true
	}
	for _, a := range l.Dropping {
		exist[a] = true
	}
	for a := range exist {
		want := "up arp-response"
		if a == l.ScannerAddr {
			want = "up echo-reply"
		}
		if got := status(hosts[a]); got != want {
			t.Errorf("%s: %q, want %q", a, got, want)
		}
	}
	for a, h := range hosts {
		if !exist[a] && (h.Up || h.Probes != 2) {
			t.Errorf("%s, where nobody is: %q after %d probes", a, status(h), h.Probes)
		}
	}
	if len(hosts) != 4096 || st.HostsUp != 9 {
		t.Errorf("%d hosts, %d up, want 4096 and 9", len(hosts), st.HostsUp)
	}
}
