package scanner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// fakeNet answers dials from a table, without sockets: for each
// "addr:port" an error (nil = connected), or a timeout when absent.
type fakeNet struct {
	mu      sync.Mutex
	answers map[string]error
	calls   []string
	// flaky lists addresses that time out on their first dial only.
	flaky map[string]bool
	// busy makes the first n dials fail as if out of file descriptors.
	busy int
}

func (f *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.calls = append(f.calls, addr)
	if f.busy > 0 {
		f.busy--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("socket", syscall.EMFILE)}
	}
	if f.flaky[addr] {
		delete(f.flaky, addr)
		f.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	err, ok := f.answers[addr]
	f.mu.Unlock()
	if !ok {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", err.(syscall.Errno))}
	}
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, nil
}

func fastConfig(f *fakeNet, spec string, t *testing.T) Config {
	return Config{
		Ports:             portSet(t, spec),
		Dial:              f.dial,
		InitialRTTTimeout: 20 * time.Millisecond,
		MinRTTTimeout:     20 * time.Millisecond,
		MaxRTTTimeout:     20 * time.Millisecond,
		Seed:              1,
	}
}

func TestStatesFromErrors(t *testing.T) {
	f := &fakeNet{answers: map[string]error{
		"192.0.2.1:80": syscall.ECONNREFUSED,
		"192.0.2.1:22": nil,
		"192.0.2.1:23": syscall.ECONNREFUSED,
		"192.0.2.1:24": syscall.EHOSTUNREACH,
		"192.0.2.1:25": syscall.ENETUNREACH,
		"192.0.2.1:26": syscall.EACCES,
	}}
	res, hosts, _ := collect(t, fastConfig(f, "22-27,80", t), addrs("192.0.2.1"))
	want := map[string]string{
		"22": "open syn-ack", "23": "closed conn-refused", "24": "filtered host-unreach",
		"25": "filtered net-unreach", "26": "filtered admin-prohibited", "27": "filtered no-response",
		"80": "closed conn-refused",
	}
	for port, w := range want {
		r, ok := res["192.0.2.1:"+port]
		if !ok {
			t.Errorf("no result for port %s", port)
			continue
		}
		if got := r.State.String() + " " + r.Reason; got != w {
			t.Errorf("port %s: %s, want %s", port, got, w)
		}
	}
	if len(res) != len(want) {
		t.Errorf("%d results, want %d", len(res), len(want))
	}
	if len(hosts) != 1 || !hosts[0].Up || hosts[0].Reason != result.ReasonConnRefused {
		t.Errorf("hosts = %+v", hosts)
	}
	if hosts[0].Counts[result.Filtered] != 4 || hosts[0].Counts[result.Open] != 1 || hosts[0].Counts[result.Closed] != 2 {
		t.Errorf("counts = %v", hosts[0].Counts)
	}
}

