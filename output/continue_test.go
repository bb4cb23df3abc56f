package output

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// resumeScenario has hosts that finish out of target order, a down
// host held back behind a slower one, listed states folded, hidden
// ports with round trip times, and a host that ends last.
func resumeScenario() scenario {
	a, b, c, d, e := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3"),
		netip.MustParseAddr("192.0.2.4"), netip.MustParseAddr("192.0.2.5")
	var ev []event
	for p := uint16(1); p <= 10; p++ {
		ev = append(ev, res(a, "", p, ports.TCP, result.Closed, result.ReasonConnRefused, 50+int(p), int(p), nil))
		if p <= 5 {
			ev = append(ev, res(b, "", p, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 100+int(p), nil))
		}
	}
	ev = append(ev,
		res(a, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 70, 20, ssh),
		res(c, "", 80, ports.TCP, result.Open, result.ReasonSynAck, 30, 21, http),
		res(c, "", 81, ports.TCP, result.Filtered, result.ReasonHostUnreach, 20, 22, nil),
		hostEv(result.Host{Addr: c, Up: true, Reason: result.ReasonSynAck, Probes: 2, Counts: map[result.State]int{result.Open: 1, result.Filtered: 1},
			Start: at(0), End: at(30), Seq: 3, Index: 3}),
		res(b, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 90, 31, ssh),
		hostEv(result.Host{Addr: d, Reason: result.ReasonNoResponse, Probes: 2, Silent: 2, Start: at(0), End: at(40), Seq: 4, Index: 4}),
		res(a, "", 80, ports.TCP, result.Open, result.ReasonSynAck, 60, 41, http),
		res(a, "", 8080, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1500, custom),
		hostEv(result.Host{Addr: a, Up: true, Reason: result.ReasonSynAck, Probes: 14, Silent: 2,
			Counts: map[result.State]int{result.Open: 2, result.Closed: 10, result.Filtered: 1}, Start: at(0), End: at(1500), Seq: 1, Index: 1}),
		res(e, "", 443, ports.TCP, result.Open, result.ReasonSynAck, 40, 1501, https),
		res(b, "", 80, ports.TCP, result.Closed, result.ReasonConnRefused, 80, 1502, http),
		hostEv(result.Host{Addr: b, Up: true, Reason: result.ReasonSynAck, Probes: 12, Silent: 10,
			Counts: map[result.State]int{result.Open: 1, result.Closed: 1, result.Filtered: 5}, Start: at(0), End: at(1600), Seq: 2, Index: 2}),
		res(e, "", 25, ports.TCP, result.Closed, result.ReasonConnRefused, 45, 1601, smtp),
		hostEv(result.Host{Addr: e, Up: true, Reason: result.ReasonSynAck, Probes: 2,
			Counts: map[result.State]int{result.Open: 1, result.Closed: 1}, Start: at(1000), End: at(1700), Seq: 5, Index: 5}),
	)
	return scenario{
		name: "resume",
		opt:  Options{Reason: true, Collapse: 3, Show: map[result.State]bool{result.Open: true, result.Filtered: true}},
		info: result.Info{Args: []string{"portscan", "-p", "1-10,22,25,80,81,443,8080", "192.0.2.1-5"}, Start: t0, ScanType: "connect",
			Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "1-10,22,25,80,81,443,8080", NumPorts: 16, Version: "0.1.0", Lang: "en",
			Seed: 7, Fingerprint: "f00d"},
		events: ev,
		stats:  result.Summary{Start: t0, End: at(1800), HostsUp: 4, HostsDown: 1, Probes: 32, Open: 6},
	}
}

// settledAt builds, as a checkpoint does, what was reported of each host
// whose Host event had not come after the first k events, and the
// indexes of the hosts finished by then.
func settledAt(sc scenario, k int) (partial []Settled, finished map[hostKey]bool) {
	finished = map[hostKey]bool{}
	byKey := map[hostKey]*Settled{}
	var order []hostKey
	for _, ev := range sc.events[:k] {
		if ev.host != nil {
			key := hostKey{ev.host.Addr, ev.host.Hostname}
			finished[key] = true
			delete(byKey, key)
			continue
		}
		r := *ev.port
		key := hostKey{r.Host, r.Hostname}
		s := byKey[key]
		if s == nil {
			s = &Settled{Addr: r.Host, Hostname: r.Hostname, Source: r.Source}
			byKey[key] = s
			order = append(order, key)
		}
		if sc.opt.Lists(r.State) || r.Detected != nil || r.Evidence != nil {
			s.Listed = append(s.Listed, r)
			continue
		}
		i := slices.IndexFunc(s.Hidden, func(h Hidden) bool { return h.State == r.State && h.Reason == r.Reason })
		if i < 0 {
			s.Hidden = append(s.Hidden, Hidden{State: r.State, Reason: r.Reason, First: r.Time, Last: r.Time})
			i = len(s.Hidden) - 1
		}
		h := &s.Hidden[i]
		h.Count++
		if r.RTT > 0 {
			h.RTT += r.RTT
			h.Answered++
		}
		if r.Time.Before(h.First) {
			h.First = r.Time
		}
		if r.Time.After(h.Last) {
			h.Last = r.Time
		}
	}
	for _, key := range order {
		if s := byKey[key]; s != nil {
			partial = append(partial, *s)
		}
	}
	return partial, finished
}

