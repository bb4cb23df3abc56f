//go:build linux

package scanner

import (
	"encoding/xml"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// The SYN scan's tests run in namespaces, as root, like the connect
// scan's (lab_test.go): every frame stays inside a lab.

// sameStates checks that two scans gave every port one state.
func sameStates(t *testing.T, syn, connect map[string]result.Port) {
	t.Helper()
	for k, r := range connect {
		if s, ok := syn[k]; !ok || s.State != r.State {
			t.Errorf("%s: SYN scan %v %s, connect scan %v %s", k, s.State, s.Reason, r.State, r.Reason)
		}
	}
	if len(syn) != len(connect) {
		t.Errorf("SYN scan: %d ports, connect scan %d", len(syn), len(connect))
	}
}

func TestLabSynFilteredLoopback(t *testing.T) {
	fl, child := filteredLab(t)
	if !child {
		return
	}
	cfg, spec := filteredTCP(fl), filteredSpec(fl)
	connect, _, _ := scanSpec(t, cfg, spec)
	cfg.Syn = true
	res, hosts, st := scanSpec(t, cfg, spec)
	t.Logf("SYN scan: %+v", st)
	sameStates(t, res, connect)
	for _, addr := range []netip.Addr{fl.Addr, fl.Addr6} {
		if h := hosts[addr]; !h.Up || h.Reason == "" {
			t.Errorf("%s: %+v, want up", addr, h)
		}
		for p, w := range filteredWant(fl, addr, "closed reset") {
			r, ok := res[netip.AddrPortFrom(addr, p).String()]
			if got := r.State.String() + " " + r.Reason; !ok || got != w {
				t.Errorf("%s port %d: %q, want %q", addr, p, got, w)
			}
			if r.State == result.Open && r.RTT <= 0 {
				t.Errorf("%s port %d: open with RTT %v", addr, p, r.RTT)
			}
		}
	}
	for _, d := range fl.Dead {
		if h, ok := hosts[d]; !ok || h.Up || h.Silent == 0 || h.Reason != result.ReasonNoResponse {
			t.Errorf("dead host %s: %+v, want down, no-response", d, h)
		}
	}
}

// TestLabSynLAN20 scans the LAN /20 (4096 addresses: five live, three
// dropping, the rest nobody's) on its four ports: the open ports are
// exactly the listeners, the dropping hosts are down with no response,
// and where nobody is, ARP fails and the host is down, host-unreach.
func TestLabSynLAN20(t *testing.T) {
	l, child := inLab(t, lab.NewLAN20, lanScanner)
	if !child {
		return
	}
	cfg := Config{Ports: &ports.Set{}, Syn: true}
	for _, p := range lab.LAN20Ports {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.TCP})
	}
	start := time.Now()
	res, hosts, st := scanSpec(t, cfg, l.Prefix.String())
	t.Logf("%s, %d ports: %v, %+v", l.Prefix, len(lab.LAN20Ports), time.Since(start), st)
	if got, want := openSet(res), liveOpen(l.Live, cfg.Ports); !slices.Equal(got, want) {
		t.Errorf("open ports\n got %v\nwant %v", got, want)
	}
	for _, h := range l.Live {
		if !hosts[h.Addr].Up {
			t.Errorf("live host %s not up: %+v", h.Addr, hosts[h.Addr])
		}
	}
	for _, a := range l.Dropping {
		if h := hosts[a]; h.Up || h.Reason != result.ReasonNoResponse {
			t.Errorf("dropping host %s: %+v, want down, no-response", a, h)
		}
	}
	for _, a := range l.Unassigned()[:50] {
		if h := hosts[a]; h.Up || h.Reason != result.ReasonHostUnreach {
			t.Errorf("%s, where nobody is: %+v, want down, host-unreach", a, h)
		}
	}
	if st.HostsUp != len(l.Live)+1 || len(hosts) != 4096 {
		t.Errorf("%d of %d hosts up, want %d (the live ones and the scanner's own) of 4096", st.HostsUp, len(hosts), len(l.Live)+1)
	}
}

