package merge

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

var hostA = netip.MustParseAddr("198.18.0.1")

func pr(n uint16, st result.State, ms int) result.Port {
	p := result.Port{Host: hostA, Port: ports.Port{Number: n, Proto: ports.TCP}, State: st, Reason: st.String()}
	if ms >= 0 {
		p.Time = at(ms)
	}
	return p
}

func TestMergePort(t *testing.T) {
	ssh := &result.Service{Name: "ssh", Product: "OpenSSH"}
	withDetected := func(p result.Port, d *result.Service) result.Port { p.Detected = d; return p }
	tests := []struct {
		name string
		a, b result.Port // a read first
		want result.Port
	}{
		{"open over an earlier filtered", pr(80, result.Filtered, 1), pr(80, result.Open, 2), pr(80, result.Open, 2)},
		{"open over a later filtered", pr(80, result.Open, 2), pr(80, result.Filtered, 9), pr(80, result.Open, 2)},
		{"closed over a later open|filtered", pr(53, result.Closed, 1), pr(53, result.OpenFiltered, 5), pr(53, result.Closed, 1)},
		{"the later definitive by time, read first", pr(80, result.Closed, 9), pr(80, result.Open, 2), pr(80, result.Closed, 9)},
		{"the later definitive by time, read last", pr(80, result.Open, 2), pr(80, result.Closed, 9), pr(80, result.Closed, 9)},
		{"no times: the later read", pr(80, result.Closed, -1), pr(80, result.Open, -1), pr(80, result.Open, -1)},
		{"equal times: the later read", pr(80, result.Closed, 3), pr(80, result.Open, 3), pr(80, result.Open, 3)},
		{"two filtered: the later by time", pr(80, result.OpenFiltered, 7), pr(80, result.Filtered, 2), pr(80, result.OpenFiltered, 7)},
		{"open keeps the other's detection", withDetected(pr(22, result.Open, 1), ssh), pr(22, result.Open, 5), withDetected(pr(22, result.Open, 5), ssh)},
		{"its own detection first", withDetected(pr(22, result.Open, 1), ssh), withDetected(pr(22, result.Open, 5), &result.Service{Name: "http"}),
			withDetected(pr(22, result.Open, 5), &result.Service{Name: "http"})},
		{"closed drops detection", withDetected(pr(22, result.Open, 1), ssh), pr(22, result.Closed, 5), pr(22, result.Closed, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergePort(tt.a, tt.b)
			if got.State != tt.want.State || !got.Time.Equal(tt.want.Time) || (got.Detected == nil) != (tt.want.Detected == nil) ||
				got.Detected != nil && got.Detected.Name != tt.want.Detected.Name {
				t.Errorf("got %v at %v detected %v, want %v at %v detected %v", got.State, got.Time, got.Detected, tt.want.State, tt.want.Time, tt.want.Detected)
			}
		})
	}
}

func counts(kv ...any) map[result.State]int {
	m := map[result.State]int{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(result.State)] = kv[i+1].(int)
	}
	return m
}

