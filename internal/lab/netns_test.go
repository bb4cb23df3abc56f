package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// outcome names what a dial or a UDP exchange got: "connected", "reply",
// "timeout", or the errno's name.
func outcome(err error) string {
	if err == nil {
		return "connected"
	}
	if isTimeout(err) {
		return "timeout"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return errnoName(en)
	}
	return err.Error()
}

func errnoName(en syscall.Errno) string {
	names := map[syscall.Errno]string{
		syscall.ECONNREFUSED: "ECONNREFUSED",
		syscall.EHOSTUNREACH: "EHOSTUNREACH",
		syscall.ENETUNREACH:  "ENETUNREACH",
		syscall.EACCES:       "EACCES",
		syscall.EPERM:        "EPERM",
		syscall.ETIMEDOUT:    "ETIMEDOUT",
		syscall.EHOSTDOWN:    "EHOSTDOWN",
		syscall.ECONNRESET:   "ECONNRESET",
	}
	if n, ok := names[en]; ok {
		return n
	}
	return fmt.Sprintf("errno %d (%v)", int(en), en)
}

type dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// probeTCP dials addr and reports the outcome and how long it took.
func probeTCP(dial dialer, addr string, timeout time.Duration) (string, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	c, err := dial(ctx, "tcp", addr)
	d := time.Since(start)
	if err == nil {
		c.Close()
	}
	return outcome(err), d
}

// probeUDP sends a datagram on a connected socket and reads the answer:
// ICMP errors come back as the read's error.
func probeUDP(dial dialer, addr string, timeout time.Duration) (string, time.Duration) {
	start := time.Now()
	c, err := dial(context.Background(), "udp", addr)
	if err != nil {
		return "dial: " + outcome(err), time.Since(start)
	}
	defer c.Close()
	if _, err := c.Write([]byte("lab probe")); err != nil {
		return "write: " + outcome(err), time.Since(start)
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err == nil {
		if string(buf[:n]) != "lab probe" {
			return fmt.Sprintf("odd reply %q", buf[:n]), time.Since(start)
		}
		return "reply", time.Since(start)
	}
	return outcome(err), time.Since(start)
}

type probe struct {
	name  string
	udp   bool
	addr  netip.AddrPort
	want  string
	limit time.Duration
}

// runProbes runs the probes in parallel and checks each outcome.
func runProbes(t *testing.T, dial dialer, probes []probe) {
	t.Helper()
	type result struct {
		got string
		d   time.Duration
	}
	results := make([]result, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			limit := p.limit
			if limit == 0 {
				limit = time.Second
			}
			if p.udp {
				results[i].got, results[i].d = probeUDP(dial, p.addr.String(), limit)
			} else {
				results[i].got, results[i].d = probeTCP(dial, p.addr.String(), limit)
			}
		})
	}
	wg.Wait()
	for i, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			r := results[i]
			proto := "tcp"
			if p.udp {
				proto = "udp"
			}
			t.Logf("%s %s: %s after %v", proto, p.addr, r.got, r.d.Round(100*time.Microsecond))
			if r.got != p.want {
				t.Errorf("%s %s: got %s, want %s", proto, p.addr, r.got, p.want)
			}
		})
	}
}

// forNetDialer gives more time to the probes of IPv6 ports that the
// firewall rejects with ICMPv6 when they go through a plain net.Dialer. On
// loopback the ICMPv6 error arrives while connect still holds the socket,
// and the kernel keeps it as a soft error (SO_ERROR); net.Dialer waits for
// the socket to become writable, which happens only when the SYN is sent
// again and rejected again, one second later. Namespace.DialContext reads
// the soft error at once.
func forNetDialer(ps []probe) []probe {
	for i, p := range ps {
		if !p.udp && p.addr.Addr().Is6() && (p.want == "EACCES" || p.want == "EHOSTUNREACH") {
			ps[i].limit = 3 * time.Second
		}
	}
	return ps
}