// TestLabSynRouted scans through a router, IPv4 and IPv6: the SYNs go to
// the router's link address, and the ICMP errors that the router sends
// name their reasons, as the connect scan reads them.
func TestLabSynRouted(t *testing.T) {
	l, child := inLab(t, lab.NewRouted, routedScanner)
	if !child {
		return
	}
	cfg := Config{Ports: portSet(t, "22,23,80,443"), InitialRTTTimeout: 500 * time.Millisecond}
	spec := l.Nobody.String() + " " + l.Dropping[0].String()
	for _, h := range l.Live {
		spec += " " + h.Addr.String()
	}
	connect, _, _ := scanSpec(t, cfg, spec)
	cfg.Syn = true
	res, hosts, st := scanSpec(t, cfg, spec)
	t.Logf("SYN scan: %+v", st)
	sameStates(t, res, connect)
	for _, h := range l.Live {
		for _, p := range []uint16{22, 23, 80, 443} {
			want := "closed reset"
			switch {
			case slices.Contains(h.TCP, p):
				want = "open syn-ack"
			case netip.AddrPortFrom(h.Addr, p) == l.Prohibited:
				want = "filtered admin-prohibited"
			}
			r := res[netip.AddrPortFrom(h.Addr, p).String()]
			if got := r.State.String() + " " + r.Reason; got != want {
				t.Errorf("%s port %d: %q, want %q", h.Addr, p, got, want)
			}
		}
	}
	if h := hosts[l.Nobody]; h.Up || h.Reason != result.ReasonHostUnreach {
		t.Errorf("%s, where nobody is behind the router: %+v, want down, host-unreach", l.Nobody, h)
	}
	if h := hosts[l.Dropping[0]]; h.Up || h.Reason != result.ReasonNoResponse {
		t.Errorf("dropping %s: %+v, want down, no-response", l.Dropping[0], h)
	}
}

