package merge

import (
	"context"

	"github.com/portscan/portscan/result"
)

// Run reads the files a second time, host by host in target order,
// and emits each merged host's ports and then the host to sink, as a
// scan emits them: the caller calls sink.Begin with Info before and
// sink.End with the summary after, as for scanner.Run. Each host's
// Seq is its place in the report, from 1, so text output writes each
// at once. Only one host's records are held at a time.
//
// The summary counts the hosts by their merged status, the open ports
// of the merged hosts, and the probes of every run (a run's summary,
// or the sum of its hosts' when it has none, killed outright); it
// starts at the earliest start and ends at the latest end, and is
// interrupted when a part of the scan never finished (no run of it
// ended uninterrupted), or when ctx ends first, whose error Run then
// returns. A sink's error stops Run and is returned.
func (m *Merger) Run(ctx context.Context, sink result.Sink) (result.Summary, error) {
	sum := m.summary()
	var parts []part
	seq := uint64(0)
	flush := func() error {
		if len(parts) == 0 {
			return nil
		}
		h, list := mergeHost(parts)
		parts = parts[:0]
		seq++
		h.Seq = seq
		for _, p := range list {
			if err := sink.Port(p); err != nil {
				return err
			}
		}
		switch h.Status() {
		case "up":
			sum.HostsUp++
		case "unknown":
			sum.HostsUnknown++
		default:
			sum.HostsDown++
		}
		sum.Open += h.Counts[result.Open]
		sum.Start, sum.End = earliest(sum.Start, h.Start), latest(sum.End, h.End)
		return sink.Host(h)
	}
	var prev *slot
	for i := range m.slots.len() {
		if i%256 == 0 && ctx.Err() != nil {
			sum.Interrupted = true
			return sum, ctx.Err()
		}
		s := m.slots.at(i)
		if prev != nil && (s.index != prev.index || sameHost(s, prev) != 0) {
			if err := flush(); err != nil {
				return sum, err
			}
		}
		prev = s
		pt, err := m.part(s)
		if err != nil {
			return sum, err
		}
		pt.host.Index = s.index
		parts = append(parts, pt)
	}
	return sum, flush()
}

// part reads back the records of one slot.
func (m *Merger) part(s *slot) (part, error) {
	f := m.files[s.file]
	var pt part
	var err error
	switch f.kind {
	case formatJSONL:
		pt, err = m.jsonlPart(f, s)
	case formatJSON:
		pt, err = m.jsonDocPart(f, s)
	default:
		pt, err = m.xmlPart(f, s)
	}
	pt.group = int(s.group)
	return pt, err
}

// summary is the run's summary before its hosts are counted.
func (m *Merger) summary() result.Summary {
	var sum result.Summary
	for _, f := range m.files {
		for _, s := range f.segs {
			sum.Start = earliest(sum.Start, s.head.start)
			if t := s.tail; t != nil {
				sum.Start, sum.End = earliest(sum.Start, t.start), latest(sum.End, t.end)
				sum.Probes += t.probes
				if c := t.capture; c != nil {
					if sum.Capture == nil {
						sum.Capture = &result.CaptureStats{}
					}
					sum.Capture.Packets += c.Packets
					sum.Capture.Skipped += c.Skipped
					sum.Capture.Flows += c.Flows
					sum.Capture.EvictedIdle += c.EvictedIdle
					sum.Capture.EvictedFull += c.EvictedFull
					sum.Capture.Unreported += c.Unreported
				}
			} else {
				sum.Probes += s.hostProbes
			}
		}
	}
	for _, g := range m.groups {
		if !g.done {
			sum.Interrupted = true
		}
	}
	return sum
}
