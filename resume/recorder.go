package resume

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
)

// DefaultEvery is how often a Recorder takes a checkpoint when
// Config.Every is zero.
const DefaultEvery = 5 * time.Second

// Config is what a Recorder needs to know of its run.
type Config struct {
	// Path is the state file.
	Path string
	// Every is the time between checkpoints; zero means DefaultEvery.
	Every time.Duration
	// Args is the command line, without the program name, and
	// Definition what defines the scan.
	Args       []string
	Definition Definition
	// Ports and Seed are the engine's: they give each host's walk.
	Ports *ports.Set
	Seed  uint64
	// Tries is the engine's Config.Tries, for reckoning the probes of
	// the hosts in flight; zero means 1 + scanner.DefaultRetries.
	Tries int
	// Owns, in a shard, says whether the run probes port (its index in
	// scanner.PortList) of the host of that index (shard.Plan.Owns):
	// the steps of a host's walk it does not own count as settled. Nil
	// means every port.
	Owns func(host uint64, port int) bool
	// Lists says which ports the outputs list one by one
	// (output.Options.Lists); the others are counted.
	Lists func(result.State) bool
	// Outputs are the output files, each with its Writer.
	Outputs []Output
	// From is the state this run goes on from; nil for a new scan.
	From *State
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Output is an output file and the Writer that writes it. Each of its
// writes happens within an event the Recorder passes on: the file's
// offset between two events is where its Writer stands.
type Output struct {
	Flag, Path, Format string
	File               *os.File
	Writer             output.Writer
}

// Recorder is the Sink that sits last before a scan's output writers
// and takes its checkpoints: at Begin, every Config.Every, at the
// interruption (Interrupt, or the first incomplete host record or the
// End of an interrupted run, whichever comes first: what follows is
// written after the cut, and a resumed run truncates it away), and,
// marked done, after the End of a run that finished. A checkpoint is
// taken between two events: each output file's offset and its Writer's
// output.State, the hosts done, and what was settled of each host in
// flight; it is written to Config.Path atomically.
//
// Scanner events reach it as the writers see them; Watch must be the
// engine's Config.Watch, which tells it of the hosts admitted and
// found up before their events come.
type Recorder struct {
	cfg   Config
	next  result.Sink
	index map[ports.Port]int // in scanner.PortList
	tries int

	mu         sync.Mutex
	begun, cut bool
	ended      bool
	info       result.Info
	hosts      map[uint64]*track  // in flight, and those an earlier run left in flight
	byKey      map[hostKey]*track // the same, by the key of their events
	maxIndex   uint64             // the last index admitted
	sum        Summary
	heads      []string // each output's head digest, once complete
	seq        uint64   // of the last checkpoint taken
	err        error    // the first failure to write the state

	wmu   sync.Mutex // serialises writing the state
	saved uint64     // the seq of the last checkpoint written

	stop chan struct{}
	once sync.Once
}

type hostKey struct {
	addr netip.Addr
	name string
}

// track is what the Recorder knows of a host in flight.
type track struct {
	h      Host // its settled ports in Walked and aheadSet, not Ahead
	ahead  map[int]bool
	order  scanner.PortOrder
	listed []result.Port
}

// New returns a Recorder that passes every event on to next, the
// output writers (those of Config.Outputs among them).
func New(cfg Config, next result.Sink) *Recorder {
	r := &Recorder{cfg: cfg, next: next, index: map[ports.Port]int{}, hosts: map[uint64]*track{}, byKey: map[hostKey]*track{},
		stop: make(chan struct{}), heads: make([]string, len(cfg.Outputs))}
	for i, p := range scanner.PortList(cfg.Ports) {
		r.index[p] = i
	}
	r.tries = cfg.Tries
	if r.tries <= 0 {
		r.tries = 1 + scanner.DefaultRetries
	}
	if r.cfg.Lists == nil {
		r.cfg.Lists = func(s result.State) bool { return s == result.Open || s == result.OpenFiltered }
	}
	if from := cfg.From; from != nil {
		r.sum = from.Summary
		p := &from.Progress
		r.maxIndex = p.maxIndex()
		left := map[uint64]Host{}
		for _, h := range p.Hosts {
			left[h.Index] = h
		}
		// Every index not done is in flight until this run finishes it.
		for i := p.DoneThrough + 1; i <= r.maxIndex; i++ {
			if p.done(i) {
				continue
			}
			h, ok := left[i]
			if !ok {
				h = Host{Index: i}
			}
			tr := r.restored(h)
			r.hosts[i] = tr
			if h.Addr.IsValid() {
				r.byKey[hostKey{h.Addr, h.Hostname}] = tr
			}
		}
	}
	return r
}

// restored is the track of a host from a state.
func (r *Recorder) restored(h Host) *track {
	tr := &track{h: h, ahead: map[int]bool{}}
	for _, s := range h.Ahead {
		tr.ahead[s] = true
	}
	tr.h.Ahead = nil
	if h.Addr.IsValid() {
		tr.order = scanner.NewPortOrder(len(r.index), r.cfg.Seed, h.Addr)
	}
	for _, p := range h.Listed {
		tr.listed = append(tr.listed, p.result(h))
	}
	tr.h.Listed = nil
	return tr
}

func (r *Recorder) now() time.Time {
	if r.cfg.Now != nil {
		return r.cfg.Now()
	}
	return time.Now()
}

// Err returns the first failure to write the state.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Watch takes the engine's word of a host admitted, or found up.
func (r *Recorder) Watch(h result.Host) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cut || h.Index == 0 {
		return
	}
	r.maxIndex = max(r.maxIndex, h.Index)
	key := hostKey{h.Addr, h.Hostname}
	tr := r.hosts[h.Index]
	if tr != nil && (tr.h.Addr != h.Addr || tr.h.Hostname != h.Hostname) {
		// Not the host the earlier run had there: it starts anew.
		if r.byKey[hostKey{tr.h.Addr, tr.h.Hostname}] == tr {
			delete(r.byKey, hostKey{tr.h.Addr, tr.h.Hostname})
		}
		tr = nil
	}
	if tr == nil {
		tr = &track{h: Host{Index: h.Index, Addr: h.Addr, Hostname: h.Hostname, Source: h.Source, Start: h.Start}, ahead: map[int]bool{},
			order: scanner.NewPortOrder(len(r.index), r.cfg.Seed, h.Addr)}
		r.hosts[h.Index] = tr
	}
	r.byKey[key] = tr
	if tr.h.Start.IsZero() {
		tr.h.Start = h.Start
	}
	if h.Up && !tr.h.Up {
		tr.h.Up, tr.h.Reason, tr.h.TTL, tr.h.ReasonIP = true, h.Reason, h.TTL, h.ReasonIP
	}
}