func filteredProbes(fl *lab.FilteredLoopback) []probe {
	var ps []probe
	add := func(kind string, udp bool, addrs []netip.Addr, ports []uint16, want4, want6 string) {
		for _, a := range addrs {
			want := want4
			if a.Is6() {
				want = want6
			}
			for _, port := range ports {
				ap := netip.AddrPortFrom(a, port)
				ps = append(ps, probe{name: kind + "/" + ap.String(), udp: udp, addr: ap, want: want})
			}
		}
	}
	both := []netip.Addr{fl.Addr, fl.Addr6}
	add("open", false, both, fl.Open, "connected", "connected")
	add("open-close", false, both, fl.OpenClose, "connected", "connected")
	add("full-backlog", false, []netip.Addr{fl.Addr}, fl.FullBacklog, "timeout", "")
	add("closed", false, both, fl.Closed, "ECONNREFUSED", "ECONNREFUSED")
	add("reset", false, both, fl.Reset, "ECONNREFUSED", "ECONNREFUSED")
	add("dropped", false, both, fl.Dropped, "timeout", "timeout")
	add("admin-prohibited", false, both, fl.AdminProhibited, "EHOSTUNREACH", "EACCES")
	add("host-unreach", false, both, fl.HostUnreach, "EHOSTUNREACH", "EHOSTUNREACH")
	add("dead", false, fl.Dead, []uint16{fl.Open[0], fl.Closed[0]}, "timeout", "")
	add("udp-open", true, both, fl.UDPOpen, "reply", "reply")
	add("udp-silent", true, both, fl.UDPSilent, "timeout", "timeout")
	add("udp-closed", true, both, fl.UDPClosed, "ECONNREFUSED", "ECONNREFUSED")
	add("udp-dropped", true, both, fl.UDPDropped, "timeout", "timeout")
	add("udp-admin-prohibited", true, both, fl.UDPAdminProhibited, "EHOSTUNREACH", "EACCES")
	add("udp-port-unreach", true, both, fl.UDPPortUnreach, "ECONNREFUSED", "ECONNREFUSED")
	add("udp-dead", true, fl.Dead, fl.UDPOpen, "timeout", "")
	return ps
}