// TestLabSynForged sends the SYN scan forged answers: a forger in the
// hosts' namespace sees each SYN (before the hosts' firewall drops it)
// and answers for a host that drops everything. A SYN-ACK or RST whose
// acknowledgement is not the SYN's cookie plus one, or that comes from
// another port than the one probed, is dropped: the port stays filtered.
// The forger's right answer for a third host shows that its frames do
// reach the scanner.
func TestLabSynForged(t *testing.T) {
	if lab.InChild() {
		var l lab.LAN
		lab.ChildData(t, &l)
		cfg := Config{Ports: portSet(t, "22"), Syn: true, SkipDiscovery: true, InitialRTTTimeout: 300 * time.Millisecond}
		res, _, _ := scanSpec(t, cfg, l.Dropping[0].String()+" "+l.Dropping[1].String()+" "+l.Dropping[2].String())
		for i, want := range []string{"filtered no-response", "filtered no-response", "open syn-ack"} {
			r := res[netip.AddrPortFrom(l.Dropping[i], 22).String()]
			if got := r.State.String() + " " + r.Reason; got != want {
				t.Errorf("%s port 22: %q, want %q", l.Dropping[i], got, want)
			}
		}
		return
	}
	l := lab.NewLAN(t)
	var conn *raw.Conn
	err := l.Hosts.Do(func() error {
		nl, err := raw.OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		eth, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ifi, err := nl.Link(eth.Index)
		if err != nil {
			return err
		}
		if conn, err = raw.Open(ifi); err != nil {
			return err
		}
		prog, err := raw.Filter{TCPPorts: &raw.PortRange{First: 22, Last: 22}}.Program()
		if err != nil {
			return err
		}
		return conn.SetFilter(prog)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var forged atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, d := raw.NewBuilder(), raw.NewDecoder()
		bufs, n := [][]byte{make([]byte, 2048)}, []int{0}
		for {
			k, err := conn.ReadBatch(bufs, n, -1)
			if err != nil {
				return
			}
			if k == 0 {
				continue
			}
			f := bufs[0][:n[0]]
			p, err := d.Decode(f)
			if err != nil || p.Kind != raw.KindTCP || p.TCP.Flags != raw.FlagSYN {
				continue
			}
			seg := raw.Segment{SrcMAC: conn.Interface().MAC, DstMAC: net.HardwareAddr(f[6:12]), Src: p.Dst, Dst: p.Src,
				SrcPort: 22, DstPort: p.TCP.SrcPort, Seq: 777}
			var replies []raw.Segment
			switch p.Dst {
			case l.Dropping[0]: // wrong acknowledgements
				a, r := seg, seg
				a.Flags, a.Ack = raw.FlagSYN|raw.FlagACK, p.TCP.Seq+2
				r.Flags, r.Ack = raw.FlagRST|raw.FlagACK, p.TCP.Seq
				replies = append(replies, a, r)
			case l.Dropping[1]: // the right acknowledgement, from another port
				a := seg
				a.Flags, a.Ack, a.SrcPort = raw.FlagSYN|raw.FlagACK, p.TCP.Seq+1, 23
				replies = append(replies, a)
			case l.Dropping[2]: // the right answer
				a := seg
				a.Flags, a.Ack = raw.FlagSYN|raw.FlagACK, p.TCP.Seq+1
				replies = append(replies, a)
			}
			for _, r := range replies {
				fr, err := b.TCP(r)
				if err == nil {
					if _, err := conn.WriteBatch([][]byte{fr}); err == nil {
						forged.Add(1)
					}
				}
			}
		}
	}()
	l.Scanner.Reexec(t, l)
	conn.Close()
	<-done
	if forged.Load() < 4 {
		t.Errorf("%d forged answers sent, want one for each SYN", forged.Load())
	}
}

// TestLabSynHostConnections scans a port whose firewall drops SYNs from
// outside the kernel's ephemeral ports, which the SYN scan sends from,
// while the host itself connects to it again and again (from ephemeral
// ports, and answered): the host's own connections' SYN-ACKs to the same
// address and port must not be taken for answers. The connect scan,
// from ephemeral ports, finds the port open.
func TestLabSynHostConnections(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "syn-own")
		ns.Nft("table inet own {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 9999 tcp sport != 32768-60999 drop\n\t}\n}\n")
		ns.Reexec(t, nil)
		return
	}
	lab.Listen(t, "tcp", "127.0.0.1:9999")
	stop := make(chan struct{})
	var conns atomic.Int32
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if c, err := net.Dial("tcp", "127.0.0.1:9999"); err == nil {
				conns.Add(1)
				c.Close()
			}
		}
	}()
	cfg := Config{Ports: portSet(t, "9999"), SkipDiscovery: true, InitialRTTTimeout: 300 * time.Millisecond, MaxRTTTimeout: 300 * time.Millisecond}
	connect, _, _ := scanSpec(t, cfg, "127.0.0.1")
	cfg.Syn = true
	syn, _, _ := scanSpec(t, cfg, "127.0.0.1")
	close(stop)
	if r := connect["127.0.0.1:9999"]; r.State != result.Open {
		t.Errorf("connect scan: %v %s, want open", r.State, r.Reason)
	}
	if r := syn["127.0.0.1:9999"]; r.State != result.Filtered || r.Reason != result.ReasonNoResponse {
		t.Errorf("SYN scan while the host connects %d times: %v %s, want filtered no-response", conns.Load(), r.State, r.Reason)
	}
	if conns.Load() == 0 {
		t.Error("the host made no connection meanwhile")
	}
}

