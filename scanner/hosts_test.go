package scanner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/result"
)

// allOpen is a fake network where every port of addr from 1 to n accepts.
func allOpen(addr string, n int) *fakeNet {
	f := &fakeNet{answers: map[string]error{}}
	for p := 1; p <= n; p++ {
		f.answers[fmt.Sprintf("%s:%d", addr, p)] = nil
	}
	return f
}

func TestTarpit(t *testing.T) {
	busy := allOpen("192.0.2.2", 0)
	for p := 1; p <= 2000; p++ {
		if p <= 150 || p == 443 {
			busy.answers[fmt.Sprintf("192.0.2.2:%d", p)] = nil
		} else {
			busy.answers[fmt.Sprintf("192.0.2.2:%d", p)] = syscall.ECONNREFUSED
		}
	}
	for _, tc := range []struct {
		name string
		f    *fakeNet
		addr string
		spec string
		want bool
	}{
		{"every port open", allOpen("192.0.2.1", 500), "192.0.2.1", "1-500", true},
		{"too few ports to tell", allOpen("192.0.2.1", 500), "192.0.2.1", "1-50", false},
		{"a busy server", busy, "192.0.2.2", "1-2000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, hosts, _ := collect(t, fastConfig(tc.f, tc.spec, t), addrs(tc.addr))
			if len(hosts) != 1 || hosts[0].Tarpit != tc.want || hosts[0].CutShort {
				t.Fatalf("hosts %+v, want Tarpit %v", hosts, tc.want)
			}
		})
	}
}

// TestMaxOpen checks that a host stops being probed once it has shown
// MaxOpen open ports: exactly that many are reported, and its record says
// it was cut short and how many ports went unscanned.
func TestMaxOpen(t *testing.T) {
	for _, conc := range []int{1, 64, 0} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			cfg := fastConfig(allOpen("192.0.2.1", 1000), "1-1000", t)
			cfg.MaxOpen = 50
			cfg.Concurrency = conc
			res, hosts, st := collect(t, cfg, addrs("192.0.2.1"))
			open := 0
			for _, r := range res {
				if r.State == result.Open {
					open++
				}
			}
			if open != 50 || st.Open != 50 {
				t.Errorf("%d open ports reported, summary %d; want 50", open, st.Open)
			}
			if len(hosts) != 1 {
				t.Fatalf("hosts %+v", hosts)
			}
			h := hosts[0]
			// No more probes in flight than could still be open: probing
			// stops at the cap, not after every port was sent.
			if !h.CutShort || h.Unscanned != 1000-len(res) || h.Counts[result.Open] != 50 || h.Probes != 50 || len(res) != 50 {
				t.Errorf("host %+v: want cut short after 50 probes, 50 open, %d unscanned", h, 1000-len(res))
			}
		})
	}
	t.Run("below the cap", func(t *testing.T) {
		cfg := fastConfig(allOpen("192.0.2.1", 10), "1-100", t)
		cfg.MaxOpen = 50
		cfg.SkipDiscovery = true
		_, hosts, _ := collect(t, cfg, addrs("192.0.2.1"))
		if len(hosts) != 1 || hosts[0].CutShort || hosts[0].Unscanned != 0 || hosts[0].Counts[result.Open] != 10 {
			t.Errorf("hosts %+v", hosts)
		}
	})
}

// TestInterruptReportsHostsInFlight cancels a run while hosts are being
// scanned: each gets a Host event marked incomplete, up if it answered,
// and the summary counts them, so that outputs list and count the same
// hosts.
func TestInterruptReportsHostsInFlight(t *testing.T) {
	f := &fakeNet{answers: map[string]error{
		"192.0.2.1:80": syscall.ECONNREFUSED, // up
		"192.0.2.1:22": nil,
		// 192.0.2.2 answers nothing: still in discovery when cancelled.
	}}
	cfg := fastConfig(f, "22,80,1000-1010", t)
	cfg.InitialRTTTimeout, cfg.MinRTTTimeout, cfg.MaxRTTTimeout = 30*time.Second, 30*time.Second, 30*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	hosts := map[netip.Addr]result.Host{}
	st, err := Run(ctx, cfg, addrs("192.0.2.1", "192.0.2.2"), result.Funcs{
		OnPort: func(r result.Port) {
			if r.Port.Number == 22 {
				cancel()
			}
		},
		OnHost: func(h result.Host) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := hosts[h.Addr]; dup {
				t.Errorf("%s reported twice", h.Addr)
			}
			hosts[h.Addr] = h
		},
	})
	if !errors.Is(err, context.Canceled) || !st.Interrupted {
		t.Fatalf("Run: %v, interrupted %v", err, st.Interrupted)
	}
	up, unknown := hosts[netip.MustParseAddr("192.0.2.1")], hosts[netip.MustParseAddr("192.0.2.2")]
	if !up.Up || !up.Incomplete || up.Counts[result.Open] != 1 || up.Reason != result.ReasonConnRefused {
		t.Errorf("host in its scan: %+v, want up and incomplete", up)
	}
	if unknown.Up || !unknown.Incomplete || unknown.Addr != netip.MustParseAddr("192.0.2.2") {
		t.Errorf("host in discovery: %+v, want incomplete, not up", unknown)
	}
	if st.HostsUp != 1 || st.HostsUnknown != 1 || st.HostsDown != 0 || st.Hosts() != len(hosts) {
		t.Errorf("summary %+v for %d hosts reported", st, len(hosts))
	}
}