// TestFilteredLoopback checks, and logs, what a plain dial from inside the
// namespace gets for each kind of port.
func TestFilteredLoopback(t *testing.T) {
	t.Parallel()
	fl := lab.NewFilteredLoopback(t)
	t.Run("DialContext", func(t *testing.T) {
		runProbes(t, fl.NS.DialContext, filteredProbes(fl))
	})
	t.Run("Do", func(t *testing.T) {
		// A plain net.Dialer on the namespace's thread, one dial at a time.
		var d net.Dialer
		doDial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = fl.NS.Do(func() error {
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}
		var ps []probe
		for _, p := range filteredProbes(fl) {
			if strings.HasPrefix(p.name, "dead") || strings.HasPrefix(p.name, "udp-dead") {
				continue
			}
			ps = append(ps, p)
		}
		runProbes(t, doDial, forNetDialer(ps))
	})
	t.Run("OwnNamespaceUntouched", func(t *testing.T) {
		// The dead hosts drop only inside the lab: here, 127.0.0.2 answers.
		ln := lab.Listen(t, "tcp", netip.AddrPortFrom(fl.Dead[0], 0).String())
		if got, _ := probeTCP((&net.Dialer{}).DialContext, ln.Addr().String(), time.Second); got != "connected" {
			t.Fatalf("dial %v outside the lab: %s", ln.Addr(), got)
		}
	})
}

// TestReexec runs a test body inside the lab namespace, where a plain
// net.Dialer used from many goroutines sees the lab.
func TestReexec(t *testing.T) {
	if !lab.InChild() {
		t.Parallel()
	}
	if lab.InChild() {
		var fl lab.FilteredLoopback
		lab.ChildData(t, &fl)
		if fl.NS != nil {
			t.Errorf("child got a namespace: %v", fl.NS)
		}
		var ps []probe
		for _, p := range filteredProbes(&fl) {
			if p.name[0] == 'o' || p.name[0] == 'c' || p.name[0] == 'a' {
				ps = append(ps, p)
			}
		}
		runProbes(t, (&net.Dialer{}).DialContext, forNetDialer(ps))
		return
	}
	fl := lab.NewFilteredLoopback(t)
	fl.NS.Reexec(t, fl)
}

// TestLAN checks, and logs, what the scanner's side of the LAN gets for
// live, dropping and unassigned addresses, and how long ARP takes to fail.
func TestLAN(t *testing.T) {
	t.Parallel()
	lan := lab.NewLAN(t)
	var ps []probe
	for _, h := range lan.Live {
		for _, port := range h.TCP {
			ap := netip.AddrPortFrom(h.Addr, port)
			ps = append(ps, probe{name: "live/" + ap.String(), addr: ap, want: "connected"})
		}
		ap := netip.AddrPortFrom(h.Addr, 9)
		ps = append(ps, probe{name: "live-closed/" + ap.String(), addr: ap, want: "ECONNREFUSED"})
		for _, port := range h.UDP {
			ap := netip.AddrPortFrom(h.Addr, port)
			ps = append(ps, probe{name: "live-udp/" + ap.String(), udp: true, addr: ap, want: "reply"})
		}
		ap = netip.AddrPortFrom(h.Addr, 9)
		ps = append(ps, probe{name: "live-udp-closed/" + ap.String(), udp: true, addr: ap, want: "ECONNREFUSED"})
	}
	for _, a := range lan.Dropping {
		ap := netip.AddrPortFrom(a, 22)
		ps = append(ps, probe{name: "dropping/" + ap.String(), addr: ap, want: "timeout", limit: 2 * time.Second})
	}
	unassigned := lan.Unassigned()
	if len(unassigned) != 256-2-1-5-3 {
		t.Errorf("%d unassigned addresses", len(unassigned))
	}
	for _, a := range []netip.Addr{unassigned[0], unassigned[len(unassigned)-1]} {
		ap := netip.AddrPortFrom(a, 22)
		ps = append(ps, probe{name: "unassigned/" + ap.String(), addr: ap, want: "EHOSTUNREACH", limit: 10 * time.Second})
		// The kernel sends itself an ICMP host unreachable when ARP fails,
		// but a connected UDP socket never reports it: silence.
		ps = append(ps, probe{name: "unassigned-udp/" + ap.String(), udp: true, addr: ap, want: "timeout", limit: 4 * time.Second})
	}
	// Outside the only subnet the scanner has a route for.
	off := netip.AddrPortFrom(netip.MustParseAddr("198.19.0.1"), 22)
	ps = append(ps, probe{name: "no-route/" + off.String(), addr: off, want: "ENETUNREACH"})
	runProbes(t, lan.Scanner.DialContext, ps)
}

// TestLoopbackSlash24 checks the five live addresses and a sample of the
// dropping ones.
func TestLoopbackSlash24(t *testing.T) {
	t.Parallel()
	l := lab.NewLoopbackSlash24(t)
	if len(l.Live) != 5 || len(l.Dropping) != 251 {
		t.Fatalf("%d live and %d dropping addresses, want 5 and 251", len(l.Live), len(l.Dropping))
	}
	var ps []probe
	for _, h := range l.Live {
		for _, port := range h.TCP {
			ap := netip.AddrPortFrom(h.Addr, port)
			ps = append(ps, probe{name: "live/" + ap.String(), addr: ap, want: "connected"})
		}
		ap := netip.AddrPortFrom(h.Addr, 9)
		ps = append(ps, probe{name: "live-closed/" + ap.String(), addr: ap, want: "ECONNREFUSED"})
	}
	for _, i := range []int{0, 1, 100, 250} {
		ap := netip.AddrPortFrom(l.Dropping[i], 80)
		ps = append(ps, probe{name: "dropping/" + ap.String(), addr: ap, want: "timeout", limit: 500 * time.Millisecond})
	}
	runProbes(t, l.NS.DialContext, ps)
}

// TestNamespace covers the plumbing: Run, Do, Sysctl, cleanup.
func TestNamespace(t *testing.T) {
	ns := lab.NewNamespace(t, "Plumbing Test!")
	if !strings.HasPrefix(ns.Name(), fmt.Sprintf("ps-%d-", os.Getpid())) || !strings.HasSuffix(ns.Name(), "-plumbing-test-") {
		t.Errorf("name %q", ns.Name())
	}
	if _, err := os.Stat(ns.Path()); err != nil {
		t.Fatal(err)
	}
	out := ns.MustRun("ip", "-o", "link", "show")
	if strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "lo:") || !strings.Contains(out, "UP") {
		t.Errorf("a new namespace should hold only lo, up:\n%s", out)
	}
	if _, err := ns.Run("false"); err == nil {
		t.Error("Run(false) succeeded")
	}
	ns.Sysctl("net.ipv4.ip_forward", "1")
	if got := strings.TrimSpace(ns.MustRun("cat", "/proc/sys/net/ipv4/ip_forward")); got != "1" {
		t.Errorf("ip_forward inside = %s after Sysctl", got)
	}
	own, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	t.Logf("ip_forward in the test's own namespace: %s", strings.TrimSpace(string(own)))

	ns.AddAddr("192.0.2.1/32", "lo")
	err := ns.Do(func() error {
		ifs, err := net.InterfaceAddrs()
		if err != nil {
			return err
		}
		for _, a := range ifs {
			if strings.HasPrefix(a.String(), "192.0.2.1/") {
				return nil
			}
		}
		return fmt.Errorf("192.0.2.1 not among %v", ifs)
	})
	if err != nil {
		t.Errorf("Do: %v", err)
	}
	if err := ns.Do(func() error { return errors.New("boom") }); err == nil || err.Error() != "boom" {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	// After Do the goroutine is back in its own namespace.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if strings.HasPrefix(a.String(), "192.0.2.1/") {
			t.Errorf("192.0.2.1 seen outside the namespace")
		}
	}

}