// Interrupt takes the last checkpoint of an interrupted run now: the
// events that follow are passed on, not recorded. Call it as soon as
// the run is told to stop (its context ends), before the engine and
// the detection still in flight hand on what they stopped.
func (r *Recorder) Interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cutNow()
}

// cutNow takes the final checkpoint of an interrupted run, once.
func (r *Recorder) cutNow() {
	if !r.begun || r.cut || r.ended {
		return
	}
	r.checkpoint(false)
	r.cut = true
	r.halt()
}

// Close stops the periodic checkpoints, for a run that ends without
// End.
func (r *Recorder) Close() { r.halt() }

func (r *Recorder) halt() { r.once.Do(func() { close(r.stop) }) }

// Begin passes info on and takes the first checkpoint.
func (r *Recorder) Begin(info result.Info) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.next.Begin(info)
	if r.begun || err != nil {
		return err
	}
	r.begun, r.info = true, info
	if r.cfg.From == nil {
		r.sum.Start = info.Start
	}
	r.checkpoint(false)
	every := r.cfg.Every
	if every <= 0 {
		every = DefaultEvery
	}
	go r.tick(every)
	return r.err
}

func (r *Recorder) tick(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		if r.cut || r.ended {
			r.mu.Unlock()
			return
		}
		st, seq, err := r.take(false)
		r.mu.Unlock()
		if err == nil {
			err = r.save(st, seq)
		}
		if err != nil && !errors.Is(err, errWriter) {
			r.mu.Lock()
			if r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
		}
	}
}

