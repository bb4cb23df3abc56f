package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
	"github.com/portscan/portscan/targets"
)

// The tests here build a lab in network namespaces (root only; they skip
// elsewhere) and run the whole engine inside it through lab.Reexec.

func catalogTCP() *ports.Set {
	s := &ports.Set{}
	for e := range services.Default().All() {
		if e.Port.Proto == ports.TCP {
			s.Add(e.Port)
		}
	}
	return s
}

func scanSpec(t *testing.T, cfg Config, spec string) (map[string]result.Port, map[netip.Addr]result.Host, result.Summary) {
	t.Helper()
	set := targets.NewSet(targets.Options{})
	if err := set.Add(spec); err != nil {
		t.Fatal(err)
	}
	res := map[string]result.Port{}
	hosts := map[netip.Addr]result.Host{}
	st, err := Run(context.Background(), cfg, set.All(context.Background()), result.Funcs{
		OnPort: func(r result.Port) {
			k := netip.AddrPortFrom(r.Host, r.Port.Number).String()
			if _, dup := res[k]; dup {
				t.Errorf("%s reported twice", k)
			}
			res[k] = r
		},
		OnHost: func(h result.Host) { hosts[h.Addr] = h },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, hosts, st
}

// inLab builds a lab with build and runs the test again inside it, in
// the namespace that ns names. It returns the lab and true in that child
// run, false in the parent.
func inLab[L any](t *testing.T, build func(testing.TB) *L, ns func(*L) *lab.Namespace) (L, bool) {
	t.Helper()
	var l L
	if !lab.InChild() {
		built := build(t)
		ns(built).Reexec(t, built)
		return l, false
	}
	lab.ChildData(t, &l)
	return l, true
}

// The namespaces that scan in each lab.
func filteredNS(l *lab.FilteredLoopback) *lab.Namespace { return l.NS }
func slash24NS(l *lab.LoopbackSlash24) *lab.Namespace   { return l.NS }
func lanScanner(l *lab.LAN) *lab.Namespace              { return l.Scanner }
func routedScanner(l *lab.Routed) *lab.Namespace        { return l.Scanner }

// filteredLab builds the filtered lab and runs the test again inside it.
// It returns the lab and true in that child run, false in the parent.
func filteredLab(t *testing.T) (lab.FilteredLoopback, bool) {
	t.Helper()
	return inLab(t, lab.NewFilteredLoopback, filteredNS)
}

// byKind turns lists of ports by expected outcome into each port's
// expected outcome.
func byKind(kinds map[string][]uint16) map[uint16]string {
	want := map[uint16]string{}
	for kind, list := range kinds {
		for _, p := range list {
			want[p] = kind
		}
	}
	return want
}

// filteredSpec lists the filtered lab's two addresses and its dead
// hosts.
func filteredSpec(fl lab.FilteredLoopback) string {
	spec := fmt.Sprintf("%s %s", fl.Addr, fl.Addr6)
	for _, d := range fl.Dead {
		spec += " " + d.String()
	}
	return spec
}

// filteredTCP is the scan of the filtered lab's TCP ports, its timeouts
// short for the ports that drop.
func filteredTCP(fl lab.FilteredLoopback) Config {
	cfg := Config{
		Ports:             &ports.Set{},
		InitialRTTTimeout: 300 * time.Millisecond,
		MaxRTTTimeout:     300 * time.Millisecond,
	}
	for _, p := range fl.TCP() {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.TCP})
	}
	return cfg
}

// filteredWant is the "state reason" each TCP port of the filtered lab
// is to get on addr, closed being what a closed port's is.
func filteredWant(fl lab.FilteredLoopback, addr netip.Addr, closed string) map[uint16]string {
	want := byKind(map[string][]uint16{
		"open syn-ack":              append(slices.Clone(fl.Open), fl.OpenClose...),
		"filtered no-response":      append(slices.Clone(fl.Dropped), fl.FullBacklog...),
		closed:                      append(slices.Clone(fl.Closed), fl.Reset...),
		"filtered admin-prohibited": fl.AdminProhibited,
		"filtered host-unreach":     fl.HostUnreach,
	})
	if addr == fl.Addr6 {
		for _, p := range fl.FullBacklog {
			want[p] = closed // the full-backlog listener is IPv4 only
		}
	}
	return want
}