// TestNamespaceCleanup checks that a namespace and the processes left
// inside it are gone once its test ends.
func TestNamespaceCleanup(t *testing.T) {
	var name string
	exited := make(chan error, 1)
	t.Run("make", func(t *testing.T) {
		ns := lab.NewNamespace(t, "cleanup")
		name = ns.Name()
		cmd := ns.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { exited <- cmd.Wait() }()
		started := ns.Start("sleep", "600")
		if started.Process == nil {
			t.Fatal("Start returned no process")
		}
	})
	if name == "" {
		t.Skip("no namespace was made")
	}
	if _, err := os.Stat("/var/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("namespace %s still there after its test (%v)", name, err)
	}
	select {
	case err := <-exited:
		t.Logf("process left inside was ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Error("process left inside the namespace still runs")
	}
}

// TestStaleNamespaces checks that a namespace left by a dead run is
// removed when a new run makes its first namespace.
func TestStaleNamespaces(t *testing.T) {
	lab.Require(t)
	mine := lab.NewNamespace(t, "alive")
	// A pid that is surely dead: a process that has exited and been reaped.
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	stale := fmt.Sprintf("ps-%d-1-stale", p.Pid)
	if err := runCmd("ip", "netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runCmd("ip", "netns", "del", stale) })
	lab.RemoveStale()
	if _, err := os.Stat("/var/run/netns/" + stale); !os.IsNotExist(err) {
		t.Fatalf("stale namespace %s still there (%v)", stale, err)
	}
	if _, err := os.Stat(mine.Path()); err != nil {
		t.Fatalf("the namespace of a live run was removed: %v", err)
	}
}

func runCmd(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// TestDialContextConcurrent dials from many goroutines at once through the
// namespace's single socket maker.
func TestDialContextConcurrent(t *testing.T) {
	fl := lab.NewFilteredLoopback(t)
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			port, want := fl.Open[i%len(fl.Open)], "connected"
			if i%2 == 1 {
				port, want = fl.Closed[i%len(fl.Closed)], "ECONNREFUSED"
			}
			addr := netip.AddrPortFrom(fl.Addr, port).String()
			if got, _ := probeTCP(fl.NS.DialContext, addr, 5*time.Second); got != want {
				errs <- fmt.Sprintf("%s: %s, want %s", addr, got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkDialContext measures a dial to a closed port through the
// namespace's DialContext, against a plain net.Dialer on the test's own
// loopback.
func BenchmarkDialContext(b *testing.B) {
	fl := lab.NewFilteredLoopback(b)
	closed := netip.AddrPortFrom(fl.Addr, fl.Closed[0]).String()
	b.Run("namespace", func(b *testing.B) {
		for b.Loop() {
			probeTCP(fl.NS.DialContext, closed, time.Second)
		}
	})
	b.Run("net.Dialer", func(b *testing.B) {
		ln := lab.Listen(b, "tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		for b.Loop() {
			probeTCP((&net.Dialer{}).DialContext, addr, time.Second)
		}
	})
}