func TestDownHost(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.2:443": syscall.ECONNREFUSED}}
	res, hosts, st := collect(t, fastConfig(f, "1-100", t), addrs("192.0.2.1", "192.0.2.2"))
	byAddr := map[netip.Addr]result.Host{}
	for _, h := range hosts {
		byAddr[h.Addr] = h
	}
	down := byAddr[netip.MustParseAddr("192.0.2.1")]
	if down.Up || down.Probes != 4 || down.Silent != 4 || down.Reason != result.ReasonNoResponse {
		t.Errorf("down host = %+v, want down after 2 discovery ports x 2 tries", down)
	}
	up := byAddr[netip.MustParseAddr("192.0.2.2")]
	if !up.Up {
		t.Errorf("192.0.2.2 = %+v, want up (443 refused)", up)
	}
	for k := range res {
		if strings.HasPrefix(k, "192.0.2.1:") {
			t.Errorf("result %s for a down host", k)
		}
	}
	if st.HostsUp != 1 || st.HostsDown != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSkipDiscovery(t *testing.T) {
	f := &fakeNet{}
	cfg := fastConfig(f, "1-3", t)
	cfg.SkipDiscovery = true
	cfg.Tries = 1
	res, hosts, _ := collect(t, cfg, addrs("192.0.2.1"))
	if len(res) != 3 || len(f.calls) != 3 {
		t.Errorf("%d results from %d dials, want 3 and 3", len(res), len(f.calls))
	}
	if hosts[0].Up || hosts[0].Silent != 3 {
		t.Errorf("host = %+v: nothing answered, so down with 3 silent probes", hosts[0])
	}
}

func TestRetryFindsFlakyPort(t *testing.T) {
	f := &fakeNet{
		answers: map[string]error{"192.0.2.1:80": syscall.ECONNREFUSED, "192.0.2.1:7": nil},
		flaky:   map[string]bool{"192.0.2.1:7": true},
	}
	res, _, _ := collect(t, fastConfig(f, "7", t), addrs("192.0.2.1"))
	if r := res["192.0.2.1:7"]; r.State != result.Open {
		t.Errorf("port 7 = %v, want open on the retry", r.State)
	}
	f = &fakeNet{
		answers: map[string]error{"192.0.2.1:80": syscall.ECONNREFUSED, "192.0.2.1:7": nil},
		flaky:   map[string]bool{"192.0.2.1:7": true},
	}
	cfg := fastConfig(f, "7", t)
	cfg.Tries = 1
	res, _, _ = collect(t, cfg, addrs("192.0.2.1"))
	if r := res["192.0.2.1:7"]; r.State != result.Filtered {
		t.Errorf("port 7 without retries = %v, want filtered", r.State)
	}
}

func TestBackoffOnFileLimit(t *testing.T) {
	f := &fakeNet{busy: 50, answers: map[string]error{}}
	for p := 1; p <= 200; p++ {
		f.answers[fmt.Sprintf("192.0.2.1:%d", p)] = syscall.ECONNREFUSED
	}
	f.answers["192.0.2.1:80"] = nil
	// 443 answers too: were it silent, it might time out while 80 waits
	// for a descriptor, and be tried again.
	f.answers["192.0.2.1:443"] = syscall.ECONNREFUSED
	cfg := fastConfig(f, "1-200", t)
	res, _, st := collect(t, cfg, addrs("192.0.2.1"))
	if len(res) != 200 {
		t.Fatalf("%d results, want 200 despite EMFILE", len(res))
	}
	for k, r := range res {
		if (k == "192.0.2.1:80") != (r.State == result.Open) || r.State == result.Filtered {
			t.Errorf("%s = %v", k, r.State)
		}
	}
	// 80 is probed once, in discovery, and 443 besides; the dials refused
	// for want of descriptors are not probes.
	if st.Probes != 201 || len(f.calls) != 251 {
		t.Errorf("probes = %d from %d dials, want 201 from 251", st.Probes, len(f.calls))
	}
}

// order runs a scan through one probe at a time and returns the dials.
func order(t *testing.T, seed uint64, hosts ...string) []string {
	f := &fakeNet{answers: map[string]error{}}
	for _, h := range hosts {
		for p := 1; p <= 20; p++ {
			f.answers[fmt.Sprintf("%s:%d", h, p)] = syscall.ECONNREFUSED
		}
	}
	cfg := fastConfig(f, "1-20", t)
	cfg.SkipDiscovery = true
	cfg.Concurrency = 1
	cfg.Seed = seed
	collect(t, cfg, addrs(hosts...))
	return f.calls
}

func TestProbeOrder(t *testing.T) {
	calls := order(t, 7, "192.0.2.1", "192.0.2.2", "192.0.2.3")
	if len(calls) != 60 {
		t.Fatalf("%d dials", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		a, _, _ := strings.Cut(calls[i-1], ":")
		b, _, _ := strings.Cut(calls[i], ":")
		if a == b {
			t.Errorf("dials %d and %d both go to %s: hosts are not interleaved", i-1, i, a)
		}
	}
	var first []string
	for _, c := range calls {
		if strings.HasPrefix(c, "192.0.2.1:") {
			first = append(first, c)
		}
	}
	sorted := slices.Clone(first)
	slices.Sort(sorted)
	if slices.Equal(first, sorted) {
		t.Errorf("ports probed in ascending order %v: not permuted", first)
	}
	if again := order(t, 7, "192.0.2.1", "192.0.2.2", "192.0.2.3"); !slices.Equal(again, calls) {
		t.Error("the same seed gave a different order")
	}
	if other := order(t, 8, "192.0.2.1", "192.0.2.2", "192.0.2.3"); slices.Equal(other, calls) {
		t.Error("another seed gave the same order")
	}
}

func TestPermutationCoversAll(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 257, 65535} {
		p := newPermutation(n, 42, netip.MustParseAddr("10.1.2.3"))
		seen := make([]bool, n)
		for p.remaining() > 0 {
			i := p.next()
			if seen[i] {
				t.Fatalf("n=%d: index %d twice", n, i)
			}
			seen[i] = true
		}
		if slices.Contains(seen, false) {
			t.Fatalf("n=%d: index missed", n)
		}
	}
}

func TestCancel(t *testing.T) {
	f := &fakeNet{}
	cfg := fastConfig(f, "1-1000", t)
	cfg.InitialRTTTimeout, cfg.MaxRTTTimeout = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	st, err := Run(ctx, cfg, addrs("192.0.2.1"), result.Funcs{})
	if !errors.Is(err, context.DeadlineExceeded) || !st.Interrupted {
		t.Errorf("Run = %+v, %v; want interrupted", st, err)
	}
}

func TestNoPorts(t *testing.T) {
	if _, err := Run(context.Background(), Config{Ports: &ports.Set{}}, addrs("192.0.2.1"), result.Funcs{}); !errors.Is(err, ErrNoPorts) {
		t.Errorf("err = %v", err)
	}
}

func TestTiming(t *testing.T) {
	var tm timing
	if tm.measured() {
		t.Fatal("measured before a sample")
	}
	tm.sample(10 * time.Millisecond)
	if tm.timeout() != 30*time.Millisecond {
		t.Errorf("first timeout = %v, want srtt + 4*srtt/2", tm.timeout())
	}
	for i := 0; i < 50; i++ {
		tm.sample(10 * time.Millisecond)
	}
	if to := tm.timeout(); to < 10*time.Millisecond || to > 11*time.Millisecond {
		t.Errorf("steady timeout = %v, want about the RTT", to)
	}
}

// TestSlowHostAfterFastOnes: a host that answers in 300 ms, scanned after
// one that answers at once, is not called down for being slower.
func TestSlowHostAfterFastOnes(t *testing.T) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "192.0.2.2:") {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	cfg := Config{
		Ports:         portSet(t, "1-3"),
		Dial:          dial,
		MinRTTTimeout: 20 * time.Millisecond,
		HostGroup:     1, // the slow host starts once the fast one has set the pace
		Tries:         1,
	}
	_, hosts, _ := collect(t, cfg, addrs("192.0.2.1", "192.0.2.2"))
	for _, h := range hosts {
		if !h.Up {
			t.Errorf("%s down: %+v", h.Addr, h)
		}
	}
}

func TestHostSeq(t *testing.T) {
	f := &fakeNet{answers: map[string]error{}}
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		f.answers[a+":80"] = syscall.ECONNREFUSED
	}
	_, hosts, _ := collect(t, fastConfig(f, "80", t), addrs("192.0.2.1", "192.0.2.2", "192.0.2.3"))
	for _, h := range hosts {
		if want := uint64(h.Addr.As4()[3]); h.Seq != want {
			t.Errorf("%s: Seq %d, want %d", h.Addr, h.Seq, want)
		}
	}
}
