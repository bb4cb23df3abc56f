package shard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/portscan/portscan/result"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		want result.Shard
		err  string
	}{
		{"1/1", result.Shard{Index: 0, Count: 1}, ""},
		{"2/4", result.Shard{Index: 1, Count: 4}, ""},
		{"4/4", result.Shard{Index: 3, Count: 4}, ""},
		{"064/064", result.Shard{Index: 63, Count: 64}, ""},
		{"5/4", result.Shard{}, "shard 5/4: index must be 1 to 4"},
		{"0/4", result.Shard{}, "shard 0/4: index must be 1 to 4"},
		{"1/0", result.Shard{}, "shard 1/0: count must be 1 or more"},
		{"0/0", result.Shard{}, "shard 0/0: count must be 1 or more"},
		{"1/99999999", result.Shard{}, "count 99999999 is more than 1048576"},
		{"99999999999999999999999/2", result.Shard{}, "index 99999999999999999999999 is more than"},
		{"", result.Shard{}, `shard "": want I/N`},
		{"2", result.Shard{}, `shard "2": want I/N`},
		{"2/", result.Shard{}, `shard "2/": want I/N`},
		{"/4", result.Shard{}, `shard "/4": want I/N`},
		{"-1/4", result.Shard{}, `shard "-1/4": want I/N`},
		{"+1/4", result.Shard{}, `shard "+1/4": want I/N`},
		{"1/4/8", result.Shard{}, `shard "1/4/8": want I/N`},
		{" 1/4", result.Shard{}, `shard " 1/4": want I/N`},
		{"0x1/4", result.Shard{}, `shard "0x1/4": want I/N`},
		{"１/4", result.Shard{}, `want I/N`},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, err := Parse(tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrShard) {
					t.Fatalf("Parse(%q) = %v, %v; want an error with %q", tc.text, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tc.text, got, err, tc.want)
			}
		})
	}
}

func TestParseCountIndex(t *testing.T) {
	for _, tc := range []struct {
		text       string
		count, idx int
		countErr   string
		idxErr     string
	}{
		{"4", 4, 4, "", ""},
		{"0", 0, 0, "count 0: want 1 or more", ""},
		{"08", 8, 8, "", ""}, // decimal, as $(JOB_COMPLETION_INDEX) may be padded
		{"010", 10, 10, "", ""},
		{"", 0, 0, `count "": want a number`, `index "": want a number`},
		{"-1", 0, 0, `count "-1"`, `index "-1"`},
		{"0x10", 0, 0, `count "0x10"`, `index "0x10"`},
		{"1e3", 0, 0, `count "1e3"`, `index "1e3"`},
		{"$(JOB_COMPLETION_INDEX)", 0, 0, "want a number", "want a number"},
		{"2000000", 0, 0, "is more than 1048576", "is more than 1048576"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			n, err := ParseCount(tc.text)
			if tc.countErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.countErr) {
					t.Errorf("ParseCount(%q) = %d, %v; want %q", tc.text, n, err, tc.countErr)
				}
			} else if err != nil || n != tc.count {
				t.Errorf("ParseCount(%q) = %d, %v; want %d", tc.text, n, err, tc.count)
			}
			k, err := ParseIndex(tc.text)
			if tc.idxErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.idxErr) {
					t.Errorf("ParseIndex(%q) = %d, %v; want %q", tc.text, k, err, tc.idxErr)
				}
			} else if err != nil || k != tc.idx {
				t.Errorf("ParseIndex(%q) = %d, %v; want %d", tc.text, k, err, tc.idx)
			}
		})
	}
}

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		count, index int
		err          string
	}{
		{1, 0, ""}, {4, 3, ""}, {4, 4, "index 4: with 4 shards it must be 0 to 3"},
		{4, -1, "index -1"}, {0, 0, "0 shards"}, {MaxCount + 1, 0, "shards: want 1 to"},
	} {
		s, err := Of(tc.count, tc.index)
		if tc.err == "" {
			if err != nil || s != (result.Shard{Index: tc.index, Count: tc.count}) {
				t.Errorf("Of(%d, %d) = %v, %v", tc.count, tc.index, s, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Of(%d, %d) = %v, %v; want %q", tc.count, tc.index, s, err, tc.err)
		}
	}
}

// FuzzParse checks that Parse never panics, and that a shard it reads
// is one that exists and reads back from its String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1/1", "2/4", "4/4", "5/4", "0/0", "1/", "/", "99999999999/1", "１/2", "1/2/3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrShard) {
				t.Fatalf("Parse(%q): %v does not wrap ErrShard", text, err)
			}
			return
		}
		if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
			t.Fatalf("Parse(%q) = %+v", text, s)
		}
		if s.Sharded() {
			back, err := Parse(s.String())
			if err != nil || back != s {
				t.Fatalf("Parse(%q) = %+v; its String %q reads back as %+v, %v", text, s, s.String(), back, err)
			}
		}
	})
}

