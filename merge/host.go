package merge

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// part is what one record of one file says of a host: the host record
// and the ports listed with it.
type part struct {
	host  result.Host
	ports []result.Port
	group int
	// orphan: no host record came; host was made from the ports.
	orphan bool
}

// definitive reports whether a port's state settles it: open or
// closed, the states a reply proves. filtered and open|filtered say
// that nothing (or a router) answered, which a later probe may better.
func definitive(s result.State) bool { return s == result.Open || s == result.Closed }

// replaces reports whether port result b, read after a, is the one
// kept: a definitive state over one that is not, else the later by the
// time it was decided, else (no times, or equal) the later read.
func replaces(a, b result.Port) bool {
	if da, db := definitive(a.State), definitive(b.State); da != db {
		return db
	}
	if !a.Time.IsZero() && !b.Time.IsZero() && !a.Time.Equal(b.Time) {
		return b.Time.After(a.Time)
	}
	return true
}

// mergePort is what a merge keeps of two results of one port, a read
// before b: the one replaces chooses, with the service detection of the
// other when both are open and only the other detected one.
func mergePort(a, b result.Port) result.Port {
	win, lose := a, b
	if replaces(a, b) {
		win, lose = b, a
	}
	if win.Detected == nil && lose.Detected != nil && win.State == result.Open && lose.State == result.Open {
		win.Detected = lose.Detected
	}
	if win.Service == nil {
		win.Service = lose.Service
	}
	return win
}

// mergeHost joins the parts of one host, in the order they were read,
// into one host and its ports, in protocol and port order:
//
//   - each port once, as mergePort keeps it;
//   - up if any part saw it up, with that part's reason, its TTL and its reason_ip
//     (the first that gives one);
//     incomplete when some part of the scan has only incomplete records
//     of it (a shard interrupted and not resumed): so a resumed run's
//     whole record makes its incomplete one complete;
//   - its port counts: the merged ports counted by state, plus the ports
//     each part of the scan (group) counted without listing them; within
//     a group, the last whole record counts for the group (a resumed run
//     reports the host whole), or, when there is none, the largest count
//     of its incomplete records, state by state;
//   - probes and silent probes summed, start the earliest, end the
//     latest, cut short if any part was (unscanned ports as counted);
//   - its round trip time the mean of its merged ports' (what jsonl and
//     json give as its latency), else the first up part's.
//
// Tarpit is recomputed from the merged counts, or kept when a part said
// so.
func mergeHost(parts []part) (result.Host, []result.Port) {
	first := parts[0].host
	h := result.Host{Addr: first.Addr, Hostname: first.Hostname, Index: first.Index, Counts: make(map[result.State]int)}
	merged := make(map[ports.Port]result.Port)
	complete := make(map[int]bool)
	groups := []int{}
	for _, pt := range parts {
		for _, p := range pt.ports {
			if q, ok := merged[p.Port]; ok {
				p = mergePort(q, p)
			}
			merged[p.Port] = p
		}
		x := pt.host
		if !slices.Contains(groups, pt.group) {
			groups = append(groups, pt.group)
		}
		if !x.Incomplete && !pt.orphan {
			complete[pt.group] = true
		}
		if x.Up && (!h.Up || h.Reason == "" && x.Reason != "") {
			h.Up, h.Reason, h.TTL, h.ReasonIP = true, x.Reason, x.TTL, x.ReasonIP
			h.RTT, h.RTTVar, h.Timeout = x.RTT, x.RTTVar, x.Timeout
		}
		if h.Reason == "" && !h.Up {
			h.Reason, h.TTL, h.ReasonIP = x.Reason, x.TTL, x.ReasonIP
		}
		if h.Source == "" {
			h.Source = x.Source
		}
		if h.Hostname == "" {
			h.Hostname = x.Hostname
		}
		h.Probes += x.Probes
		h.Silent += x.Silent
		h.Start, h.End = earliest(h.Start, x.Start), latest(h.End, x.End)
		h.Tarpit = h.Tarpit || x.Tarpit
		h.CutShort = h.CutShort || x.CutShort
	}
	for _, g := range groups {
		if !complete[g] {
			h.Incomplete = true
		}
		unlisted, unscanned := groupCounts(parts, g, complete[g])
		for s, n := range unlisted {
			h.Counts[s] += n
		}
		h.Unscanned += unscanned
	}
	list := slices.Collect(maps.Values(merged))
	slices.SortFunc(list, func(a, b result.Port) int {
		return cmp.Or(cmp.Compare(a.Port.Proto, b.Port.Proto), cmp.Compare(a.Port.Number, b.Port.Number))
	})
	var rtt time.Duration
	rtts := 0
	for _, p := range list {
		h.Counts[p.State]++
		if p.RTT > 0 {
			rtt, rtts = rtt+p.RTT, rtts+1
		}
	}
	if rtts > 0 {
		// jsonl and json give a host's latency as the mean round trip of
		// its listed ports, so the merged host's is that of its merged
		// ports, as the whole run's would have been.
		h.RTT = rtt / time.Duration(rtts)
	}
	if result.IsTarpit(h.Counts) {
		h.Tarpit = true
	}
	if !h.Up && h.Incomplete {
		// A part that never answered: up only on a port's answer.
		for _, p := range list {
			if definitive(p.State) {
				h.Up = true
			}
		}
	}
	return h, list
}

// groupCounts are the ports of group g that its records of the host
// counted and did not list, by state, and the ports they left
// unscanned: its last whole record's when it has one (complete), else
// the largest of its incomplete records', state by state.
func groupCounts(parts []part, g int, complete bool) (map[result.State]int, int) {
	out := make(map[result.State]int)
	unscanned := 0
	for _, pt := range slices.Backward(parts) {
		if pt.group != g || complete && (pt.host.Incomplete || pt.orphan) {
			continue
		}
		listed := make(map[result.State]int)
		for _, p := range pt.ports {
			listed[p.State]++
		}
		for s, n := range pt.host.Counts {
			out[s] = max(out[s], n-listed[s])
		}
		unscanned = max(unscanned, pt.host.Unscanned)
		if complete {
			break // the last whole record
		}
	}
	return out, unscanned
}
