package detect

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/portscan/portscan/result"
)

// NewSink returns a Sink that runs live service detection on the
// results it is handed and passes them on to next. Every event goes
// through; an open TCP port, and an open UDP port (one that answered),
// goes on once detected, with Detected set ([Config.Detect]). A host's
// Host event is held until the detection of its ports is done, so
// that it still follows them.
//
// At most cfg.Concurrency ports are detected at once, each on one
// connection at a time; up to cfg.Queue more wait their turn, and past
// that Port blocks: the producer slows down rather than detection
// buffering without bound. Events reach next one at a time, from
// whichever goroutine has them. When ctx ends, the ports still
// waiting go on undetected.
//
// Probes go only to the ports of the results given, at the address
// each names: detection never looks anywhere a scan did not find open.
func NewSink(ctx context.Context, cfg Config, next result.Sink) result.Sink {
	s := &sink{
		ctx: ctx, cfg: cfg, next: next,
		queue: make(chan result.Port, cfg.queue()),
		hosts: map[hostKey]*pending{},
	}
	for range cfg.concurrency() {
		s.workers.Add(1)
		go s.work()
	}
	return s
}

type sink struct {
	ctx     context.Context
	cfg     Config
	queue   chan result.Port
	workers sync.WaitGroup
	closed  bool // End came: the queue is closed

	mu    sync.Mutex // serialises next, and guards hosts and err
	next  result.Sink
	hosts map[hostKey]*pending
	err   error // next's first error
}

// hostKey names a host as its events do.
type hostKey struct {
	addr netip.Addr
	name string
}

// pending counts a host's ports in detection, and holds its Host event
// until they are done.
type pending struct {
	ports int
	host  *result.Host
}

func (s *sink) Begin(i result.Info) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keep(s.next.Begin(i))
}

// Port queues p for detection when it is to be probed, and passes it on
// otherwise.
func (s *sink) Port(p result.Port) error {
	if !probed(p) || s.ctx.Err() != nil {
		return s.pass(p)
	}
	s.mu.Lock()
	k := hostKey{p.Host, p.Hostname}
	h := s.hosts[k]
	if h == nil {
		h = &pending{}
		s.hosts[k] = h
	}
	h.ports++
	err := s.err
	s.mu.Unlock()
	select {
	case s.queue <- p:
	case <-s.ctx.Done():
		s.done(p)
	}
	return err
}

// probed says whether detection runs on p.
func probed(p result.Port) bool {
	return p.State == result.Open && p.Detected == nil
}

func (s *sink) pass(p result.Port) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keep(s.next.Port(p))
}

func (s *sink) work() {
	defer s.workers.Done()
	for p := range s.queue {
		if s.ctx.Err() == nil {
			p.Detected = s.cfg.Detect(s.ctx, p)
		}
		s.done(p)
	}
}

// done passes on a port that was queued, and its host's Host event
// after the last of them.
func (s *sink) done(p result.Port) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep(s.next.Port(p))
	k := hostKey{p.Host, p.Hostname}
	h := s.hosts[k]
	if h.ports--; h.ports > 0 {
		return
	}
	delete(s.hosts, k)
	if h.host != nil {
		s.keep(s.next.Host(*h.host))
	}
}

// Host passes h on, or holds it while its ports are in detection.
func (s *sink) Host(h result.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.hosts[hostKey{h.Addr, h.Hostname}]; p != nil {
		p.host = &h
		return s.err
	}
	return s.keep(s.next.Host(h))
}

// End waits for the detections in flight, then ends the run.
func (s *sink) End(sum result.Summary) error {
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.workers.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, h := range s.hosts { // none, unless a producer broke the contract
		if h.host != nil {
			s.keep(s.next.Host(*h.host))
		}
		delete(s.hosts, k)
	}
	return errors.Join(s.err, s.next.End(sum))
}

// keep records next's first error, which every later event returns,
// so that the producer stops.
func (s *sink) keep(err error) error {
	if err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}
