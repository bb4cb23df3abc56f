package merge

import (
	"context"
	"runtime"
	"sync"

	"github.com/portscan/portscan/result"
)

// batchBytes is about how many bytes of records one batch of the second
// reading holds: batches end at a host's end, so one host's records are
// never split.
const batchBytes = 256 << 10

// batch is a run of slots, whole hosts, read back by one goroutine.
type batch struct {
	start, end int // slots
	parts      []part
	err        error
	done       chan struct{}
}

// Run reads the files a second time, host by host in target order,
// and emits each merged host's ports and then the host to sink, as a
// scan emits them: the caller calls sink.Begin with Info before and
// sink.End with the summary after, as for scanner.Run. Each host's
// Seq is its place in the report, from 1, so text output writes each
// at once. The records are read back and decoded by as many goroutines
// as there are CPUs, a batch of hosts each, and merged and emitted in
// order by the caller's; only the batches in flight are held.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *batch, workers)
	ordered := make(chan *batch, workers)
	var wg sync.WaitGroup
	defer wg.Wait() // no goroutine reads a file once Run has returned
	wg.Go(func() {
		defer close(todo)
		defer close(ordered)
		for start := 0; start < m.slots.len() && ctx.Err() == nil; {
			b := &batch{start: start, end: m.cut(start), done: make(chan struct{})}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
			todo <- b // never blocks for long: workers take every batch
			start = b.end
		}
	})
	for range workers {
		wg.Go(func() {
			r := newReader(m.files, workers)
			for b := range todo {
				if ctx.Err() == nil {
					b.parts, b.err = m.readBatch(r, b)
				}
				close(b.done)
			}
		})
	}

	seq := uint64(0)
	emit := func(parts []part) error {
		h, list := mergeHost(parts)
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
	fail := func(err error) (result.Summary, error) {
		cancel()
		for b := range ordered { // let the producer end
			<-b.done
		}
		if err == context.Canceled || err == context.DeadlineExceeded {
			sum.Interrupted = true
		}
		return sum, err
	}
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			<-b.done
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if b.err != nil {
			return fail(b.err)
		}
		for i := 0; i < len(b.parts); {
			j := i + 1
			for j < len(b.parts) && b.parts[j].host.Index == b.parts[i].host.Index && m.sameSlotHost(b.start+i, b.start+j) {
				j++
			}
			if err := emit(b.parts[i:j]); err != nil {
				return fail(err)
			}
			i = j
		}
	}
	if err := ctx.Err(); err != nil {
		sum.Interrupted = true
		return sum, err
	}
	return sum, nil
}

// sameSlotHost reports whether slots i and j are of one host.
func (m *Merger) sameSlotHost(i, j int) bool {
	a, b := m.slots.at(i), m.slots.at(j)
	return a.index == b.index && sameHost(a, b) == 0
}

// cut is where the batch that starts at slot start ends: after about
// batchBytes of records, at the end of a host.
func (m *Merger) cut(start int) int {
	n := 0
	i := start
	for i < m.slots.len() {
		s := m.slots.at(i)
		n += int(s.size)
		for r := s.first; r != noRec; r = *m.files[s.file].recs.next.at(int(r)) {
			_, size := m.files[s.file].recs.at(r)
			n += size
		}
		i++
		if n >= batchBytes && (i == m.slots.len() || !m.sameSlotHost(i-1, i)) {
			break
		}
	}
	return i
}

// readBatch reads back the records of a batch's slots.
func (m *Merger) readBatch(r *reader, b *batch) ([]part, error) {
	parts := make([]part, 0, b.end-b.start)
	for i := b.start; i < b.end; i++ {
		pt, err := m.part(r, m.slots.at(i))
		if err != nil {
			return nil, err
		}
		parts = append(parts, pt)
	}
	return parts, nil
}

// part reads back the records of one slot.
func (m *Merger) part(r *reader, s *slot) (part, error) {
	f := m.files[s.file]
	var pt part
	var err error
	switch f.kind {
	case formatJSONL:
		pt, err = m.jsonlPart(r, f, s)
	default:
		if f.kind == formatJSON {
			pt, err = m.jsonDocPart(r, f, s)
		} else {
			pt, err = m.xmlPart(r, f, s)
		}
	}
	pt.group = int(f.segs[s.seg].group.id)
	pt.host.Index = s.index
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
