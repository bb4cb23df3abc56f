package targets

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestContains(t *testing.T) {
	dns := newDNS()
	for _, c := range []struct {
		name         string
		add, exclude string
		yes, no      []string
	}{
		{"prefix", "192.0.2.0/24", "", []string{"192.0.2.0", "192.0.2.255"}, []string{"192.0.3.0", "2001:db8::1"}},
		{"range and exclusion", "198.18.0.1-5", "198.18.0.3", []string{"198.18.0.1", "198.18.0.5"}, []string{"198.18.0.3", "198.18.0.6"}},
		{"pattern", "10.0-1.*.1", "10.1.7.1", []string{"10.0.0.1", "10.1.255.1"}, []string{"10.0.0.2", "10.1.7.1", "10.2.0.1"}},
		{"v6", "2001:db8::/126", "", []string{"2001:db8::3"}, []string{"2001:db8::4", "192.0.2.1"}},
		{"zone", "fe80::1%eth0", "", []string{"fe80::1%eth0"}, []string{"fe80::1%eth1", "fe80::1"}},
		{"name", "one.test v6.test/127", "", []string{"192.0.2.1", "2001:db8::8", "2001:db8::9"}, []string{"192.0.2.2", "2001:db8::a"}},
		{"unresolved name", "nowhere.test 192.0.2.7", "", []string{"192.0.2.7"}, []string{"0.0.0.0"}},
		{"excluded name", "192.0.2.0/30", "one.test", []string{"192.0.2.0", "192.0.2.2"}, []string{"192.0.2.1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewSet(Options{Resolve: dns.resolve, Family: AnyFamily})
			if err := s.Add(c.add); err != nil {
				t.Fatal(err)
			}
			if c.exclude != "" {
				if err := s.Exclude(c.exclude); err != nil {
					t.Fatal(err)
				}
			}
			for want, list := range map[bool][]string{true: c.yes, false: c.no} {
				for _, a := range list {
					got, err := s.Contains(context.Background(), netip.MustParseAddr(a))
					if err != nil || got != want {
						t.Errorf("Contains(%s) = %v, %v; want %v", a, got, err, want)
					}
				}
			}
		})
	}
}

// TestContainsAgainstAll checks Contains against what All yields, on
// random sets of 10.0.0.0/23, large patterns included.
func TestContainsAgainstAll(t *testing.T) {
	defer func(old uint64) { maxRuns = old }(maxRuns)
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		maxRuns = []uint64{4096, 2}[round%2]
		var ins, outs []string
		for range 1 + rng.IntN(6) {
			ins = append(ins, randomSpec(rng))
		}
		for range rng.IntN(3) {
			outs = append(outs, randomSpec(rng))
		}
		s := NewSet(Options{})
		if err := s.Add(strings.Join(ins, " ")); err != nil {
			t.Fatal(err)
		}
		if len(outs) > 0 {
			if err := s.Exclude(strings.Join(outs, " ")); err != nil {
				t.Fatal(err)
			}
		}
		yielded := collect(t, s)
		for a := range universe() {
			want := slices.Contains(yielded, a.String())
			got, err := s.Contains(context.Background(), a)
			if err != nil || got != want {
				t.Fatalf("targets %q excluding %q: Contains(%s) = %v, %v; All yields it: %v", ins, outs, a, got, err, want)
			}
		}
	}
}