// check checks the n plans of a scan of hosts with per elements each:
// each element has one owner, pi is a bijection, the shares are within
// one of T/N, and Any, Count and Len agree with Owns. Up to 8 shards,
// every plan is asked about every element; above, the owner and two
// others, so that the test stays fast for 64.
func check(t *testing.T, seed uint64, n int, hosts uint64, per int) {
	t.Helper()
	plans := make([]*Plan, n)
	for k := range n {
		p, err := New(seed, result.Shard{Index: k, Count: n}, hosts, per)
		if err != nil {
			t.Fatal(err)
		}
		plans[k] = p
	}
	asked := func(owner int) []int {
		if n <= 8 {
			all := make([]int, n)
			for k := range all {
				all[k] = k
			}
			return all
		}
		return []int{owner, (owner + 1) % n, (owner + n/2) % n}
	}
	total := hosts * uint64(per)
	counts := make([]uint64, n)
	seen := make([]bool, total)
	for h := uint64(1); h <= hosts; h++ {
		owned := make([]int, n)
		for i := range per {
			e := (h-1)*uint64(per) + uint64(i)
			v := plans[0].permute(e)
			if v >= total || seen[v] {
				t.Fatalf("N=%d T=%d: pi(%d) = %d, out of range or taken twice", n, total, e, v)
			}
			seen[v] = true
			owner := int(v % uint64(n))
			counts[owner]++
			owned[owner]++
			for _, k := range asked(owner) {
				if plans[k].Owns(h, i) != (k == owner) {
					t.Fatalf("N=%d T=%d: element %d (host %d, port %d): shard %d Owns %v, but its owner is %d", n, total, e, h, i, k, !(k == owner), owner)
				}
			}
		}
		for _, k := range asked(int(h) % n) {
			if got := plans[k].Count(h); got != owned[k] {
				t.Fatalf("N=%d T=%d: shard %d Count(%d) = %d, want %d", n, total, k, h, got, owned[k])
			}
			if plans[k].Any(h) != (owned[k] > 0) {
				t.Fatalf("N=%d T=%d: shard %d Any(%d) = %v with %d owned", n, total, k, h, plans[k].Any(h), owned[k])
			}
		}
	}
	for k, c := range counts {
		lo := total / uint64(n)
		if c != lo && c != lo+1 || c != plans[k].Len() {
			t.Fatalf("N=%d T=%d: shard %d owns %d, Len %d; want %d or %d", n, total, k, c, plans[k].Len(), lo, lo+1)
		}
	}
	for _, p := range plans {
		if p.Owns(0, 0) || p.Owns(hosts+1, 0) || p.Owns(1, per) || p.Owns(1, -1) {
			t.Fatalf("N=%d T=%d: shard %v owns an element outside the scan", n, total, p.Shard())
		}
	}
}

