//go:build linux

package scanner

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
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
	cfg := Config{
		Ports:             &ports.Set{},
		InitialRTTTimeout: 300 * time.Millisecond,
		MaxRTTTimeout:     300 * time.Millisecond,
	}
	for _, p := range fl.TCP() {
		cfg.Ports.Add(ports.Port{Number: p, Proto: ports.TCP})
	}
	spec := fmt.Sprintf("%s %s", fl.Addr, fl.Addr6)
	for _, d := range fl.Dead {
		spec += " " + d.String()
	}
	connect, _, _ := scanSpec(t, cfg, spec)
	cfg.Syn = true
	res, hosts, st := scanSpec(t, cfg, spec)
	t.Logf("SYN scan: %+v", st)
	sameStates(t, res, connect)

	want := byKind(map[string][]uint16{
		"open syn-ack":              append(slices.Clone(fl.Open), fl.OpenClose...),
		"filtered no-response":      append(slices.Clone(fl.Dropped), fl.FullBacklog...),
		"closed reset":              append(slices.Clone(fl.Closed), fl.Reset...),
		"filtered admin-prohibited": fl.AdminProhibited,
		"filtered host-unreach":     fl.HostUnreach,
	})
	for _, addr := range []netip.Addr{fl.Addr, fl.Addr6} {
		if h := hosts[addr]; !h.Up || h.Reason == "" {
			t.Errorf("%s: %+v, want up", addr, h)
		}
		for p, w := range want {
			if addr == fl.Addr6 && slices.Contains(fl.FullBacklog, p) {
				w = "closed reset" // the full-backlog listener is IPv4 only
			}
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