// Port passes p on and records it.
func (r *Recorder) Port(p result.Port) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.next.Port(p)
	if !r.cut && !r.ended {
		if p.State == result.Open {
			r.sum.Open++
		}
		if tr := r.byKey[hostKey{p.Host, p.Hostname}]; tr != nil {
			r.settle(tr, p)
		}
	}
	return r.keep(err)
}

func (r *Recorder) keep(err error) error {
	if err != nil {
		return err
	}
	return r.err
}

// settle records p, settled, of tr's host.
func (r *Recorder) settle(tr *track, p result.Port) {
	i, ok := r.index[p.Port]
	if !ok || tr.order.Len() == 0 {
		return
	}
	s := tr.order.Step(i)
	if s < tr.h.Walked || tr.ahead[s] {
		return // settled already
	}
	tr.ahead[s] = true
	r.advance(tr)
	if tr.h.Source == "" {
		tr.h.Source = p.Source
	}
	if r.cfg.Lists(p.State) || p.Detected != nil || p.Evidence != nil {
		tr.listed = append(tr.listed, p)
		return
	}
	k := slices.IndexFunc(tr.h.Hidden, func(x Hidden) bool { return x.State == p.State && x.Reason == p.Reason })
	if k < 0 {
		tr.h.Hidden = append(tr.h.Hidden, Hidden{State: p.State, Reason: p.Reason, First: p.Time, Last: p.Time})
		k = len(tr.h.Hidden) - 1
	}
	x := &tr.h.Hidden[k]
	x.Count++
	if p.RTT > 0 {
		x.RTT += p.RTT
		x.Answered++
	}
	if !p.Time.IsZero() && (x.First.IsZero() || p.Time.Before(x.First)) {
		x.First = p.Time
	}
	if p.Time.After(x.Last) {
		x.Last = p.Time
	}
}

// advance moves tr's walk past the steps settled, and in a shard those
// it does not own.
func (r *Recorder) advance(tr *track) {
	for n := tr.order.Len(); tr.h.Walked < n; tr.h.Walked++ {
		if tr.ahead[tr.h.Walked] {
			delete(tr.ahead, tr.h.Walked)
		} else if r.cfg.Owns == nil || r.cfg.Owns(tr.h.Index, tr.order.At(tr.h.Walked)) {
			return
		}
	}
}

// Host passes h on and records that its host is done; the first
// incomplete record cuts an interrupted run first.
func (r *Recorder) Host(h result.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.Incomplete {
		r.cutNow()
	}
	err := r.next.Host(h)
	if !r.cut && !r.ended && h.Index > 0 {
		r.maxIndex = max(r.maxIndex, h.Index)
		if tr := r.hosts[h.Index]; tr != nil {
			delete(r.hosts, h.Index)
			if key := (hostKey{tr.h.Addr, tr.h.Hostname}); r.byKey[key] == tr {
				delete(r.byKey, key)
			}
		}
		switch h.Status() {
		case "up":
			r.sum.HostsUp++
		case "unknown":
			r.sum.HostsUnknown++
		default:
			r.sum.HostsDown++
		}
		r.sum.Probes += int64(h.Probes)
	}
	return r.keep(err)
}

// End closes the run: an interrupted one after its last checkpoint, a
// finished one before the checkpoint that marks the state done.
func (r *Recorder) End(s result.Summary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Interrupted {
		r.cutNow()
		r.ended = true
		return r.keep(r.next.End(s))
	}
	err := r.next.End(s)
	if !r.ended && err == nil {
		r.checkpoint(true)
	}
	r.ended = true
	r.halt()
	return r.keep(err)
}

// errWriter marks a checkpoint not taken because an output failed: the
// last one taken stands.
var errWriter = errors.New("an output failed")

// checkpoint takes a checkpoint and writes it, with r.mu held.
func (r *Recorder) checkpoint(done bool) {
	st, seq, err := r.take(done)
	if err == nil {
		err = r.save(st, seq)
	}
	if err != nil && !errors.Is(err, errWriter) && r.err == nil {
		r.err = err
	}
}