// TestShares checks, for N from 1 to 64 over scans of many shapes, that
// the shares are disjoint, complete and within one element of T/N, and
// that pi is a bijection.
func TestShares(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][2]int{{0, 5}, {1, 1}, {1, 2}, {2, 1}, {3, 1}, {1, 3}, {5, 3}, {4, 4}, {16, 1}, {17, 1}, {1, 64}, {1, 65}, {63, 1}, {64, 1}, {65, 1}, {256, 1}, {1, 311}, {7, 311}, {100, 10}, {3, 1000}, {1024, 4}, {1, 4097}}
	for n := 1; n <= 64; n++ {
		for _, s := range shapes {
			check(t, r.Uint64(), n, uint64(s[0]), s[1])
		}
		check(t, r.Uint64(), n, uint64(r.IntN(300)), 1+r.IntN(40))
	}
}

// TestSharesQuick runs the property over random sizes and seeds.
func TestSharesQuick(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	runs := 100
	if testing.Short() {
		runs = 10
	}
	for range runs {
		check(t, r.Uint64(), 1+r.IntN(64), uint64(r.IntN(500)), 1+r.IntN(20))
	}
}

// TestSeeds checks that the permutation is the seed's: the same seed
// gives the same shares, another seed others.
func TestSeeds(t *testing.T) {
	owned := func(seed uint64) string {
		p, err := New(seed, result.Shard{Index: 1, Count: 4}, 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for h := uint64(1); h <= 100; h++ {
			for i := range 10 {
				if p.Owns(h, i) {
					fmt.Fprintf(&b, "%d:%d ", h, i)
				}
			}
		}
		return b.String()
	}
	if owned(7) != owned(7) {
		t.Error("the same seed gave two shares")
	}
	if owned(7) == owned(8) {
		t.Error("seeds 7 and 8 gave the same share")
	}
}

// TestSpread checks that a share is spread over the hosts and the ports,
// not a block of them: with P = 32N (a host misses a shard with a
// chance of about e^-32), every host has elements in every shard, and
// none has half of them in one.
func TestSpread(t *testing.T) {
	const n, hosts, per = 8, 500, 256
	for k := range n {
		p, err := New(42, result.Shard{Index: k, Count: n}, hosts, per)
		if err != nil {
			t.Fatal(err)
		}
		for h := uint64(1); h <= hosts; h++ {
			if c := p.Count(h); c == 0 || c > per/2 {
				t.Fatalf("shard %d owns %d of host %d's %d ports", k, c, h, per)
			}
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     result.Shard
		hosts uint64
		per   int
		err   string
	}{
		{"whole scan", result.Shard{}, 10, 10, ""},
		{"largest", result.Shard{Index: 0, Count: 2}, 1 << 46, 65536, ""},
		{"too many", result.Shard{Index: 0, Count: 2}, 1 << 47, 65536, "too many probes to shard: 140737488355328 hosts × 65536 ports is more than 2^62 probes"},
		{"saturated count", result.Shard{Index: 0, Count: 2}, ^uint64(0), 1, "too many probes to shard: 2^64 hosts or more"},
		{"no ports", result.Shard{Index: 0, Count: 2}, 10, 0, "0 elements a host"},
		{"no such shard", result.Shard{Index: 2, Count: 2}, 10, 1, "index 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(1, tc.s, tc.hosts, tc.per)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Total() != tc.hosts*uint64(tc.per) {
					t.Errorf("Total %d", p.Total())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New: %v; want %q", err, tc.err)
			}
		})
	}
	// The largest plan still permutes within its range.
	p, err := New(1, result.Shard{Index: 0, Count: 2}, 1<<46, 65536)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []uint64{0, 1, 1<<62 - 1, 12345678901234} {
		if v := p.permute(e); v >= 1<<62 {
			t.Errorf("pi(%d) = %d", e, v)
		}
	}
}

func BenchmarkOwns(b *testing.B) {
	p, err := New(1, result.Shard{Index: 1, Count: 4}, 65536, 65535)
	if err != nil {
		b.Fatal(err)
	}
	n, h, port := 0, uint64(1), 0
	for b.Loop() {
		if p.Owns(h, port) {
			n++
		}
		if port++; port == 65535 {
			port, h = 0, h+1
		}
	}
	_ = n
}