// TestLabSynAgreesWithNmap scans the filtered lab with the SYN scan and
// with nmap -sS, IPv4 and IPv6: every port gets the same state, reason
// and reason_ttl from both. The lab's kernel sends with a TTL of its
// own, not the scanners' 64, so that the answers' TTL is seen to be
// theirs.
func TestLabSynAgreesWithNmap(t *testing.T) {
	fl, child := inLab(t, func(t testing.TB) *lab.FilteredLoopback {
		fl := lab.NewFilteredLoopback(t)
		fl.NS.SetTTL(labHostTTL)
		return fl
	}, filteredNS)
	if !child {
		return
	}
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap not found (apt-get install nmap)")
	}
	cfg := Config{Ports: &ports.Set{}, SkipDiscovery: true, Syn: true, InitialRTTTimeout: 300 * time.Millisecond, MaxRTTTimeout: 300 * time.Millisecond}
	var list []string
	for _, p := range fl.TCP() {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.TCP})
		list = append(list, strconv.Itoa(int(p)))
	}
	for _, addr := range []netip.Addr{fl.Addr, fl.Addr6} {
		res, _, _ := scanSpec(t, cfg, addr.String())
		args := []string{"-sS", "-T4", "-n", "-Pn", "--reason", "-oX", "-", "-p", strings.Join(list, ","), addr.String()}
		if addr.Is6() {
			args = append([]string{"-6"}, args...)
		}
		out, err := exec.Command(nmap, args...).Output()
		if err != nil {
			t.Fatalf("nmap: %v", err)
		}
		var run struct {
			Ports []struct {
				ID    uint16    `xml:"portid,attr"`
				State nmapState `xml:"state"`
			} `xml:"host>ports>port"`
		}
		if err := xml.Unmarshal(out, &run); err != nil {
			t.Fatalf("nmap's XML: %v", err)
		}
		if len(run.Ports) != len(list) {
			t.Fatalf("nmap listed %d ports, want %d:\n%s", len(run.Ports), len(list), out)
		}
		for _, np := range run.Ports {
			r := res[netip.AddrPortFrom(addr, np.ID).String()]
			got := r.State.String() + " " + r.Reason + " ttl " + strconv.Itoa(int(r.TTL))
			if want := np.State.State + " " + np.State.Reason + " ttl " + np.State.ReasonTTL; got != want {
				t.Errorf("%s port %d: %q, nmap -sS %q", addr, np.ID, got, want)
			}
		}
	}
}

// fwRules drops, on the way out, the SYNs to ports 1000-1009 and every
// packet to 127.9.9.9: the kernel refuses those frames to sendmmsg with
// EPERM, as a host firewall's output chain does.
const fwRules = `table inet fw {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp dport 1000-1009 drop
		ip daddr 127.9.9.9 drop
	}
}
`

// TestLabSynLocalFirewall scans through a host firewall that refuses to
// send some probes: the scan goes on, a refused SYN's port is filtered
// admin-prohibited (as the connect scan finds it), the others are
// answered, and a host every discovery probe to which is refused is
// down, with no error.
func TestLabSynLocalFirewall(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "syn-fw")
		ns.Nft(fwRules)
		ns.Reexec(t, struct{}{})
		return
	}
	cfg := Config{Ports: &ports.Set{}, SkipDiscovery: true, InitialRTTTimeout: 300 * time.Millisecond, MaxRTTTimeout: 300 * time.Millisecond}
	for p := uint16(990); p < 1020; p++ {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.TCP})
	}
	connect, _, _ := scanSpec(t, cfg, "127.0.0.1")
	cfg.Syn = true
	res, _, _ := scanSpec(t, cfg, "127.0.0.1")
	sameStates(t, res, connect)
	for p := uint16(990); p < 1020; p++ {
		want := "closed reset"
		if p >= 1000 && p <= 1009 {
			want = "filtered admin-prohibited"
		}
		r := res[netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p).String()]
		if got := r.State.String() + " " + r.Reason; got != want {
			t.Errorf("port %d: %q, want %q", p, got, want)
		}
	}
	cfg.SkipDiscovery, cfg.RawDiscovery = false, true
	_, hosts, _ := scanSpec(t, cfg, "127.9.9.9")
	if h := hosts[netip.MustParseAddr("127.9.9.9")]; h.Up {
		t.Errorf("127.9.9.9, every probe to which the firewall refuses: %+v, want down", h)
	}
}