func TestMergeHost(t *testing.T) {
	up := func(c map[result.State]int, probes int, ps ...result.Port) result.Host {
		return result.Host{Addr: hostA, Up: true, Reason: "syn-ack", Counts: c, Probes: probes, Start: at(10), End: at(20)}
	}
	type want struct {
		status     string
		reason     string
		incomplete bool
		counts     map[result.State]int
		listed     int
		probes     int
	}
	tests := []struct {
		name  string
		parts []part
		want  want
	}{
		{"shards add their counts", []part{
			{host: up(counts(result.Open, 1, result.Closed, 9), 10), ports: []result.Port{pr(22, result.Open, 1)}, group: 0},
			{host: up(counts(result.Open, 1, result.Closed, 5, result.Filtered, 2), 8), ports: []result.Port{pr(80, result.Open, 2)}, group: 1},
			{host: up(counts(result.Closed, 10), 10), group: 2},
		}, want{"up", "syn-ack", false, counts(result.Open, 2, result.Closed, 24, result.Filtered, 2), 2, 28}},
		{"up if any shard saw it up, with its reason", []part{
			{host: result.Host{Addr: hostA, Reason: "no-response", Probes: 2}, group: 0},
			{host: result.Host{Addr: hostA, Up: true, Reason: "conn-refused", Counts: counts(result.Closed, 3), Probes: 5}, group: 1},
		}, want{"up", "conn-refused", false, counts(result.Closed, 3), 0, 7}},
		{"down in every shard", []part{
			{host: result.Host{Addr: hostA, Reason: "no-response", Probes: 2}, group: 0},
			{host: result.Host{Addr: hostA, Reason: "no-response", Probes: 2}, group: 1},
		}, want{"down", "no-response", false, counts(), 0, 4}},
		{"a resumed run's whole record counts, not the incomplete one", []part{
			{host: result.Host{Addr: hostA, Up: true, Incomplete: true, Counts: counts(result.Open, 1, result.Closed, 40), Probes: 41},
				ports: []result.Port{pr(22, result.Open, 1)}, group: 0},
			{host: up(counts(result.Open, 2, result.Closed, 98), 100), ports: []result.Port{pr(22, result.Open, 50), pr(80, result.Open, 51)}, group: 0},
		}, want{"up", "", false, counts(result.Open, 2, result.Closed, 98), 2, 141}},
		{"incomplete records only: the largest counts", []part{
			{host: result.Host{Addr: hostA, Up: true, Incomplete: true, Counts: counts(result.Closed, 40, result.Filtered, 1), Probes: 41}, group: 0},
			{host: result.Host{Addr: hostA, Up: true, Incomplete: true, Counts: counts(result.Closed, 30, result.Filtered, 5), Probes: 35}, group: 0},
		}, want{"up", "", true, counts(result.Closed, 40, result.Filtered, 5), 0, 76}},
		{"a shard that never finished the host leaves it incomplete", []part{
			{host: up(counts(result.Closed, 10), 10), group: 0},
			{host: result.Host{Addr: hostA, Incomplete: true, Counts: counts(result.Filtered, 3)}, group: 1},
		}, want{"up", "syn-ack", true, counts(result.Closed, 10, result.Filtered, 3), 0, 10}},
		{"unknown in every part", []part{
			{host: result.Host{Addr: hostA, Incomplete: true, Counts: counts(result.Filtered, 3)}, group: 0},
		}, want{"unknown", "", true, counts(result.Filtered, 3), 0, 0}},
		{"the port lines of a killed run make it up", []part{
			{host: unfinished([]result.Port{pr(22, result.Open, 1)}), ports: []result.Port{pr(22, result.Open, 1)}, orphan: true, group: 0},
		}, want{"up", "", true, counts(result.Open, 1), 1, 0}},
		{"a killed run's ports, then the resumed run's whole record", []part{
			{host: unfinished([]result.Port{pr(22, result.Open, 1)}), ports: []result.Port{pr(22, result.Open, 1), pr(23, result.Filtered, 1)}, orphan: true, group: 0},
			{host: up(counts(result.Open, 1, result.Closed, 8, result.Filtered, 1), 10), ports: []result.Port{pr(22, result.Open, 5)}, group: 0},
		}, want{"up", "syn-ack", false, counts(result.Open, 1, result.Closed, 8, result.Filtered, 2), 2, 10}},
		{"a port listed filtered in one part, open in another, is counted once", []part{
			{host: up(counts(result.Filtered, 1, result.Closed, 4), 5), ports: []result.Port{pr(8080, result.Filtered, 3)}, group: 0},
			{host: up(counts(result.Open, 1, result.Closed, 4), 5), ports: []result.Port{pr(8080, result.Open, 2)}, group: 0},
		}, want{"up", "syn-ack", false, counts(result.Open, 1, result.Closed, 4), 1, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, list := mergeHost(tt.parts)
			got := want{h.Status(), h.Reason, h.Incomplete, h.Counts, len(list), h.Probes}
			if !maps.Equal(got.counts, tt.want.counts) || got.status != tt.want.status || got.incomplete != tt.want.incomplete ||
				got.listed != tt.want.listed || got.probes != tt.want.probes || tt.want.reason != "" && got.reason != tt.want.reason {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if !h.Start.Equal(earliestStart(tt.parts)) {
				t.Errorf("start %v", h.Start)
			}
		})
	}
}

func earliestStart(parts []part) time.Time {
	var t time.Time
	for _, p := range parts {
		t = earliest(t, p.host.Start)
	}
	return t
}

func TestMergeHostTarpit(t *testing.T) {
	// Each of two shards saw 60 of 120 ports open: below the threshold
	// apart, a tarpit together.
	var parts []part
	for g := range 2 {
		var ps []result.Port
		for n := range 60 {
			ps = append(ps, pr(uint16(1+g*60+n), result.Open, n))
		}
		parts = append(parts, part{host: result.Host{Addr: hostA, Up: true, Counts: counts(result.Open, 60)}, ports: ps, group: g})
	}
	if h, _ := mergeHost(parts); !h.Tarpit || h.Counts[result.Open] != 120 {
		t.Errorf("tarpit %v, open %d; want a tarpit of 120 open ports", h.Tarpit, h.Counts[result.Open])
	}
}