// take makes the state as it stands, with r.mu held: no event is
// passing, so each output file ends where its Writer stands.
func (r *Recorder) take(done bool) (*State, uint64, error) {
	st := &State{Format: FormatName, Version: Version, Done: done, Saved: r.now(),
		Fingerprint: r.info.Fingerprint, Definition: r.cfg.Definition, Seed: r.cfg.Seed, Args: r.cfg.Args,
		Summary: r.sum, Outputs: []FileState{}}
	if r.info.Shard.Sharded() {
		st.Shard = Shard{Index: r.info.Shard.Index, Count: r.info.Shard.Count}
	}
	for i, o := range r.cfg.Outputs {
		off, err := o.File.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", o.Path, err)
		}
		ws := output.State{Format: o.Format} // a finished document needs none
		if !done {
			if ws, err = output.Snapshot(o.Writer); err != nil {
				return nil, 0, fmt.Errorf("%w: %s: %w", errWriter, o.Path, err)
			}
		}
		head := r.heads[i]
		if head == "" {
			if head, err = headDigest(o.File, off); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", o.Path, err)
			}
			if off >= HeadSize {
				r.heads[i] = head
			}
		}
		st.Outputs = append(st.Outputs, FileState{Flag: o.Flag, Path: o.Path, Format: o.Format, Offset: off, Head: head, Writer: ws})
	}
	st.Progress = r.progress()
	r.seq++
	return st, r.seq, nil
}

// progress is which hosts are done, and what of each in flight.
func (r *Recorder) progress() Progress {
	var p Progress
	open := slices.Sorted(maps.Keys(r.hosts))
	if len(open) == 0 {
		p.DoneThrough = r.maxIndex
		return p
	}
	p.DoneThrough = open[0] - 1
	for i, idx := range open {
		next := r.maxIndex + 1
		if i+1 < len(open) {
			next = open[i+1]
		}
		if idx+1 < next {
			p.Done = append(p.Done, [2]uint64{idx + 1, next - 1})
		}
		tr := r.hosts[idx]
		if !tr.h.Up && tr.h.Walked == 0 && len(tr.ahead) == 0 {
			continue // begun anew on resume
		}
		p.Hosts = append(p.Hosts, r.host(tr))
	}
	return p
}

// host writes tr as the state does.
func (r *Recorder) host(tr *track) Host {
	h := tr.h
	h.Ahead = slices.Sorted(maps.Keys(tr.ahead))
	h.Hidden = slices.Clone(h.Hidden)
	h.Probes, h.Silent = 0, 0
	reckon := func(reason string, n int) {
		if reason == result.ReasonNoResponse {
			h.Probes += n * r.tries
			h.Silent += n * r.tries
		} else {
			h.Probes += n
		}
	}
	for _, x := range h.Hidden {
		reckon(x.Reason, x.Count)
	}
	for _, p := range tr.listed {
		reckon(p.Reason, 1)
		h.Listed = append(h.Listed, portOf(p))
	}
	return h
}

// save syncs the output files and writes st, unless a later
// checkpoint has been written already.
func (r *Recorder) save(st *State, seq uint64) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if seq <= r.saved {
		return nil
	}
	for _, o := range r.cfg.Outputs {
		// What the state says is written must be on disk before it is.
		if err := o.File.Sync(); err != nil {
			return fmt.Errorf("%s: %w", o.Path, err)
		}
	}
	if err := Write(r.cfg.Path, st); err != nil {
		return fmt.Errorf("writing the state %s: %w", r.cfg.Path, err)
	}
	r.saved = seq
	return nil
}

// headDigest is the hex SHA-256 of the first HeadSize bytes of f, or
// of its first n if fewer.
func headDigest(f *os.File, n int64) (string, error) {
	buf := make([]byte, min(n, HeadSize))
	if _, err := f.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

func portOf(p result.Port) Port {
	return Port{Port: p.Port.Number, Protocol: p.Port.Proto, State: p.State, Reason: p.Reason, TTL: p.TTL, ReasonIP: p.ReasonIP, RTT: p.RTT,
		Time: p.Time, Source: p.Source, Detected: output.DetectedRecordOf(p.Detected)}
}

func (p Port) result(h Host) result.Port {
	return result.Port{Host: h.Addr, Hostname: h.Hostname, Port: ports.Port{Number: p.Port, Proto: p.Protocol}, State: p.State,
		Reason: p.Reason, TTL: p.TTL, ReasonIP: p.ReasonIP, RTT: p.RTT, Time: p.Time, Source: p.Source, Detected: p.Detected.Service()}
}
