package baseline

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// ReplayOptions tune Replay.
type ReplayOptions struct {
	// Label gives the catalog entry of a port, whose descriptions the
	// replayed port carries when its name is the one the file gave; nil
	// keeps the file's name alone.
	Label services.Labeler
	// Lang goes in the run's Info.
	Lang string
}

// Replay sends runs read back from files to w as the events of one run,
// so that any output writer renders saved results as it renders a live
// scan: Begin with what the files say of the run (the first command
// line, the earliest start, the protocols and ports of them all), each
// host's ports and then the host, in address order, and End. The runs
// are taken for parts of one result set, as the shards of a scan are:
// a host in several has the ports of them all (a later run's word on a
// port wins) and the sum of their counts. The summary counts the hosts
// by status and the open ports; it has no probe count, which the files
// do not keep. Replay stops when ctx ends, and returns what w returned.
func Replay(ctx context.Context, runs []*Run, w result.Sink, opt ReplayOptions) error {
	info := result.Info{Lang: opt.Lang}
	sum := result.Summary{}
	var protos []ports.Protocol
	var scanned ports.Set
	allScanned, pcap := len(runs) > 0, len(runs) > 0
	for _, r := range runs {
		if info.Args == nil {
			info.Args = r.Args
		}
		if !r.Start.IsZero() && (info.Start.IsZero() || r.Start.Before(info.Start)) {
			info.Start = r.Start
		}
		if r.End.After(sum.End) {
			sum.End = r.End
		}
		sum.Interrupted = sum.Interrupted || r.Interrupted
		pcap = pcap && r.Scanner == "pcap"
		for _, p := range r.Protocols {
			if !slices.Contains(protos, p) {
				protos = append(protos, p)
			}
		}
		if r.Scanned == nil {
			allScanned = false
		} else {
			scanned.Union(r.Scanned)
		}
	}
	sum.Start = info.Start
	slices.Sort(protos)
	info.Protocols = protos
	switch {
	case pcap:
		info.ScanType = "pcap"
	case len(protos) > 0:
		names := make([]string, len(protos))
		for i, p := range protos {
			names[i] = map[ports.Protocol]string{ports.TCP: "connect", ports.UDP: "udp"}[p]
		}
		info.ScanType = strings.Join(names, "+")
	}
	if allScanned && !pcap {
		info.Ports = &scanned
		info.PortsSpec = scanned.String()
		if len(protos) > 0 {
			info.NumPorts = scanned.Len(protos[0])
		}
	}
	if err := w.Begin(info); err != nil {
		return err
	}
	hosts := merged(runs)
	for _, a := range slices.SortedFunc(maps.Keys(hosts), netip.Addr.Compare) {
		if err := ctx.Err(); err != nil {
			sum.Interrupted = true
			break
		}
		h := hosts[a]
		source := "scan"
		if pcap {
			source = "pcap"
		}
		for _, p := range slices.SortedFunc(maps.Keys(h.Ports), func(x, y ports.Port) int {
			return cmp.Or(cmp.Compare(x.Proto, y.Proto), cmp.Compare(x.Number, y.Number))
		}) {
			st := h.Ports[p]
			res := result.Port{Host: a, Hostname: h.Hostname, Port: p, State: st.State, Reason: st.Reason, TTL: st.TTL, ReasonIP: st.ReasonIP, Detected: st.Detected,
				Evidence: st.Evidence, Source: source, Service: label(opt.Label, p, st.Service)}
			if st.State == result.Open {
				sum.Open++
			}
			if err := w.Port(res); err != nil {
				return err
			}
		}
		hr := result.Host{Addr: a, Hostname: h.Hostname, Up: up(h), Reason: h.Reason, TTL: h.TTL, ReasonIP: h.ReasonIP, Counts: h.Counts, Source: source}
		if hr.Counts == nil {
			hr.Counts = map[result.State]int{}
			for _, st := range h.Ports {
				hr.Counts[st.State]++
			}
		}
		if hr.Up {
			sum.HostsUp++
		} else {
			sum.HostsDown++
		}
		if err := w.Host(hr); err != nil {
			return err
		}
	}
	if sum.End.IsZero() {
		sum.End = sum.Start
	}
	return w.End(sum)
}

// merged is the hosts of the runs, one entry an address: the ports of
// every run, later ones winning, and the counts summed.
func merged(runs []*Run) map[netip.Addr]*Host {
	out := map[netip.Addr]*Host{}
	for _, r := range runs {
		for a, h := range r.hosts {
			m := out[a]
			if m == nil {
				m = &Host{Addr: a, Ports: map[ports.Port]Port{}}
				out[a] = m
			}
			m.Hostname = cmp.Or(m.Hostname, h.Hostname)
			if m.Reason == "" {
				m.Reason, m.TTL, m.ReasonIP = h.Reason, h.TTL, h.ReasonIP
			}
			m.Up = m.Up || h.Up
			maps.Copy(m.Ports, h.Ports)
			if h.Counts != nil {
				if m.Counts == nil {
					m.Counts = map[result.State]int{}
				}
				for s, n := range h.Counts {
					m.Counts[s] += n
				}
			}
		}
	}
	return out
}

// label is the entry that labels p as the file named it: the catalog's,
// with its descriptions, when its name or an alias is the file's name;
// else an entry of that name alone; nil for no name.
func label(lookup services.Labeler, p ports.Port, name string) *services.Entry {
	if name == "" {
		return nil
	}
	if lookup != nil {
		if e := lookup(p); e != nil && e.Is(name) {
			return e
		}
	}
	return &services.Entry{Name: name, Port: p}
}
