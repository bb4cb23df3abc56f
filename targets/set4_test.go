package targets

import (
	"math/rand/v2"
	"testing"
)

// TestSet4 adds random spans to a set4 and checks each answer against a
// plain map: the fresh spans are exactly what was not there, ascending
// and maximal, and contains agrees. Spans are drawn so that blocks go
// through every form: runs, a bitmap, full.
func TestSet4(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 8 {
		var s set4
		ref := map[uint32]bool{}
		// Addresses around 10.0.0.0/15 and the top of the space.
		bases := []uint32{0x0a000000, 0x0a010000, 0xfffe0000}
		pick := func() uint32 {
			base := bases[rng.IntN(len(bases))]
			a := base + uint32(rng.IntN(1<<17))
			if a < base { // wrapped past the top
				a = 0xffffffff
			}
			return a
		}
		for range 3000 {
			a := pick()
			if round%4 == 0 {
				a = bases[0] + uint32(rng.IntN(1<<16))
			}
			var n uint32
			switch rng.IntN(10) {
			case 0:
				n = uint32(rng.IntN(1 << 16))
			case 1, 2:
				n = uint32(rng.IntN(300))
			}
			if round%4 == 0 {
				n = 0 // single addresses in one block: it turns into a bitmap
			}
			b := a + n
			if b < a {
				b = 0xffffffff
			}
			var fresh [][2]uint32
			s.add(a, b, func(x, y uint32) { fresh = append(fresh, [2]uint32{x, y}) })
			var want [][2]uint32
			for x := uint64(a); x <= uint64(b); x++ {
				if ref[uint32(x)] {
					continue
				}
				ref[uint32(x)] = true
				if k := len(want); k > 0 && uint64(want[k-1][1])+1 == x {
					want[k-1][1] = uint32(x)
				} else {
					want = append(want, [2]uint32{uint32(x), uint32(x)})
				}
			}
			// Pieces may be cut at /16 boundaries; join them to compare.
			var got [][2]uint32
			for _, f := range fresh {
				if k := len(got); k > 0 && uint64(got[k-1][1])+1 == uint64(f[0]) {
					got[k-1][1] = f[1]
				} else {
					got = append(got, f)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("round %d: add(%#x, %#x) fresh %x, want %x", round, a, b, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("round %d: add(%#x, %#x) fresh %x, want %x", round, a, b, got, want)
				}
			}
		}
		if round%4 == 0 && s.top[10][0].bits == nil {
			t.Fatalf("round %d: 3000 scattered addresses in a /16 are not held as a bitmap", round)
		}
		for range 20000 {
			a := pick()
			if s.contains(a) != ref[a] {
				t.Fatalf("round %d: contains(%#x) = %v", round, a, !ref[a])
			}
		}
	}
}

func TestSet4Whole(t *testing.T) {
	var s set4
	s.add(0x0a000005, 0x0a000005, func(uint32, uint32) {})
	s.add(0x0a0100ff, 0x0a02ffff, func(uint32, uint32) {})
	var fresh [][2]uint32
	s.add(0, 0xffffffff, func(a, b uint32) { fresh = append(fresh, [2]uint32{a, b}) })
	var n uint64
	for _, f := range fresh {
		n += uint64(f[1]) - uint64(f[0]) + 1
	}
	if n != 1<<32-1-(0x0a02ffff-0x0a0100ff+1) {
		t.Errorf("adding everything found %d new addresses", n)
	}
	for i, m := range s.top {
		if m != fullMid {
			t.Fatalf("the /8 %d is not held as full", i)
		}
	}
	s.add(0, 0xffffffff, func(a, b uint32) { t.Errorf("fresh %#x-%#x in a full set", a, b) })
}
