package scanner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/shard"
	"github.com/portscan/portscan/targets"
)

// run is one run's results: ports by "addr:port/proto", hosts by
// address, its summary and last Stats.
type run struct {
	ports map[string]result.Port
	hosts map[netip.Addr]result.Host
	sum   result.Summary
	last  Stats
}

// runSet scans set with cfg, as shard s of it: Hosts from ExactCount.
func runSet(t *testing.T, cfg Config, set *targets.Set, s result.Shard) run {
	t.Helper()
	ctx := context.Background()
	n, err := set.ExactCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Shard, cfg.Hosts = s, n
	r := run{ports: map[string]result.Port{}, hosts: map[netip.Addr]result.Host{}}
	var mu sync.Mutex
	cfg.Progress = func(st Stats) { mu.Lock(); r.last = st; mu.Unlock() }
	cfg.ProgressEvery = time.Hour // only the last, as the run ends
	sum, err := Run(ctx, cfg, set.All(ctx), result.Funcs{
		OnPort: func(p result.Port) {
			k := netip.AddrPortFrom(p.Host, p.Port.Number).String() + "/" + p.Port.Proto.String()
			if _, dup := r.ports[k]; dup {
				t.Errorf("shard %v: %s reported twice", s, k)
			}
			r.ports[k] = p
		},
		OnHost: func(h result.Host) {
			if _, dup := r.hosts[h.Addr]; dup {
				t.Errorf("shard %v: host %s reported twice", s, h.Addr)
			}
			r.hosts[h.Addr] = h
		},
	})
	if err != nil {
		t.Fatalf("shard %v: %v", s, err)
	}
	r.sum = sum
	return r
}

// checkShards runs the whole scan and n shards of it, and checks that
// the shards' ports are disjoint and together the whole scan's, each
// port in the state the whole scan found; that a host up in the whole
// scan is up in a shard, with the same Index in each; that each shard
// reports the ports its plan owns and counts them in Stats.
func checkShards(t *testing.T, cfg Config, set *targets.Set, n int) {
	t.Helper()
	whole := runSet(t, cfg, set, result.Shard{})
	hosts, err := set.ExactCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var list []ports.Port
	for p := range cfg.Ports.Ports() {
		list = append(list, p)
	}
	union := map[string]result.Port{}
	up := map[netip.Addr]bool{}
	for k := range n {
		s := result.Shard{Index: k, Count: n}
		part := runSet(t, cfg, set, s)
		plan, err := shard.New(cfg.Seed, s, hosts, len(list))
		if err != nil {
			t.Fatal(err)
		}
		for key, p := range part.ports {
			if _, dup := union[key]; dup {
				t.Errorf("shard %v: %s is in another shard too", s, key)
			}
			union[key] = p
			h := part.hosts[p.Host]
			if !plan.Owns(h.Index, slices.Index(list, p.Port)) {
				t.Errorf("shard %v: reported %s, which it does not own", s, key)
			}
		}
		for a, h := range part.hosts {
			if !plan.Any(h.Index) {
				t.Errorf("shard %v: reported host %s (index %d), which owns none of its ports", s, a, h.Index)
			}
			if w, ok := whole.hosts[a]; !ok || w.Index != h.Index {
				t.Errorf("shard %v: host %s index %d, whole scan's %d (reported %v)", s, a, h.Index, w.Index, ok)
			}
			if h.Up {
				up[a] = true
			}
			if n := h.Counts[result.Open] + h.Counts[result.Closed] + h.Counts[result.Filtered] + h.Counts[result.OpenFiltered]; h.Up && n != plan.Count(h.Index) {
				t.Errorf("shard %v: host %s counts %d ports, owns %d", s, a, n, plan.Count(h.Index))
			}
		}
		if part.last.Ports != int64(plan.Len()) {
			t.Errorf("shard %v: Stats.Ports %d at the end, share %d", s, part.last.Ports, plan.Len())
		}
	}
	if len(union) != len(whole.ports) {
		t.Errorf("%d ports in the shards, %d in the whole scan", len(union), len(whole.ports))
	}
	for key, w := range whole.ports {
		if p, ok := union[key]; !ok || p.State != w.State {
			t.Errorf("%s: %v in the whole scan, %v in the shards (reported %v)", key, w.State, p.State, ok)
		}
	}
	for a, h := range whole.hosts {
		if h.Up && !up[a] {
			t.Errorf("%s up in the whole scan, in no shard", a)
		}
	}
	if whole.last.Ports != int64(int(hosts)*len(list)) {
		t.Errorf("whole scan: Stats.Ports %d, want %d", whole.last.Ports, int(hosts)*len(list))
	}
}