func TestLabFilteredLoopback(t *testing.T) {
	fl, child := filteredLab(t)
	if !child {
		return
	}
	res, hosts, _ := scanSpec(t, filteredTCP(fl), filteredSpec(fl))
	for _, addr := range []netip.Addr{fl.Addr, fl.Addr6} {
		if h := hosts[addr]; !h.Up {
			t.Errorf("%s: %+v, want up", addr, h)
		}
		for p, w := range filteredWant(fl, addr, "closed conn-refused") {
			r, ok := res[netip.AddrPortFrom(addr, p).String()]
			if got := r.State.String() + " " + r.Reason; !ok || got != w {
				t.Errorf("%s port %d: %q, want %q", addr, p, got, w)
			}
		}
	}
	for _, d := range fl.Dead {
		if h, ok := hosts[d]; !ok || h.Up || h.Silent == 0 {
			t.Errorf("dead host %s: %+v, want down with silent probes", d, h)
		}
	}
	if len(hosts) != 2+len(fl.Dead) {
		t.Errorf("%d hosts reported, want %d", len(hosts), 2+len(fl.Dead))
	}
}

// openSet lists "addr:port" of every open result.
func openSet(res map[string]result.Port) []string {
	var out []string
	for k, r := range res {
		if r.State == result.Open {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func liveOpen(live []lab.LiveHost, scanned *ports.Set) []string {
	var out []string
	for _, h := range live {
		for _, p := range h.TCP {
			if scanned.Contains(ports.Port{Number: p, Proto: ports.TCP}) {
				out = append(out, netip.AddrPortFrom(h.Addr, p).String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// scanLive scans prefix on the catalog's TCP ports and checks that the
// open ports are exactly the live hosts' listeners.
func scanLive(t *testing.T, prefix netip.Prefix, live []lab.LiveHost) (map[netip.Addr]result.Host, result.Summary) {
	t.Helper()
	cfg := Config{Ports: catalogTCP()}
	start := time.Now()
	res, hosts, st := scanSpec(t, cfg, prefix.String())
	t.Logf("%s, %d ports: %v, %+v", prefix, cfg.Ports.Len(ports.TCP), time.Since(start), st)
	if got, want := openSet(res), liveOpen(live, cfg.Ports); !slices.Equal(got, want) {
		t.Errorf("open ports\n got %v\nwant %v", got, want)
	}
	return hosts, st
}

func TestLabLAN(t *testing.T) {
	l, child := inLab(t, lab.NewLAN, lanScanner)
	if !child {
		return
	}
	hosts, st := scanLive(t, l.Prefix, l.Live)
	for _, h := range l.Live {
		if !hosts[h.Addr].Up {
			t.Errorf("live host %s not up: %+v", h.Addr, hosts[h.Addr])
		}
	}
	for _, a := range append(slices.Clone(l.Dropping), l.Unassigned()...) {
		if hosts[a].Up {
			t.Errorf("host %s up: %+v", a, hosts[a])
		}
	}
	if !hosts[l.ScannerAddr].Up {
		t.Errorf("the scanner's own address %s not up", l.ScannerAddr)
	}
	if st.HostsUp != len(l.Live)+1 || len(hosts) != 256 {
		t.Errorf("%d of %d hosts up, want %d (the live ones and the scanner's own) of 256", st.HostsUp, len(hosts), len(l.Live)+1)
	}
}

func TestLabLoopbackSlash24(t *testing.T) {
	l, child := inLab(t, lab.NewLoopbackSlash24, slash24NS)
	if !child {
		return
	}
	hosts, st := scanLive(t, l.Prefix, l.Live)
	if st.HostsUp != len(l.Live) || len(hosts) != 256 {
		t.Errorf("%d of %d hosts up, want %d of 256", st.HostsUp, len(hosts), len(l.Live))
	}
}

// TestLabNoSelfConnect scans every port of a loopback where nothing
// listens: a probe whose socket happens to have the destination port as
// its source port connects to itself, and must not be called open.
func TestLabNoSelfConnect(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "empty")
		ns.Reexec(t, nil)
		return
	}
	cfg := Config{Ports: &ports.Set{}, SkipDiscovery: true}
	cfg.Ports.AddRange(ports.TCP, 1, 65535)
	res, _, _ := scanSpec(t, cfg, "127.0.0.1")
	if open := openSet(res); len(open) > 0 {
		t.Errorf("nothing listens, yet open: %v", open)
	}
	if len(res) != 65535 {
		t.Errorf("%d results, want 65535", len(res))
	}
}

// TestLabUDPFilteredLoopback checks every kind of UDP port of the
// filtered lab.
func TestLabUDPFilteredLoopback(t *testing.T) {
	fl, child := filteredLab(t)
	if !child {
		return
	}
	cfg := Config{
		Ports:             &ports.Set{},
		InitialRTTTimeout: time.Second,
		MaxRTTTimeout:     time.Second,
		SkipDiscovery:     true,
	}
	for _, p := range fl.UDP() {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.UDP})
	}
	res, _, _ := scanSpec(t, cfg, fl.Addr.String()+" "+fl.Addr6.String())
	want := byKind(map[string][]uint16{
		"open":                      fl.UDPOpen,
		"open|filtered no-response": append(slices.Clone(fl.UDPSilent), fl.UDPDropped...),
		"closed port-unreach":       append(slices.Clone(fl.UDPClosed), fl.UDPPortUnreach...),
		"filtered admin-prohibited": fl.UDPAdminProhibited,
	})
	for _, addr := range []netip.Addr{fl.Addr, fl.Addr6} {
		for p, w := range want {
			r := res[netip.AddrPortFrom(addr, p).String()]
			got := r.State.String() + " " + r.Reason
			if w == "open" {
				got = r.State.String() // the reason names what answered
			}
			if got != w {
				t.Errorf("%s %d/udp: %q, want %q", addr, p, got, w)
			}
		}
	}
}

// TestLabUDPRateLimitedICMP scans closed UDP ports of a LAN host whose
// kernel rate-limits its port unreachables (10 a second here, after a
// burst), which would make most of them look open|filtered to a scanner
// that does not notice.
func TestLabUDPRateLimitedICMP(t *testing.T) {
	if !lab.InChild() {
		l := lab.NewLAN(t)
		l.Hosts.SetICMPRateLimit(true)
		l.Hosts.Sysctl("net/ipv4/icmp_ratelimit", "100")
		l.Scanner.Reexec(t, l)
		return
	}
	var l lab.LAN
	lab.ChildData(t, &l)
	host := l.Live[1] // no UDP listeners
	var limits []ICMPLimit
	cfg := Config{Ports: portSet(t, "U:20000-20039"), ICMPLimit: func(l ICMPLimit) { limits = append(limits, l) }}
	start := time.Now()
	res, hosts, st := scanSpec(t, cfg, host.Addr.String())
	t.Logf("ICMP limit events: %+v", limits)
	if len(limits) == 0 || !limits[0].First || limits[0].Addr != host.Addr || limits[0].ProbeRate != udpStartRate {
		t.Errorf("ICMP limit events %+v, want the first for %v at %d probes/s", limits, host.Addr, udpStartRate)
	}
	for _, l := range limits[1:] {
		if l.First || l.ProbeRate >= udpStartRate {
			t.Errorf("later event %+v, want a slower rate", l)
		}
	}
	// The last, as the host finished, measures the limit (10 a second).
	if last := limits[len(limits)-1]; !last.Done || last.ICMPRate < 2 || last.ICMPRate > 20 {
		t.Errorf("last event %+v, want Done with about 10 ICMP/s", last)
	}
	t.Logf("%d closed UDP ports under ICMP rate limiting: %v, %d probes", len(res), time.Since(start), st.Probes)
	for k, r := range res {
		if r.State != result.Closed {
			t.Errorf("%s: %v %s, want closed", k, r.State, r.Reason)
		}
	}
	if len(res) != 40 || !hosts[host.Addr].Up {
		t.Errorf("%d results, host %+v", len(res), hosts[host.Addr])
	}
}
