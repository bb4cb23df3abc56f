package scanner

import (
	"context"
	"iter"
	"net"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/targets"
)

// addrs yields literal targets.
func addrs(list ...string) iter.Seq2[targets.Target, error] {
	return func(yield func(targets.Target, error) bool) {
		for _, s := range list {
			if !yield(targets.Target{Addr: netip.MustParseAddr(s)}, nil) {
				return
			}
		}
	}
}

func portSet(t testing.TB, spec string) *ports.Set {
	t.Helper()
	s, err := ports.ParseSpec(spec, ports.SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collect runs a scan and returns its results by "addr:port" and hosts.
func collect(t testing.TB, cfg Config, tg iter.Seq2[targets.Target, error]) (map[string]result.Port, []result.Host, result.Summary) {
	t.Helper()
	res := map[string]result.Port{}
	var hosts []result.Host
	st, err := Run(context.Background(), cfg, tg, result.Funcs{
		OnPort: func(r result.Port) { res[netip.AddrPortFrom(r.Host, r.Port.Number).String()] = r },
		OnHost: func(h result.Host) { hosts = append(hosts, h) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, hosts, st
}

func listen(t testing.TB, addr string) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func TestLoopbackOpenClosed(t *testing.T) {
	open1 := listen(t, "127.0.0.1:0")
	open2 := listen(t, "127.0.0.1:0")
	lo, hi := min(open1, open2), max(open1, open2)
	cfg := Config{Ports: portSet(t, "1-1024"), MaxRTTTimeout: 2 * time.Second}
	cfg.Ports.AddRange(ports.TCP, lo-5, hi+5)
	res, hosts, st := collect(t, cfg, addrs("127.0.0.1"))
	var open []int
	for _, r := range res {
		if r.State == result.Open {
			open = append(open, int(r.Port.Number))
		} else if r.State != result.Closed {
			t.Errorf("%v: %v (%s)", r.Port, r.State, r.Reason)
		}
	}
	sort.Ints(open)
	if len(open) < 2 {
		t.Fatalf("open = %v, want %d and %d", open, open1, open2)
	}
	if len(hosts) != 1 || !hosts[0].Up {
		t.Errorf("hosts = %+v", hosts)
	}
	if want := cfg.Ports.Len(ports.TCP); len(res) != want {
		t.Errorf("%d results, want %d", len(res), want)
	}
	t.Logf("stats %+v, %.0f probes/s", st, st.ProbesPerSecond())
}
