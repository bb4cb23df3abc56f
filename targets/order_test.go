package targets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestAgainstReferenceWithNames mixes literals, large and small octet
// patterns and host names (with and without a prefix length) over
// 10.0.0.0/23 and checks All, Count and Contains against a plain walk of
// the specs in order: each address once, from the first spec naming it,
// labelled with the name when a name's own address is first named by it.
func TestAgainstReferenceWithNames(t *testing.T) {
	defer func(old uint64, chunk int) { maxRuns, litChunk = old, chunk }(maxRuns, litChunk)
	rng := rand.New(rand.NewPCG(7, 8))
	dns := &fakeDNS{hosts: map[string][]string{}}
	named := map[string]netip.Addr{}
	for i := range 8 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i % 2), byte(rng.IntN(16))})
		name := fmt.Sprintf("n%d.test", i)
		dns.hosts[name] = []string{a.String()}
		named[name] = a
	}
	for round := range 200 {
		maxRuns = []uint64{4096, 2}[round%2]
		litChunk = []int{1 << 14, 3}[round/2%2] // literals straddle chunks
		var ins, outs []string
		for range 1 + rng.IntN(8) {
			if rng.IntN(3) == 0 {
				name := fmt.Sprintf("n%d.test", rng.IntN(8))
				if rng.IntN(2) == 0 {
					name += fmt.Sprintf("/%d", 28+rng.IntN(5))
				}
				ins = append(ins, name)
				continue
			}
			ins = append(ins, randomSpec(rng))
		}
		for range rng.IntN(3) {
			outs = append(outs, randomSpec(rng))
		}
		s := NewSet(Options{Resolve: dns.resolve})
		for _, in := range ins {
			if err := s.Add(in); err != nil {
				t.Fatal(err)
			}
		}
		if len(outs) > 0 {
			if err := s.Exclude(strings.Join(outs, " ")); err != nil {
				t.Fatal(err)
			}
		}
		excluded := func(a netip.Addr) bool {
			return slices.ContainsFunc(outs, func(o string) bool {
				op, _ := ParseSpec(o)
				return contains(op, a)
			})
		}
		var want []string
		seen := map[netip.Addr]bool{}
		for _, in := range ins {
			sp, _ := ParseSpec(in)
			has := func(a netip.Addr) bool { return contains(sp, a) }
			if sp.kind == kindName {
				bits := sp.bits
				if bits < 0 {
					bits = 32
				}
				p := netip.PrefixFrom(named[sp.name], bits).Masked()
				has = p.Contains
			}
			for a := range universe() {
				if has(a) && !seen[a] {
					seen[a] = true
					if excluded(a) {
						continue
					}
					if sp.kind == kindName && a == named[sp.name] {
						want = append(want, sp.name+" ("+a.String()+")")
					} else {
						want = append(want, a.String())
					}
				}
			}
		}
		got := collect(t, s)
		if !slices.Equal(got, want) {
			t.Fatalf("targets %q excluding %q:\ngot  %v\nwant %v", ins, outs, got, want)
		}
		large := 0
		for _, x := range append(ins, outs...) {
			if sp, _ := ParseSpec(x); sp.kind == kindPattern && sp.pat.runs() > maxRuns {
				large++
			}
		}
		if n, _ := s.Count(context.Background()); large <= 1 && n != uint64(len(want)) {
			t.Fatalf("targets %q excluding %q: Count = %d, want %d", ins, outs, n, len(want))
		}
		if n, err := s.ExactCount(context.Background()); err != nil || n != uint64(len(want)) {
			t.Fatalf("targets %q excluding %q: ExactCount = %d, %v; want %d", ins, outs, n, err, len(want))
		}
		for a := range universe() {
			yielded := slices.ContainsFunc(got, func(g string) bool {
				return g == a.String() || strings.HasSuffix(g, "("+a.String()+")")
			})
			if in, _ := s.Contains(context.Background(), a); in != yielded {
				t.Fatalf("targets %q excluding %q: Contains(%s) = %v, All yields it: %v", ins, outs, a, in, yielded)
			}
		}
	}
}

// TestOrderAroundNames checks that literals keep their place around the
// specs that are not literals: joined spans never jump a name.
func TestOrderAroundNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1 one.test 10.0.0.2", "10.0.0.1 one.test (192.0.2.1) 10.0.0.2"},
		{"10.0.0.1 10.0.0.2 one.test 10.0.0.3 10.0.0.4", "10.0.0.1 10.0.0.2 one.test (192.0.2.1) 10.0.0.3 10.0.0.4"},
		{"one.test 10.0.0.1 10.0.0.0/30", "one.test (192.0.2.1) 10.0.0.1 10.0.0.0 10.0.0.2 10.0.0.3"},
		{"192.0.2.0/30 one.test 192.0.2.1", "192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3"},
		{"one.test/30 192.0.2.0/29", "192.0.2.0 one.test (192.0.2.1) 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7"},
		{"nope.test 10.0.0.1 nope.test", `error: cannot resolve "nope.test": no such host 10.0.0.1`},
		{"255.255.255.255 0.0.0.0", "255.255.255.255 0.0.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := NewSet(Options{Resolve: newDNS().resolve})
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(collect(t, s), " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
