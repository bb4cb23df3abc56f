package output

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// TestTextTargetOrder: hosts finish out of order, text reports them in
// the order they were taken from the targets; End reports those still
// waiting behind an unfinished one.
func TestTextTargetOrder(t *testing.T) {
	var buf bytes.Buffer
	w, err := New("text", &buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	host := func(last byte, seq uint64) result.Host {
		a := netip.AddrFrom4([4]byte{192, 0, 2, last})
		w.Port(result.Port{Host: a, Port: ports.Port{Number: 22, Proto: ports.TCP}, State: result.Open})
		return result.Host{Addr: a, Up: true, Seq: seq, Counts: map[result.State]int{result.Open: 1}}
	}
	w.Begin(result.Info{})
	h3, h2, h1, h5 := host(3, 3), host(2, 2), host(1, 1), host(5, 5)
	w.Host(h3)
	w.Host(h2)
	if strings.Contains(buf.String(), "report for") {
		t.Fatalf("reported before host 1 was done:\n%s", buf.String())
	}
	w.Host(h1)
	w.Host(h5) // 4 never finishes
	w.End(result.Summary{Interrupted: true})
	var order []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "portscan report for "); ok {
			order = append(order, rest)
		}
	}
	if got := strings.Join(order, " "); got != "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.5" {
		t.Errorf("report order %q", got)
	}
}

// TestTextWaitingBounded: one host that never finishes does not hold
// back more than maxWaiting others.
func TestTextWaitingBounded(t *testing.T) {
	var buf bytes.Buffer
	w, _ := New("text", &buf, Options{ShowDown: true})
	w.Begin(result.Info{})
	for seq := uint64(2); seq <= maxWaiting+2; seq++ { // host 1 never ends
		a := netip.AddrFrom4([4]byte{10, 0, byte(seq >> 8), byte(seq)})
		w.Host(result.Host{Addr: a, Up: false, Seq: seq})
	}
	if n := strings.Count(buf.String(), "report for"); n != maxWaiting+1 {
		t.Errorf("%d hosts reported, want all %d once past the bound", n, maxWaiting+1)
	}
}
