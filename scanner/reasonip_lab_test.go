//go:build linux

package scanner

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabReasonIP scans the routed lab with the SYN scan and the connect
// scan: a port the router's ICMP error decided (admin-prohibited for
// l.Prohibited, host unreachable for l.Nobody) has the router as its
// ReasonIP, as nmap's reason_ip, and so does the host nobody holds, down
// by the router's host unreachable; a port a host's own SYN-ACK or RST
// decided, and the live hosts, have none.
func TestLabReasonIP(t *testing.T) {
	l, child := inLab(t, lab.NewRouted, routedScanner)
	if !child {
		return
	}
	router := nextHop(t, l.Live[0].Addr)
	spec := strings.Join([]string{l.Live[0].Addr.String(), l.Nobody.String()}, " ")
	for _, tt := range []struct {
		name string
		syn  bool
	}{{"-sS", true}, {"-sT", false}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Ports: portSet(t, "22,23,80"), Syn: tt.syn, SkipDiscovery: true, InitialRTTTimeout: 500 * time.Millisecond}
			res, _, _ := scanSpec(t, cfg, spec)
			for _, a := range []netip.Addr{l.Live[0].Addr, l.Nobody} {
				for _, n := range []uint16{22, 23, 80} {
					p := netip.AddrPortFrom(a, n)
					want := netip.Addr{}
					if p == l.Prohibited || a == l.Nobody {
						want = router
					}
					if r, ok := res[p.String()]; !ok || r.ReasonIP != want {
						t.Errorf("%s: %v %s from %v, want from %v", p, r.State, r.Reason, r.ReasonIP, want)
					}
				}
			}
			cfg.SkipDiscovery = false
			_, hosts, _ := scanSpec(t, cfg, spec)
			if h := hosts[l.Live[0].Addr]; !h.Up || h.ReasonIP.IsValid() {
				t.Errorf("%s: %q from %v, want up, from nobody", l.Live[0].Addr, status(h), h.ReasonIP)
			}
			if h := hosts[l.Nobody]; status(h) != "down host-unreach" || h.ReasonIP != router {
				t.Errorf("%s: %q from %v, want down host-unreach from %v", l.Nobody, status(h), h.ReasonIP, router)
			}
		})
	}
}
