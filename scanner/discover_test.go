package scanner

import (
	"context"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/portscan/portscan/result"
)

// TestDiscoverOnly checks that DiscoverOnly probes only the discovery
// ports, emits no port, and reports each host up, with the reason and
// the round trip time that proved it, or down.
func TestDiscoverOnly(t *testing.T) {
	f := &fakeNet{answers: map[string]error{
		"192.0.2.1:80":  syscall.ECONNREFUSED,
		"192.0.2.2:443": nil,
		"192.0.2.2:22":  nil, // a port scan would find it
	}}
	cfg := fastConfig(f, "22", t)
	cfg.Ports = nil
	cfg.DiscoverOnly = true
	res, hosts, st := collect(t, cfg, addrs("192.0.2.1", "192.0.2.2", "192.0.2.3"))
	if len(res) != 0 {
		t.Errorf("%d port results, want none: %v", len(res), res)
	}
	for _, c := range f.calls {
		if !strings.HasSuffix(c, ":80") && !strings.HasSuffix(c, ":443") {
			t.Errorf("dialled %s, not a discovery port", c)
		}
	}
	byAddr := map[string]result.Host{}
	for _, h := range hosts {
		byAddr[h.Addr.String()] = h
	}
	want := map[string]string{"192.0.2.1": "up conn-refused", "192.0.2.2": "up syn-ack", "192.0.2.3": "down no-response"}
	for addr, w := range want {
		h, ok := byAddr[addr]
		state := "down"
		if h.Up {
			state = "up"
		}
		if got := state + " " + h.Reason; !ok || got != w {
			t.Errorf("%s: %q, want %q", addr, got, w)
		}
		if h.Up && (h.Timeout <= 0 || h.RTT < 0) {
			t.Errorf("%s: RTT %v, timeout %v; want its round trip and timeout", addr, h.RTT, h.Timeout)
		}
	}
	if st.HostsUp != 2 || st.HostsDown != 1 || st.Open != 0 {
		t.Errorf("summary %+v", st)
	}
}

// TestDiscoverOnlyNeedsNoPorts checks that a discovery run takes a
// Config without ports, which a port scan refuses.
func TestDiscoverOnlyNeedsNoPorts(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.1:80": nil}}
	cfg := Config{Dial: f.dial, DiscoverOnly: true, InitialRTTTimeout: fastConfig(f, "1", t).InitialRTTTimeout}
	if _, err := Run(context.Background(), cfg, addrs("192.0.2.1"), result.Funcs{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestProgressStats checks that Progress is called as the run goes and
// once at its end, with the counts of the summary.
func TestProgressStats(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.1:80": nil, "192.0.2.1:22": nil}}
	cfg := fastConfig(f, "20-25", t)
	var last Stats
	calls := 0
	cfg.Progress = func(s Stats) { last = s; calls++ }
	_, _, st := collect(t, cfg, addrs("192.0.2.1", "192.0.2.9"))
	if calls == 0 {
		t.Fatal("Progress never called")
	}
	if last.Probes != st.Probes || last.HostsDone != 2 || last.HostsUp != 1 || last.InFlight != 0 || last.HostsActive != 0 {
		t.Errorf("last stats %+v, summary %+v", last, st)
	}
	// 6 ports of the host found up, and the 6 of the host found down.
	if last.Ports != 12 {
		t.Errorf("%d ports settled, want 12", last.Ports)
	}
}

// TestHostTiming checks that a host's record carries its round trip
// estimate and its probe timeout.
func TestHostTiming(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.1:80": nil}}
	_, hosts, _ := collect(t, fastConfig(f, "80", t), addrs("192.0.2.1"))
	h := hosts[0]
	if h.Timeout != fastConfig(f, "80", t).MinRTTTimeout || h.RTT < 0 || !h.Addr.IsValid() || h.Addr != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("host %+v: want the 20ms timeout in force", h)
	}
}
