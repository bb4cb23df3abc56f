package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

func ExampleParseService() {
	s, err := lab.ParseService("udp-silent:[::]:161")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Kind, s.Addr.Port(), s.Kind.UDP())
	_, err = lab.ParseService("sctp:127.0.0.1:9")
	fmt.Println(errors.Is(err, lab.ErrService))
	// Output:
	// udp-silent 161 true
	// true
}

// A test dials the FilteredLoopback lab from inside its namespace; the
// scanner under test would be given fl.NS.DialContext as its Dial.
func ExampleNewFilteredLoopback() {
	_ = func(t *testing.T) {
		fl := lab.NewFilteredLoopback(t) // skips unless root
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		addr := netip.AddrPortFrom(fl.Addr, fl.Closed[0]).String()
		_, err := fl.NS.DialContext(ctx, "tcp", addr)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("closed port %s: %v", addr, err)
		}
	}
}

// A test runs itself again inside the LAN's scanner namespace, where every
// goroutine, and so a whole scanner engine, sees the LAN.
func ExampleNamespace_Reexec() {
	_ = func(t *testing.T) {
		if !lab.InChild() {
			lan := lab.NewLAN(t)
			lan.Scanner.Reexec(t, lan)
			return
		}
		var lan lab.LAN
		lab.ChildData(t, &lan)
		for _, h := range lan.Live {
			c, err := net.DialTimeout("tcp", netip.AddrPortFrom(h.Addr, h.TCP[0]).String(), time.Second)
			if err != nil {
				t.Errorf("live host %s: %v", h.Addr, err)
				continue
			}
			c.Close()
		}
	}
}

// Listeners on loopback need no privilege.
func ExampleListenFullBacklog() {
	_ = func(t *testing.T) {
		ap := lab.ListenFullBacklog(t, "tcp", "127.0.0.1:0")
		_, err := net.DialTimeout("tcp", ap.String(), 200*time.Millisecond)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("a full backlog should look filtered, got %v", err)
		}
	}
}

// A test of service detection starts the detection lab and probes each
// service from inside its namespace; a test of the whole -sV command
// runs itself inside with Reexec, handing the services over as data.
func ExampleStartDetectionLab() {
	_ = func(t *testing.T) {
		if lab.InChild() {
			var services []lab.DetectService
			lab.ChildData(t, &services)
			for _, s := range services {
				_ = s.Addr       // scan it: every goroutine is inside
				_ = s.FullName() // what -sV must name: "ssh", "ssl/http"
			}
			return
		}
		ns, services := lab.StartDetectionLab(t) // skips unless root
		ns.Reexec(t, services)
	}
}

// A test starts the daemons it needs, each on the address it is given.
func ExampleStartDaemons() {
	_ = func(t *testing.T) {
		ns := lab.NewNamespace(t, "mail")
		for _, d := range lab.StartDaemons(t, ns,
			lab.Daemon{Kind: lab.Exim, Addr: netip.MustParseAddrPort("127.0.0.1:2525")},
			lab.Daemon{Kind: lab.Nginx, Addr: netip.MustParseAddrPort("[::1]:8443"), TLS: true},
		) {
			t.Logf("%v: version %s, files in %s", d, d.Version, d.Dir)
		}
	}
}
