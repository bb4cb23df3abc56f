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
