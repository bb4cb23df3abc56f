package output

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// hostKey names a host in flight. The same address given under two names
// is two hosts, as in nmap.
type hostKey struct {
	addr netip.Addr
	name string
}

func compareKeys(a, b hostKey) int {
	if c := a.addr.Compare(b.addr); c != 0 {
		return c
	}
	return cmp.Compare(a.name, b.name)
}

// stateOrder is the order states are summed up in "Not shown" lines.
var stateOrder = []result.State{result.Open, result.Closed, result.Filtered, result.OpenFiltered, result.Unknown}

// tally counts ports of one state that are not listed, by reason (or
// hosts found down).
type tally struct {
	count   int
	reasons map[string]int
	folded  bool // the state had too many ports on the host to list
}

func (t *tally) add(reason string, n int) {
	t.count += n
	if t.reasons == nil {
		t.reasons = make(map[string]int)
	}
	t.reasons[reason] += n
}

// reasonCount is one reason and how many ports gave it.
type reasonCount struct {
	reason string
	count  int
}

// sorted returns the reasons, most frequent first.
func (t *tally) sorted() []reasonCount {
	out := make([]reasonCount, 0, len(t.reasons))
	for r, n := range t.reasons {
		out = append(out, reasonCount{r, n})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.reason, b.reason)
	})
	return out
}

// hostBuf holds what is known of one host until its Host call: the ports
// to be listed, and counts of the others. Its size is bounded by the
// number of listed ports, not by the number probed.
type hostBuf struct {
	key    hostKey
	first  time.Time
	last   time.Time
	listed map[ports.Port]result.Port
	hidden map[result.State]*tally
	rttSum time.Duration
	rttN   int
	source string
}

func newHostBuf(k hostKey) *hostBuf {
	return &hostBuf{key: k, listed: make(map[ports.Port]result.Port), hidden: make(map[result.State]*tally)}
}

func (b *hostBuf) add(r result.Port, show bool) {
	if r.RTT > 0 {
		b.rttSum += r.RTT
		b.rttN++
	}
	if !r.Time.IsZero() {
		if b.first.IsZero() || r.Time.Before(b.first) {
			b.first = r.Time
		}
		if r.Time.After(b.last) {
			b.last = r.Time
		}
	}
	if b.source == "" {
		b.source = r.Source
	}
	if show {
		b.listed[r.Port] = r
		return
	}
	b.hide(r.State, r.Reason, 1)
}

func (b *hostBuf) hide(s result.State, reason string, n int) {
	t := b.hidden[s]
	if t == nil {
		t = &tally{}
		b.hidden[s] = t
	}
	t.add(reason, n)
}

// latency is the mean round trip of the host's answered probes.
func (b *hostBuf) latency() time.Duration {
	if b.rttN == 0 {
		return 0
	}
	return b.rttSum / time.Duration(b.rttN)
}

// answered reports whether any port answered, which proves the host up
// when its Host call never came.
func (b *hostBuf) answered() bool {
	for _, r := range b.listed {
		if r.State == result.Open || r.State == result.Closed {
			return true
		}
	}
	return b.hidden[result.Open] != nil || b.hidden[result.Closed] != nil
}

// finish folds the over-populous states that opt folds into the hidden
// counts (nil folds none), makes the hidden counts agree with the
// engine's own (counts, when non-nil), and returns the listed ports in
// protocol then number order.
func (b *hostBuf) finish(opt *Options, counts map[result.State]int) []result.Port {
	byState := make(map[result.State]int)
	for _, r := range b.listed {
		byState[r.State]++
	}
	list := make([]result.Port, 0, len(b.listed))
	for _, r := range b.listed {
		if opt != nil && opt.folds(r.State, byState[r.State]) {
			b.hide(r.State, r.Reason, 1)
			b.hidden[r.State].folded = true
			continue
		}
		list = append(list, r)
	}
	listed := make(map[result.State]int)
	for _, r := range list {
		listed[r.State]++
	}
	for s, n := range counts {
		have := listed[s]
		if t := b.hidden[s]; t != nil {
			have += t.count
		}
		if n > have {
			b.hide(s, "", n-have)
		}
	}
	slices.SortFunc(list, func(a, b result.Port) int {
		if c := cmp.Compare(a.Port.Proto, b.Port.Proto); c != 0 {
			return c
		}
		return cmp.Compare(a.Port.Number, b.Port.Number)
	})
	return list
}