// TestContinue stops every scenario after each of its events, as a
// checkpoint would, writes what an interrupted run writes after the
// cut, truncates it away, and continues the document in a new Writer
// from the snapshot, with the ports of the hosts in flight restored and
// the rest of the events as a resumed run emits them (Seq counting
// again from 1 over the hosts not finished): every format must write
// exactly the bytes of the run that was never stopped.
func TestContinue(t *testing.T) {
	scs := append(scenarios(), resumeScenario())
	for _, sc := range scs {
		for _, format := range Formats() {
			t.Run(sc.name+"/"+format, func(t *testing.T) {
				want := render(t, format, sc)
				for k := 0; k <= len(sc.events); k++ {
					got := continued(t, format, sc, k)
					if !bytes.Equal(got, want) {
						t.Fatalf("cut after event %d: the continued document differs\n--- got\n%s\n--- want\n%s", k, got, want)
					}
				}
			})
		}
	}
}

func continued(t *testing.T, format string, sc scenario, k int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, sc.opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(sc.info); err != nil {
		t.Fatal(err)
	}
	send := func(w Writer, ev event) {
		t.Helper()
		if ev.port != nil {
			err = w.Port(*ev.port)
		} else {
			err = w.Host(*ev.host)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range sc.events[:k] {
		send(w, ev)
	}
	offset := buf.Len()
	st, err := Snapshot(w)
	if err != nil {
		t.Fatal(err)
	}
	// What the interrupted run writes after the cut goes.
	if err := w.End(result.Summary{Interrupted: true}); err != nil {
		t.Fatal(err)
	}
	buf.Truncate(offset)

	partial, finished := settledAt(sc, k)
	w2, err := Continue(format, &buf, sc.opt, sc.info, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Begin(sc.info); err != nil { // a no-op: the head is written
		t.Fatal(err)
	}
	for _, s := range partial {
		if err := Restore(w2, s); err != nil {
			t.Fatal(err)
		}
	}
	// The resumed run admits again the hosts not finished, in target
	// order, and numbers them from 1.
	var again []uint64
	for _, ev := range sc.events[k:] {
		if h := ev.host; h != nil && h.Index > 0 {
			again = append(again, h.Index)
		}
	}
	slices.Sort(again)
	for _, ev := range sc.events[k:] {
		if h := ev.host; h != nil {
			if finished[hostKey{h.Addr, h.Hostname}] {
				t.Fatalf("host %v finishes twice", h.Addr)
			}
			if h.Seq > 0 {
				h2 := *h
				h2.Seq = uint64(slices.Index(again, h.Index) + 1)
				ev = event{host: &h2}
			}
		}
		send(w2, ev)
	}
	if err := w2.End(sc.stats); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestContinueRefuses(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		name   string
		format string
		st     State
		want   string
	}{
		{"other format", "json", State{Format: "xml"}, `taken of a "xml" output, not "json"`},
		{"negative hosts", "json", State{Format: "json", Hosts: -1}, "-1 hosts"},
		{"control bytes", "text", State{Format: "text", Text: &TextState{Held: []HeldReport{{Index: 1, Text: "\x1b]0;owned\a"}}}}, "control character U+001B"},
		{"bad utf-8", "text", State{Format: "text", Text: &TextState{DownNote: "\xff"}}, "not UTF-8"},
		{"out of order", "text", State{Format: "text", Text: &TextState{Held: []HeldReport{{Index: 2}, {Index: 2}}}}, "out of target order"},
		{"no index", "text", State{Format: "text", Text: &TextState{Held: []HeldReport{{Index: 0}}}}, "out of target order"},
		{"negative down", "text", State{Format: "text", Text: &TextState{Down: map[string]int{"no-response": -3}}}, "-3 hosts down"},
		{"unknown format", "yaml", State{Format: "yaml"}, "unknown output format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Continue(tc.format, &buf, Options{}, result.Info{}, tc.st)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Continue = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestSnapshotRefuses(t *testing.T) {
	var buf bytes.Buffer
	w, _ := New("json", &buf, Options{})
	if _, err := Snapshot(w); !errors.Is(err, ErrState) {
		t.Errorf("before Begin: %v, want ErrState", err)
	}
	w.Begin(result.Info{})
	w.End(result.Summary{End: time.Now()})
	if _, err := Snapshot(w); !errors.Is(err, ErrEnded) {
		t.Errorf("after End: %v, want ErrEnded", err)
	}
	if _, err := Snapshot(result.Funcs{}); !errors.Is(err, ErrState) {
		t.Errorf("another sink: %v, want ErrState", err)
	}
}