// TestShardsLoopback runs shards of scans of listeners on 127.0.1.0/24
// (every address of 127.0.0.0/8 is on lo) over real sockets, with the
// targets written in every form: ranges, prefixes, a name, a list, and
// exclusions.
func TestShardsLoopback(t *testing.T) {
	var open []netip.AddrPort
	for _, a := range []string{"127.0.1.1", "127.0.1.7", "127.0.1.33", "127.0.1.200"} {
		for range 2 {
			open = append(open, lab.AddrPort(lab.Listen(t, "tcp", a+":0").Addr()))
		}
	}
	portSet := &ports.Set{}
	for _, ap := range open {
		portSet.Add(ports.Port{Number: ap.Port(), Proto: ports.TCP})
		portSet.Add(ports.Port{Number: ap.Port() + 1, Proto: ports.TCP}) // most likely closed
	}
	for n := uint16(1); n <= 12; n++ {
		portSet.Add(ports.Port{Number: n, Proto: ports.TCP})
	}
	dns := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "lab.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.1.7")}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, tc := range []struct {
		name, add, list, exclude string
		n                        int
	}{
		{"range", "127.0.1.1-40", "", "", 4},
		{"prefix", "127.0.1.0/26", "", "", 3},
		{"octets and excludes", "127.0.1.0-63,200", "", "127.0.1.2-5,127.0.1.60/30", 4},
		{"name and prefix", "lab.test/29 127.0.1.32/28 lab.test missing.test 127.0.1.200", "", "127.0.1.34", 5},
		{"list", "", "# -iL\n127.0.1.33 127.0.1.1\n127.0.1.0/27 lab.test\n127.0.1.200\n", "127.0.1.9", 4},
		{"one shard", "127.0.1.1-40", "", "", 1},
		{"more shards than probes", "127.0.1.1,7", "", "", 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := targets.NewSet(targets.Options{Resolve: dns})
			if tc.add != "" {
				if err := set.Add(tc.add); err != nil {
					t.Fatal(err)
				}
			}
			if tc.list != "" {
				if err := set.AddFile("list", strings.NewReader(tc.list)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.exclude != "" {
				if err := set.Exclude(strings.ReplaceAll(tc.exclude, ",", " ")); err != nil {
					t.Fatal(err)
				}
			}
			cfg := Config{Ports: portSet, Seed: 99, MaxRTTTimeout: 2 * time.Second, Warn: func(error) {}}
			checkShards(t, cfg, set, tc.n)
		})
	}
}

// lanNet is a fake network of many hosts: each answers on 80 (closed)
// unless down, and has some ports open.
func lanNet(hosts int) (*fakeNet, []string) {
	f := &fakeNet{answers: map[string]error{}}
	var list []string
	for i := 1; i <= hosts; i++ {
		a := fmt.Sprintf("192.0.2.%d", i)
		list = append(list, a)
		if i%7 == 0 {
			continue // down: answers nothing
		}
		f.answers[a+":80"] = syscall.ECONNREFUSED
		for p := 1; p <= 30; p++ {
			switch {
			case (p+i)%5 == 0:
				f.answers[fmt.Sprintf("%s:%d", a, p)] = nil
			case p%3 != 0:
				f.answers[fmt.Sprintf("%s:%d", a, p)] = syscall.ECONNREFUSED
			} // else filtered: no answer
		}
	}
	return f, list
}

// TestShardsDiscovery checks shards over hosts some of which are down,
// with discovery (on a port of the scan, 80), without it, and with
// discovery only (one element a host).
func TestShardsDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*Config)
		n     int
	}{
		{"discovery", func(*Config) {}, 3},
		{"skip discovery", func(c *Config) { c.SkipDiscovery = true }, 4},
		{"max open", func(c *Config) { c.MaxOpen = 2 }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, list := lanNet(40)
			cfg := fastConfig(f, "1-30,80", t)
			tc.setup(&cfg)
			set := targets.NewSet(targets.Options{})
			if err := set.Add(strings.Join(list, " ")); err != nil {
				t.Fatal(err)
			}
			if cfg.MaxOpen > 0 {
				checkCut(t, cfg, set, tc.n)
				return
			}
			checkShards(t, cfg, set, tc.n)
		})
	}
	t.Run("discover only", func(t *testing.T) {
		f, list := lanNet(40)
		cfg := fastConfig(f, "1", t)
		cfg.Ports, cfg.DiscoverOnly = nil, true
		set := targets.NewSet(targets.Options{})
		if err := set.Add(strings.Join(list, " ")); err != nil {
			t.Fatal(err)
		}
		whole := runSet(t, cfg, set, result.Shard{})
		seen := map[netip.Addr]int{}
		for k := range 3 {
			part := runSet(t, cfg, set, result.Shard{Index: k, Count: 3})
			for a, h := range part.hosts {
				seen[a]++
				if w := whole.hosts[a]; w.Up != h.Up || w.Index != h.Index {
					t.Errorf("shard %d: %s up %v index %d; whole scan up %v index %d", k, a, h.Up, h.Index, w.Up, w.Index)
				}
			}
			if n := len(part.hosts); n < 13 || n > 14 {
				t.Errorf("shard %d: %d hosts of 40", k, n)
			}
		}
		if len(seen) != 40 {
			t.Errorf("%d hosts in the shards, want 40", len(seen))
		}
		for a, n := range seen {
			if n != 1 {
				t.Errorf("%s in %d shards", a, n)
			}
		}
	})
}