// hiddenStates returns the states with unlisted ports, in stateOrder.
func (b *hostBuf) hiddenStates() []result.State {
	var out []result.State
	for _, s := range stateOrder {
		if t := b.hidden[s]; t != nil && t.count > 0 {
			out = append(out, s)
		}
	}
	return out
}

// hidden returns the total of unlisted ports.
func (b *hostBuf) hiddenTotal() int {
	n := 0
	for _, t := range b.hidden {
		n += t.count
	}
	return n
}

// inflight is the set of hosts whose Host call has not come yet.
type inflight map[hostKey]*hostBuf

func (m inflight) get(k hostKey) *hostBuf {
	b := m[k]
	if b == nil {
		b = newHostBuf(k)
		m[k] = b
	}
	return b
}

// take removes and returns the host's buffer, an empty one if it had none.
func (m inflight) take(k hostKey) *hostBuf {
	b := m[k]
	if b == nil {
		return newHostBuf(k)
	}
	delete(m, k)
	return b
}

// drain removes and returns every host left, in address order.
func (m inflight) drain() []*hostBuf {
	out := make([]*hostBuf, 0, len(m))
	for _, b := range m {
		out = append(out, b)
	}
	clear(m)
	slices.SortFunc(out, func(a, b *hostBuf) int { return compareKeys(a.key, b.key) })
	return out
}

// unfinished is the Host value written for a host whose Host call never
// came (an interrupted run): incomplete, up if a port answered, else of
// unknown state.
func (b *hostBuf) unfinished() result.Host {
	h := result.Host{Addr: b.key.addr, Hostname: b.key.name, Start: b.first, End: b.last, Source: b.source,
		Counts: make(map[result.State]int), Incomplete: true}
	for _, r := range b.listed {
		h.Counts[r.State]++
	}
	for s, t := range b.hidden {
		h.Counts[s] += t.count
	}
	if b.answered() {
		h.Up = true
	}
	return h
}

func sourceOf(s string) string {
	if s == "" {
		return "scan"
	}
	return s
}

// count adds h to the host counts of s, by its status: for the hosts a
// writer closes itself at End, which the producer's summary lacks.
func count(s *result.Summary, h result.Host) {
	switch h.Status() {
	case "up":
		s.HostsUp++
	case "unknown":
		s.HostsUnknown++
	default:
		s.HostsDown++
	}
}

// targetOrder holds the reports of finished hosts until those taken
// before them are done, so that reports come in target order, as nmap
// prints them. Past maxWaiting (one slow host holding back many), they
// are reported anyway, in order, and the slow one when it ends: memory
// stays flat.
type targetOrder[B any] struct {
	next    uint64 // the Seq to report next
	waiting map[uint64]B
}

// maxWaiting bounds the finished hosts held back for target order.
const maxWaiting = 1024

func newTargetOrder[B any]() targetOrder[B] {
	return targetOrder[B]{next: 1, waiting: map[uint64]B{}}
}

// put takes the report of the host taken seq-th (0: not in target
// order, reported at once), and reports, with emit, every one now due.
func (o *targetOrder[B]) put(seq uint64, b B, emit func(B) error) error {
	if seq == 0 {
		return emit(b)
	}
	o.waiting[seq] = b
	if len(o.waiting) > maxWaiting {
		return o.flush(emit)
	}
	for {
		f, ok := o.waiting[o.next]
		if !ok {
			return nil
		}
		delete(o.waiting, o.next)
		o.next++
		if err := emit(f); err != nil {
			return err
		}
	}
}

// flush reports every host held back, in target order.
func (o *targetOrder[B]) flush(emit func(B) error) error {
	for _, seq := range slices.Sorted(maps.Keys(o.waiting)) {
		f := o.waiting[seq]
		delete(o.waiting, seq)
		if err := emit(f); err != nil {
			return err
		}
	}
	return nil
}
