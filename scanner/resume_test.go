package scanner

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// TestResume runs a scan that goes on from an earlier one: the finished
// host is skipped without a probe, the partial one is probed on its
// unsettled ports only, not asked again whether it is up, and keeps its
// counts, start and probes; the summary goes on from the earlier one's.
func TestResume(t *testing.T) {
	hosts := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	f := &fakeNet{answers: map[string]error{}}
	for _, h := range hosts {
		f.answers[h+":80"] = syscall.ECONNREFUSED // discovery: up
		for p := 1; p <= 40; p++ {
			f.answers[h+":"+strconv.Itoa(p)] = syscall.ECONNREFUSED
		}
		f.answers[h+":7"] = nil
	}
	cfg := fastConfig(f, "1-40", t)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	partialStart := start.Add(time.Second)
	settled := func(p ports.Port) bool { return p.Proto == ports.TCP && p.Number <= 20 }
	cfg.Resume = &Resume{
		Done: func(i uint64) bool { return i == 1 },
		Partial: func(i uint64) *PartialHost {
			if i != 2 {
				return nil
			}
			// The TTL a SYN scan's answer would have given: the host
			// record keeps it.
			return &PartialHost{Addr: netip.MustParseAddr("192.0.2.2"), Up: true, Reason: result.ReasonConnRefused, TTL: 63, Start: partialStart,
				Probes: 20, Counts: map[result.State]int{result.Closed: 19, result.Open: 1}, Settled: settled}
		},
		Summary: result.Summary{Start: start, HostsUp: 1, Open: 2, Probes: 42},
	}
	var watched []result.Host
	cfg.Watch = func(h result.Host) { watched = append(watched, h) }
	res, recs, st := collect(t, cfg, addrs(hosts...))

	for _, c := range f.calls {
		switch {
		case strings.HasPrefix(c, "192.0.2.1:"):
			t.Errorf("the finished host was probed: %s", c)
		case c == "192.0.2.2:80" || c == "192.0.2.2:443":
			t.Errorf("the partial host was asked again whether it is up: %s", c)
		case strings.HasPrefix(c, "192.0.2.2:"):
			if n, _ := strconv.Atoi(strings.TrimPrefix(c, "192.0.2.2:")); n <= 20 {
				t.Errorf("a settled port was probed again: %s", c)
			}
		}
	}
	for k := range res {
		if strings.HasPrefix(k, "192.0.2.1:") {
			t.Errorf("a result of the finished host: %s", k)
		}
	}
	if n := len(res); n != 20+40 {
		t.Errorf("%d port results, want 60 (20 of the partial host, 40 of the new one)", n)
	}
	slices.SortFunc(recs, func(a, b result.Host) int { return int(a.Index) - int(b.Index) })
	if len(recs) != 2 {
		t.Fatalf("host records %+v, want 2", recs)
	}
	p, n := recs[0], recs[1]
	if p.Index != 2 || p.Seq != 1 || n.Index != 3 || n.Seq != 2 {
		t.Errorf("index, seq = %d, %d and %d, %d; want 2, 1 and 3, 2", p.Index, p.Seq, n.Index, n.Seq)
	}
	if !p.Up || p.Reason != result.ReasonConnRefused || p.TTL != 63 || !p.Start.Equal(partialStart) || p.Probes != 40 ||
		p.Counts[result.Closed] != 39 || p.Counts[result.Open] != 1 {
		t.Errorf("partial host %+v: want up (conn-refused, ttl 63), started %v, 40 probes, 39 closed, 1 open", p, partialStart)
	}
	if !st.Start.Equal(start) || st.HostsUp != 3 || st.Open != 2+1 || st.Probes != 42+20+20+42 {
		t.Errorf("summary %+v: want started %v, 3 up, 3 open, 124 probes", st, start)
	}
	if len(watched) < 2 || watched[0].Index != 2 || !watched[0].Up || watched[0].TTL != 63 || watched[1].Index != 3 || watched[1].Up {
		t.Errorf("watched %+v: want host 2 admitted up, then host 3 admitted", watched)
	}
	if !slices.ContainsFunc(watched, func(h result.Host) bool { return h.Index == 3 && h.Up && h.Reason == result.ReasonConnRefused }) {
		t.Errorf("watched %+v: host 3 never reported up", watched)
	}
}

// TestResumeAddrChanged scans a partial host anew when its index now
// holds another address.
func TestResumeAddrChanged(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.9:80": syscall.ECONNREFUSED, "192.0.2.9:1": syscall.ECONNREFUSED}}
	cfg := fastConfig(f, "1", t)
	cfg.Resume = &Resume{Partial: func(uint64) *PartialHost {
		return &PartialHost{Addr: netip.MustParseAddr("192.0.2.1"), Up: true, Settled: func(ports.Port) bool { return true }}
	}}
	res, _, _ := collect(t, cfg, addrs("192.0.2.9"))
	if len(res) != 1 || !slices.Contains(f.calls, "192.0.2.9:80") {
		t.Errorf("results %v, calls %v: want the host scanned anew", res, f.calls)
	}
}

func TestPortOrder(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 257, 65535, 131070} {
		addr := netip.MustParseAddr("10.1.2.3")
		o := NewPortOrder(n, 42, addr)
		p := newPermutation(n, 42, addr)
		for i := 0; i < n; i++ {
			idx := o.At(i)
			if want := int(p.next()); idx != want {
				t.Fatalf("n=%d: At(%d) = %d, the engine walks %d", n, i, idx, want)
			}
			if s := o.Step(idx); s != i {
				t.Fatalf("n=%d: Step(At(%d)) = %d", n, i, s)
			}
		}
	}
}

func TestPortList(t *testing.T) {
	s := portSet(t, "T:22,80,U:53")
	s.Add(ports.Port{Number: 4, Proto: ports.DDP})
	got := PortList(s)
	want := []ports.Port{{Number: 22, Proto: ports.TCP}, {Number: 80, Proto: ports.TCP}, {Number: 53, Proto: ports.UDP}}
	if !slices.Equal(got, want) {
		t.Errorf("PortList = %v, want %v", got, want)
	}
}