// checkCut checks shards with MaxOpen: a host's unscanned ports are
// those it owns less those it reported.
func checkCut(t *testing.T, cfg Config, set *targets.Set, n int) {
	t.Helper()
	hosts, _ := set.ExactCount(context.Background())
	per := cfg.Ports.Len(ports.TCP)
	for k := range n {
		s := result.Shard{Index: k, Count: n}
		part := runSet(t, cfg, set, s)
		plan, _ := shard.New(cfg.Seed, s, hosts, per)
		cut := 0
		for a, h := range part.hosts {
			decided := 0
			for _, c := range h.Counts {
				decided += c
			}
			if h.CutShort {
				cut++
				if h.Unscanned != plan.Count(h.Index)-decided {
					t.Errorf("shard %v: %s unscanned %d, owns %d, decided %d", s, a, h.Unscanned, plan.Count(h.Index), decided)
				}
			}
		}
		if cut == 0 {
			t.Errorf("shard %v: no host cut short", s)
		}
		if part.last.Ports != int64(plan.Len()) {
			t.Errorf("shard %v: Stats.Ports %d, share %d", s, part.last.Ports, plan.Len())
		}
	}
}

// TestHostIndex checks that every host record carries its place in the
// targets, in a whole scan too; a name that does not resolve takes none.
func TestHostIndex(t *testing.T) {
	f := &fakeNet{answers: map[string]error{}}
	for _, a := range []string{"192.0.2.1", "192.0.2.5", "192.0.2.9", "192.0.2.3"} {
		f.answers[a+":80"] = syscall.ECONNREFUSED
	}
	set := targets.NewSet(targets.Options{Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return nil, errors.New("no such host")
	}})
	if err := set.Add("192.0.2.9 192.0.2.1 nowhere.test 192.0.2.3-5"); err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(f, "80", t)
	cfg.Warn = func(error) {}
	_, hosts, _ := collect(t, cfg, set.All(context.Background()))
	want := map[string]uint64{"192.0.2.9": 1, "192.0.2.1": 2, "192.0.2.3": 3, "192.0.2.4": 4, "192.0.2.5": 5}
	if len(hosts) != len(want) {
		t.Fatalf("hosts %+v", hosts)
	}
	for _, h := range hosts {
		if h.Index != want[h.Addr.String()] {
			t.Errorf("%s: Index %d, want %d", h.Addr, h.Index, want[h.Addr.String()])
		}
	}
}

// TestShardConfig checks what a sharded run refuses: no Hosts, no
// Seed, targets other than Hosts says, a shard that does not exist.
func TestShardConfig(t *testing.T) {
	f := &fakeNet{answers: map[string]error{"192.0.2.1:80": syscall.ECONNREFUSED, "192.0.2.2:80": syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name  string
		setup func(*Config)
		err   string
	}{
		{"no hosts", func(c *Config) { c.Hosts = 0 }, "a sharded run needs Config.Hosts"},
		{"no seed", func(c *Config) { c.Seed = 0 }, "a sharded run needs Config.Seed"},
		{"fewer targets", func(c *Config) { c.Hosts = 3 }, "the targets do not match Config.Hosts: 2 targets, Config.Hosts says 3"},
		{"more targets", func(c *Config) { c.Hosts = 1 }, "the targets do not match Config.Hosts: more targets than the 1"},
		{"no such shard", func(c *Config) { c.Shard.Index = 2 }, "index 2: with 2 shards it must be 0 to 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig(f, "79-81", t)
			cfg.Shard, cfg.Hosts = result.Shard{Index: 0, Count: 2}, 2
			tc.setup(&cfg)
			_, err := Run(context.Background(), cfg, addrs("192.0.2.1", "192.0.2.2"), result.Funcs{})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Run: %v; want %q", err, tc.err)
			}
		})
	}
}

// TestShardsLongPortList checks shards of a port list longer than
// exactDown, where a host found down counts its expected share while
// the run goes: the count is still the share as the run ends.
func TestShardsLongPortList(t *testing.T) {
	f := &fakeNet{answers: map[string]error{}}
	var list []string
	for i := 1; i <= 6; i++ {
		a := fmt.Sprintf("192.0.2.%d", i)
		list = append(list, a)
		if i%2 == 0 {
			continue // down
		}
		for p := 1; p <= exactDown+100; p++ {
			f.answers[fmt.Sprintf("%s:%d", a, p)] = syscall.ECONNREFUSED
		}
		f.answers[fmt.Sprintf("%s:%d", a, 1000+i)] = nil
	}
	cfg := fastConfig(f, fmt.Sprintf("1-%d", exactDown+100), t)
	set := targets.NewSet(targets.Options{})
	if err := set.Add(strings.Join(list, " ")); err != nil {
		t.Fatal(err)
	}
	checkShards(t, cfg, set, 3)
}
