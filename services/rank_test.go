package services

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
)

// TestRankingFile checks data/top-ports.tsv against the rules its header
// states: every line is a catalog port with the catalog's name, listed
// once, and lines run by tier, then port, then protocol.
func TestRankingFile(t *testing.T) {
	r := ranking()
	if len(r) == 0 {
		t.Fatal("empty ranking")
	}
	seen := map[ports.Port]bool{}
	for i, x := range r {
		e := Default().Lookup(x.port)
		if e == nil || e.Name != x.name {
			t.Errorf("line %d: %v %s, the catalog has %v", x.line, x.port, x.name, e)
		}
		if seen[x.port] {
			t.Errorf("line %d: %v listed twice", x.line, x.port)
		}
		seen[x.port] = true
		if i > 0 && compareRanked(r[i-1], x) >= 0 {
			t.Errorf("line %d: %v (tier %d) after %v (tier %d): want tier, then port, then protocol order", x.line, x.port, x.tier, r[i-1].port, r[i-1].tier)
		}
	}
}

func compareRanked(a, b ranked) int {
	return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(a.port.Number, b.port.Number), cmp.Compare(a.port.Proto, b.port.Proto))
}

func TestTop(t *testing.T) {
	str := func(ps []ports.Port) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.String())
		}
		return strings.Join(s, " ")
	}
	if got, want := str(Top(ports.TCP, 10)), "21/tcp 22/tcp 23/tcp 25/tcp 53/tcp 80/tcp 135/tcp 139/tcp 443/tcp 445/tcp"; got != want {
		t.Errorf("Top(tcp, 10) = %s, want %s", got, want)
	}
	if got, want := str(Top(ports.UDP, 5)), "53/udp 67/udp 69/udp 123/udp 137/udp"; got != want {
		t.Errorf("Top(udp, 5) = %s, want %s", got, want)
	}
	for _, proto := range []ports.Protocol{ports.TCP, ports.UDP, ports.DDP} {
		var all []ports.Port
		for e := range Default().All() {
			if e.Port.Proto == proto {
				all = append(all, e.Port)
			}
		}
		for _, n := range []int{0, 1, 100, len(all), len(all) + 1, 1 << 20} {
			t.Run(fmt.Sprintf("%v/%d", proto, n), func(t *testing.T) {
				top := Top(proto, n)
				if len(top) != min(n, len(all)) {
					t.Fatalf("Top(%v, %d) has %d ports, want %d", proto, n, len(top), min(n, len(all)))
				}
				// A prefix of the full order, and every port once.
				if full := Top(proto, len(all)); !slices.Equal(top, full[:len(top)]) {
					t.Errorf("Top(%v, %d) is not a prefix of the whole ranking", proto, n)
				}
				seen := map[ports.Port]bool{}
				for _, p := range top {
					if p.Proto != proto || seen[p] || Default().Lookup(p) == nil {
						t.Fatalf("Top(%v, %d) has %v: wrong protocol, twice, or not in the catalog", proto, n, p)
					}
					seen[p] = true
				}
			})
		}
		// Past the ranked lines, the catalog tail in port order.
		full := Top(proto, len(all))
		tail := full[min(len(full), rankedCount(proto)):]
		if !slices.IsSortedFunc(tail, func(a, b ports.Port) int { return cmp.Compare(a.Number, b.Number) }) {
			t.Errorf("%v: the tail after the ranked ports is not in port order", proto)
		}
	}
}

func rankedCount(proto ports.Protocol) int {
	n := 0
	for _, x := range ranking() {
		if x.port.Proto == proto {
			n++
		}
	}
	return n
}

func TestParseRankingErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"fields", "22/tcp\t1\n", 1, "want 3 tab-separated fields"},
		{"bare port", "# c\n22\t1\tssh\n", 2, "want number/protocol"},
		{"protocol", "22/sctp\t1\tssh\n", 1, "invalid protocol"},
		{"port", "0/tcp\t1\tx\n", 1, "invalid port"},
		{"tier", "22/tcp\tone\tssh\n", 1, "invalid tier"},
		{"tier zero", "22/tcp\t0\tssh\n", 1, "invalid tier"},
		{"name", "22/tcp\t1\t\n", 1, "empty service name"},
		{"twice", "22/tcp\t1\tssh\n22/tcp\t2\tssh\n", 2, "22/tcp listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRanking(strings.NewReader(tt.in), "top.tsv")
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("parseRanking = %v, want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}
}
